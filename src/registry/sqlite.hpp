// A thin RAII layer over SQLite: a connection, prepared statements with bound parameters only,
// and transactions. Every failure becomes a RegistryError (exit 4) that names the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

struct sqlite3;
struct sqlite3_stmt;

namespace mloop::registry {

class Db;

class Stmt {
  public:
    Stmt() = default;
    Stmt(Db& db, sqlite3_stmt* s) : m_db(&db), m_stmt(s) {}
    Stmt(Stmt&& o) noexcept;
    Stmt& operator=(Stmt&& o) noexcept;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt();

    // Parameters are 1-based, as in SQLite.
    Stmt& bind(int i, int64_t v);
    Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
    Stmt& bind(int i, double v);
    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, std::nullptr_t);
    template <class T>
    Stmt& bind(int i, const std::optional<T>& v) {
        return v ? bind(i, *v) : bind(i, nullptr);
    }
    // Binds every argument in order from parameter 1.
    template <class... Args>
    Stmt& bind_all(const Args&... args) {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    // Advances to the next row; false when done. Throws on error.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    void reset();

    bool is_null(int col) const;
    int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    std::optional<int64_t> opt_int64(int col) const;
    std::optional<double> opt_real(int col) const;
    std::optional<std::string> opt_text(int col) const;

  private:
    Db* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

class Db {
  public:
    enum class Mode { read_only, read_write };

    // Opens (and with read_write creates) the database at `path`. The connection's file
    // descriptors are close-on-exec, so child processes never inherit it.
    static std::unique_ptr<Db> open(const std::filesystem::path& path, Mode mode,
                                    std::chrono::milliseconds busy_timeout);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    sqlite3* handle() { return m_db; }

    void exec(std::string_view sql);
    Stmt prepare(std::string_view sql);
    int64_t last_insert_rowid() const;
    bool in_transaction() const;
    // Throws std::logic_error outside a transaction: repositories' writes must be composed by
    // the caller inside one Db::write().
    void require_transaction(std::string_view what) const;
    int changes() const;
    int64_t pragma_int(std::string_view name);
    // Puts the database in WAL mode unless it already is. Switching needs the database to
    // itself, and SQLite answers SQLITE_BUSY at once, without its busy handler, when another
    // connection is opening it at the same moment; this retries until the busy timeout.
    void use_wal();

    // Runs `f` in one BEGIN IMMEDIATE transaction (rolled back if `f` throws). Writers queue on
    // the busy timeout instead of failing with "database is locked".
    template <class F>
    auto write(F&& f) -> decltype(f()) {
        return transaction("BEGIN IMMEDIATE", std::forward<F>(f));
    }
    // A consistent snapshot for several reads.
    template <class F>
    auto read(F&& f) -> decltype(f()) {
        return transaction("BEGIN", std::forward<F>(f));
    }
    template <class F>
    auto exclusive(F&& f) -> decltype(f()) {
        return transaction("BEGIN EXCLUSIVE", std::forward<F>(f));
    }

    // Throws RegistryError for a failed SQLite call, naming the database and the cause.
    [[noreturn]] void fail(int rc, std::string_view what) const;
    void check(int rc, std::string_view what) const;

  private:
    Db(std::filesystem::path path, sqlite3* db, std::chrono::milliseconds busy_timeout)
        : m_path(std::move(path)), m_db(db), m_busy_timeout(busy_timeout) {}

    template <class F>
    auto transaction(const char* begin, F&& f) -> decltype(f()) {
        exec(begin);
        try {
            if constexpr (std::is_void_v<decltype(f())>) {
                f();
                exec("COMMIT");
            } else {
                auto result = f();
                exec("COMMIT");
                return result;
            }
        } catch (...) {
            rollback();
            throw;
        }
    }
    void rollback() noexcept;

    std::filesystem::path m_path;
    sqlite3* m_db = nullptr;
    std::chrono::milliseconds m_busy_timeout{0};
};

}  // namespace mloop::registry
