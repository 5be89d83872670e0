// A small registry for the lineage tests, with fixed times (TZ=UTC) so output compares exactly:
//
//   run 1  train     succeeded  C=1.0  data D1 (validated, passed), train.py  → m@1 (production)
//   run 2  sweep     succeeded         parent of run 3
//   run 3  trial     succeeded  C=0.1  data D1                                → m@2
//   run 4  train     succeeded  stage prep (output P) and fit, data D2        → m@3
//   run 5  train     failed     stage prep cached from run 4; also reads m@1's model.json
//   run 6  evaluate  succeeded  evaluates m@1 on data D2
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "registry/records.hpp"
#include "registry/registry.hpp"

namespace lineage_test {

using namespace mloop::registry;

inline const std::string D1 = "sha256:" + std::string(60, '1') + "aaaa";
inline const std::string D2 = "sha256:" + std::string(60, '2') + "bbbb";
inline const std::string CODE = "sha256:" + std::string(60, '3') + "cccc";
inline const std::string A1 = "sha256:" + std::string(60, '4') + "dddd";
inline const std::string A3 = "sha256:" + std::string(60, '5') + "eeee";
inline const std::string P = "sha256:" + std::string(60, '6') + "ffff";
inline const std::string C1 = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
constexpr int64_t T0 = 1748736000000;  // 2025-06-01T00:00:00Z

struct Fixture {
    std::filesystem::path dir;
    std::unique_ptr<Registry> reg;

    Db& db() { return reg->db(); }

    Fixture() {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
        char tmpl[] = "/tmp/mloop-lineage-XXXXXX";
        dir = ::mkdtemp(tmpl);
        reg = Registry::open(dir / "registry.db");
        Db& db = reg->db();
        db.write([&] {
            Datasets ds(db);
            Dataset d;
            d.digest = D1;
            d.path = "data/train.csv";
            d.size = 100;
            d.rows = 10;
            const int64_t d1 = ds.upsert(d);
            d.digest = D2;
            d.size = 200;
            d.rows = 20;
            const int64_t d2 = ds.upsert(d);
            Runs runs(db);
            Models models(db);
            Objects objects(db);
            auto start = [&](const char* kind, std::optional<int64_t> parent, const char* c,
                             const std::string& data, int64_t data_id) {
                RunStart s;
                s.kind = kind;
                s.parent_id = parent;
                s.command = R"(["python3","train.py"])";
                s.git.commit = C1;
                s.git.branch = "main";
                if (c != nullptr) {
                    s.params = {{"C", c, "number"}, {"max_iter", "200", "integer"}};
                }
                if (!data.empty()) {
                    s.inputs = {{"train", "dataset", "data/train.csv", data, data_id},
                                {"train.py", "code", "train.py", CODE, std::nullopt}};
                }
                return runs.begin(s);
            };
            auto end = [&](int64_t id, const char* state, double auc, const std::string& art) {
                RunEnd e;
                e.state = state;
                e.exit_code = std::string(state) == "failed" ? 1 : 0;
                e.wall_ms = 1000 * id;
                if (auc > 0) {
                    e.metrics = {{"auc", auc}, {"log_loss", 1 - auc}};
                }
                if (!art.empty()) {
                    objects.record(art, 10, "file");
                    e.artifacts = {{"model.json", art, 10}};
                }
                runs.finish(id, e);
                if (!art.empty()) {
                    models.register_version("m", id);
                }
            };
            end(start("train", {}, "1.0", D1, d1), "succeeded", 0.8, A1);
            const int64_t sweep = start("sweep", {}, nullptr, "", 0);
            end(start("trial", sweep, "0.1", D1, d1), "succeeded", 0.82, A3);
            end(sweep, "succeeded", 0, "");
            const int64_t four = start("train", {}, "1.0", D2, d2);
            objects.record(P, 5, "file");
            db.exec(
                "INSERT INTO stage_runs (run_id, stage, state, cache_key, started_at, wall_ms, "
                "exit_code) VALUES (4, 'prep', 'succeeded', 'k1', 0, 2000, 0), "
                "(4, 'fit', 'succeeded', 'k2', 1, 3000, 0)");
            db.exec(
                "INSERT INTO stage_outputs (run_id, stage, path, digest, kind) VALUES (4, 'prep', "
                "'prepared.csv', '" +
                P + "', 'file')");
            end(four, "succeeded", 0.85, "sha256:" + std::string(60, '7') + "0000");
            RunStart s;
            s.command = R"(["python3","train.py"])";
            s.git.commit = C1;
            s.params = {{"C", "2.0", "number"}, {"penalty", "l1", "string"}};
            s.inputs = {{"train", "dataset", "data/train.csv", D2, d2},
                        {"base", "file", "base/model.json", A1, std::nullopt}};
            const int64_t five = runs.begin(s);
            db.exec(
                "INSERT INTO stage_runs (run_id, stage, state, cache_key, source_run, started_at) "
                "VALUES (5, 'prep', 'cached', 'k1', 4, 0), (5, 'fit', 'failed', 'k3', NULL, 1)");
            db.exec(
                "INSERT INTO stage_outputs (run_id, stage, path, digest, kind) VALUES (5, 'prep', "
                "'prepared.csv', '" +
                P + "', 'file')");
            end(five, "failed", 0, "");
            RunStart ev;
            ev.kind = "evaluate";
            ev.command = R"(["python3","evaluate.py"])";
            ev.inputs = {{"eval", "dataset", "data/train.csv", D2, d2}};
            const int64_t six = runs.begin(ev);
            db.exec("INSERT INTO evaluations (run_id, model_id, version) VALUES (6, 1, 1)");
            end(six, "succeeded", 0.79, "");
            models.move_alias("m", "production", 1, false, std::string("first"));
            db.prepare(
                  "INSERT INTO validations (digest, schema_digest, path, passed, rows, at, report) "
                  "VALUES (?, 'sha256:s', 'data/train.csv', 1, 10, ?, '{}')")
                .bind_all(D1, T0)
                .run();
            db.prepare(
                  "UPDATE runs SET started_at = ?1 + id * 60000, host = 'h', pid = 1, user = 'u'")
                .bind(1, T0)
                .run();
            db.exec("UPDATE runs SET ended_at = started_at + wall_ms");
            db.exec(
                "UPDATE model_versions SET created_at = (SELECT ended_at FROM runs "
                "WHERE runs.id = model_versions.run_id)");
            db.prepare("UPDATE alias_moves SET at = ?, user = 'u', host = 'h'").bind(1, T0).run();
        });
    }
    ~Fixture() { std::filesystem::remove_all(dir); }
};

}  // namespace lineage_test
