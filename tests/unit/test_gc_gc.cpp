#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "error/error.hpp"
#include "fsck/fsck.hpp"
#include "gc/gc.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"
#include "store/objects.hpp"
#include "store/sha256.hpp"
#include "workspace/workspace.hpp"

using namespace mloop;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

void backdate(const fs::path& p, int seconds) {
    struct timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// A project with a registry and a store, and helpers that record runs as `mloop train` does.
struct Project {
    fs::path dir;
    workspace::Paths paths;
    store::ObjectStore objects;
    std::unique_ptr<registry::Registry> reg;

    Project() : dir(make_dir()), paths(workspace::paths_for(dir, "")), objects(paths.objects) {
        workspace::make_private_dir(paths.state);
    }
    ~Project() {
        reg.reset();
        fs::remove_all(dir);
    }

    static fs::path make_dir() {
        char tmpl[] = "/tmp/mloop-gc-XXXXXX";
        return ::mkdtemp(tmpl);
    }

    registry::Db& db() {
        if (!reg) {
            reg = registry::Registry::open(paths.registry);
        }
        return reg->db();
    }

    store::Digest put(const std::string& text) { return objects.put_bytes(text); }

    store::Digest put_tree(const std::map<std::string, std::string>& files) {
        const fs::path src = dir / "src-tree";
        fs::remove_all(src);
        for (const auto& [name, text] : files) {
            write(src / name, text);
        }
        const auto d = objects.put_tree(src);
        fs::remove_all(src);
        return d;
    }

    // A finished run with these artifacts and dataset snapshots, and its run directory.
    int64_t run(const std::vector<store::Digest>& artifacts,
                const std::vector<store::Digest>& snapshots = {}, const char* kind = "file",
                const char* state = "succeeded") {
        auto& db = this->db();
        int64_t id = 0;
        db.write([&] {
            registry::Objects o(db);
            registry::RunStart start;
            start.command = "[\"true\"]";
            for (size_t i = 0; i < snapshots.size(); ++i) {
                o.record(snapshots[i].str(), 0, kind);
                registry::Dataset ds;
                ds.digest = snapshots[i].str();
                ds.path = "data/" + std::to_string(i);
                ds.kind = kind;
                ds.snapshot = ds.digest;
                start.inputs.push_back({"data" + std::to_string(i), "dataset", ds.path, ds.digest,
                                        registry::Datasets(db).upsert(ds)});
            }
            registry::Runs runs(db);
            id = runs.begin(start);
            if (std::string(state) == "running") {
                return;
            }
            registry::RunEnd end;
            end.state = state;
            for (size_t i = 0; i < artifacts.size(); ++i) {
                o.record(artifacts[i].str(), 0, kind);
                end.artifacts.push_back({"a" + std::to_string(i), artifacts[i].str(), 0});
            }
            runs.finish(id, end);
        });
        write(paths.runs / std::to_string(id) / "stdout.log", "log of run " + std::to_string(id));
        return id;
    }

    int64_t version(int64_t run, const char* alias = nullptr) {
        auto& db = this->db();
        return db.write([&] {
            registry::Models m(db);
            const int64_t v = m.register_version("churn", run);
            if (alias != nullptr) {
                m.move_alias("churn", alias, v, false, std::nullopt);
            }
            return v;
        });
    }

    void age_store(int seconds = 2 * 3600) {
        objects.for_each(
            [&](const store::Digest& d, uint64_t) { backdate(objects.path_of(d), seconds); });
    }

    std::set<std::string> stored() const {
        std::set<std::string> out;
        objects.for_each([&](const store::Digest& d, uint64_t) { out.insert(d.str()); });
        return out;
    }

    std::set<std::string> collected() {
        std::set<std::string> out;
        registry::Stmt s =
            db().prepare("SELECT digest FROM objects WHERE collected_at IS NOT NULL");
        while (s.step()) {
            out.insert(s.text(0));
        }
        return out;
    }

    bool has_run_dir(int64_t id) const { return fs::exists(paths.runs / std::to_string(id)); }
};

std::set<std::string> deleted(const gc::Result& r) {
    std::set<std::string> out;
    for (const auto& o : r.deleted_objects) {
        out.insert(o.digest);
    }
    return out;
}

std::set<int64_t> deleted_runs(const gc::Result& r) {
    std::set<int64_t> out;
    for (const auto& d : r.deleted_run_dirs) {
        out.insert(d.run);
    }
    return out;
}

gc::Options keep(int64_t n, bool dry_run = false) {
    gc::Options o;
    o.keep_runs = n;
    o.dry_run = dry_run;
    return o;
}

}  // namespace

