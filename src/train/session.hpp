// What a training command works with: the parsed project, where its state lives, the registry,
// the store, the hash cache, the process runner and the secrets to mask. Built once per command.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <future>

#include "config/project.hpp"
#include "git/git.hpp"
#include "process/runner.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"
#include "store/digest.hpp"
#include "store/hash_cache.hpp"
#include "store/objects.hpp"
#include "workspace/workspace.hpp"

namespace mloop::train {

// Progress for people, on stderr; the command decides how (or whether) to show it.
class Reporter {
  public:
    virtual ~Reporter() = default;
    virtual void note(std::string_view line) = 0;
    virtual void hashing(uint64_t done, uint64_t total) = 0;
};

class NullReporter : public Reporter {
  public:
    void note(std::string_view) override {}
    void hashing(uint64_t, uint64_t) override {}
};

struct Session {
    config::Project project;
    workspace::Paths paths;
    std::unique_ptr<registry::Registry> registry;
    std::unique_ptr<store::ObjectStore> objects;
    std::unique_ptr<store::HashCache> cache;
    process::ProcessRunner* runner = nullptr;
    Reporter* reporter = nullptr;
    std::vector<std::string> secrets;  // train.secrets and *_TOKEN/*_KEY/… values, masked
    // The project's git state, read on another thread from the moment the session opens:
    // libgit2's initialisation alone (it loads the system's CA certificates) costs ~8 ms, which
    // this hides behind opening the registry and hashing the inputs.
    std::shared_future<git::State> git;

    registry::Db& db() { return registry->db(); }
};

// Opens the registry (creating .mloop/ as needed), the store and the hash cache.
Session open_session(config::Project project, const workspace::Paths& paths,
                     process::ProcessRunner& runner, Reporter& reporter);

// Hashes files and directories through the session's cache, on every core.
std::vector<store::Digest> hash_paths(Session& s, const std::vector<std::filesystem::path>& paths);

// Stores a file or directory (unless the store already holds `digest`) and records the object;
// returns the digest of what is stored.
store::Digest snapshot(Session& s, const std::filesystem::path& path, const store::Digest& digest,
                       bool is_tree);

}  // namespace mloop::train
