#include <doctest/doctest.h>

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/keys.hpp"
#include "config/load.hpp"
#include "config/parse.hpp"

using namespace mloop::config;

namespace {

const std::filesystem::path k_fixtures =
    std::filesystem::path(MLOOP_SOURCE_DIR) / "tests" / "fixtures";
const std::filesystem::path k_full = k_fixtures / "full" / "mloop.yaml";
const std::filesystem::path k_stages = k_fixtures / "stages" / "mloop.yaml";

ParseResult parse(std::string_view text) {
    return parse_project(text, "/nonexistent/mloop.yaml", "mloop.yaml");
}

std::vector<std::string> messages(const ParseResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics) {
        out.push_back(d.where.str() + ": " + d.message + (d.hint.empty() ? "" : " | " + d.hint));
    }
    return out;
}

bool has(const ParseResult& r, std::string_view text) {
    for (const auto& m : messages(r)) {
        if (m.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("the full and stages fixtures are valid and exercise every key of the table") {
    const ParseResult full = read_project(k_full);
    CHECK(messages(full) == std::vector<std::string>{});
    const ParseResult stages = read_project(k_stages);
    CHECK(messages(stages) == std::vector<std::string>{});
    std::vector<std::string> unread;
    for (const auto& k : keys()) {
        const std::string path(k.path);
        if (!full.keys_read.count(path) && !stages.keys_read.count(path)) {
            unread.emplace_back(k.path);
        }
    }
    INFO("unread: ", fmt::format("{}", fmt::join(unread, ", ")));
    CHECK(unread.empty());
}

TEST_CASE("the full fixture's values arrive typed") {
    const Project p = load_project(k_full);
    CHECK(p.name == "full");
    REQUIRE(p.data.size() == 3);
    CHECK(p.data[0].format == "csv");
    CHECK(p.data[1].format == "jsonl");
    CHECK_FALSE(p.data[2].snapshot);
    REQUIRE(p.schema);
    CHECK(p.schema->columns.size() == 7);
    CHECK(p.schema->columns[1].type == ColumnType::integer);
    CHECK(*p.schema->columns[1].max == 10);
    CHECK(p.schema->columns[1].mostly == doctest::Approx(0.99));
    CHECK(p.schema->extra_columns == ExtraColumns::warn);
    CHECK(*p.schema->rows_max == 100);
    REQUIRE(p.train);
    CHECK(p.train->command.size() == 8);
    CHECK(p.train->command[5].value == "${run.dir}");
    CHECK(p.train->command[5].mark.line == 25);
    REQUIRE(p.train->params.size() == 4);
    CHECK(p.train->params[0].value.type == Scalar::Type::number);
    CHECK(p.train->params[1].value.type == Scalar::Type::integer);
    CHECK(p.train->params[2].value.type == Scalar::Type::string);
    CHECK(p.train->params[3].value.type == Scalar::Type::boolean);
    CHECK(p.train->timeout->count() == 5400);
    REQUIRE(p.train->sweep);
    CHECK(p.train->sweep->method == Sweep::Method::random);
    CHECK_FALSE(p.train->sweep->maximize);
    CHECK(p.train->sweep->params[1].range_type == Scalar::Type::integer);
    CHECK(p.train->sweep->params[2].values.size() == 2);
    CHECK_FALSE(p.train->triggers.data_changed);
    CHECK(p.train->triggers.max_age->count() == 30 * 86400);
    CHECK(p.model.name == "full-model");
    CHECK(p.model.gates.size() == 3);
    CHECK(*p.model.gates[2].max_increase_pct == 10);
    REQUIRE(p.package);
    CHECK(p.package->port == 9000);
    CHECK(p.package->push);
    REQUIRE(p.deploy);
    CHECK(p.deploy->health_path == "/ready");
    CHECK(p.deploy->health_timeout.count() == 90);
    const Environment* prod = p.environment("production");
    REQUIRE(prod);
    CHECK(prod->strategy == Strategy::canary);
    CHECK(prod->canary_steps == std::vector<int>{10, 50, 100});
    CHECK(prod->canary_pause.count() == 45);
    CHECK(prod->analysis.size() == 3);
    CHECK(prod->analysis[0].kind == Analysis::Kind::prometheus);
    CHECK(*prod->analysis[0].max == doctest::Approx(0.01));
    CHECK(p.environment("staging")->scale_down_delay.count() == 300);
    CHECK(p.environment("staging")->max_restarts == 2);
    REQUIRE(p.monitor);
    CHECK(p.monitor->current.size() == 2);
    CHECK(p.monitor->drift_method == DriftMethod::ks);
    CHECK(p.monitor->drift_columns.size() == 2);
    CHECK(p.monitor->feedback_id == "rid");
    CHECK(p.monitor->on_alert_retrain);
    CHECK(p.feature_names() == std::vector<std::string>{"a", "b", "plan"});
}

TEST_CASE("defaults of a minimal file") {
    auto r = parse("project: tiny\n");
    CHECK(r.diagnostics.empty());
    const Project& p = r.project;
    CHECK(p.format == 1);
    CHECK(p.model.name == "tiny");
    CHECK_FALSE(p.train);
    CHECK_FALSE(p.deploy);

    auto t = parse("project: t\ntrain: {command: [x]}\ndeploy: {environments: {e: {}}}\n");
    CHECK(t.diagnostics.empty());
    CHECK(t.project.train->metrics.value == "metrics.json");
    CHECK(t.project.train->triggers.data_changed);
    CHECK_FALSE(t.project.train->triggers.drift);
    const Environment& e = t.project.deploy->environments.at(0);
    CHECK(e.target == Target::docker);
    CHECK(e.port == 8080);
    CHECK(e.replicas == 1);
    CHECK(e.strategy == Strategy::rolling);
    CHECK(e.canary_steps == std::vector<int>{25, 50, 100});
    CHECK(e.max_restarts == 3);
    CHECK(t.project.deploy->health_path == "/healthz");
    CHECK(t.project.deploy->health_timeout.count() == 120);
}

TEST_CASE("every error in the file is reported at once with its position") {
    auto r = parse(
        "project: x\n"
        "trian: {}\n"
        "data:\n"
        "  a: {path: a.csv, formt: csv}\n"
        "schema: {columns: {age: {type: integer}}}\n"
        "deploy: {environments: {e: {replicas: many, port: 70000}}}\n");
    const auto m = messages(r);
    REQUIRE(m.size() == 5);
    CHECK(m[0] == "mloop.yaml:2:1: unknown key 'trian' at the top level | did you mean 'train'?");
    CHECK(m[1] == "mloop.yaml:4:20: unknown key 'formt' in 'data.a' | did you mean 'format'?");
    CHECK(m[2] ==
          "mloop.yaml:5:32: 'schema.columns.age.type' must be one of string, int, float, bool, "
          "category, datetime, not 'integer' | did you mean 'int'?");
    CHECK(m[3] ==
          "mloop.yaml:6:39: 'deploy.environments.e.replicas' must be a whole number, not 'many'");
    CHECK(m[4] ==
          "mloop.yaml:6:51: 'deploy.environments.e.port' must be between 1 and 65535, not 70000");
}

TEST_CASE("types are strict") {
    CHECK(has(parse("project: x\npackage: {port: \"8080\"}\n"),
              "'package.port' must be a whole number, not '8080'"));
    CHECK(has(parse("project: x\npackage: {push: yes}\n"),
              "'package.push' must be true or false, not 'yes'"));
    CHECK(has(parse("project: x\ntrain: {command: python3 train.py}\n"),
              "'train.command' must be a list of arguments, not a string"));
    CHECK(has(parse("project: x\ntrain: {command: []}\n"), "'train.command' is an empty command"));
    CHECK(has(parse("project: x\ntrain: {command: [x], timeout: 30}\n"), "is not a duration"));
    CHECK(has(parse("project: x\ntrain: {command: [x], timeout: 0s}\n"),
              "'train.timeout' must be longer than zero"));
    CHECK(has(parse("project: x\nschema: {columns: {a: {mostly: 1.5}}}\n"),
              "'schema.columns.a.mostly' must be between 0 (exclusive) and 1, not 1.5"));
    CHECK(has(parse("project: x\ndata: [a]\n"), "'data' must be a mapping of keys, not a list"));
    CHECK(has(parse("project: x\nmonitor: {drift: {method: kss}}\n"), "did you mean 'ks'?"));
    CHECK(has(parse("mloop: 2\nproject: x\n"),
              "project file format 2 is newer than this mloop understands (1)"));
    CHECK(has(parse("data: {}\n"), "mloop.yaml:1:1: 'project' is required"));
    CHECK(has(parse("project: x\nproject: y\n"),
              "mloop.yaml:2:1: duplicate key 'project' at the top level (first at line 1)"));
}

TEST_CASE("gates, canary steps and analysis checks are checked as they are read") {
    CHECK(has(parse("project: x\nmodel: {gates: [{metric: auc}]}\n"), "sets no limit"));
    CHECK(has(parse("project: x\nmodel: {gates: [{metric: auc, max_drop: 0.1}]}\n"),
              "max_drop and max_increase_pct need a baseline"));
    CHECK(has(parse("project: x\nmodel: {gates: [{metric: auc, min: 0.9, max: 0.1}]}\n"),
              "min (0.9) is above max (0.1)"));
    CHECK(has(parse("project: x\ndeploy: {environments: {p: {canary: {steps: [50, 25, 100]}}}}\n"),
              "canary steps must rise: 25 follows 50"));
    CHECK(has(parse("project: x\ndeploy: {environments: {p: {canary: {steps: [25, 50]}}}}\n"),
              "the last canary step must be 100"));
    CHECK(has(parse("project: x\ndeploy: {environments: {p: {analysis: [{command: [a], "
                    "monitor: {current: x}}]}}}\n"),
              "must have exactly one of prometheus, command and monitor"));
    CHECK(has(parse("project: x\nmonitor: {alerts: [{}]}\n"),
              "must have exactly one of webhook and command"));
}
