// Builds a registry with one of everything the record commands show, for the CLI suite t0043
// (`mloop train` is not needed: the runs are written through the repositories, and the tables
// that have no repository yet — stages, evaluations, validations — with plain SQL):
//
// Commits: c1; c2 (dirty in the sweep); c3, which shares its first four digits with c2.
//
//   run 1   train     succeeded  C=1.0        data v1 (failed validation)  → churn@1
//   run 2   sweep     succeeded  (the parent of runs 3 and 4)
//   run 3   trial     succeeded  C=0.1        data v2 (passed)             → churn@2
//   run 4   trial     succeeded  C=10         data v2                      → churn@3
//   run 5   train     succeeded  stages prepare, fit (ran)                 → churn@4
//   run 6   train     succeeded  stage prepare cached from run 5, fit ran  → churn@5
//   run 7   evaluate  succeeded  evaluates churn@3 on the eval data
//   run 8   train     failed     exit code 1
//   run 9   train     succeeded  warm-started from churn@1's model.json    → churn@6
//   run 10  train     running    by this process, so 'crashed' once it has exited
//
// Aliases: production 1 → 3 (reason), staging → 3, then staging 3 → 5 forced.
// Times are fixed (from 2025-06-01 00:00 UTC, ten minutes apart), so output can be compared.
// Prints shell assignments of the digests and commits it used (eval "$(fault_record_fixture .)").
//
//   fault_record_fixture PROJECT_DIR
#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "error/error.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"
#include "store/sha256.hpp"
#include "workspace/workspace.hpp"

using namespace mloop;
using namespace mloop::registry;

namespace {

constexpr int64_t k_t0 = 1748736000000;  // 2025-06-01T00:00:00Z
constexpr int64_t k_step = 600'000;      // ten minutes

std::string digest_of(std::string_view bytes) {
    return store::sha256(bytes).str();
}

void write(const std::filesystem::path& p, std::string_view bytes) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
}

struct Fixture {
    Db& db;
    std::string data_v1 = "customer_id,age,churned\nc1,30,false\n";
    std::string data_v2 = "customer_id,age,churned\nc1,30,false\nc2,41,true\n";
    std::string eval = "customer_id,age,churned\nc9,50,true\n";
    std::string train_py = "print('training')\n";
    std::string d1 = digest_of(data_v1);
    std::string d2 = digest_of(data_v2);
    std::string d3 = digest_of(eval);
    std::string code = digest_of(train_py);
    std::string c1 = "1111111111111111111111111111111111111111";
    std::string c2 = "2222222222222222222222222222222222222222";
    std::string c3 = "2222333333333333333333333333333333333333";  // shares "2222" with c2
    std::string prepared = digest_of("prepared v2\n");

    std::string artifact(int run) { return digest_of(fmt::format("model of run {}\n", run)); }

    int64_t dataset(const std::string& digest, const std::string& path, int64_t size,
                    int64_t rows) {
        Dataset d;
        d.digest = digest;
        d.path = path;
        d.size = size;
        d.rows = rows;
        d.snapshot = digest;
        Objects(db).record(digest, size, "file");
        return Datasets(db).upsert(d);
    }

    int64_t begin(const std::string& kind, std::optional<int64_t> parent, const std::string& commit,
                  bool dirty, std::vector<Param> params, std::vector<Input> inputs) {
        RunStart s;
        s.kind = kind;
        s.parent_id = parent;
        s.command = R"(["python3","train.py","--data","data/train.csv","--note","two words"])";
        s.git.commit = commit;
        s.git.branch = "main";
        s.git.dirty = dirty;
        if (dirty) {
            s.git.diff_digest = digest_of("a diff\n");
        }
        s.params = std::move(params);
        s.inputs = std::move(inputs);
        return Runs(db).begin(s);
    }

