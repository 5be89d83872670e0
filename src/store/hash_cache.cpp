#include "store/hash_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include <fmt/format.h>

#include "error/error.hpp"
#include "registry/sqlite.hpp"
#include "util/fs.hpp"

namespace mloop::store {

namespace fs = std::filesystem;

namespace {

constexpr int64_t k_schema_version = 1;

constexpr const char* k_schema = R"(
CREATE TABLE IF NOT EXISTS file_hashes (
    dev      INTEGER NOT NULL,
    ino      INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    d0       INTEGER NOT NULL,
    d1       INTEGER NOT NULL,
    d2       INTEGER NOT NULL,
    d3       INTEGER NOT NULL,
    PRIMARY KEY (dev, ino)
) WITHOUT ROWID;
PRAGMA user_version = 1;
)";

// The digest is kept as four 64-bit integers (bytes 0-7 big-endian in d0, …): loading a hundred
// thousand rows then needs no text to allocate or parse, which halves the time of a second pass
// over an unchanged dataset.
int64_t digest_word(const Digest& d, int i) {
    uint64_t w = 0;
    for (int b = 0; b < 8; ++b) {
        w = w << 8 | d.bytes[static_cast<size_t>(i * 8 + b)];
    }
    return static_cast<int64_t>(w);
}

Digest digest_from(const registry::Stmt& s, int first_col) {
    Digest d;
    for (int i = 0; i < 4; ++i) {
        auto w = static_cast<uint64_t>(s.int64(first_col + i));
        for (int b = 7; b >= 0; --b) {
            d.bytes[static_cast<size_t>(i * 8 + b)] = static_cast<uint8_t>(w);
            w >>= 8;
        }
    }
    return d;
}

constexpr size_t k_rows_per_insert = 64;

int64_t to_ns(const struct timespec& ts) {
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void fail(const fs::path& what, const std::string& action, int err) {
    throw error::RegistryError(fmt::format("hash cache '{}': cannot {}: {}",
                                           util::display_path(what), action,
                                           util::errno_message(err)));
}

// Creates the missing directories above the cache 0700: it lists the inodes and digests of the
// user's files, which is nobody else's business. Existing directories are left as they are.
void make_private_dirs(const fs::path& dir) {
    if (dir.empty()) {
        return;
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        return;
    }
    make_private_dirs(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0) {
        if (errno != EEXIST) {
            fail(dir, "create the directory", errno);
        }
        return;
    }
    // mkdir's mode passes through the umask, which could have taken the owner's bits too.
    if (::chmod(dir.c_str(), 0700) != 0) {
        fail(dir, "set the directory's mode", errno);
    }
}

// SQLite would create the file with 0644 & ~umask; create it 0600 first. Its -wal and -shm
// files take the database's mode.
void create_private_file(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            return;
        }
        fail(path, "create the file", errno);
    }
    const int rc = ::fchmod(fd, 0600);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        fail(path, "set the file's mode", err);
    }
}

}  // namespace

FileKey FileKey::from_stat(const struct stat& st) {
    return FileKey{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                   static_cast<uint64_t>(st.st_size), to_ns(st.st_mtim), to_ns(st.st_ctim)};
}

int64_t wall_clock_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return to_ns(ts);
}

HashCache::HashCache(const fs::path& db_path) : HashCache(db_path, Options{}) {}

HashCache::HashCache(const fs::path& db_path, Options options)
    : m_path(db_path), m_options(options) {
    make_private_dirs(db_path.parent_path());
    create_private_file(db_path);
    m_db = registry::Db::open(db_path, registry::Db::Mode::read_write, options.busy_timeout);
    // WAL: readers never block the writer and a crash mid-write leaves the old state. NORMAL
    // sync may lose the last commits on power loss but never corrupts; for a cache that is
    // only a few files to hash again.
    m_db->use_wal();
    m_db->exec("PRAGMA synchronous = NORMAL");
    int64_t version = m_db->pragma_int("user_version");
    if (version == 0) {
        m_db->write([&] {
            // Another process may have created it between our read and our lock.
            if (m_db->pragma_int("user_version") == 0) {
                m_db->exec(k_schema);
            }
        });
        version = m_db->pragma_int("user_version");
    }
    if (version != k_schema_version) {
        m_disabled = true;  // a newer mloop's cache: hash everything, touch nothing
        return;
    }
    m_select = std::make_unique<registry::Stmt>(
        m_db->prepare("SELECT size, mtime_ns, ctime_ns, d0, d1, d2, d3 FROM file_hashes "
                      "WHERE dev = ? AND ino = ?"));
}

HashCache::~HashCache() {
    m_select.reset();  // statements before their connection
}

bool HashCache::by_inode(const Row& a, const Row& b) {
    return a.dev != b.dev ? a.dev < b.dev : a.ino < b.ino;
}

std::optional<Digest> HashCache::match(const Row& row, const FileKey& key) {
    if (row.size == key.size && row.mtime_ns == key.mtime_ns && row.ctime_ns == key.ctime_ns) {
        return row.digest;
    }
    return std::nullopt;
}

