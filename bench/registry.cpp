// Registry at scale: a registry of N runs (20 params and 20 metrics each, an input, an artifact,
// a model version), then the operations `mloop train`, `mloop runs` and `mloop lineage` need.
//
//   bench_registry generate DB N     build the registry (reuses DB if it already holds N runs)
//   bench_registry measure DB        time recording a run, the newest 20 runs, a run's lineage
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "registry/records.hpp"
#include "registry/registry.hpp"

using namespace mloop::registry;
using Clock = std::chrono::steady_clock;

namespace {

std::string digest_for(uint64_t n) {
    return fmt::format("sha256:{:064x}", n);
}

RunStart start_for(std::mt19937_64& rng) {
    RunStart s;
    s.command = R"(["python3","train.py","--data","data/train.csv"])";
    s.git.commit = fmt::format("{:040x}", rng());
    s.git.branch = "main";
    for (int p = 0; p < 20; ++p) {
        s.params.push_back(
            {fmt::format("param_{:02}", p), std::to_string(rng() % 10000), "integer"});
    }
    return s;
}

RunEnd end_for(std::mt19937_64& rng) {
    RunEnd e;
    e.state = "succeeded";
    e.exit_code = 0;
    e.wall_ms = static_cast<int64_t>(rng() % 100000);
    e.cpu_ms = e.wall_ms;
    e.max_rss_kb = 120000;
    for (int m = 0; m < 20; ++m) {
        e.metrics.push_back(
            {fmt::format("metric_{:02}", m), static_cast<double>(rng() % 100000) / 1e5});
    }
    return e;
}

int64_t count_runs(Db& db) {
    Stmt s = db.prepare("SELECT COUNT(*) FROM runs");
    s.step();
    return s.int64(0);
}

void generate(const std::string& path, int64_t n) {
    auto reg = Registry::open(path);
    Db& db = reg->db();
    const int64_t have = count_runs(db);
    if (have >= n) {
        std::printf("registry already holds %lld runs\n", static_cast<long long>(have));
        return;
    }
    std::mt19937_64 rng(42);
    Runs runs(db);
    Models models(db);
    Objects objects(db);
    Datasets datasets(db);
    const auto t0 = Clock::now();
    // Big transactions: the shape of the rows is what matters here, not one commit per run.
    constexpr int64_t k_batch = 20000;
    for (int64_t done = have; done < n;) {
        db.write([&] {
            for (int64_t i = 0; i < k_batch && done < n; ++i, ++done) {
                RunStart s = start_for(rng);
                Dataset d;
                d.digest = digest_for(static_cast<uint64_t>(done / 100));  // a dataset per 100 runs
                d.path = "data/train.csv";
                d.size = 1 << 20;
                s.inputs.push_back({"train", "dataset", d.path, d.digest, datasets.upsert(d)});
                const int64_t id = runs.begin(s);
                RunEnd e = end_for(rng);
                const std::string art = digest_for(static_cast<uint64_t>(id) << 8);
                objects.record(art, 4096, "file");
                e.artifacts.push_back({"model.json", art, 4096});
                runs.finish(id, e);
                models.register_version("bench", id);
            }
        });
        std::fprintf(stderr, "\r%lld runs", static_cast<long long>(done));
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fprintf(stderr, "\n");
    std::printf("generated %lld runs in %.1f s\n", static_cast<long long>(n - have), secs);
}

template <class F>
double median_ms(int reps, F&& f) {
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto a = Clock::now();
        f(i);
        t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

void measure(const std::string& path) {
    const auto open0 = Clock::now();
    auto reg = Registry::open(path);
    const double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - open0).count();
    Db& db = reg->db();
    const int64_t n = count_runs(db);
    std::mt19937_64 rng(7);
    Runs runs(db);

    // Recording a run as `mloop train` does: begin (params, inputs) and finish (metrics,
    // artifacts, model version) as two transactions.
    const double record = median_ms(200, [&](int) {
        RunStart s = start_for(rng);
        s.inputs.push_back({"train.py", "code", "train.py", digest_for(rng()), std::nullopt});
        const int64_t id = db.write([&] { return runs.begin(s); });
        RunEnd e = end_for(rng);
        const std::string art = digest_for(rng());
        e.artifacts.push_back({"model.json", art, 4096});
        db.write([&] {
            Objects(db).record(art, 4096, "file");
            runs.finish(id, e);
            Models(db).register_version("bench", id);
        });
    });
    const double newest = median_ms(200, [&](int) {
        auto list = runs.list({});
        if (list.size() != 20) {
            std::abort();
        }
    });
    std::uniform_int_distribution<int64_t> pick(1, n);
    size_t lineage_rows = 0;
    const double lineage = median_ms(200, [&](int) {
        auto l = lineage_of_run(db, pick(rng));
        lineage_rows = l->params.size() + l->metrics.size() + l->inputs.size() +
                       l->datasets.size() + l->artifacts.size() + l->versions.size();
    });
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "runs=%lld open_ms=%.2f record_run_ms=%.3f newest_20_ms=%.3f lineage_ms=%.3f "
        "lineage_rows=%zu peak_rss_mb=%.1f\n",
        static_cast<long long>(n), open_ms, record, newest, lineage, lineage_rows,
        static_cast<double>(ru.ru_maxrss) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "generate" && argc == 4) {
        generate(argv[2], std::stoll(argv[3]));
        return 0;
    }
    if (mode == "measure" && argc == 3) {
        measure(argv[2]);
        return 0;
    }
    std::fprintf(stderr, "usage: bench_registry generate DB N | measure DB\n");
    return 2;
}
