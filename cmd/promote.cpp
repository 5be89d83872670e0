// mloop promote MODEL@VER ALIAS [--force] [--reason TEXT]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "error/error.hpp"
#include "gates_table.hpp"
#include "registry/refs.hpp"
#include "train/gates.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

class PromoteCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("version", m_version, "the model version: MODEL@VER, MODEL@ALIAS")
            ->type_name("MODEL@VER")
            ->required();
        app.add_option("alias", m_alias, "the alias to point at it (an environment name, …)")
            ->type_name("ALIAS")
            ->required();
        app.add_flag("--force", m_force,
                     "move the alias even if a gate fails (recorded as forced)");
        app.add_option("--reason", m_reason, "why, recorded in the alias history")
            ->type_name("TEXT");
        app.add_flag("--dry-run", m_dry_run, "check the gates and say what would move");
    }

    int run(Context& ctx) override {
        if (m_alias == "latest" || m_alias.empty() ||
            !std::all_of(m_alias.begin(), m_alias.end(),
                         [](char c) {
                             return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                         }) ||
            !(m_alias[0] >= 'a' && m_alias[0] <= 'z')) {
            throw error::UsageError(
                fmt::format("'{}' cannot be an alias", m_alias),
                "an alias is [a-z][a-z0-9-]*, and 'latest' always means the newest version");
        }
        auto runner = process::make_posix_runner();
        GatesReporter reporter(ctx.out);
        train::Session s = train::open_session(config::load_project(ctx.project_file()),
                                               ctx.paths(), *runner, reporter);
        const auto v = registry::resolve_version(s.db(), m_version, s.project.model.name);
        const auto gates = train::check_gates(s, v, !ctx.out.json() && !ctx.out.quiet());
        const bool passed = gates.passed();
        const auto from = registry::Models(s.db()).resolve_alias(v.model, m_alias);
        const bool move = (passed || m_force) && !m_dry_run;
        if (move) {
            s.db().write([&] {
                registry::Models(s.db()).move_alias(
                    v.model, m_alias, v.version, !passed && m_force,
                    m_reason.empty() ? std::nullopt : std::optional<std::string>(m_reason));
                registry::Events(s.db()).append(
                    "alias-moved", v.model,
                    nlohmann::json({{"alias", m_alias},
                                    {"from", from ? nlohmann::json(*from) : nlohmann::json()},
                                    {"to", v.version},
                                    {"forced", !passed && m_force}})
                        .dump());
            });
        }
        if (ctx.out.json()) {
            ctx.out.json({{"version", v.text()},
                          {"alias", m_alias},
                          {"from", from ? nlohmann::ordered_json(*from) : nlohmann::ordered_json()},
                          {"moved", move},
                          {"forced", move && !passed},
                          {"gates", gates_json(gates)}});
        } else {
            print_gates(ctx.out, gates);
            if (move) {
                ctx.out.print("{}@{} → {}{}{}", v.model, m_alias, v.text(),
                              from ? fmt::format(" (was {}@{})", v.model, *from) : "",
                              passed ? "" : " — forced past failing gates");
            } else if (m_dry_run) {
                ctx.out.print("would move {}@{} → {}{}", v.model, m_alias, v.text(),
                              passed ? "" : " only with --force: a gate fails");
            }
        }
        if (!passed && !m_force) {
            error::Diagnostic d;
            d.message =
                fmt::format("{} fails its gates; {}@{} was not moved", v.text(), v.model, m_alias);
            d.hint = "fix the model, or promote with --force (recorded as forced)";
            ctx.out.diagnostic(d);
            return static_cast<int>(error::ExitCode::check_failed);
        }
        return 0;
    }

  private:
    std::string m_version;
    std::string m_alias;
    bool m_force = false;
    bool m_dry_run = false;
    std::string m_reason;
};

}  // namespace

std::unique_ptr<Command> make_promote() {
    return std::make_unique<PromoteCommand>();
}

}  // namespace mloop::cli