TEST_SUITE("gc") {
    TEST_CASE("without a registry nothing is deleted but dead writers' temporary files") {
        Project p;
        const auto a = p.put("an object");
        p.age_store();
        write(p.paths.objects / "tmp" / "1-dead", "half");
        const auto dry = gc::collect(p.paths, keep(20, true));
        CHECK_FALSE(dry.registry_present);
        CHECK(dry.temp_files == 1);
        CHECK(dry.store_objects == 1);
        CHECK(fs::exists(p.paths.objects / "tmp" / "1-dead"));
        const auto r = gc::collect(p.paths, keep(20));
        CHECK(r.deleted_objects.empty());
        CHECK(r.temp_files == 1);
        CHECK_FALSE(fs::exists(p.paths.objects / "tmp" / "1-dead"));
        CHECK(p.objects.has(a));
        CHECK_FALSE(fs::exists(p.paths.registry));
    }

    TEST_CASE("aliased, recent and running runs keep theirs; a dry run deletes exactly that") {
        Project p;
        const auto shared = p.put("train.csv v1");
        const auto a1 = p.put("model 1");
        const auto a2 = p.put("model 2");
        const auto a3 = p.put("model 3");
        const auto d4 = p.put("train.csv of a running run");
        const auto a5 = p.put("model 5");
        const auto orphan = p.put("from a killed writer");
        const int64_t r1 = p.run({a1}, {shared});
        const int64_t r2 = p.run({a2}, {shared});
        p.version(r1);
        p.version(r2, "production");
        const int64_t r3 = p.run({a3});
        const int64_t r4 = p.run({}, {d4}, "file", "running");  // this process: alive
        const int64_t r5 = p.run({a5});
        p.age_store();
        const auto before = p.stored();

        const auto dry = gc::collect(p.paths, keep(2, true));
        CHECK(dry.registry_present);
        CHECK(deleted(dry) == std::set<std::string>{a1.str(), a3.str(), orphan.str()});
        CHECK(deleted_runs(dry) == std::set<int64_t>{r1, r3});
        CHECK(dry.recent_runs == std::vector<int64_t>{r5, r4});
        CHECK(dry.running_runs == std::vector<int64_t>{r4});
        REQUIRE(dry.aliases.size() == 1);
        CHECK(dry.aliases[0].run == r2);
        CHECK(dry.aliases[0].alias == "production");
        CHECK(dry.kept_objects == 4);
        CHECK(dry.kept_run_dirs == 3);
        for (const auto& o : dry.deleted_objects) {
            CHECK(o.named == (o.digest != orphan.str()));
            if (o.digest == a1.str()) {
                CHECK(o.what == "a0 of run 1");
            }
        }
        // Nothing changed.
        CHECK(p.stored() == before);
        CHECK(p.collected().empty());
        CHECK(p.has_run_dir(r1));

        const auto r = gc::collect(p.paths, keep(2));
        CHECK(deleted(r) == deleted(dry));
        CHECK(deleted_runs(r) == deleted_runs(dry));
        CHECK(r.deleted_object_bytes == dry.deleted_object_bytes);
        std::set<std::string> left = before;
        for (const auto& d : deleted(dry)) {
            left.erase(d);
        }
        CHECK(p.stored() == left);
        CHECK(p.collected() == std::set<std::string>{a1.str(), a3.str()});  // the orphan had no row
        CHECK_FALSE(p.has_run_dir(r1));
        CHECK_FALSE(p.has_run_dir(r3));
        CHECK(p.has_run_dir(r2));
        CHECK(p.has_run_dir(r4));
        CHECK(p.has_run_dir(r5));
        CHECK(fsck::check(p.paths).ok());

        const auto again = gc::collect(p.paths, keep(2));
        CHECK(again.deleted_objects.empty());
        CHECK(again.deleted_run_dirs.empty());
        CHECK(fsck::check(p.paths).ok());

        // --keep 0: only the alias and the running run keep theirs.
        const auto none = gc::collect(p.paths, keep(0));
        CHECK(deleted(none) == std::set<std::string>{a5.str()});
        CHECK(deleted_runs(none) == std::set<int64_t>{r5});
        CHECK(p.objects.has(shared));
        CHECK(p.objects.has(d4));
        CHECK(p.objects.has(a2));
        CHECK(fsck::check(p.paths).ok());
    }

    TEST_CASE("a kept tree keeps what it lists; a deleted one leaves members others keep") {
        Project p;
        const auto kept_file = p.put("weights 2");
        const auto old_tree = p.put_tree({{"weights.json", "weights 2"}, {"extra", "only old"}});
        const auto new_tree = p.put_tree({{"part-0.csv", "a\n1\n"}, {"sub/part-1.csv", "a\n2\n"}});
        const int64_t r1 = p.run({old_tree}, {}, "tree");
        const int64_t r2 = p.run({kept_file});
        const int64_t r3 = p.run({}, {new_tree}, "tree");
        p.version(r2, "production");
        p.age_store();
        const auto before = p.stored();
        const auto r = gc::collect(p.paths, keep(1));
        (void)r1;
        (void)r3;
        CHECK(deleted(r).count(old_tree.str()) == 1);
        CHECK(deleted(r).count(store::sha256("only old").str()) == 1);
        CHECK(deleted(r).size() == 2);
        CHECK(p.objects.has(kept_file));
        // Every member of the kept tree, its subdirectory's listing too, is still there.
        const fs::path out = p.dir / "restored";
        p.objects.restore(new_tree, out, store::ObjectStore::Kind::tree);
        CHECK(fs::exists(out / "sub" / "part-1.csv"));
        CHECK(p.stored().size() == before.size() - 2);
        CHECK(fsck::check(p.paths).ok());
    }

    TEST_CASE("objects written or re-used within the grace stay, named or not") {
        Project p;
        const auto old_model = p.put("model 1");
        const int64_t r1 = p.run({old_model});
        p.run({});
        p.age_store();
        const auto fresh = p.put("a writer has stored this and not yet recorded it");
        // A new run about to record the same bytes as an old, unreferenced one re-uses them.
        CHECK(p.objects.freshen(old_model));
        const auto r = gc::collect(p.paths, keep(1));
        CHECK(r.deleted_objects.empty());
        CHECK(r.grace_objects == 2);
        CHECK(p.objects.has(fresh));
        CHECK(p.objects.has(old_model));
        CHECK_FALSE(p.has_run_dir(r1));  // run directories have no grace: their runs are done

        // put_* freshen an object they find already stored.
        backdate(p.objects.path_of(old_model), 2 * 3600);
        p.put("model 1");
        CHECK(gc::collect(p.paths, keep(1)).deleted_objects.empty());
        CHECK_FALSE(p.objects.freshen(store::sha256("never stored")));

        gc::Options no_grace = keep(1);
        no_grace.grace = std::chrono::nanoseconds(0);
        const auto all = gc::collect(p.paths, no_grace);
        CHECK(deleted(all) == std::set<std::string>{old_model.str(), fresh.str()});
    }

    TEST_CASE("rows are marked before bytes go: a crash in between is mended by the next gc") {
        Project p;
        const auto a = p.put("model 1");
        p.run({a});
        p.run({});
        p.age_store();
        // What a gc killed after its commit leaves: the row marked, the bytes still there.
        p.db().write([&] {
            p.db()
                .prepare("UPDATE objects SET collected_at = 1 WHERE digest = ?")
                .bind(1, a.str())
                .run();
        });
        CHECK(fsck::check(p.paths).ok());
        const auto r = gc::collect(p.paths, keep(1));
        REQUIRE(r.deleted_objects.size() == 1);
        CHECK_FALSE(r.deleted_objects[0].named);  // marked already
        CHECK_FALSE(p.objects.has(a));
        const auto report = fsck::check(p.paths);
        CHECK(report.ok());
        CHECK(report.collected_objects == 1);
    }

    TEST_CASE("a kept object marked collected and stored again is revived") {
        Project p;
        const auto a = p.put("model 1");
        const int64_t r1 = p.run({a});
        p.version(r1, "production");
        p.db().write([&] {
            p.db()
                .prepare("UPDATE objects SET collected_at = 1 WHERE digest = ?")
                .bind(1, a.str())
                .run();
        });
        CHECK(gc::collect(p.paths, keep(0, true)).revived == 0);  // a dry run changes nothing
        CHECK(p.collected().size() == 1);
        const auto r = gc::collect(p.paths, keep(0));
        CHECK(r.revived == 1);
        CHECK(p.collected().empty());
        CHECK(p.objects.has(a));
    }

    TEST_CASE("a table gc does not know that names objects keeps them") {
        Project p;
        const auto ctx = p.put("a build context");
        p.run({ctx});
        p.run({});
        p.db().exec(
            "CREATE TABLE packages (id INTEGER PRIMARY KEY, "
            "context TEXT REFERENCES objects(digest))");
        p.db().exec("INSERT INTO packages (context) VALUES ('" + ctx.str() + "')");
        p.age_store();
        const auto r = gc::collect(p.paths, keep(1));
        CHECK(r.deleted_objects.empty());
        CHECK(r.other_refs ==
              std::map<std::string, int64_t>{{"images.provenance", 0}, {"packages.context", 1}});
        CHECK(p.objects.has(ctx));
    }

    TEST_CASE("a run whose mloop is gone is marked crashed and collected; a dry run marks none") {
        Project p;
        const auto d = p.put("its data");
        const int64_t r1 = p.run({}, {d}, "file", "running");
        p.run({});
        p.db().write([&] {
            p.db().prepare("UPDATE runs SET process = 'gone:1' WHERE id = ?").bind(1, r1).run();
        });
        p.age_store();
        const auto dry = gc::collect(p.paths, keep(1, true));
        CHECK(dry.running_runs.empty());
        CHECK(deleted_runs(dry) == std::set<int64_t>{r1});
        CHECK(registry::Runs(p.db()).get(r1)->state == "running");
        const auto r = gc::collect(p.paths, keep(1));
        CHECK(r.crashed_runs == 1);
        CHECK(registry::Runs(p.db()).get(r1)->state == "crashed");
        CHECK(deleted(r) == std::set<std::string>{d.str()});
        CHECK_FALSE(p.has_run_dir(r1));
    }

    TEST_CASE("a run on another host is never judged dead from here") {
        Project p;
        const auto d = p.put("its data");
        const int64_t r1 = p.run({}, {d}, "file", "running");
        p.run({});
        p.db().write([&] {
            p.db().prepare("UPDATE runs SET host = 'elsewhere' WHERE id = ?").bind(1, r1).run();
        });
        p.age_store();
        const auto r = gc::collect(p.paths, keep(1));
        CHECK(r.running_runs == std::vector<int64_t>{r1});
        CHECK(r.deleted_objects.empty());
        CHECK(p.has_run_dir(r1));
    }

    TEST_CASE("the runs directory: strangers are left alone, read-only outputs are removed") {
        Project p;
        const int64_t r1 = p.run({});
        p.run({});
        write(p.paths.runs / std::to_string(r1) / "out" / "locked.txt", "x");
        ::chmod((p.paths.runs / std::to_string(r1) / "out").c_str(), 0555);
        write(p.paths.runs / "999" / "x", "no such run");
        write(p.paths.runs / "007" / "x", "not how ids are written");
        write(p.paths.runs / "notes.txt", "a file");
        const auto r = gc::collect(p.paths, keep(1));
        CHECK(deleted_runs(r) == std::set<int64_t>{r1});
        CHECK_FALSE(p.has_run_dir(r1));
        CHECK(r.left_alone.size() == 3);
        CHECK(fs::exists(p.paths.runs / "999"));
        CHECK(fs::exists(p.paths.runs / "007"));
        CHECK(fs::exists(p.paths.runs / "notes.txt"));
    }

    TEST_CASE("--keep below zero is a usage error") {
        Project p;
        CHECK_THROWS_AS(gc::collect(p.paths, keep(-1)), error::UsageError);
    }
}
