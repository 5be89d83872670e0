#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/check.hpp"
#include "config/load.hpp"

using namespace mloop::config;
namespace fs = std::filesystem;

namespace {

// A scratch project directory with a few files that exist.
struct ScratchProject {
    fs::path dir;
    ScratchProject() {
        char tmpl[] = "/tmp/mloop-check-XXXXXX";
        dir = ::mkdtemp(tmpl);
        fs::create_directories(dir / "data");
        std::ofstream(dir / "data" / "train.csv") << "a\n1\n";
        std::ofstream(dir / "train.py") << "\n";
    }
    ~ScratchProject() { fs::remove_all(dir); }

    std::vector<std::string> check(const std::string& yaml) const {
        std::ofstream(dir / "mloop.yaml") << yaml;
        ParseResult r = read_project(dir / "mloop.yaml");
        std::vector<std::string> out;
        for (const auto& d : r.diagnostics) {
            out.push_back(std::to_string(d.where.line) + ":" + std::to_string(d.where.column) +
                          ": " + d.message + (d.hint.empty() ? "" : " | " + d.hint));
        }
        return out;
    }
};

bool contains(const std::vector<std::string>& v, std::string_view s) {
    for (const auto& m : v) {
        if (m.find(s) != std::string::npos) {
            return true;
        }
    }
    return false;
}

const char* k_base =
    "project: p\n"
    "data:\n"
    "  train: data/train.csv\n";

}  // namespace

TEST_CASE("a consistent project passes") {
    ScratchProject p;
    CHECK(p.check(std::string(k_base) +
                  "train:\n"
                  "  command: [python3, train.py, --data, \"${data.train}\", --out, "
                  "\"${run.dir}\", --c, \"${params.C}\"]\n"
                  "  params: {C: 1}\n"
                  "  inputs: [train.py]\n") == std::vector<std::string>{});
}

TEST_CASE("named files must exist") {
    ScratchProject p;
    const auto d = p.check(
        "project: p\n"
        "data: {train: data/nope.csv}\n"
        "train: {command: [./run.sh], inputs: [missing.py]}\n"
        "package: {files: [serve.py], template: Nope}\n");
    CHECK(contains(d, "2:15: dataset 'train': path 'data/nope.csv' does not exist"));
    CHECK(contains(d, "program of train.command './run.sh' does not exist"));
    CHECK(contains(d, "input 'missing.py' does not exist"));
    CHECK(contains(d, "package file 'serve.py' does not exist"));
    CHECK(contains(d, "template 'Nope' is neither built in nor in templates/"));
}

TEST_CASE("paths that leave the run directory are refused") {
    ScratchProject p;
    const auto d = p.check(std::string(k_base) +
                           "train: {command: [x], metrics: /etc/m.json, artifacts: [../x]}\n");
    CHECK(contains(d, "train.metrics '/etc/m.json' must be a relative path"));
    CHECK(contains(d, "artifact '../x' leaves its directory"));
}

TEST_CASE("variables must exist and be used where they are set") {
    ScratchProject p;
    const auto d = p.check(std::string(k_base) +
                           "train:\n"
                           "  command: [x, \"${data.trian}\", \"${run.dri}\", \"${deploy.url}\", "
                           "\"${params.D}\", \"${data.train\"]\n"
                           "  params: {C: 1}\n"
                           "package: {serve: [x, \"${run.dir}\"]}\n");
    CHECK(contains(d, "'${data.trian}' names no dataset under 'data' | did you mean 'train'?"));
    CHECK(
        contains(d, "unknown variable '${run.dri}' in 'train.command' | did you mean 'run.dir'?"));
    CHECK(contains(d,
                   "'${deploy.url}' cannot be used in 'train.command'; it is set in deploy and "
                   "monitor"));
    CHECK(contains(d, "'${params.D}' names no parameter under 'train.params' | did you mean 'C'?"));
    CHECK(contains(d, "unterminated '${'"));
    CHECK(contains(d, "'${run.dir}' cannot be used in 'package.serve'"));
}

TEST_CASE("references between sections") {
    ScratchProject p;
    const auto d = p.check(std::string(k_base) +
                           "schema: {columns: {age: {type: int}, churned: {type: bool}}}\n"
                           "target: churnd\n"
                           "features: [age, agee, age]\n"
                           "model: {gates: [{metric: auc, baseline: prodution, max_drop: 0.1}]}\n"
                           "deploy:\n"
                           "  environments:\n"
                           "    production: {target: kubernetes, requires: stagin}\n"
                           "    staging: {target: kubernetes, requires: qa}\n"
                           "    qa: {target: kubernetes, requires: staging}\n"
                           "monitor: {drift: {columns: {ag: {method: ks}}}}\n");
    CHECK(contains(d, "target 'churnd' is not a column of the schema | did you mean 'churned'?"));
    CHECK(contains(d, "feature 'agee' is not a column of the schema | did you mean 'age'?"));
    CHECK(contains(d, "feature 'age' is listed twice"));
    CHECK(contains(d,
                   "gate baseline 'prodution' is not an environment | did you mean "
                   "'production'?"));
    CHECK(contains(d, "requires unknown environment 'stagin' | did you mean 'staging'?"));
    CHECK(contains(d, "environments require each other in a cycle: staging → qa → staging"));
    CHECK(contains(d, "monitor.drift.columns names 'ag', which is not a feature"));
}

