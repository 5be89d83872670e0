// mloop deploy ENV [MODEL@VER] [--strategy S] [--render DIR] [--no-wait] [--force] [--dry-run]
#include <CLI/CLI.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "deploy_result.hpp"
#include "gates_table.hpp"
#include "process/runner.hpp"

namespace mloop::cli {

namespace {

class DeployCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("env", m_opts.env, "the environment, as deploy.environments names it")
            ->type_name("ENV")
            ->required();
        app.add_option("version", m_opts.version,
                       "the model version (default: MODEL@ENV if that alias exists, else "
                       "MODEL@latest)")
            ->type_name("MODEL@VER");
        app.add_option("--strategy", m_strategy, "override the environment's strategy")
            ->type_name("S")
            ->check(CLI::IsMember({"rolling", "canary", "bluegreen"}));
        app.add_option("--render", m_render, "write what would be applied into DIR and stop")
            ->type_name("DIR");
        app.add_flag("--no-wait", m_opts.no_wait,
                     "start the new version and return without waiting for its health check");
        app.add_flag("--force", m_opts.force,
                     "deploy past failing gates, `requires` and failed training data (recorded)");
        app.add_flag("--dry-run", m_opts.dry_run,
                     "say what would be deployed and how; change nothing");
    }

    int run(Context& ctx) override {
        if (m_strategy == "rolling") {
            m_opts.strategy = config::Strategy::rolling;
        } else if (m_strategy == "canary") {
            m_opts.strategy = config::Strategy::canary;
        } else if (m_strategy == "bluegreen") {
            m_opts.strategy = config::Strategy::bluegreen;
        }
        m_opts.render_dir = m_render;
        auto runner = process::make_posix_runner();
        GatesReporter reporter(ctx.out);
        train::Session s = train::open_session(config::load_project(ctx.project_file()),
                                               ctx.paths(), *runner, reporter);
        m_opts.quiet = ctx.out.quiet() || ctx.out.json();
        m_opts.progress = [&ctx](const std::string& line) {
            ctx.out.note(line);
        };
        m_opts.echo = !m_opts.quiet;
        const auto r = deploy::deploy(s, m_opts);
        if (ctx.out.json()) {
            ctx.out.json(deployment_json(r));
        } else {
            print_deployment(ctx, r);
        }
        return deployment_exit_code(ctx, r);
    }

  private:
    deploy::Options m_opts;
    std::string m_strategy;
    std::string m_render;
};

}  // namespace

std::unique_ptr<Command> make_deploy() {
    return std::make_unique<DeployCommand>();
}

}  // namespace mloop::cli