    void finish(int64_t id, const std::string& state, std::vector<Metric> metrics,
                bool with_artifact, std::optional<int64_t> exit_code = 0) {
        RunEnd e;
        e.state = state;
        e.exit_code = exit_code;
        e.wall_ms = 12400 + id * 1000;
        e.cpu_ms = 11800 + id * 1000;
        e.max_rss_kb = 120000;
        e.metrics = std::move(metrics);
        if (with_artifact) {
            const std::string a = artifact(static_cast<int>(id));
            Objects(db).record(a, 1234, "file");
            e.artifacts.push_back({"model.json", a, 1234});
        }
        Runs(db).finish(id, e);
        if (with_artifact) {
            Models(db).register_version("churn", id);
        }
    }

    void stage(int64_t run, const std::string& name, const std::string& state,
               std::optional<int64_t> source, const std::string& key,
               const std::vector<std::pair<std::string, std::string>>& outputs) {
        db.prepare(
              "INSERT INTO stage_runs (run_id, stage, state, cache_key, source_run, started_at, "
              "ended_at, exit_code, wall_ms) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?)")
            .bind_all(run, name, state, key, source,
                      state == "cached" ? std::optional<int64_t>() : std::optional<int64_t>(0),
                      state == "cached" ? int64_t{0} : int64_t{3200})
            .run();
        for (const auto& [path, digest] : outputs) {
            Objects(db).record(digest, 12, "file");
            db.prepare(
                  "INSERT INTO stage_outputs (run_id, stage, path, digest, kind) "
                  "VALUES (?, ?, ?, ?, 'file')")
                .bind_all(run, name, path, digest)
                .run();
        }
    }

