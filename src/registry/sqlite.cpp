#include "registry/sqlite.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "error/error.hpp"
#include "util/fs.hpp"

namespace mloop::registry {

// ---------------------------------------------------------------------------------------------
// Stmt

Stmt::Stmt(Stmt&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt) {
    o.m_stmt = nullptr;
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
    if (this != &o) {
        sqlite3_finalize(m_stmt);
        m_db = o.m_db;
        m_stmt = o.m_stmt;
        o.m_stmt = nullptr;
    }
    return *this;
}

Stmt::~Stmt() {
    sqlite3_finalize(m_stmt);
}

Stmt& Stmt::bind(int i, int64_t v) {
    m_db->check(sqlite3_bind_int64(m_stmt, i, v), "bind");
    return *this;
}

Stmt& Stmt::bind(int i, double v) {
    m_db->check(sqlite3_bind_double(m_stmt, i, v), "bind");
    return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
    m_db->check(sqlite3_bind_text64(m_stmt, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
                "bind");
    return *this;
}

Stmt& Stmt::bind(int i, std::nullptr_t) {
    m_db->check(sqlite3_bind_null(m_stmt, i), "bind");
    return *this;
}

bool Stmt::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    const std::string sql = sqlite3_sql(m_stmt) ? sqlite3_sql(m_stmt) : "";
    sqlite3_reset(m_stmt);
    m_db->fail(rc, sql.substr(0, sql.find_first_of("(\n")));
}

void Stmt::run() {
    while (step()) {
    }
    reset();
}

void Stmt::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool Stmt::is_null(int col) const {
    return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}
int64_t Stmt::int64(int col) const {
    return sqlite3_column_int64(m_stmt, col);
}
double Stmt::real(int col) const {
    return sqlite3_column_double(m_stmt, col);
}

std::string Stmt::text(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    const int n = sqlite3_column_bytes(m_stmt, col);
    return p == nullptr ? std::string{} : std::string(reinterpret_cast<const char*>(p), n);
}

std::optional<int64_t> Stmt::opt_int64(int col) const {
    return is_null(col) ? std::nullopt : std::optional<int64_t>(int64(col));
}
std::optional<double> Stmt::opt_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
}
std::optional<std::string> Stmt::opt_text(int col) const {
    return is_null(col) ? std::nullopt : std::optional<std::string>(text(col));
}

// ---------------------------------------------------------------------------------------------
// Db

std::unique_ptr<Db> Db::open(const std::filesystem::path& path, Mode mode,
                             std::chrono::milliseconds busy_timeout) {
    sqlite3* raw = nullptr;
    const int flags = (mode == Mode::read_only ? SQLITE_OPEN_READONLY
                                               : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    std::unique_ptr<Db> db(new Db(path, raw, busy_timeout));
    if (rc != SQLITE_OK) {
        db->fail(rc, "open");
    }
    sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
    // The last connection to close would checkpoint the write-ahead log into the database and
    // fsync both: two syncs on every mloop command, most of what `mloop train` costs beyond
    // the command it runs. Left to SQLite's automatic checkpoints (every ~1000 pages), the same
    // work happens once per many commands, and a commit is as durable as before.
    sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

Db::~Db() {
    sqlite3_close_v2(m_db);
}

void Db::exec(std::string_view sql) {
    char* err = nullptr;
    const std::string s(sql);
    const int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
        fail(rc, s.substr(0, s.find_first_of("(\n;")));
    }
}

Stmt Db::prepare(std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
    if (rc != SQLITE_OK) {
        fail(rc, "prepare");
    }
    return Stmt(*this, s);
}

int64_t Db::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(m_db);
}
int Db::changes() const {
    return sqlite3_changes(m_db);
}

int64_t Db::pragma_int(std::string_view name) {
    Stmt s = prepare(fmt::format("PRAGMA {}", name));
    return s.step() ? s.int64(0) : 0;
}

void Db::use_wal() {
    const auto deadline = std::chrono::steady_clock::now() + m_busy_timeout;
    auto pause = std::chrono::milliseconds(1);
    // Each statement answers the journal mode it leaves: "wal", or the old mode on a file
    // system that cannot share memory, which is kept rather than retried for ever.
    const auto step = [&](const char* sql) {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(m_db, sql, -1, &raw, nullptr);
        if (rc != SQLITE_OK) {
            return std::pair{rc, std::string()};
        }
        Stmt s(*this, raw);
        rc = sqlite3_step(raw);
        return std::pair{rc, rc == SQLITE_ROW ? s.text(0) : std::string()};
    };
    for (;;) {
        auto [rc, mode] = step("PRAGMA journal_mode");
        if (rc == SQLITE_ROW && mode == "wal") {
            return;
        }
        if (rc == SQLITE_ROW) {
            std::tie(rc, mode) = step("PRAGMA journal_mode = WAL");
            if (rc == SQLITE_ROW) {
                return;
            }
        }
        const int primary = rc & 0xff;
        if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) ||
            std::chrono::steady_clock::now() >= deadline) {
            fail(rc, "PRAGMA journal_mode = WAL");
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
}

bool Db::in_transaction() const {
    return sqlite3_get_autocommit(m_db) == 0;
}

void Db::require_transaction(std::string_view what) const {
    if (!in_transaction()) {
        throw std::logic_error(fmt::format("{} must run inside a write transaction", what));
    }
}

void Db::check(int rc, std::string_view what) const {
    if (rc != SQLITE_OK) {
        fail(rc, what);
    }
}

void Db::fail(int rc, std::string_view what) const {
    const std::string shown = util::display_path(m_path);
    const char* detail = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    std::string cause;
    std::string hint;
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            cause = "lock not obtained in time";
            hint = "another mloop is writing; try again, or raise MLOOP_BUSY_TIMEOUT";
            break;
        case SQLITE_FULL:
            cause = "disk full";
            hint = "free space on the registry's disk; the registry itself is intact";
            break;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            cause = "the database is damaged";
            hint = "run 'mloop fsck' to see what is damaged";
            break;
        case SQLITE_READONLY:
            cause = "the database is read-only";
            break;
        case SQLITE_CANTOPEN:
            cause = "cannot open the database";
            break;
        case SQLITE_IOERR:
            cause = (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC) ? "write failed"
                                                                           : "i/o error";
            break;
        default:
            cause = "sqlite error";
            break;
    }
    throw error::RegistryError(
        fmt::format("registry '{}': {} ({}: {})", shown, cause, what, detail), hint);
}

void Db::rollback() noexcept {
    if (m_db != nullptr && !sqlite3_get_autocommit(m_db)) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

}  // namespace mloop::registry
