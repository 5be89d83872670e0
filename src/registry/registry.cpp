#include "registry/registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/variables.hpp"
#include "error/error.hpp"
#include "util/fs.hpp"
#include "workspace/workspace.hpp"

namespace mloop::registry {

namespace fs = std::filesystem;

namespace {

// The database file is private (0600) whatever the umask. SQLite gives its -wal and -shm files
// the main file's mode, so creating the main file ourselves is enough.
void create_private_file(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            return;  // another process created it first
        }
        throw error::RegistryError(fmt::format("cannot create registry '{}': {}",
                                               util::display_path(path),
                                               util::errno_message(errno)));
    }
    const int rc = ::fchmod(fd, 0600);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        throw error::RegistryError(fmt::format("cannot set the mode of '{}': {}",
                                               util::display_path(path), util::errno_message(err)));
    }
}

// Reads user_version without any chance of writing, so a registry from a newer mloop stays
// byte for byte as it was. With no write-ahead log pending, the header holds the truth
// (user_version is the big-endian word at offset 60) and not even a -shm file is created;
// otherwise a read-only connection, which neither migrates nor checkpoints, reads it.
int peek_version(const fs::path& path, std::chrono::milliseconds timeout) {
    std::error_code ec;
    const auto wal_size = fs::file_size(fs::path(path.string() + "-wal"), ec);
    if (ec || wal_size == 0) {
        unsigned char header[100] = {};
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        const ssize_t got = fd >= 0 ? ::pread(fd, header, sizeof header, 0) : -1;
        if (fd >= 0) {
            ::close(fd);
        }
        if (got == static_cast<ssize_t>(sizeof header) &&
            std::memcmp(header, "SQLite format 3", 16) == 0) {
            const unsigned char* b = header + 60;
            return static_cast<int>((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                                    (uint32_t{b[2]} << 8) | uint32_t{b[3]});
        }
    }
    auto db = Db::open(path, Db::Mode::read_only, timeout);
    return static_cast<int>(db->pragma_int("user_version"));
}

void migrate(Db& db, int target) {
    db.exclusive([&] {
        // Another process may have migrated while this one waited for the lock.
        const int current = static_cast<int>(db.pragma_int("user_version"));
        for (const auto& m : migrations()) {
            if (m.version <= current || m.version > target) {
                continue;
            }
            spdlog::info("registry: applying migration {} ({})", m.version, m.description);
            db.exec(m.sql);
            db.prepare(
                  "INSERT INTO schema_migrations (version, description, applied_at) "
                  "VALUES (?, ?, ?)")
                .bind_all(m.version, m.description, now_ms())
                .run();
            db.exec(fmt::format("PRAGMA user_version = {}", m.version));
        }
    });
}

}  // namespace

std::chrono::milliseconds busy_timeout_from_env(std::chrono::milliseconds fallback) {
    const char* env = std::getenv("MLOOP_BUSY_TIMEOUT");
    if (env == nullptr || *env == '\0') {
        return fallback;
    }
    auto d = config::parse_duration(env);
    if (!d) {
        throw error::UsageError(fmt::format("MLOOP_BUSY_TIMEOUT: {}", d.error()));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::unique_ptr<Registry> Registry::open(const fs::path& path, const OpenOptions& options) {
    const auto timeout = busy_timeout_from_env(options.busy_timeout);
    const int target = options.target_version == 0 ? latest_version() : options.target_version;
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (!exists) {
        if (!options.create) {
            throw error::RegistryError(fmt::format("no registry at '{}'", util::display_path(path)),
                                       "it is created by the first command that records something");
        }
        workspace::make_private_dir(path.parent_path());
        create_private_file(path);
    } else if (fs::is_directory(path, ec)) {
        throw error::RegistryError(
            fmt::format("registry '{}' is a directory", util::display_path(path)));
    } else {
        const int version = peek_version(path, timeout);
        if (version > latest_version()) {
            throw error::RegistryError(
                fmt::format("registry '{}' has schema version {}, newer than this mloop "
                            "understands ({})",
                            util::display_path(path), version, latest_version()),
                "it was written by a newer mloop; upgrade mloop to use it");
        }
    }
    auto db = Db::open(path, Db::Mode::read_write, timeout);
    db->use_wal();
    // NORMAL in WAL mode: a commit survives any crash of mloop; only a power cut can lose the
    // last transactions, and never the database's consistency.
    db->exec("PRAGMA synchronous = NORMAL");
    db->exec("PRAGMA foreign_keys = ON");
    const int version = static_cast<int>(db->pragma_int("user_version"));
    if (version > latest_version()) {  // written between our peek and now
        throw error::RegistryError(fmt::format(
            "registry '{}' has schema version {}, newer than this mloop understands ({})",
            util::display_path(path), version, latest_version()));
    }
    if (version < target) {
        migrate(*db, target);
    }
    return std::unique_ptr<Registry>(new Registry(std::move(db)));
}

}  // namespace mloop::registry