TEST_CASE("a gate's baseline is an environment or an alias") {
    ScratchProject p;
    const std::string envs =
        "deploy:\n"
        "  environments:\n"
        "    production: {target: kubernetes}\n";
    const auto gates = [&](const std::string& baseline) {
        return p.check(std::string(k_base) + "model: {gates: [{metric: auc, baseline: " + baseline +
                       ", max_drop: 0.1}]}\n" + envs);
    };
    CHECK(gates("production").empty());
    CHECK(gates("champion").empty());  // an alias that promote moves
    CHECK(contains(gates("prodution"),
                   "gate baseline 'prodution' is not an environment | did you mean "
                   "'production'?"));
    CHECK(contains(gates("latest"), "gate baseline 'latest' cannot be an alias"));
    CHECK(contains(gates("Champ_1"), "gate baseline 'Champ_1' cannot be an alias"));
}

TEST_CASE("stages: unknown after, cycles, inputs produced by other stages") {
    ScratchProject p;
    const auto unknown = p.check(std::string(k_base) +
                                 "train:\n"
                                 "  stages:\n"
                                 "    - {name: prep, command: [x], outputs: [out/a.csv]}\n"
                                 "    - {name: fit, command: [x], inputs: [out/a.csv], after: "
                                 "[prepp]}\n");
    INFO(fmt::format("{}", fmt::join(unknown, "\n")));
    CHECK(unknown == std::vector<std::string>{
                         "7:62: stage 'fit' runs after unknown stage 'prepp' | did you mean "
                         "'prep'?"});
    const auto cycle = p.check(std::string(k_base) +
                               "train:\n"
                               "  stages:\n"
                               "    - {name: a, command: [x], after: [c]}\n"
                               "    - {name: b, command: [x], after: [a]}\n"
                               "    - {name: c, command: [x], after: [b]}\n");
    CHECK(contains(cycle, "stages form a cycle: a → c → b → a"));
    const auto both =
        p.check(std::string(k_base) + "train: {command: [x], stages: [{name: a, command: [x]}]}\n");
    CHECK(contains(both, "'train' has both command and stages; use one"));
    const auto neither = p.check(std::string(k_base) + "train: {params: {a: 1}}\n");
    CHECK(contains(neither, "'train' needs a command or stages"));
}

TEST_CASE("deploy and monitor settings that cannot work together") {
    ScratchProject p;
    const auto d = p.check(std::string(k_base) +
                           "deploy:\n"
                           "  resources: {cpu: lots, memory: 512Mi}\n"
                           "  environments:\n"
                           "    latest: {target: docker, strategy: canary}\n"
                           "monitor: {window: 24h, performance: {metric: auc, min: 0.7}, "
                           "alerts: [{webhook: ftp://x}]}\n");
    CHECK(contains(d, "deploy.resources.cpu 'lots' is not a quantity"));
    CHECK(contains(d, "environment name 'latest' must match"));
    CHECK(contains(d, "strategy canary needs target kubernetes"));
    CHECK(contains(d, "'monitor.window' needs 'monitor.timestamp'"));
    CHECK(contains(d, "'monitor.performance' needs 'target'"));
    CHECK(contains(d, "webhook 'ftp://x' must start with http:// or https://"));
}

TEST_CASE("on_alert: retrain needs a training section and a trigger that reads the report") {
    ScratchProject p;
    const std::string monitor = "monitor: {on_alert: retrain}\n";
    CHECK(contains(p.check(std::string(k_base) + monitor),
                   "'monitor.on_alert: retrain' needs a 'train' section"));
    const std::string train = "train: {command: [python3, train.py]}\n";
    CHECK(contains(p.check(std::string(k_base) + train + monitor),
                   "'monitor.on_alert: retrain' needs 'train.triggers.drift' or "
                   "'train.triggers.performance'"));
    for (const char* trigger : {"drift", "performance"}) {
        const auto d = p.check(std::string(k_base) +
                               fmt::format("train: {{command: [python3, train.py], triggers: "
                                           "{{{}: true}}}}\n",
                                           trigger) +
                               monitor);
        CHECK_MESSAGE(!contains(d, "on_alert"), trigger);
    }
}

TEST_CASE("patterns are compiled with RE2") {
    ScratchProject p;
    const auto d =
        p.check(std::string(k_base) + "schema: {columns: {e: {type: string, pattern: '([a-z'}}}\n");
    CHECK(contains(d, "column 'e': invalid pattern: missing ]"));
}
