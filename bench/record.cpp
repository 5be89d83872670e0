// A project whose registry holds N runs shaped like a real project's record, for bench/record
// (`mloop runs`, `mloop show`, `mloop lineage` as whole processes):
//
//   - train runs with 8 params, 6 metrics, a training and an evaluation dataset (a new content
//     every 500 and 2 000 runs), the training code (new every 100 runs), an artifact and a
//     version of model `churn`; 5% of them fail;
//   - every 10th train run is a pipeline: stages prepare (cached from the last pipeline run
//     while the training data is unchanged) and fit, with their outputs;
//   - every 50 runs a sweep of 4 trials, every 100 runs an evaluation of the newest version;
//   - a data validation of each dataset content, staging and production moved every 1 000
//     versions; one git commit every 10 runs.
//
//   bench_record generate DIR N    writes DIR/mloop.yaml and DIR/.mloop/registry.db (reused
//                                  when it already holds N runs)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "error/error.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"

using namespace mloop::registry;
namespace fs = std::filesystem;

namespace {

std::string digest(const char* what, int64_t n) {
    // Distinct kinds of content never collide: the kind is hashed into the leading digits.
    const uint64_t tag = std::hash<std::string>{}(what)&0xffffffffu;
    return fmt::format("sha256:{:08x}{:056x}", tag, static_cast<uint64_t>(n));
}

std::string commit_at(int64_t run) {
    return fmt::format("{:040x}", static_cast<uint64_t>(run / 10) * 2654435761u + 1);
}

int64_t count_runs(Db& db) {
    Stmt s = db.prepare("SELECT COUNT(*) FROM runs");
    s.step();
    return s.int64(0);
}

class Generator {
  public:
    explicit Generator(Db& db) : m_db(db), m_runs(db), m_models(db), m_objects(db) {}

    // One unit of the record: a train run, or a sweep with its trials, or an evaluation.
    void step() {
        const int64_t next = count() + 1;
        if (next % 50 == 0) {
            sweep();
        } else if (next % 100 == 1 && m_latest_version > 0) {
            evaluation();
        } else {
            train(std::nullopt, "train");
        }
    }

    int64_t count() const { return m_count; }
    void set_count(int64_t n) { m_count = n; }

  private:
    int64_t dataset(const char* what, const std::string& path, int64_t content) {
        Dataset d;
        d.digest = digest(what, content);
        d.path = path;
        d.size = 4 << 20;
        d.rows = 50000 + content;
        d.snapshot = d.digest;
        m_objects.record(d.digest, d.size, "file");
        const int64_t id = Datasets(m_db).upsert(d);
        m_db.prepare(
                "INSERT INTO validations (digest, schema_digest, path, passed, rows, at, report) "
                "SELECT ?1, 'sha256:schema', ?2, ?3, ?4, ?5, '{}' WHERE NOT EXISTS "
                "(SELECT 1 FROM validations WHERE digest = ?1)")
            .bind_all(d.digest, path, static_cast<int64_t>(content % 7 != 0), *d.rows, now_ms())
            .run();
        return id;
    }

    RunStart start(const std::string& kind, std::optional<int64_t> parent, int64_t n) {
        RunStart s;
        s.kind = kind;
        s.parent_id = parent;
        s.command = R"(["python3","train.py","--data","data/train.csv","--out","model.pkl"])";
        s.git.commit = commit_at(n);
        s.git.branch = "main";
        s.git.dirty = n % 13 == 0;
        if (s.git.dirty) {
            s.git.diff_digest = digest("diff", n);
        }
        return s;
    }

    int64_t train(std::optional<int64_t> parent, const std::string& kind) {
        const int64_t n = ++m_count;
        RunStart s = start(kind, parent, n);
        const int64_t train_content = n / 500;
        const int64_t train_id = dataset("train", "data/train.csv", train_content);
        const int64_t eval_id = dataset("eval", "data/eval.csv", n / 2000);
        s.params = {{"C", fmt::format("{}", 0.01 * static_cast<double>(n % 300)), "number"},
                    {"penalty", n % 2 ? "l2" : "l1", "string"},
                    {"max_iter", std::to_string(100 + n % 5 * 100), "integer"},
                    {"class_weight", "balanced", "string"},
                    {"seed", std::to_string(n % 17), "integer"},
                    {"features", "age,tenure,plan,monthly_charges", "string"},
                    {"early_stopping", n % 3 ? "true" : "false", "boolean"},
                    {"test_size", "0.2", "number"}};
        s.inputs = {
            {"train", "dataset", "data/train.csv", digest("train", train_content), train_id},
            {"eval", "dataset", "data/eval.csv", digest("eval", n / 2000), eval_id},
            {"train.py", "code", "train.py", digest("code", n / 100), std::nullopt}};
        const int64_t id = m_runs.begin(s);
        const bool failed = n % 20 == 7;
        if (kind == "train" && n % 10 == 3) {
            stages(id, train_content, failed);
        }
        RunEnd e;
        e.state = failed ? "failed" : "succeeded";
        e.exit_code = failed ? 1 : 0;
        e.wall_ms = 30000 + n % 9000;
        e.cpu_ms = 28000 + n % 9000;
        e.max_rss_kb = 400000 + n % 50000;
        if (!failed) {
            const double q = static_cast<double>(n % 1000) / 10000.0;
            e.metrics = {{"auc", 0.8 + q},       {"accuracy", 0.75 + q}, {"f1", 0.6 + q},
                         {"log_loss", 0.45 - q}, {"precision", 0.7 + q}, {"recall", 0.55 + q}};
            const std::string art = digest("model", id);
            m_objects.record(art, 250000, "file");
            e.artifacts = {{"model.pkl", art, 250000}};
        }
        m_runs.finish(id, e);
        if (!failed) {
            m_latest_version = m_models.register_version("churn", id);
            if (m_latest_version % 1000 == 1) {
                m_models.move_alias("churn", "staging", m_latest_version, false, std::nullopt);
            } else if (m_latest_version % 1000 == 500) {
                m_models.move_alias("churn", "production", m_latest_version, false,
                                    std::string("gates passed"));
            }
        }
        return id;
    }

