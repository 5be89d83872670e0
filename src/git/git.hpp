// The git state a run records, read through libgit2: HEAD's commit and branch, whether the work
// tree is dirty, and a digest of the diff when it is. Outside a repository that is a fact to
// record ("no git"), not an error.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mloop::git {

struct State {
    bool in_repository = false;
    std::filesystem::path workdir;           // the repository's work tree
    std::optional<std::string> commit;       // 40 hex; nullopt before the first commit
    std::optional<std::string> branch;       // nullopt when HEAD is detached
    bool dirty = false;                      // tracked files differ from HEAD (staged or not)
    std::optional<std::string> diff_digest;  // sha256 of the patch HEAD → work tree, when dirty
    std::vector<std::string> changed;        // paths of the changed tracked files, sorted
};

// The state of the repository that contains `dir` (searching upwards like git). Throws
// ExternalError only when a repository exists but cannot be read.
State inspect(const std::filesystem::path& dir);

// Whether `path` (relative to the work tree or absolute) has uncommitted changes.
bool is_modified(const State& state, const std::filesystem::path& path);

}  // namespace mloop::git