    void build() {
        const int64_t v1 = dataset(d1, "data/train.csv", static_cast<int64_t>(data_v1.size()), 1);
        const int64_t v2 = dataset(d2, "data/train.csv", static_cast<int64_t>(data_v2.size()), 2);
        const int64_t ev = dataset(d3, "data/eval.csv", static_cast<int64_t>(eval.size()), 1);
        auto train = [&](int64_t id) {
            return Input{"train", "dataset", "data/train.csv", id == v1 ? d1 : d2, id};
        };
        const Input code_in{"train.py", "code", "train.py", code, std::nullopt};
        auto p = [](const char* c, const char* it) {
            return std::vector<Param>{{"C", c, "number"}, {"max_iter", it, "integer"}};
        };

        int64_t r = begin("train", {}, c1, false, p("1.0", "200"), {train(v1), code_in});
        finish(r, "succeeded", {{"auc", 0.81}, {"log_loss", 0.42}}, true);

        const int64_t sweep = begin("sweep", {}, c2, true, {}, {});
        r = begin("trial", sweep, c2, true, p("0.1", "200"), {train(v2), code_in});
        finish(r, "succeeded", {{"auc", 0.83}, {"log_loss", 0.4}}, true);
        r = begin("trial", sweep, c2, true, p("10", "200"), {train(v2), code_in});
        finish(r, "succeeded", {{"auc", 0.86}, {"log_loss", 0.37}}, true);
        finish(sweep, "succeeded", {}, false);

        r = begin("train", {}, c2, false, p("0.5", "200"), {train(v2), code_in});
        stage(r, "prepare", "succeeded", {}, "key-prepare", {{"prepared.csv", prepared}});
        stage(r, "fit", "succeeded", {}, "key-fit-5", {});
        finish(r, "succeeded", {{"auc", 0.85}, {"log_loss", 0.38}}, true);
        const int64_t piped = r;

        r = begin("train", {}, c3, false, p("0.5", "300"), {train(v2), code_in});
        stage(r, "prepare", "cached", piped, "key-prepare", {{"prepared.csv", prepared}});
        stage(r, "fit", "succeeded", {}, "key-fit-6", {});
        finish(r, "succeeded", {{"auc", 0.87}, {"log_loss", 0.35}, {"latency_ms", 12.5}}, true);

        r = begin("evaluate", {}, c3, false, {}, {{"eval", "dataset", "data/eval.csv", d3, ev}});
        db.prepare(
              "INSERT INTO evaluations (run_id, model_id, version) "
              "SELECT ?, id, 3 FROM models WHERE name = 'churn'")
            .bind(1, r)
            .run();
        finish(r, "succeeded", {{"auc", 0.855}}, false);

        r = begin("train", {}, c3, false, p("2", "200"), {train(v2), code_in});
        finish(r, "failed", {}, false, 1);

        r = begin("train", {}, c3, false, p("1.0", "50"),
                  {train(v2), code_in, {"base", "file", "base/model.json", artifact(1), {}}});
        finish(r, "succeeded", {{"auc", 0.84}, {"log_loss", 0.39}}, true);

        begin("train", {}, c3, false, p("3", "200"), {train(v2), code_in});

        Models m(db);
        m.move_alias("churn", "production", 1, false, {});
        m.move_alias("churn", "staging", 3, false, {});
        m.move_alias("churn", "production", 3, false, std::string("best trial of sweep 2"));
        m.move_alias("churn", "staging", 5, true, std::string("try the pipeline"));

        db.prepare(
              "INSERT INTO validations (digest, schema_digest, path, passed, rows, at, report) "
              "VALUES (?1, 'sha256:schema', 'data/train.csv', 0, 1, ?3, '{}'), "
              "(?2, 'sha256:schema', 'data/train.csv', 1, 2, ?3, '{}')")
            .bind_all(d1, d2, k_t0)
            .run();

        // Fixed times, so output can be compared byte for byte.
        db.prepare("UPDATE runs SET started_at = ?1 + id * ?2").bind_all(k_t0, k_step).run();
        db.prepare("UPDATE runs SET ended_at = started_at + wall_ms WHERE ended_at IS NOT NULL")
            .run();
        db.prepare("UPDATE runs SET user = 'ci', host = host").run();
        db.prepare(
              "UPDATE model_versions SET created_at = (SELECT ended_at FROM runs "
              "WHERE runs.id = model_versions.run_id)")
            .run();
        db.prepare("UPDATE alias_moves SET at = ?1 + 12 * ?2 + id * 60000, user = 'alice'")
            .bind_all(k_t0, k_step)
            .run();
        db.prepare("UPDATE aliases SET moved_at = ?1").bind(1, k_t0).run();
        db.prepare("UPDATE datasets SET first_seen = ?1 + id * ?2").bind_all(k_t0, k_step).run();
        db.prepare("UPDATE objects SET stored_at = ?1").bind(1, k_t0).run();
        db.prepare(
              "UPDATE stage_runs SET started_at = (SELECT started_at FROM runs "
              "WHERE runs.id = stage_runs.run_id) + (stage = 'fit') * 1000")
            .run();
    }
};

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    if (argc != 2) {
        std::fprintf(stderr, "usage: fault_record_fixture PROJECT_DIR\n");
        return 2;
    }
    try {
        const auto paths = workspace::paths_for(argv[1], "");
        auto reg = Registry::open(paths.registry);
        Fixture f{reg->db()};
        reg->db().write([&] { f.build(); });
        write(paths.root / "data/train.csv", f.data_v2);
        write(paths.root / "data/eval.csv", f.eval);
        write(paths.root / "train.py", f.train_py);
        std::printf(
            "D1=%s\nD2=%s\nD3=%s\nCODE=%s\nPREPARED=%s\nA1=%s\nA5=%s\nC1=%s\nC2=%s\nC3=%s\n",
            f.d1.c_str(), f.d2.c_str(), f.d3.c_str(), f.code.c_str(), f.prepared.c_str(),
            f.artifact(1).c_str(), f.artifact(5).c_str(), f.c1.c_str(), f.c2.c_str(), f.c3.c_str());
    } catch (const error::Error& e) {
        std::fprintf(stderr, "mloop: error: %s\n", e.what());
        return static_cast<int>(e.code());
    }
    return 0;
}
