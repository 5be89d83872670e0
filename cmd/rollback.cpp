// mloop rollback ENV [--to deploy/N|MODEL@VER] [--dry-run]
#include <CLI/CLI.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "deploy_result.hpp"
#include "gates_table.hpp"
#include "process/runner.hpp"

namespace mloop::cli {

namespace {

class RollbackCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("env", m_opts.env, "the environment to return to an earlier deployment")
            ->type_name("ENV")
            ->required();
        app.add_option("--to", m_opts.to,
                       "the deployment or version to return to (default: the last good "
                       "deployment before the current one)")
            ->type_name("deploy/N|MODEL@VER");
        app.add_flag("--dry-run", m_opts.dry_run, "say what would be restored; change nothing");
    }

    int run(Context& ctx) override {
        auto runner = process::make_posix_runner();
        GatesReporter reporter(ctx.out);
        train::Session s = train::open_session(config::load_project(ctx.project_file()),
                                               ctx.paths(), *runner, reporter);
        m_opts.quiet = ctx.out.quiet() || ctx.out.json();
        m_opts.progress = [&ctx](const std::string& line) {
            ctx.out.note(line);
        };
        const auto r = deploy::rollback(s, m_opts);
        if (ctx.out.json()) {
            ctx.out.json(deployment_json(r));
        } else {
            print_deployment(ctx, r);
        }
        return deployment_exit_code(ctx, r);
    }

  private:
    deploy::RollbackOptions m_opts;
};

}  // namespace

std::unique_ptr<Command> make_rollback() {
    return std::make_unique<RollbackCommand>();
}

}  // namespace mloop::cli