    void stages(int64_t id, int64_t train_content, bool fit_failed) {
        const std::string prepared = digest("prepared", train_content);
        const bool cached = m_last_pipeline && m_last_pipeline_data == train_content;
        m_db.prepare(
                "INSERT INTO stage_runs (run_id, stage, state, cache_key, source_run, started_at, "
                "ended_at, exit_code, wall_ms, cpu_ms, max_rss_kb) "
                "VALUES (?1, 'prepare', ?2, ?3, ?4, ?5, ?5 + 1000, ?6, ?7, ?7, 90000)")
            .bind_all(id, cached ? "cached" : "succeeded", digest("key-prepare", train_content),
                      cached ? m_last_pipeline : std::nullopt, now_ms(),
                      cached ? std::nullopt : std::optional<int64_t>(0),
                      cached ? std::nullopt : std::optional<int64_t>(8000))
            .run();
        m_objects.record(prepared, 3 << 20, "file");
        m_db.prepare(
                "INSERT INTO stage_outputs (run_id, stage, path, digest, kind) "
                "VALUES (?, 'prepare', 'work/clean.csv', ?, 'file')")
            .bind_all(id, prepared)
            .run();
        m_db.prepare(
                "INSERT INTO stage_runs (run_id, stage, state, cache_key, started_at, ended_at, "
                "exit_code, wall_ms, cpu_ms, max_rss_kb) "
                "VALUES (?1, 'fit', ?2, ?3, ?4, ?4 + 20000, ?5, 20000, 19000, 400000)")
            .bind_all(id, fit_failed ? "failed" : "succeeded", digest("key-fit", id), now_ms(),
                      int64_t{fit_failed ? 1 : 0})
            .run();
        if (!cached) {
            m_last_pipeline = id;
            m_last_pipeline_data = train_content;
        }
    }

    void sweep() {
        const int64_t n = ++m_count;
        RunStart s = start("sweep", std::nullopt, n);
        const int64_t parent = m_runs.begin(s);
        for (int t = 0; t < 4; ++t) {
            train(parent, "trial");
        }
        RunEnd e;
        e.state = "succeeded";
        e.wall_ms = 120000;
        m_runs.finish(parent, e);
    }

    void evaluation() {
        const int64_t n = ++m_count;
        RunStart s = start("evaluate", std::nullopt, n);
        s.inputs = {{"eval", "dataset", "data/eval.csv", digest("eval", n / 2000),
                     dataset("eval", "data/eval.csv", n / 2000)}};
        const int64_t id = m_runs.begin(s);
        m_db.prepare(
                "INSERT INTO evaluations (run_id, model_id, version) "
                "SELECT ?, id, ? FROM models WHERE name = 'churn'")
            .bind_all(id, m_latest_version)
            .run();
        RunEnd e;
        e.state = "succeeded";
        e.exit_code = 0;
        e.wall_ms = 5000;
        e.metrics = {{"auc", 0.84}, {"accuracy", 0.79}};
        m_runs.finish(id, e);
    }

    Db& m_db;
    Runs m_runs;
    Models m_models;
    Objects m_objects;
    int64_t m_count = 0;
    int64_t m_latest_version = 0;
    std::optional<int64_t> m_last_pipeline;
    int64_t m_last_pipeline_data = -1;
};

void generate(const fs::path& dir, int64_t n) {
    fs::create_directories(dir / ".mloop");
    std::ofstream(dir / "mloop.yaml") << "project: churn\n"
                                         "data:\n"
                                         "  train: data/train.csv\n"
                                         "  eval: data/eval.csv\n"
                                         "train:\n"
                                         "  command: [python3, train.py]\n"
                                         "  metrics: metrics.json\n"
                                         "  artifacts: [model.pkl]\n"
                                         "model:\n"
                                         "  gates:\n"
                                         "    - {metric: auc, min: 0.8}\n";
    auto reg = Registry::open(dir / ".mloop/registry.db");
    Db& db = reg->db();
    if (const int64_t have = count_runs(db); have >= n) {
        std::printf("registry already holds %lld runs\n", static_cast<long long>(have));
        return;
    }
    if (count_runs(db) != 0) {
        throw mloop::error::UsageError("the registry holds fewer runs than asked: remove it");
    }
    Generator g(db);
    while (g.count() < n) {
        db.write([&] {
            for (int i = 0; i < 5000 && g.count() < n; ++i) {
                g.step();
            }
        });
        std::fprintf(stderr, "\r%lld runs", static_cast<long long>(g.count()));
    }
    std::fprintf(stderr, "\n");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    if (argc != 4 || std::string(argv[1]) != "generate") {
        std::fprintf(stderr, "usage: bench_record generate DIR N\n");
        return 2;
    }
    try {
        generate(argv[2], std::stoll(argv[3]));
    } catch (const mloop::error::Error& e) {
        std::fprintf(stderr, "bench_record: %s\n", e.what());
        return static_cast<int>(e.code());
    }
    return 0;
}
