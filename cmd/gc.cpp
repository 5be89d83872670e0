// mloop gc [--dry-run] [--keep N]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "gc/gc.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

std::string plural(int64_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string bytes(uint64_t n) {
    return util::format_bytes(static_cast<double>(n));
}

// "run 3", "runs 3, 5", "runs 1-20, 31": ids newest first in, ascending ranges out.
std::string runs_text(std::vector<int64_t> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::string> parts;
    for (size_t i = 0; i < ids.size();) {
        size_t j = i;
        while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) {
            ++j;
        }
        parts.push_back(j == i ? std::to_string(ids[i]) : fmt::format("{}-{}", ids[i], ids[j]));
        i = j + 1;
    }
    return fmt::format("{} {}", ids.size() == 1 ? "run" : "runs", util::join(parts, ", "));
}

nlohmann::ordered_json to_json(const gc::Result& r, const workspace::Paths& paths) {
    using J = nlohmann::ordered_json;
    J objects = J::array();
    for (const auto& o : r.deleted_objects) {
        objects.push_back(
            {{"digest", o.digest}, {"size", o.size}, {"named", o.named}, {"what", o.what}});
    }
    J dirs = J::array();
    for (const auto& d : r.deleted_run_dirs) {
        dirs.push_back({{"run", d.run}, {"path", util::display_path(d.path)}, {"bytes", d.bytes}});
    }
    J aliases = J::array();
    for (const auto& a : r.aliases) {
        aliases.push_back(
            {{"model", a.model}, {"alias", a.alias}, {"version", a.version}, {"run", a.run}});
    }
    J left = J::array();
    for (const auto& p : r.left_alone) {
        left.push_back(util::display_path(p));
    }
    J other = J::object();
    for (const auto& [ref, n] : r.other_refs) {
        other[ref] = n;
    }
    return {{"dry_run", r.dry_run},
            {"registry",
             {{"path", util::display_path(paths.registry)}, {"present", r.registry_present}}},
            {"keep", r.keep_runs},
            {"grace_seconds", std::chrono::duration_cast<std::chrono::seconds>(r.grace).count()},
            {"deleted",
             {{"objects", objects},
              {"object_count", r.deleted_objects.size()},
              {"object_bytes", r.deleted_object_bytes},
              {"run_dirs", dirs},
              {"run_dir_bytes", r.deleted_run_dir_bytes},
              {"temp_files", r.temp_files}}},
            {"kept",
             {{"object_count", r.kept_objects},
              {"object_bytes", r.kept_object_bytes},
              {"run_dir_count", r.kept_run_dirs},
              {"aliases", aliases},
              {"deployed_runs", r.deployed_runs},
              {"recent_runs", r.recent_runs},
              {"running_runs", r.running_runs},
              {"grace_objects", r.grace_objects},
              {"other_tables", other}}},
            {"left_alone", left},
            {"crashed_runs", r.crashed_runs},
            {"revived_objects", r.revived},
            {"reused_objects", r.reused}};
}

class GcCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_flag("--dry-run", m_opts.dry_run, "print what would be deleted, delete nothing");
        app.add_option("--keep", m_opts.keep_runs,
                       "keep the objects and directories of the last N runs (default 20)")
            ->type_name("N");
    }

    int run(Context& ctx) override {
        const auto paths = ctx.paths();
        const gc::Result r = gc::collect(paths, m_opts);
        if (ctx.out.json()) {
            ctx.out.json(to_json(r, paths));
            return 0;
        }
        if (!r.registry_present) {
            ctx.out.print(
                "no registry at {}: nothing is known to be referenced, so nothing is "
                "deleted{}",
                util::display_path(paths.registry),
                r.temp_files > 0 ? fmt::format(" but {}{}", m_opts.dry_run ? "" : "removed ",
                                               plural(static_cast<int64_t>(r.temp_files),
                                                      "temporary file of a dead writer",
                                                      "temporary files of dead writers"))
                                 : std::string{});
            if (r.store_objects > 0) {
                error::Diagnostic d;
                d.severity = error::Severity::warning;
                d.message = fmt::format(
                    "the store holds {} but there is no registry to say "
                    "which are referenced",
                    plural(r.store_objects, "object", "objects"));
                d.hint = "if the registry is elsewhere, name it with --registry or MLOOP_REGISTRY";
                ctx.out.diagnostic(d);
            }
            return 0;
        }
        const std::string_view verb = m_opts.dry_run ? "would delete" : "deleted";
        if (m_opts.dry_run) {
            for (const auto& o : r.deleted_objects) {
                ctx.out.print("would delete object {}  {}{}", o.digest, bytes(o.size),
                              o.what.empty() ? std::string{} : "  " + o.what);
            }
            for (const auto& d : r.deleted_run_dirs) {
                ctx.out.print("would delete run directory {}/  {}", util::display_path(d.path),
                              bytes(d.bytes));
            }
        }
        std::string summary =
            fmt::format("{} {} ({}) and {} ({})", verb,
                        plural(static_cast<int64_t>(r.deleted_objects.size()), "object", "objects"),
                        bytes(r.deleted_object_bytes),
                        plural(static_cast<int64_t>(r.deleted_run_dirs.size()), "run directory",
                               "run directories"),
                        bytes(r.deleted_run_dir_bytes));
        if (r.temp_files > 0) {
            summary += fmt::format(
                ", {} {}", m_opts.dry_run ? "would remove" : "removed",
                plural(static_cast<int64_t>(r.temp_files), "temporary file of a dead writer",
                       "temporary files of dead writers"));
        }
        ctx.out.line(summary);
        ctx.out.print("kept {} ({}) and {}", plural(r.kept_objects, "object", "objects"),
                      bytes(r.kept_object_bytes),
                      plural(r.kept_run_dirs, "run directory", "run directories"));
        std::vector<std::string> aliases;
        for (const auto& a : r.aliases) {
            aliases.push_back(
                fmt::format("{}@{} (version {}, run {})", a.model, a.alias, a.version, a.run));
        }
        if (!aliases.empty()) {
            ctx.out.print("  aliased    {}", util::join(aliases, ", "));
        }
        if (!r.deployed_runs.empty()) {
            ctx.out.print("  deployed   {}", runs_text(r.deployed_runs));
        }
        if (!r.recent_runs.empty()) {
            ctx.out.print("  recent     {} (the last {})", runs_text(r.recent_runs), r.keep_runs);
        }
        if (!r.running_runs.empty()) {
            ctx.out.print("  running    {}", runs_text(r.running_runs));
        }
        if (r.grace_objects > 0) {
            ctx.out.print("  grace      {} written or re-used in the last {}",
                          plural(r.grace_objects, "object", "objects"), grace_text(r.grace));
        }
        for (const auto& [ref, n] : r.other_refs) {
            ctx.out.print("  named by   {} ({})", ref, plural(n, "object", "objects"));
        }
        for (const auto& p : r.left_alone) {
            ctx.out.print("left alone  {} (not a run of this registry)", util::display_path(p));
        }
        if (r.crashed_runs > 0) {
            ctx.out.note(fmt::format("marked {} 'crashed': the mloop that ran {} is gone",
                                     plural(r.crashed_runs, "run", "runs"),
                                     r.crashed_runs == 1 ? "it" : "them"));
        }
        if (r.reused > 0) {
            ctx.out.note(
                fmt::format("kept {} re-used while gc ran", plural(r.reused, "object", "objects")));
        }
        return 0;
    }

  private:
    static std::string grace_text(std::chrono::nanoseconds g) {
        const auto s = std::chrono::duration_cast<std::chrono::seconds>(g).count();
        if (s % 3600 == 0) {
            return s == 3600 ? "hour" : fmt::format("{} hours", s / 3600);
        }
        return s % 60 == 0 ? fmt::format("{} minutes", s / 60) : fmt::format("{} seconds", s);
    }

    gc::Options m_opts;
};

}  // namespace

std::unique_ptr<Command> make_gc() {
    return std::make_unique<GcCommand>();
}

}  // namespace mloop::cli
