// Validating a dataset against the schema (`mloop validate data`): the dataset's digest (through
// the hash cache, so an unchanged file is not read), a recorded result for that digest and
// schema if there is one, else one streaming pass over its files, on several threads for large
// uncompressed files, and the result recorded in the registry.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/project.hpp"
#include "data/report.hpp"

namespace mloop::store {
class HashCache;
}
namespace mloop::registry {
class Db;
}

namespace mloop::data {

struct Target {
    std::string name;            // the dataset's name in mloop.yaml, or the path as given
    std::filesystem::path path;  // where it is, relative to the current directory or absolute
    std::string display;         // the path as messages show it
    std::string format;          // csv | jsonl; empty: from each file's suffix
};

struct ReadOptions {
    unsigned threads = 0;                     // 0: one per core
    uint64_t split_min = uint64_t{32} << 20;  // smaller files are read by one thread
    uint64_t min_part = uint64_t{8} << 20;    // a thread's share of a split file, at least
    size_t block_size = size_t{1} << 20;
    // Bytes read so far and in all, on the calling thread, about ten times a second.
    std::function<void(uint64_t done, uint64_t total)> progress;
};

// Reads `target` once and checks every expectation: the report without digest and caching.
// A path that cannot be read is a UsageError; malformed data is the report's `problem`.
Report read_and_check(const config::Schema& schema, const Target& target,
                      const ReadOptions& options);

struct CheckOptions {
    ReadOptions read;
    bool force = false;                 // read even when a result is recorded
    store::HashCache* cache = nullptr;  // for the digest of files and trees
    registry::Db* db = nullptr;         // where results are recorded and looked up
    std::function<void(uint64_t done, uint64_t total)> hash_progress;
};

// The whole step for one dataset: digest, recorded result or a fresh read, recording.
Report check_dataset(const config::Schema& schema, const Target& target,
                     const CheckOptions& options);

// The files of a directory dataset that mloop reads: .csv, .tsv, .jsonl and .ndjson, each
// optionally .gz, anywhere beneath it (hidden entries skipped), in name order of their relative
// paths. `format`, when given, keeps only files of that format.
std::vector<std::string> data_files(const std::filesystem::path& dir, const std::string& format);

// csv or jsonl from a file name ("x.csv.gz" is csv); empty when the suffix says neither.
std::string format_of(const std::string& name);

}  // namespace mloop::data
