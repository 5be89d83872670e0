#include "registry/validations.hpp"

#include "registry/registry.hpp"

namespace mloop::registry {

namespace {

constexpr const char* k_columns = "id, digest, schema_digest, path, passed, rows, at, report";

Validation validation_from(const Stmt& s) {
    Validation v;
    v.id = s.int64(0);
    v.digest = s.text(1);
    v.schema_digest = s.text(2);
    v.path = s.text(3);
    v.passed = s.int64(4) != 0;
    v.rows = s.opt_int64(5);
    v.at = s.int64(6);
    v.report = s.text(7);
    return v;
}

}  // namespace

int64_t record_validation(Db& db, const Validation& v) {
    db.require_transaction("record_validation");
    db.prepare(
          "INSERT INTO validations (digest, schema_digest, path, passed, rows, at, report) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind_all(v.digest, v.schema_digest, v.path, static_cast<int64_t>(v.passed), v.rows,
                  now_ms(), v.report)
        .run();
    return db.last_insert_rowid();
}

std::optional<Validation> latest_validation(Db& db, const std::string& digest,
                                            const std::string& schema_digest) {
    // validations_by_data covers (digest, schema_digest, id): one index probe, newest first.
    Stmt s = db.prepare(std::string("SELECT ") + k_columns +
                        " FROM validations WHERE digest = ? AND schema_digest = ? "
                        "ORDER BY id DESC LIMIT 1");
    s.bind_all(digest, schema_digest);
    if (!s.step()) {
        return std::nullopt;
    }
    return validation_from(s);
}

std::optional<Validation> latest_validation(Db& db, const std::string& digest) {
    Stmt s = db.prepare(std::string("SELECT ") + k_columns +
                        " FROM validations WHERE digest = ? ORDER BY id DESC LIMIT 1");
    s.bind(1, digest);
    if (!s.step()) {
        return std::nullopt;
    }
    return validation_from(s);
}

std::optional<bool> passed(Db& db, const std::string& digest) {
    if (auto v = latest_validation(db, digest)) {
        return v->passed;
    }
    return std::nullopt;
}

std::optional<bool> passed(Db& db, const std::string& digest, const std::string& schema_digest) {
    if (auto v = latest_validation(db, digest, schema_digest)) {
        return v->passed;
    }
    return std::nullopt;
}

}  // namespace mloop::registry