std::optional<Digest> HashCache::lookup(const FileKey& key) {
    if (m_disabled) {
        return std::nullopt;
    }
    if (m_loaded) {
        const auto it =
            std::lower_bound(m_rows.begin(), m_rows.end(), key, [](const Row& r, const FileKey& k) {
                return r.dev != k.dev ? r.dev < k.dev : r.ino < k.ino;
            });
        if (it == m_rows.end() || it->dev != key.dev || it->ino != key.ino) {
            return std::nullopt;
        }
        return match(*it, key);
    }
    registry::Stmt& s = *m_select;
    s.bind_all(static_cast<int64_t>(key.dev), static_cast<int64_t>(key.ino));
    std::optional<Digest> found;
    if (s.step()) {
        found = match(Row{key.dev, key.ino, static_cast<uint64_t>(s.int64(0)), s.int64(1),
                          s.int64(2), digest_from(s, 3)},
                      key);
    }
    s.reset();
    return found;
}

void HashCache::preload() {
    if (m_disabled || m_loaded) {
        return;
    }
    m_db->read([&] {
        // The primary key orders the rows by (dev, ino) as SQLite stores them, but as signed
        // integers: sort again below unless they already come in unsigned order.
        registry::Stmt s = m_db->prepare(
            "SELECT dev, ino, size, mtime_ns, ctime_ns, d0, d1, d2, d3 FROM file_hashes");
        while (s.step()) {
            m_rows.push_back(
                Row{static_cast<uint64_t>(s.int64(0)), static_cast<uint64_t>(s.int64(1)),
                    static_cast<uint64_t>(s.int64(2)), s.int64(3), s.int64(4), digest_from(s, 5)});
        }
    });
    if (!std::is_sorted(m_rows.begin(), m_rows.end(), by_inode)) {
        std::sort(m_rows.begin(), m_rows.end(), by_inode);
    }
    m_loaded = true;
}

bool HashCache::racy(const FileKey& key, int64_t observed_at_ns) const {
    const int64_t newest = std::max(key.mtime_ns, key.ctime_ns);
    return newest >= observed_at_ns - m_options.racy_window.count();
}

bool HashCache::record(const FileKey& key, const Digest& digest, int64_t observed_at_ns) {
    if (m_disabled || racy(key, observed_at_ns)) {
        return false;
    }
    m_pending.push_back(Row{key.dev, key.ino, key.size, key.mtime_ns, key.ctime_ns, digest});
    return true;
}

size_t HashCache::flush() {
    if (m_pending.empty()) {
        return 0;
    }
    // Several rows per statement: a hundred thousand single-row inserts spend most of their
    // time stepping the statement, not in the b-tree.
    const auto insert_sql = [](size_t rows) {
        std::string sql =
            "INSERT OR REPLACE INTO file_hashes (dev, ino, size, mtime_ns, ctime_ns, d0, d1, d2, "
            "d3) VALUES ";
        for (size_t i = 0; i < rows; ++i) {
            sql += i == 0 ? "(?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?)";
        }
        return sql;
    };
    m_db->write([&] {
        registry::Stmt batch = m_db->prepare(insert_sql(k_rows_per_insert));
        const size_t whole = m_pending.size() / k_rows_per_insert * k_rows_per_insert;
        for (size_t at = 0; at < m_pending.size();) {
            const bool full = at < whole;
            registry::Stmt tail;
            if (!full) {
                tail = m_db->prepare(insert_sql(m_pending.size() - at));
            }
            registry::Stmt& s = full ? batch : tail;
            const size_t end = full ? at + k_rows_per_insert : m_pending.size();
            int param = 0;
            for (; at < end; ++at) {
                const Row& r = m_pending[at];
                s.bind(++param, static_cast<int64_t>(r.dev));
                s.bind(++param, static_cast<int64_t>(r.ino));
                s.bind(++param, static_cast<int64_t>(r.size));
                s.bind(++param, r.mtime_ns);
                s.bind(++param, r.ctime_ns);
                for (int w = 0; w < 4; ++w) {
                    s.bind(++param, digest_word(r.digest, w));
                }
            }
            s.run();
        }
    });
    const size_t n = m_pending.size();
    if (m_loaded) {
        // Keep the loaded rows current: the newest row for an inode wins, as in the table.
        std::stable_sort(m_pending.begin(), m_pending.end(), by_inode);
        std::vector<Row> merged;
        merged.reserve(m_rows.size() + m_pending.size());
        auto old = m_rows.begin();
        for (size_t i = 0; i < m_pending.size(); ++i) {
            if (i + 1 < m_pending.size() && !by_inode(m_pending[i], m_pending[i + 1])) {
                continue;  // a later row for the same inode follows
            }
            while (old != m_rows.end() && by_inode(*old, m_pending[i])) {
                merged.push_back(*old++);
            }
            if (old != m_rows.end() && !by_inode(m_pending[i], *old)) {
                ++old;  // replaced
            }
            merged.push_back(m_pending[i]);
        }
        merged.insert(merged.end(), old, m_rows.end());
        m_rows = std::move(merged);
    }
    m_pending.clear();
    return n;
}

}  // namespace mloop::store
