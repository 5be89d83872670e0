// mloop help [COMMAND | mloop.yaml]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/keys.hpp"
#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

constexpr const char* k_project_topic = "mloop.yaml";

class HelpCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("topic", m_topic, "a command, or mloop.yaml for the project file's keys")
            ->type_name("COMMAND");
    }

    std::vector<std::string> words() const override {
        std::vector<std::string> out;
        for (const auto& c : commands()) {
            out.emplace_back(c.name);
        }
        out.emplace_back(k_project_topic);
        return out;
    }

    int run(Context& ctx) override {
        if (m_topic.empty()) {
            return show(ctx, ctx.root.help());
        }
        if (m_topic == k_project_topic) {
            return project_keys(ctx);
        }
        for (CLI::App* sub : ctx.root.get_subcommands([](CLI::App*) { return true; })) {
            if (sub->get_name() == m_topic) {
                return show(ctx, sub->help(ctx.root.get_name()));
            }
        }
        throw error::UsageError(fmt::format("no help on '{}': not an mloop command", m_topic),
                                util::did_you_mean(m_topic, words()));
    }

  private:
    static int show(Context& ctx, const std::string& text) {
        if (ctx.out.json()) {
            ctx.out.json({{"help", text}});
        } else {
            ctx.out.raw(text);
        }
        return 0;
    }

    // Like 'git help config': every key of the project file, from the same table the parser
    // checks against.
    static int project_keys(Context& ctx) {
        if (ctx.out.json()) {
            nlohmann::ordered_json keys = nlohmann::ordered_json::array();
            for (const auto& k : config::keys()) {
                keys.push_back({{"key", k.path},
                                {"type", k.type},
                                {"default", k.default_value},
                                {"description", k.doc}});
            }
            ctx.out.json({{"keys", keys}});
            return 0;
        }
        ctx.out.line("Keys of mloop.yaml ('*' is any name, '[]' an item of a list):\n");
        for (const auto& k : config::keys()) {
            ctx.out.print("{}\n    {}{}\n    {}\n", k.path, k.type,
                          k.default_value.empty() ? std::string{}
                                                  : fmt::format("; default: {}", k.default_value),
                          k.doc);
        }
        return 0;
    }

    std::string m_topic;
};

}  // namespace

std::unique_ptr<Command> make_help() {
    return std::make_unique<HelpCommand>();
}

}  // namespace mloop::cli
