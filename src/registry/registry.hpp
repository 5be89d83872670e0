// The registry: one SQLite database in WAL mode holding every run, dataset, artifact, model
// version, alias move and event (SPEC §7). Opening it applies pending migrations exactly once;
// a registry written by a newer mloop is refused and never written.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "registry/sqlite.hpp"

namespace mloop::registry {

struct Migration {
    int version;
    const char* description;
    const char* sql;
};

// The numbered migrations of this mloop, oldest first; versions are 1, 2, 3, … without gaps.
std::span<const Migration> migrations();
int latest_version();

struct OpenOptions {
    // Writers wait this long for the lock (MLOOP_BUSY_TIMEOUT overrides, e.g. "2m").
    std::chrono::milliseconds busy_timeout{30'000};
    // Migrate only up to this version (tests build "old" registries with it); 0 = latest.
    int target_version = 0;
    bool create = true;  // false: a missing registry is an error
};

class Registry {
  public:
    static std::unique_ptr<Registry> open(const std::filesystem::path& path,
                                          const OpenOptions& options = {});

    Db& db() { return *m_db; }
    const std::filesystem::path& path() const { return m_db->path(); }
    int schema_version() { return static_cast<int>(m_db->pragma_int("user_version")); }

  private:
    explicit Registry(std::unique_ptr<Db> db) : m_db(std::move(db)) {}
    std::unique_ptr<Db> m_db;
};

// MLOOP_BUSY_TIMEOUT as a duration ("90s", "2m"), else `fallback`.
std::chrono::milliseconds busy_timeout_from_env(std::chrono::milliseconds fallback);

// Milliseconds since the Unix epoch, the unit of every time column.
int64_t now_ms();

}  // namespace mloop::registry
