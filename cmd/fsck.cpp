// mloop fsck
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "error/error.hpp"
#include "fsck/fsck.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

class FsckCommand : public Command {
  public:
    void setup(CLI::App&) override {}

    int run(Context& ctx) override {
        const auto paths = ctx.paths();
        ProgressBar bar(ctx.out, "checking the store");
        const fsck::Report r =
            fsck::check(paths, [&](uint64_t done, uint64_t total) { bar.update(done, total); });
        bar.finish();
        if (ctx.out.json()) {
            nlohmann::ordered_json problems = nlohmann::ordered_json::array();
            for (const auto& p : r.problems) {
                problems.push_back(
                    {{"kind", p.kind}, {"subject", p.subject}, {"message", p.message}});
            }
            ctx.out.json({{"ok", r.ok()},
                          {"registry",
                           {{"path", util::display_path(paths.registry)},
                            {"present", r.registry_present},
                            {"schema_version", r.schema_version},
                            {"rows_checked", r.rows_checked},
                            {"collected_objects", r.collected_objects}}},
                          {"store",
                           {{"path", util::display_path(paths.objects)},
                            {"objects_checked", r.objects_checked},
                            {"bytes_checked", r.bytes_checked},
                            {"unreferenced_objects", r.unreferenced_objects},
                            {"stale_temps", r.stale_temps}}},
                          {"problems", problems}});
        } else {
            if (r.registry_present) {
                ctx.out.print("registry  {}  schema {}, {} rows naming stored files{}",
                              util::display_path(paths.registry), r.schema_version, r.rows_checked,
                              r.collected_objects > 0
                                  ? fmt::format(", {} objects collected by gc", r.collected_objects)
                                  : std::string{});
            } else {
                ctx.out.print("registry  {}  not created yet", util::display_path(paths.registry));
            }
            ctx.out.print("store     {}  {} objects, {} re-hashed",
                          util::display_path(paths.objects), r.objects_checked,
                          util::format_bytes(static_cast<double>(r.bytes_checked)));
            if (r.unreferenced_objects > 0 || r.stale_temps > 0) {
                ctx.out.print(
                    "note      {} objects named by no row, {} temporary files of "
                    "interrupted writes (neither is damage)",
                    r.unreferenced_objects, r.stale_temps);
            }
            for (const auto& p : r.problems) {
                ctx.out.print("damaged   {} {}: {}", p.kind, p.subject, p.message);
            }
        }
        if (!r.ok()) {
            error::Diagnostic d;
            d.message = fmt::format("{} damaged {} found", r.problems.size(),
                                    r.problems.size() == 1 ? "thing" : "things");
            d.hint = "restore the registry or the named objects from a backup";
            ctx.out.diagnostic(d);
            return static_cast<int>(error::ExitCode::registry);
        }
        if (!ctx.out.json()) {
            ctx.out.print("ok");
        }
        return 0;
    }
};

}  // namespace

std::unique_ptr<Command> make_fsck() {
    return std::make_unique<FsckCommand>();
}

}  // namespace mloop::cli
