#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "error/error.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"
#include "util/fs.hpp"

using namespace mloop;
using namespace mloop::registry;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-reg-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
}

int64_t count(Db& db, const std::string& sql) {
    Stmt s = db.prepare(sql);
    s.step();
    return s.int64(0);
}

RunStart sample_start() {
    RunStart s;
    s.command = R"(["python3","train.py"])";
    s.git.commit = "0123456789abcdef0123456789abcdef01234567";
    s.git.branch = "main";
    s.git.dirty = true;
    s.params = {{"C", "1.0", "number"}, {"max_iter", "200", "integer"}};
    s.inputs = {{"train.py", "code", "train.py", "sha256:" + std::string(64, 'a'), std::nullopt}};
    return s;
}

}  // namespace

TEST_SUITE("registry") {
    TEST_CASE("a new registry is private, in WAL mode and fully migrated, whatever the umask") {
        TempDir t;
        const mode_t old = ::umask(0);
        auto reg = Registry::open(t.path / "state" / "registry.db");
        ::umask(old);
        CHECK(mode_of(t.path / "state") == 0700);
        CHECK(mode_of(t.path / "state" / "registry.db") == 0600);
        CHECK(reg->schema_version() == latest_version());
        {
            Stmt jm = reg->db().prepare("PRAGMA journal_mode");
            REQUIRE(jm.step());
            CHECK(jm.text(0) == "wal");
        }
        CHECK(count(reg->db(), "SELECT COUNT(*) FROM schema_migrations") == latest_version());
        CHECK(reg->db().pragma_int("foreign_keys") == 1);
        reg->db().write([&] { Events(reg->db()).append("test", "x", "{}"); });
        // The WAL's files take the main file's mode.
        CHECK(mode_of(t.path / "state" / "registry.db-wal") == 0600);
    }

    TEST_CASE("the registry's file descriptors are close-on-exec") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        reg->db().write([&] { Events(reg->db()).append("test", "x", "{}"); });
        int seen = 0;
        for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
            std::error_code ec;
            const auto target = fs::read_symlink(entry.path(), ec);
            if (ec || target.string().find(t.path.string()) != 0) {
                continue;
            }
            const int fd = std::stoi(entry.path().filename().string());
            INFO(target.string());
            CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
            ++seen;
        }
        CHECK(seen >= 2);  // the database and its WAL
    }

    TEST_CASE("a registry from a newer mloop is refused and left byte for byte") {
        TempDir t;
        const fs::path p = t.path / "registry.db";
        {
            auto reg = Registry::open(p);
            reg->db().exec("PRAGMA user_version = 999");
        }
        const std::string before = util::read_file(p, 1 << 24).value();
        try {
            Registry::open(p);
            FAIL("expected a refusal");
        } catch (const error::RegistryError& e) {
            CHECK(e.code() == error::ExitCode::registry);
            CHECK(std::string(e.what()).find("schema version 999, newer than this mloop") !=
                  std::string::npos);
        }
        CHECK(util::read_file(p, 1 << 24).value() == before);
    }

    TEST_CASE("an old registry is migrated once, and migrations are recorded") {
        TempDir t;
        const fs::path p = t.path / "registry.db";
        {
            OpenOptions old;
            old.target_version = 1;
            auto reg = Registry::open(p, old);
            CHECK(reg->schema_version() == 1);
            CHECK(count(reg->db(), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'models'") ==
                  0);
        }
        auto reg = Registry::open(p);
        CHECK(reg->schema_version() == latest_version());
        CHECK(count(reg->db(), "SELECT COUNT(*) FROM schema_migrations") == latest_version());
        auto again = Registry::open(p);
        CHECK(count(again->db(), "SELECT COUNT(*) FROM schema_migrations") == latest_version());
    }

    TEST_CASE("a missing registry is created only when asked") {
        TempDir t;
        OpenOptions no_create;
        no_create.create = false;
        CHECK_THROWS_AS(Registry::open(t.path / "nope.db", no_create), error::RegistryError);
        CHECK_FALSE(fs::exists(t.path / "nope.db"));
        CHECK_THROWS_AS(Registry::open(t.path), error::RegistryError);  // a directory
    }

    TEST_CASE("runs record their start and end; lists are newest first") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Db& db = reg->db();
        Runs runs(db);
        const int64_t a = db.write([&] { return runs.begin(sample_start()); });
        const int64_t b = db.write([&] { return runs.begin(sample_start()); });
        CHECK(b == a + 1);
        const std::string digest = "sha256:" + std::string(64, 'b');
        db.write([&] {
            Objects(db).record(digest, 42, "file");
            RunEnd end;
            end.state = "succeeded";
            end.exit_code = 0;
            end.wall_ms = 1200;
            end.metrics = {{"auc", 0.84}, {"log_loss", 0.42}};
            end.artifacts = {{"model.json", digest, 42}};
            runs.finish(a, end);
        });
        auto run = runs.get(a);
        REQUIRE(run);
        CHECK(run->state == "succeeded");
        CHECK(run->git.dirty);
        CHECK(*run->git.branch == "main");
        CHECK(*run->exit_code == 0);
        CHECK(run->pid == ::getpid());
        CHECK(run->process.has_value());
        CHECK(runs.params(a).size() == 2);
        CHECK(runs.metrics(a)[0].name == "auc");
        CHECK(runs.metrics(a)[0].value == doctest::Approx(0.84));
        CHECK(runs.artifacts(a).at(0).digest == digest);
        CHECK(runs.inputs(a).at(0).kind == "code");
        const auto listed = runs.list({});
        REQUIRE(listed.size() == 2);
        CHECK(listed[0].id == b);
        RunQuery q;
        q.state = "succeeded";
        CHECK(runs.list(q).size() == 1);
        CHECK_FALSE(runs.get(999).has_value());
    }

    TEST_CASE("writes outside a transaction are a programming error") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Runs runs(reg->db());
        CHECK_THROWS_AS(runs.begin(sample_start()), std::logic_error);
    }

    TEST_CASE("an artifact names a stored object, or the whole step rolls back") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Db& db = reg->db();
        Runs runs(db);
        const int64_t id = db.write([&] { return runs.begin(sample_start()); });
        RunEnd end;
        end.state = "succeeded";
        end.metrics = {{"auc", 0.9}};
        end.artifacts = {{"model.json", "sha256:" + std::string(64, 'c'), 1}};
        CHECK_THROWS_AS(db.write([&] { runs.finish(id, end); }), error::RegistryError);
        CHECK(runs.get(id)->state == "running");
        CHECK(runs.metrics(id).empty());
    }

    TEST_CASE("model versions count up inside the transaction; alias moves keep history") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Db& db = reg->db();
        Runs runs(db);
        Models models(db);
        for (int i = 1; i <= 3; ++i) {
            const int64_t v = db.write([&] {
                const int64_t run = runs.begin(sample_start());
                return models.register_version("churn", run);
            });
            CHECK(v == i);
        }
        CHECK(*models.latest_version("churn") == 3);
        CHECK_FALSE(models.latest_version("other").has_value());
        db.write([&] { CHECK_FALSE(models.move_alias("churn", "staging", 2, false, {})); });
        db.write([&] { CHECK(*models.move_alias("churn", "staging", 3, true, "hotfix") == 2); });
        CHECK(*models.resolve_alias("churn", "staging") == 3);
        const auto moves = models.alias_moves("churn", "staging");
        REQUIRE(moves.size() == 2);
        CHECK_FALSE(moves[0].from_version);
        CHECK(moves[1].from_version == 2);
        CHECK(moves[1].to_version == 3);
        CHECK(moves[1].forced);
        CHECK(*moves[1].reason == "hotfix");
        CHECK(moves[1].user.has_value());
        // An alias can only point at a version that exists.
        CHECK_THROWS_AS(db.write([&] { models.move_alias("churn", "prod", 9, false, {}); }),
                        error::RegistryError);
    }

    TEST_CASE("a run whose mloop died is marked crashed by the next look") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Db& db = reg->db();
        Runs runs(db);
        const int64_t alive = db.write([&] { return runs.begin(sample_start()); });
        const int64_t dead = db.write([&] { return runs.begin(sample_start()); });
        // A pid that existed and is gone: a child that has exited and been reaped.
        const pid_t child = ::fork();
        if (child == 0) {
            ::_exit(0);
        }
        ::waitpid(child, nullptr, 0);
        db.prepare("UPDATE runs SET pid = ? WHERE id = ?").bind_all(int64_t{child}, dead).run();
        CHECK(runs.mark_crashed() == 1);
        CHECK(runs.get(dead)->state == "crashed");
        CHECK(runs.get(dead)->ended_at.has_value());
        CHECK(runs.get(alive)->state == "running");
        CHECK(runs.mark_crashed() == 0);
    }

    TEST_CASE("a run's lineage comes in one read") {
        TempDir t;
        auto reg = Registry::open(t.path / "registry.db");
        Db& db = reg->db();
        Runs runs(db);
        const std::string data = "sha256:" + std::string(64, 'd');
        const int64_t id = db.write([&] {
            Dataset d;
            d.digest = data;
            d.path = "data/train.csv";
            d.size = 100;
            d.rows = 4;
            RunStart s = sample_start();
            s.inputs.push_back(
                {"train", "dataset", "data/train.csv", data, Datasets(db).upsert(d)});
            const int64_t run = runs.begin(s);
            Models(db).register_version("churn", run);
            return run;
        });
        const auto l = lineage_of_run(db, id);
        REQUIRE(l);
        CHECK(l->params.size() == 2);
        REQUIRE(l->datasets.size() == 1);
        CHECK(l->datasets[0].path == "data/train.csv");
        CHECK(*l->datasets[0].rows == 4);
        REQUIRE(l->versions.size() == 1);
        CHECK(l->versions[0].version == 1);
        CHECK_FALSE(lineage_of_run(db, 12345).has_value());
    }

    TEST_CASE("MLOOP_BUSY_TIMEOUT is a duration") {
        ::setenv("MLOOP_BUSY_TIMEOUT", "2m", 1);
        CHECK(busy_timeout_from_env(std::chrono::milliseconds(5)).count() == 120000);
        ::setenv("MLOOP_BUSY_TIMEOUT", "soon", 1);
        CHECK_THROWS_AS(busy_timeout_from_env(std::chrono::milliseconds(5)), error::UsageError);
        ::unsetenv("MLOOP_BUSY_TIMEOUT");
        CHECK(busy_timeout_from_env(std::chrono::milliseconds(5)).count() == 5);
    }
}
