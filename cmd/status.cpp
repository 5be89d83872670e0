// mloop status [ENV] [--offline]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "deploy/deploy.hpp"
#include "deploy_result.hpp"
#include "gates_table.hpp"
#include "process/runner.hpp"
#include "registry/registry.hpp"
#include "render/format.hpp"
#include "render/table.hpp"

namespace mloop::cli {

namespace {

class StatusCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("env", m_env, "one environment (default: all)")->type_name("ENV");
        app.add_flag("--offline", m_offline,
                     "report the registry only; do not ask docker or probe health");
    }

    int run(Context& ctx) override {
        auto runner = process::make_posix_runner();
        GatesReporter reporter(ctx.out);
        train::Session s = train::open_session(config::load_project(ctx.project_file()),
                                               ctx.paths(), *runner, reporter);
        const auto all = deploy::status(s, m_env, !m_offline);
        const int64_t now = registry::now_ms();
        if (ctx.out.json()) {
            nlohmann::ordered_json a = nlohmann::ordered_json::array();
            for (const auto& st : all) {
                nlohmann::ordered_json j{
                    {"env", st.env}, {"target", st.target}, {"strategy", st.strategy}};
                if (st.current) {
                    j["deployment"] = st.current->id;
                    j["version"] = st.current->model + "@" + std::to_string(st.current->version);
                    j["kind"] = st.current->kind;
                    j["deployed_at"] =
                        render::iso8601(st.current->ended_at.value_or(st.current->started_at));
                } else {
                    j["deployment"] = nullptr;
                    j["version"] = nullptr;
                }
                j["image"] = st.image
                                 ? nlohmann::ordered_json({{"reference", st.image->reference()},
                                                           {"image_id", st.image->image_id}})
                                 : nlohmann::ordered_json();
                j["in_flight"] = st.in_flight ? nlohmann::ordered_json(st.in_flight->id)
                                              : nlohmann::ordered_json();
                j["live"] = st.live;
                j["health"] = st.health;
                j["differences"] = st.differences;
                j["monitor"] = st.monitor;
                j["recovered"] = recoveries_json(st.recovered);
                j["notes"] = st.notes;
                a.push_back(j);
            }
            ctx.out.json(a);
            return 0;
        }
        render::Table t({{"ENV"},
                         {"VERSION"},
                         {"DEPLOYMENT"},
                         {"IMAGE"},
                         {"STRATEGY"},
                         {"HEALTH"},
                         {"MONITOR"},
                         {"AGE"}});
        for (const auto& st : all) {
            print_recoveries(ctx, st.recovered);
            print_notes(ctx, st.notes);
            std::string dep = "—";
            std::string version = "—";
            std::string age = "—";
            if (st.current) {
                dep = fmt::format("deploy/{}{}", st.current->id,
                                  st.current->kind == "rollback" ? " (rollback)" : "");
                version = st.current->model + "@" + std::to_string(st.current->version);
                age = render::relative_age(st.current->ended_at.value_or(st.current->started_at),
                                           now);
            }
            if (st.in_flight) {
                dep += fmt::format(", deploy/{} {}", st.in_flight->id, st.in_flight->state);
            }
            const std::string_view health_style = st.health == "ok" ? ctx.out.style("\033[32m")
                                                  : st.health.rfind("failing", 0) == 0
                                                      ? ctx.out.style("\033[1;31m")
                                                      : std::string_view();
            t.add({st.env,
                   version,
                   dep,
                   st.image ? st.image->reference() : "—",
                   st.target + "/" + st.strategy,
                   {st.health, health_style},
                   st.monitor,
                   age});
        }
        ctx.out.raw(t.text());
        for (const auto& st : all) {
            for (const auto& d : st.differences) {
                ctx.out.print("{}: {}", st.env, d);
            }
        }
        return 0;
    }

  private:
    std::string m_env;
    bool m_offline = false;
};

}  // namespace

std::unique_ptr<Command> make_status() {
    return std::make_unique<StatusCommand>();
}

}  // namespace mloop::cli
