// Where a project keeps its state (SPEC §1): the registry, the content store, the hash cache and
// the run directories, all under .mloop/ beside the project file unless told otherwise.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace mloop::workspace {

struct Paths {
    std::filesystem::path root;      // the project's directory
    std::filesystem::path state;     // root/.mloop
    std::filesystem::path registry;  // --registry, MLOOP_REGISTRY, else state/registry.db
    std::filesystem::path objects;   // state/objects
    std::filesystem::path cache;     // state/cache
    std::filesystem::path runs;      // state/runs
};

// `registry_option` is --registry (empty when not given); MLOOP_REGISTRY is read here.
Paths paths_for(const std::filesystem::path& project_root, const std::string& registry_option);

// Creates `dir` and its missing parents with mode 0700 whatever the umask; an existing directory
// is left as it is. Throws RegistryError when it cannot.
void make_private_dir(const std::filesystem::path& dir);

}  // namespace mloop::workspace
