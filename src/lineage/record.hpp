// What every command that reads the record does first: find the project file and the registry
// (with --registry, a project file is not needed), open the registry without creating it, mark
// the runs whose mloop died as crashed (SPEC §6), and resolve references (SPEC §2) — a path is
// hashed through the project's hash cache.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/refs.hpp"
#include "registry/registry.hpp"
#include "workspace/workspace.hpp"

namespace mloop::lineage {

struct Place {
    workspace::Paths paths;
    std::optional<std::filesystem::path> project_file;  // nullopt: none, the registry was named
};

// The project file is -f, else the nearest mloop.yaml. When there is none but a registry was
// named (--registry or MLOOP_REGISTRY), the record can still be read; otherwise UsageError.
Place locate(const std::filesystem::path& cwd, const std::string& file_option,
             const std::string& registry_option);

// The registry, or nullptr when nothing has been recorded yet (it is never created here). Runs
// left 'running' by an mloop that no longer exists are marked 'crashed' first.
std::unique_ptr<registry::Registry> open_record(const workspace::Paths& paths);

// What reading the record takes from the project file, when it can be read: the model's name,
// the metrics of its gates, then the sweep objective. An absent or invalid file gives nullopt:
// the record does not depend on it.
struct ProjectHints {
    std::string model;
    std::vector<std::string> key_metrics;
};
std::optional<ProjectHints> project_hints(const std::optional<std::filesystem::path>& file);

// resolve() with what this project needs: paths relative to the current directory, hashed with
// the hash cache in .mloop/cache (when .mloop exists), '@3' meaning the project's model (or the
// registry's only model when the project file cannot be read).
registry::Ref resolve_ref(registry::Db& db, std::string_view text, const Place& place);

// The usage error for a reference when no registry exists yet (exit 2).
[[noreturn]] void nothing_recorded(std::string_view text);

// The output format of a command with --format: `given` when it is one of `allowed`, "json"
// under --json (a different --format beside it is a usage error), else `fallback`.
std::string choose_format(bool json, const std::string& given,
                          const std::vector<std::string>& allowed, const std::string& fallback);

}  // namespace mloop::lineage
