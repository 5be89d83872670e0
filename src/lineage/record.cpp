#include "lineage/record.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/load.hpp"
#include "error/error.hpp"
#include "lineage/query.hpp"
#include "store/hasher.hpp"
#include "util/text.hpp"

namespace mloop::lineage {

namespace fs = std::filesystem;

Place locate(const fs::path& cwd, const std::string& file_option,
             const std::string& registry_option) {
    std::optional<fs::path> explicit_file;
    if (!file_option.empty()) {
        explicit_file = fs::path(file_option);
    }
    try {
        const fs::path file = config::find_project_file(cwd, explicit_file);
        return {workspace::paths_for(file.parent_path(), registry_option), file};
    } catch (const error::UsageError&) {
        const char* env = std::getenv("MLOOP_REGISTRY");
        const bool named = !registry_option.empty() || (env != nullptr && *env != '\0');
        if (explicit_file || !named) {
            throw;
        }
        return {workspace::paths_for(cwd, registry_option), std::nullopt};
    }
}

std::unique_ptr<registry::Registry> open_record(const workspace::Paths& paths) {
    std::error_code ec;
    if (!fs::exists(paths.registry, ec)) {
        return nullptr;
    }
    registry::OpenOptions o;
    o.create = false;
    auto reg = registry::Registry::open(paths.registry, o);
    registry::Runs(reg->db()).mark_crashed();
    return reg;
}

std::optional<ProjectHints> project_hints(const std::optional<fs::path>& file) {
    if (!file) {
        return std::nullopt;
    }
    const config::ParseResult r = config::read_project(*file);
    for (const auto& d : r.diagnostics) {
        if (d.severity == error::Severity::error) {
            spdlog::info("{} cannot be read ({}); the record is shown without it",
                         r.project.display_file, d.message);
            return std::nullopt;
        }
    }
    ProjectHints h;
    h.model = r.project.model.name.empty() ? r.project.name : r.project.model.name;
    std::set<std::string> seen;
    for (const auto& g : r.project.model.gates) {
        if (seen.insert(g.metric.value).second) {
            h.key_metrics.push_back(g.metric.value);
        }
    }
    if (r.project.train && r.project.train->sweep) {
        const std::string& objective = r.project.train->sweep->objective_metric;
        if (!objective.empty() && seen.insert(objective).second) {
            h.key_metrics.push_back(objective);
        }
    }
    return h;
}

registry::Ref resolve_ref(registry::Db& db, std::string_view text, const Place& place) {
    registry::ResolveContext ctx;
    ctx.base = fs::current_path();
    if (!text.empty() && text.front() == '@') {
        if (auto hints = project_hints(place.project_file)) {
            ctx.default_model = hints->model;
        } else if (const auto names = model_names(db); names.size() == 1) {
            ctx.default_model = names.front();
        }
    }
    std::error_code ec;
    const bool use_cache = fs::is_directory(place.paths.state, ec);
    ctx.digest_of = [&](const fs::path& p) {
        std::unique_ptr<store::HashCache> cache;
        if (use_cache) {
            cache = std::make_unique<store::HashCache>(place.paths.cache / "hashes.db");
        }
        store::Hasher::Options o;
        o.cache = cache.get();
        return store::Hasher(o).hash({p}).digests.front().str();
    };
    return registry::resolve(db, text, ctx);
}

void nothing_recorded(std::string_view text) {
    throw error::UsageError(fmt::format("'{}' names nothing: nothing has been recorded yet", text),
                            "'mloop train' records runs and model versions");
}

std::string choose_format(bool json, const std::string& given,
                          const std::vector<std::string>& allowed, const std::string& fallback) {
    if (!given.empty() && std::find(allowed.begin(), allowed.end(), given) == allowed.end()) {
        std::string hint = util::did_you_mean(given, allowed);
        throw error::UsageError(
            fmt::format("'{}' is not an output format here", given),
            hint.empty() ? fmt::format("choose {}", util::join(allowed, ", ")) : hint);
    }
    if (json) {
        if (!given.empty() && given != "json") {
            throw error::UsageError(fmt::format("--json and --format {} disagree", given),
                                    "give one of them");
        }
        return "json";
    }
    return given.empty() ? fallback : given;
}

}  // namespace mloop::lineage
