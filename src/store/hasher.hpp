// Hashes files and directory trees on every core, consulting and filling the hash cache.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "store/digest.hpp"
#include "store/hash_cache.hpp"

namespace mloop::store {

struct HashStats {
    uint64_t files = 0;             // regular files in the inputs, directories walked
    uint64_t files_hashed = 0;      // of which read and hashed
    uint64_t files_from_cache = 0;  // of which answered by the cache without a read
    uint64_t files_cached = 0;      // new cache entries written (racy files are not)
    uint64_t bytes_read = 0;
};

struct HashResult {
    std::vector<Digest> digests;  // one per input path, in order
    HashStats stats;
};

class Hasher {
  public:
    // Called on the thread that called hash(), every `progress_interval` while files are read
    // and once at the end, with bytes hashed so far and the bytes to hash in all (files the
    // cache answers are in neither).
    using Progress = std::function<void(uint64_t bytes_done, uint64_t bytes_total)>;

    struct Options {
        HashCache* cache = nullptr;  // none: every file is read
        unsigned threads = 0;        // 0: one per core
        Progress progress;
        std::chrono::milliseconds progress_interval{100};
    };

    Hasher();
    explicit Hasher(Options options);

    // Each path is a file (its bytes' digest) or a directory (its tree digest, see tree.hpp); a
    // symlink named here is followed. Inputs that cannot be read are UsageError naming them;
    // cache problems are RegistryError.
    HashResult hash(const std::vector<std::filesystem::path>& paths);

  private:
    Options m_options;
};

}  // namespace mloop::store
