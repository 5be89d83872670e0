// `mloop gc`: deletes the store objects and run directories that nothing still references.
//
// Kept are the objects and run directories of
//   - every model version an alias points at now (its run's artifacts, the snapshots of the
//     datasets the run read, its stage outputs, its run directory),
//   - every version that has been deployed successfully (deployed_runs()),
//   - the last `keep_runs` runs of every kind, newest by id,
//   - every run still running (its process alive, or on another host),
// and, whatever the rows say, every object written or re-used (ObjectStore::freshen) within
// `grace`: a writer stores bytes first and records the row naming them afterwards, so an object
// that looks unreferenced may be about to be referenced. Objects named by a table gc does not
// know (added by a later migration) are kept too. A kept tree keeps everything it lists.
// Everything else in the store goes, including objects no row names at all (left by killed
// writers), as do the temporary files of dead writers.
//
// Registry rows are history and stay: a deleted object's row gets `collected_at`. Crash safety
// follows the invariant fsck checks, "a row that says a file is stored has its bytes": the rows
// are marked in one write transaction first, then the bytes deleted. A crash in between leaves
// bytes nobody expects, which the next gc deletes. A kept object whose row was marked (re-used
// after a gc) has its mark cleared.
//
// Without a registry nothing can be told referenced, so nothing is deleted but dead writers'
// temporary files: a registry kept elsewhere (MLOOP_REGISTRY) must not cost the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "workspace/workspace.hpp"

namespace mloop::registry {
class Db;
}

namespace mloop::gc {

struct Options {
    int64_t keep_runs = 20;
    bool dry_run = false;
    std::chrono::nanoseconds grace = std::chrono::hours(1);
};

struct DeletedObject {
    std::string digest;
    uint64_t size = 0;
    bool named = false;  // a row named it (and is now marked collected)
    std::string what;    // "model.json of run 3", or "" when no run's row names it
};

struct DeletedRunDir {
    int64_t run = 0;
    std::filesystem::path path;
    uint64_t bytes = 0;
};

struct AliasKept {
    std::string model;
    std::string alias;
    int64_t version = 0;
    int64_t run = 0;
};

struct Result {
    bool dry_run = false;
    bool registry_present = false;
    int64_t keep_runs = 0;
    std::chrono::nanoseconds grace{0};

    // What goes (or, on a dry run, would go), sorted by digest and run id.
    std::vector<DeletedObject> deleted_objects;
    uint64_t deleted_object_bytes = 0;
    std::vector<DeletedRunDir> deleted_run_dirs;
    uint64_t deleted_run_dir_bytes = 0;
    size_t temp_files = 0;  // dead writers' temporary files removed (dry run: found)

    // What stays, and why. A run may be kept for several reasons; it is listed under each.
    std::vector<AliasKept> aliases;
    std::vector<int64_t> deployed_runs;
    std::vector<int64_t> recent_runs;  // the last keep_runs runs, newest first
    std::vector<int64_t> running_runs;
    int64_t kept_objects = 0;
    uint64_t kept_object_bytes = 0;
    int64_t grace_objects = 0;                  // kept only because they are recent
    std::map<std::string, int64_t> other_refs;  // "table.column" gc does not know → objects kept
    int64_t kept_run_dirs = 0;
    // Entries of the runs directory that are not runs of this registry: left alone.
    std::vector<std::filesystem::path> left_alone;

    // Only when not a dry run.
    int64_t crashed_runs = 0;   // 'running' runs whose mloop is gone, marked 'crashed' first
    int64_t revived = 0;        // kept objects whose 'collected' mark was cleared
    int64_t reused = 0;         // planned deletions skipped: re-used while gc ran
    int64_t store_objects = 0;  // in the store before gc (what a missing registry leaves alone)
};

Result collect(const workspace::Paths& paths, const Options& options);

// The training runs of every model version that has succeeded in a deployment (the current one
// of each environment and those a rollback may return to). gc keeps their objects and run
// directories like an aliased version's.
std::vector<int64_t> deployed_runs(registry::Db& db);

}  // namespace mloop::gc
