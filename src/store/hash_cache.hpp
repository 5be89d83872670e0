// A persistent cache of file digests, so that an unchanged file is never read twice (SPEC §1).
//
// An entry maps a file's (device, inode) to the size, mtime_ns and ctime_ns it had when it was
// hashed, and the digest. A hit needs all five to match. ctime is the guard that matters: any
// write or chmod sets it to "now", and unlike mtime no unprivileged program can set it back, so
// a file rewritten with the same size and a restored mtime (cp -p, rsync -t, tar) still misses.
//
// The racy window. File timestamps come from a coarse kernel clock (a few milliseconds per
// tick), so a file hashed in the same tick as its last write could be written again within
// that tick with no change to its size, mtime or ctime, and the cache would then serve the old
// digest for ever. Like git's "racily clean" index entries, an entry is only kept when the
// file's newest timestamp (mtime or ctime) is older than the moment it was observed by more
// than `racy_window` (2 s by default, which also absorbs a little clock skew to a network file
// system). Such files are simply hashed again next time, until they are old enough.
//
// The database is SQLite in WAL mode at a path the caller gives (.mloop/cache/hashes.db),
// created 0600 in a 0700 directory whatever the umask. Every write is one BEGIN IMMEDIATE
// transaction with a busy timeout, so sweep trials hashing at once queue instead of failing,
// and SQLite's journal means a crash can lose entries but never leave a wrong one. Entries
// written by two processes for the same inode cannot mislead either: the row that wins holds
// the stat it was computed from, and a later lookup with a different stat simply misses.
//
// One HashCache is used from one thread at a time; each thread or process opens its own.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "store/digest.hpp"

namespace mloop::registry {
class Db;
class Stmt;
}  // namespace mloop::registry

namespace mloop::store {

// What identifies one version of a file without reading it.
struct FileKey {
    uint64_t dev = 0;
    uint64_t ino = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;

    static FileKey from_stat(const struct stat& st);
    bool operator==(const FileKey&) const = default;
};

// Nanoseconds since the epoch on the clock the kernel stamps files with. Sample it *before*
// the stat whose key you will record.
int64_t wall_clock_ns();

class HashCache {
  public:
    struct Options {
        // Must exceed the file system's timestamp granularity and the lag of the kernel's
        // coarse clock behind wall_clock_ns(); only tests that nothing else writes use less.
        std::chrono::nanoseconds racy_window = std::chrono::seconds(2);
        std::chrono::milliseconds busy_timeout = std::chrono::seconds(10);
    };

    // Opens or creates the cache. Problems (unwritable, damaged, disk full) are RegistryError.
    explicit HashCache(const std::filesystem::path& db_path);
    HashCache(const std::filesystem::path& db_path, Options options);
    ~HashCache();
    HashCache(const HashCache&) = delete;
    HashCache& operator=(const HashCache&) = delete;

    // The digest recorded for exactly this version of the file, if any.
    std::optional<Digest> lookup(const FileKey& key);

    // Reads every entry into memory once; later lookups are hash-table probes. Worth it when
    // about to look up many files: one table scan beats thousands of indexed queries.
    void preload();

    // Queues an entry for flush() (lookups see it once flushed). `observed_at_ns` is
    // wall_clock_ns() taken before the stat that produced `key`. Returns false, and queues
    // nothing, when the file is in the racy window (see above) and must not be cached.
    bool record(const FileKey& key, const Digest& digest, int64_t observed_at_ns);

    // Writes the queued entries in one BEGIN IMMEDIATE transaction; returns how many. Entries
    // still queued when the cache is destroyed are dropped: only a cost, never a wrong answer.
    size_t flush();

    bool racy(const FileKey& key, int64_t observed_at_ns) const;
    size_t pending() const { return m_pending.size(); }
    const std::filesystem::path& path() const { return m_path; }

  private:
    struct Row {
        uint64_t dev;
        uint64_t ino;
        uint64_t size;
        int64_t mtime_ns;
        int64_t ctime_ns;
        Digest digest;
    };
    static std::optional<Digest> match(const Row& row, const FileKey& key);
    static bool by_inode(const Row& a, const Row& b);

    std::filesystem::path m_path;
    Options m_options;
    std::unique_ptr<registry::Db> m_db;
    std::unique_ptr<registry::Stmt> m_select;  // prepared once for point lookups
    bool m_disabled = false;                   // written by a newer mloop: neither read nor write
    bool m_loaded = false;
    // What preload() read, and flush() wrote since, sorted by (dev, ino): the table's own
    // order, so loading is a plain append, and a flat array costs nothing to build or free
    // beside a node-based map.
    std::vector<Row> m_rows;
    std::vector<Row> m_pending;
};

}  // namespace mloop::store
