#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "registry/registry.hpp"
#include "registry/validations.hpp"

using namespace mloop::registry;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-unit-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

Validation make(const std::string& digest, const std::string& schema, bool ok) {
    Validation v;
    v.digest = digest;
    v.schema_digest = schema;
    v.path = "data/train.csv";
    v.passed = ok;
    v.rows = 10;
    v.report = "{}";
    return v;
}

}  // namespace

TEST_SUITE("registry") {
    TEST_CASE("validations: the latest row for a digest answers whether the data passed") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Db& db = reg->db();
        CHECK_FALSE(passed(db, "sha256:aa").has_value());
        db.write([&] { record_validation(db, make("sha256:aa", "sha256:s1", false)); });
        db.write([&] { record_validation(db, make("sha256:aa", "sha256:s1", true)); });
        db.write([&] { record_validation(db, make("sha256:aa", "sha256:s2", false)); });
        db.write([&] { record_validation(db, make("sha256:bb", "sha256:s1", true)); });
        CHECK(passed(db, "sha256:aa", "sha256:s1") == true);
        CHECK(passed(db, "sha256:aa", "sha256:s2") == false);
        CHECK(passed(db, "sha256:aa") == false);  // the newest, against any schema
        CHECK(passed(db, "sha256:bb") == true);
        CHECK_FALSE(passed(db, "sha256:aa", "sha256:s3").has_value());
        const auto v = latest_validation(db, "sha256:aa", "sha256:s1");
        REQUIRE(v);
        CHECK(v->path == "data/train.csv");
        CHECK(v->rows == 10);
        CHECK(v->at > 0);
    }

    TEST_CASE("validations: recording needs the caller's write transaction") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        CHECK_THROWS_AS(record_validation(reg->db(), make("sha256:aa", "sha256:s", true)),
                        std::logic_error);
    }

    TEST_CASE("validations: the lookup is one index probe") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Stmt s = reg->db().prepare(
            "EXPLAIN QUERY PLAN SELECT * FROM validations WHERE digest = ? AND schema_digest = ? "
            "ORDER BY id DESC LIMIT 1");
        s.bind_all("a", "b");
        REQUIRE(s.step());
        INFO(s.text(3));
        CHECK(s.text(3).find("USING INDEX validations_by_data") != std::string::npos);
    }
}
