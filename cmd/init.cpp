// mloop init [DIR] [--example] [--ci github|gitlab] [--dry-run]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "init/init.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

class InitCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("dir", m_dir, "the project directory (default: the current one)")
            ->type_name("DIR");
        app.add_flag("--example", m_opts.example,
                     "write the churn example: data, training and evaluation scripts, "
                     "mloop.yaml");
        m_ci_option =
            app.add_option("--ci", m_ci,
                           "also write a CI workflow that runs the loop: github "
                           "(.github/workflows/mloop.yml) or gitlab (.gitlab-ci.yml); in a "
                           "directory with an mloop.yaml, only the workflow")
                ->type_name("SYSTEM");
        app.add_flag("--dry-run", m_opts.dry_run, "print what would be written, write nothing");
    }

    int run(Context& ctx) override {
        m_opts.dir = m_dir.empty() ? fs::path(".") : fs::path(m_dir);
        if (m_ci_option->count() > 0) {
            m_opts.ci = m_ci;  // even "", which init refuses by name
        }
        const init::Result r = init::init_project(m_opts);
        const std::string dir = util::display_path(r.dir);
        if (ctx.out.json()) {
            nlohmann::ordered_json j = {
                {"directory", dir},
                {"project", r.project},
                {"created", r.created},
                {"gitignore_added", r.gitignore_added},
                {"ci", r.ci ? nlohmann::ordered_json(r.ci->name) : nlohmann::ordered_json(nullptr)},
                {"workflow",
                 r.ci ? nlohmann::ordered_json(r.ci->path) : nlohmann::ordered_json(nullptr)},
                {"dry_run", m_opts.dry_run}};
            ctx.out.json(j);
            return 0;
        }
        const char* verb = m_opts.dry_run ? "would create" : "created";
        for (const auto& f : r.created) {
            ctx.out.print("{} {}", verb, util::display_path(r.dir / f));
        }
        if (!r.gitignore_added.empty()) {
            ctx.out.print("{} {} (added {})", m_opts.dry_run ? "would update" : "updated",
                          util::display_path(r.dir / ".gitignore"),
                          util::join(r.gitignore_added, ", "));
        }
        if (m_opts.dry_run) {
            return 0;
        }
        const std::string cd = dir == "." ? "" : fmt::format("cd {} && ", dir);
        if (r.workflow_only) {
            ctx.out.note(fmt::format(
                "wrote the {} workflow of project '{}'\nnext: adapt its install step, then "
                "commit {}",
                r.ci->title, r.project, util::display_path(r.dir / r.ci->path)));
            return 0;
        }
        ctx.out.note(fmt::format("initialized mloop project '{}' in '{}'\nnext: {}mloop validate",
                                 r.project, dir, cd));
        if (r.ci != nullptr) {
            ctx.out.note(fmt::format("the {} workflow needs its install step adapted: see {}",
                                     r.ci->title, util::display_path(r.dir / r.ci->path)));
        }
        return 0;
    }

  private:
    std::string m_dir;
    std::string m_ci;
    CLI::Option* m_ci_option = nullptr;
    init::Options m_opts;
};

}  // namespace

std::unique_ptr<Command> make_init() {
    return std::make_unique<InitCommand>();
}

}  // namespace mloop::cli
