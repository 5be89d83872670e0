// mloop package [MODEL@VER] [--push] [--no-cache] [--force] [--dry-run]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "gates_table.hpp"
#include "package/package.hpp"
#include "process/runner.hpp"
#include "render/format.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

class PackageCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("version", m_opts.version, "the model version (default: MODEL@latest)")
            ->type_name("MODEL@VER");
        app.add_flag("--push", m_opts.push, "push the image and record its registry digest");
        app.add_flag("--no-cache", m_opts.no_cache, "build without docker's layer cache");
        app.add_flag("--force", m_opts.force,
                     "package a version whose gates or training data failed (recorded)");
        app.add_flag("--dry-run", m_opts.dry_run,
                     "render the Dockerfile and print the docker command; build nothing");
    }

    int run(Context& ctx) override {
        auto runner = process::make_posix_runner();
        GatesReporter reporter(ctx.out);
        train::Session s = train::open_session(config::load_project(ctx.project_file()),
                                               ctx.paths(), *runner, reporter);
        m_opts.quiet = ctx.out.quiet() || ctx.out.json();
        m_opts.echo = !ctx.out.quiet() && !ctx.out.json();
        const auto r = package::package(s, m_opts);
        if (ctx.out.json()) {
            print_json(ctx, r);
        } else {
            print_text(ctx, r);
        }
        if (r.refused) {
            error::Diagnostic d;
            d.message = fmt::format("{} was not packaged: {}", r.version.text(),
                                    util::join(r.refusals, "; "));
            d.hint = "fix it, or package with --force (recorded as forced)";
            ctx.out.diagnostic(d);
            return static_cast<int>(error::ExitCode::check_failed);
        }
        return 0;
    }

  private:
    static void print_text(Context& ctx, const package::Result& r) {
        if (r.gates) {
            print_gates(ctx.out, *r.gates);
        }
        for (const auto& d : r.data) {
            ctx.out.note(fmt::format("training data {} ({}): {}", d.name,
                                     render::short_digest(d.digest),
                                     !d.passed   ? "never validated"
                                     : *d.passed ? "passed validation"
                                                 : "FAILED validation"));
        }
        if (r.refused) {
            return;
        }
        if (!r.image) {  // dry run
            ctx.out.raw(r.dockerfile);
            ctx.out.print("would run: {}",
                          process::describe({r.build_argv.front(),
                                             {r.build_argv.begin() + 1, r.build_argv.end()}}));
            return;
        }
        const auto& i = *r.image;
        ctx.out.print("packaged {} as {} ({}, {})", r.version.text(), i.reference(),
                      i.image_id.substr(0, 19),
                      util::format_bytes(static_cast<double>(i.size.value_or(0))));
        if (i.repo_digest) {
            ctx.out.print("pushed {}", *i.repo_digest);
        }
        ctx.out.note(fmt::format("provenance: {}", r.provenance.string()));
        if (r.forced) {
            ctx.out.note(fmt::format("forced past: {}", util::join(r.refusals, "; ")));
        }
    }

    static void print_json(Context& ctx, const package::Result& r) {
        nlohmann::ordered_json j{{"version", r.version.text()}, {"refused", r.refused},
                                 {"forced", r.forced},          {"refusals", r.refusals},
                                 {"template", r.template_name}, {"build", r.build_argv}};
        if (r.gates) {
            j["gates"] = gates_json(*r.gates);
        }
        nlohmann::ordered_json data = nlohmann::ordered_json::array();
        for (const auto& d : r.data) {
            data.push_back({{"name", d.name},
                            {"digest", d.digest},
                            {"validated", d.passed.has_value()},
                            {"passed", d.passed ? nlohmann::ordered_json(*d.passed)
                                                : nlohmann::ordered_json()}});
        }
        j["data"] = data;
        if (r.image) {
            const auto& i = *r.image;
            j["image"] = {{"id", i.id},
                          {"reference", i.reference()},
                          {"image_id", i.image_id},
                          {"size", i.size.value_or(0)},
                          {"repo_digest", i.repo_digest ? nlohmann::ordered_json(*i.repo_digest)
                                                        : nlohmann::ordered_json()},
                          {"context", i.context},
                          {"provenance", i.provenance.value_or("")}};
            j["provenance_file"] = r.provenance.string();
            j["labels"] = r.labels;
        } else if (!r.refused) {
            j["dockerfile"] = r.dockerfile;
        }
        j["timing"] = {{"total_ms", r.total_ms}, {"docker_ms", r.docker_ms}};
        ctx.out.json(j);
    }

    package::Options m_opts;
};

}  // namespace

std::unique_ptr<Command> make_package() {
    return std::make_unique<PackageCommand>();
}

}  // namespace mloop::cli
