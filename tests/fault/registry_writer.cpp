// Driver for the registry's fault suites (tests/fault/f000[1-3,5]*.sh). It records runs the way
// `mloop train` will, and checks what a killed writer left behind.
//
//   fault_registry_writer record DB SEED        record runs until killed; ack each step on stdout
//   fault_registry_writer check DB ACKS         verify what the acks promise; print figures
//   fault_registry_writer contend DB N TAG      N read-then-write transactions
//   fault_registry_writer open DB [VERSION]     open (migrating to VERSION, default latest)
//   fault_registry_writer fill DB               record runs until the disk is full
//
// Exit codes follow mloop's: 4 for a registry problem, 1 for a failed check.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "error/error.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"

using namespace mloop;
using namespace mloop::registry;

namespace {

constexpr int k_params = 20;
constexpr int k_metrics = 20;
constexpr int k_artifacts = 2;

std::string fake_digest(std::mt19937_64& rng) {
    std::string d = "sha256:";
    for (int i = 0; i < 4; ++i) {
        d += fmt::format("{:016x}", rng());
    }
    return d;
}

// Begins a run with its params (one transaction), acks it, then finishes it with metrics,
// artifacts and a model version (a second transaction), and acks that.
void record_one(Db& db, std::mt19937_64& rng) {
    Runs runs(db);
    RunStart start;
    start.command = R"(["python3","train.py"])";
    start.git.commit = fmt::format("{:040x}", rng() & 0xffffffffffff);
    for (int i = 0; i < k_params; ++i) {
        start.params.push_back({fmt::format("p{:02}", i), std::to_string(rng() % 1000), "integer"});
    }
    start.inputs.push_back({"train", "dataset", "data/train.csv", fake_digest(rng), std::nullopt});
    const int64_t id = db.write([&] { return runs.begin(start); });
    std::printf("begun %lld\n", static_cast<long long>(id));
    std::fflush(stdout);

    RunEnd end;
    end.state = "succeeded";
    end.exit_code = 0;
    end.wall_ms = static_cast<int64_t>(rng() % 10000);
    for (int i = 0; i < k_metrics; ++i) {
        end.metrics.push_back({fmt::format("m{:02}", i), static_cast<double>(rng() % 1000) / 7});
    }
    for (int i = 0; i < k_artifacts; ++i) {
        end.artifacts.push_back({fmt::format("artifact-{}.bin", i), fake_digest(rng), 1234});
    }
    db.write([&] {
        Objects objects(db);
        for (const auto& a : end.artifacts) {
            objects.record(a.digest, a.size, "file");
        }
        runs.finish(id, end);
        Models(db).register_version("fault", id);
        Events(db).append("run-finished", std::to_string(id), "{}");
    });
    std::printf("done %lld\n", static_cast<long long>(id));
    std::fflush(stdout);
}

int64_t scalar(Db& db, const std::string& sql) {
    Stmt s = db.prepare(sql);
    s.step();
    return s.int64(0);
}

int record(const std::string& path, unsigned seed) {
    auto reg = Registry::open(path);
    std::mt19937_64 rng(seed);
    while (true) {
        record_one(reg->db(), rng);
    }
}

int fill(const std::string& path) {
    auto reg = Registry::open(path);
    std::mt19937_64 rng(1);
    long runs = 0;
    while (true) {
        record_one(reg->db(), rng);
        ++runs;
        if (runs > 1'000'000) {
            std::fprintf(stderr, "the disk never filled\n");
            return 1;
        }
    }
}

int check(const std::string& path, const std::string& acks) {
    auto reg = Registry::open(path);
    Db& db = reg->db();
    int problems = 0;
    {
        Stmt s = db.prepare("PRAGMA integrity_check");
        while (s.step()) {
            if (s.text(0) != "ok") {
                std::printf("integrity_check: %s\n", s.text(0).c_str());
                ++problems;
            }
        }
    }
    {
        Stmt s = db.prepare("PRAGMA foreign_key_check");
        while (s.step()) {
            std::printf("foreign key violation in %s row %lld\n", s.text(0).c_str(),
                        static_cast<long long>(s.int64(1)));
            ++problems;
        }
    }
    std::set<int64_t> begun, done;
    std::ifstream in(acks);
    std::string word;
    int64_t id = 0;
    while (in >> word >> id) {
        (word == "done" ? done : begun).insert(id);
    }
    Runs runs(db);
    for (int64_t r : begun) {
        if (runs.params(r).size() != k_params) {
            std::printf("acknowledged run %lld lost its params\n", static_cast<long long>(r));
            ++problems;
        }
    }
    for (int64_t r : done) {
        auto run = runs.get(r);
        if (!run || run->state != "succeeded" || runs.metrics(r).size() != k_metrics ||
            runs.artifacts(r).size() != k_artifacts || Models(db).versions_of_run(r).size() != 1) {
            std::printf("acknowledged finished run %lld is lost or incomplete\n",
                        static_cast<long long>(r));
            ++problems;
        }
    }
    // No run may be half-visible: every run has all its params, and a finished one all its
    // metrics, artifacts and its version.
    const int64_t partial_params = scalar(
        db, fmt::format("SELECT COUNT(*) FROM runs r WHERE (SELECT COUNT(*) FROM params p WHERE "
                        "p.run_id = r.id) <> {}",
                        k_params));
    const int64_t partial_ends =
        scalar(db, fmt::format("SELECT COUNT(*) FROM runs r WHERE (r.state = 'succeeded') <> ("
                               "(SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id) = {} AND "
                               "(SELECT COUNT(*) FROM artifacts a WHERE a.run_id = r.id) = {} AND "
                               "(SELECT COUNT(*) FROM model_versions v WHERE v.run_id = r.id) = 1)",
                               k_metrics, k_artifacts));
    problems += static_cast<int>(partial_params + partial_ends);
    const int64_t total = scalar(db, "SELECT COUNT(*) FROM runs");
    const int64_t finished = scalar(db, "SELECT COUNT(*) FROM runs WHERE state = 'succeeded'");
    const int64_t versions = scalar(db, "SELECT COUNT(*) FROM model_versions");
    const int64_t max_version = scalar(db, "SELECT COALESCE(MAX(version), 0) FROM model_versions");
    if (versions != max_version) {
        std::printf("model versions are not 1..%lld without gaps\n",
                    static_cast<long long>(max_version));
        ++problems;
    }
    const int crashed = runs.mark_crashed();
    std::printf(
        "runs=%lld finished=%lld acked_begun=%zu acked_done=%zu half_visible=%lld "
        "crashed_marked=%d problems=%d\n",
        static_cast<long long>(total), static_cast<long long>(finished), begun.size(), done.size(),
        static_cast<long long>(partial_params + partial_ends), crashed, problems);
    return problems == 0 ? 0 : 1;
}

int contend(const std::string& path, int n, const std::string& tag) {
    auto reg = Registry::open(path);
    Db& db = reg->db();
    int locked = 0;
    for (int i = 0; i < n; ++i) {
        try {
            db.write([&] {
                // Read, then write what was read: the pattern that deadlocks with plain BEGIN.
                const int64_t seen = scalar(db, "SELECT COUNT(*) FROM events");
                Events(db).append("contend", tag, std::to_string(seen));
            });
        } catch (const error::RegistryError& e) {
            ++locked;
            std::fprintf(stderr, "%s\n", e.what());
        }
    }
    std::printf("locked=%d\n", locked);
    return locked == 0 ? 0 : 4;
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    const std::string mode = argc > 1 ? argv[1] : "";
    try {
        if (mode == "record" && argc == 4) {
            return record(argv[2], static_cast<unsigned>(std::stoul(argv[3])));
        }
        if (mode == "check" && argc == 4) {
            return check(argv[2], argv[3]);
        }
        if (mode == "contend" && argc == 5) {
            return contend(argv[2], std::stoi(argv[3]), argv[4]);
        }
        if (mode == "open" && (argc == 3 || argc == 4)) {
            OpenOptions o;
            o.target_version = argc == 4 ? std::stoi(argv[3]) : 0;
            auto reg = Registry::open(argv[2], o);
            std::printf("version=%d\n", reg->schema_version());
            return 0;
        }
        if (mode == "fill" && argc == 3) {
            return fill(argv[2]);
        }
    } catch (const error::Error& e) {
        std::fprintf(stderr, "mloop: error: %s\n", e.what());
        if (!e.hint().empty()) {
            std::fprintf(stderr, "hint: %s\n", e.hint().c_str());
        }
        return static_cast<int>(e.code());
    }
    std::fprintf(stderr, "usage: fault_registry_writer record|check|contend|open|fill …\n");
    return 2;
}
