// Builds a project state for the gc suite, recorded the way `mloop train` records it, with every
// object backdated two hours (past gc's grace) but one:
//
//   run 1  model churn@1, artifact A1, dataset snapshot D1                  old: goes
//   run 2  model churn@2 aliased 'production', artifact A2, snapshot D1     kept (alias)
//   run 3  model churn@3, a tree artifact T3 listing C_SHARED (the bytes of A2) and C_UNIQUE,
//          a read-only directory in its run directory                        old: goes
//   run 4  'running' but its mloop is gone, dataset snapshot D4             crashed: goes
//   run 5  'running' as LIVE_PID, dataset snapshot D5                       kept (running)
//   run 6  a pipeline: stage 'prepare' with output S6                       kept (recent)
//   run 7  model churn@4, artifact A7, a directory dataset snapshot T7 listing T7A and T7B
//                                                                           kept (recent)
//   O_OLD  an object no row names                                           goes
//   O_NEW  an object no row names, written just now                         kept (grace)
//   a temporary file of a dead writer; .mloop/runs/999/ and .mloop/runs/notes/, not runs
//
// With `gc --keep 2` the last two runs are 7 and 6.
//
//   fault_gcstate PROJECT_DIR LIVE_PID     prints NAME DIGEST lines
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include <spdlog/spdlog.h>

#include "error/error.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"
#include "store/objects.hpp"
#include "util/proc.hpp"
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
    if (::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        std::perror(p.c_str());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    if (argc != 3) {
        std::fprintf(stderr, "usage: fault_gcstate PROJECT_DIR LIVE_PID\n");
        return 2;
    }
    try {
        const auto paths = workspace::paths_for(argv[1], "");
        const pid_t live_pid = static_cast<pid_t>(std::stol(argv[2]));
        const auto live_identity = util::process_identity(live_pid);
        if (!live_identity) {
            std::fprintf(stderr, "fault_gcstate: no process %d\n", live_pid);
            return 2;
        }
        workspace::make_private_dir(paths.state);
        const fs::path src = paths.root / "src";
        store::ObjectStore objects(paths.objects);
        std::map<std::string, store::Digest> d;
        auto put = [&](const std::string& name, const std::string& text) {
            write(src / name, text);
            d[name] = objects.put_file(src / name);
        };
        put("A1", "{\"weights\": [1]}\n");
        put("A2", "{\"weights\": [2]}\n");
        put("A7", "{\"weights\": [7]}\n");
        put("D1", "a,b\n1,2\n");
        put("D4", "a,b\n4,4\n");
        put("D5", "a,b\n5,5\n");
        put("S6", "prepared\n");
        put("O_OLD", "left by a killed writer\n");
        write(src / "model3" / "weights.json", "{\"weights\": [2]}\n");  // the bytes of A2
        write(src / "model3" / "extra.bin", "only in run 3\n");
        d["T3"] = objects.put_tree(src / "model3");
        d["C_SHARED"] = d["A2"];
        write(src / "data7" / "part-0.csv", "a,b\n7,0\n");
        write(src / "data7" / "part-1.csv", "a,b\n7,1\n");
        d["T7"] = objects.put_tree(src / "data7");
        d["T7A"] = objects.put_file(src / "data7" / "part-0.csv");
        d["T7B"] = objects.put_file(src / "data7" / "part-1.csv");
        d["C_UNIQUE"] = objects.put_file(src / "model3" / "extra.bin");

        auto reg = registry::Registry::open(paths.registry);
        auto& db = reg->db();
        registry::Runs runs(db);
        registry::Models models(db);
        auto record = [&](const std::string& name, const char* kind = "file") {
            registry::Objects(db).record(d[name].str(), 0, kind);
        };
        auto dataset = [&](const std::string& name, const char* kind = "file") {
            registry::Dataset ds;
            ds.digest = d[name].str();
            ds.path = "data/" + name;
            ds.kind = kind;
            ds.snapshot = d[name].str();
            const int64_t id = registry::Datasets(db).upsert(ds);
            return registry::Input{"train", "dataset", ds.path, ds.digest, id};
        };
        auto run = [&](const std::vector<registry::Input>& inputs) {
            registry::RunStart start;
            start.command = R"(["python3","train.py"])";
            start.inputs = inputs;
            const int64_t id = runs.begin(start);
            write(paths.runs / std::to_string(id) / "stdout.log", "run " + std::to_string(id));
            return id;
        };
        auto finish = [&](int64_t id, const std::string& artifact, int64_t size = 16) {
            registry::RunEnd end;
            end.state = "succeeded";
            end.exit_code = 0;
            end.artifacts = {{"model.json", d[artifact].str(), size}};
            runs.finish(id, end);
            return models.register_version("churn", id);
        };
        db.write([&] {
            for (const char* n : {"A1", "A2", "A7", "D1", "D4", "D5", "S6"}) {
                record(n);
            }
            record("T3", "tree");
            record("T7", "tree");
            const int64_t r1 = run({dataset("D1")});
            finish(r1, "A1");
            const int64_t r2 = run({dataset("D1")});
            models.move_alias("churn", "production", finish(r2, "A2"), false, std::nullopt);
            const int64_t r3 = run({});
            finish(r3, "T3", 0);
            write(paths.runs / std::to_string(r3) / "out" / "locked.txt", "read-only\n");
            const int64_t r4 = run({dataset("D4")});
            db.prepare("UPDATE runs SET process = 'gone:1' WHERE id = ?").bind(1, r4).run();
            const int64_t r5 = run({dataset("D5")});
            db.prepare("UPDATE runs SET pid = ?, process = ? WHERE id = ?")
                .bind_all(static_cast<int64_t>(live_pid), *live_identity, r5)
                .run();
            const int64_t r6 = run({});
            registry::RunEnd end6;
            end6.state = "succeeded";
            end6.exit_code = 0;
            runs.finish(r6, end6);
            db.prepare(
                  "INSERT INTO stage_runs (run_id, stage, state, cache_key, started_at) "
                  "VALUES (?, 'prepare', 'succeeded', 'k', 0)")
                .bind(1, r6)
                .run();
            db.prepare(
                  "INSERT INTO stage_outputs (run_id, stage, path, digest, kind) "
                  "VALUES (?, 'prepare', 'data/prepared.csv', ?, 'file')")
                .bind_all(r6, d["S6"].str())
                .run();
            const int64_t r7 = run({dataset("T7", "tree")});
            finish(r7, "A7");
        });
        ::chmod((paths.runs / "3" / "out").c_str(), 0555);
        write(paths.runs / "999" / "notes.txt", "not a run of this registry\n");
        write(paths.runs / "notes" / "todo.txt", "not a run at all\n");
        objects.for_each([&](const store::Digest& digest, uint64_t) {
            backdate(objects.path_of(digest), 2 * 3600);
        });
        write(src / "O_NEW", "a writer between store and registry\n");
        d["O_NEW"] = objects.put_file(src / "O_NEW");
        // A dead writer's temporary file: nobody holds its lock.
        write(paths.objects / "tmp" / "12345-00000000deadbeef", "half an object");
        fs::remove_all(src);
        for (const auto& [name, digest] : d) {
            std::printf("%s %s\n", name.c_str(), digest.str().c_str());
        }
    } catch (const error::Error& e) {
        std::fprintf(stderr, "mloop: error: %s\n", e.what());
        return static_cast<int>(e.code());
    }
    return 0;
}
