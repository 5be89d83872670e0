#include "train/session.hpp"

#include <unistd.h>

#include "process/mask.hpp"
#include "registry/registry.hpp"
#include "store/hasher.hpp"

extern char** environ;

namespace mloop::train {

namespace fs = std::filesystem;

Session open_session(config::Project project, const workspace::Paths& paths,
                     process::ProcessRunner& runner, Reporter& reporter) {
    Session s;
    s.git = std::async(std::launch::async, [root = project.root] {
                return git::inspect(root);
            }).share();
    s.paths = paths;
    workspace::make_private_dir(paths.state);
    s.registry = registry::Registry::open(paths.registry);
    s.objects = std::make_unique<store::ObjectStore>(paths.objects);
    workspace::make_private_dir(paths.cache);
    store::HashCache::Options cache_options;
    cache_options.busy_timeout = registry::busy_timeout_from_env(cache_options.busy_timeout);
    s.cache = std::make_unique<store::HashCache>(paths.cache / "hashes.db", cache_options);
    s.runner = &runner;
    s.reporter = &reporter;
    std::vector<std::string> named;
    if (project.train) {
        for (const auto& secret : project.train->secrets) {
            named.push_back(secret.value);
        }
    }
    s.secrets = process::secrets_from_environment(named, environ);
    s.project = std::move(project);
    return s;
}

std::vector<store::Digest> hash_paths(Session& s, const std::vector<fs::path>& paths) {
    store::Hasher::Options o;
    o.cache = s.cache.get();
    o.progress = [&](uint64_t done, uint64_t total) {
        s.reporter->hashing(done, total);
    };
    return store::Hasher(o).hash(paths).digests;
}

store::Digest snapshot(Session& s, const fs::path& path, const store::Digest& digest,
                       bool is_tree) {
    // An unchanged dataset is already stored: hashing through the cache found its digest
    // without reading it, so copying it again would be the only cost of a re-run.
    store::Digest stored = digest;
    if (!s.objects->has(digest)) {
        stored = is_tree ? s.objects->put_tree(path) : s.objects->put_file(path);
    }
    std::error_code ec;
    const auto size = is_tree ? 0 : static_cast<int64_t>(fs::file_size(path, ec));
    s.db().write([&] {
        registry::Objects(s.db()).record(stored.str(), ec ? 0 : size, is_tree ? "tree" : "file");
    });
    return stored;
}

}  // namespace mloop::train
