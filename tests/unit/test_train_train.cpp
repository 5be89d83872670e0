#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include "config/parse.hpp"
#include "error/error.hpp"
#include "train/internal.hpp"
#include "train/sweep.hpp"

using namespace mloop;
using namespace mloop::train;
namespace fs = std::filesystem;

namespace {

config::Project project(const std::string& yaml) {
    auto r = config::parse_project(yaml, "/x/mloop.yaml", "mloop.yaml");
    REQUIRE(r.diagnostics.empty());
    return r.project;
}

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-train-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_SUITE("train") {
    TEST_CASE("parameters: the file's, overridden in order, typed like YAML") {
        const auto p =
            project("project: p\ntrain: {command: [x], params: {C: 1.0, iters: 200, name: a}}\n");
        auto params = resolve_params(p, {"C=0.5", "name=b c", "iters=300", "C=2"});
        REQUIRE(params.size() == 3);
        CHECK(params[0].name == "C");
        CHECK(params[0].value == "2");
        CHECK(params[0].type == "integer");
        CHECK(params[1].value == "300");
        CHECK(params[2].value == "b c");
        CHECK(params[2].type == "string");
        CHECK(parse_param(p, "C=1e-3").type == "number");
        CHECK(parse_param(p, "C=true").type == "boolean");
        CHECK(parse_param(p, "C=").type == "string");
        CHECK_THROWS_AS(parse_param(p, "D=1"), error::UsageError);
        CHECK_THROWS_AS(parse_param(p, "=1"), error::UsageError);
        CHECK_THROWS_AS(parse_param(p, "C"), error::UsageError);
    }

    TEST_CASE("parameter names in the environment") {
        CHECK(param_env_name("C") == "MLOOP_PARAM_C");
        CHECK(param_env_name("max_iter") == "MLOOP_PARAM_MAX_ITER");
        CHECK(param_env_name("learning-rate.v2") == "MLOOP_PARAM_LEARNING_RATE_V2");
    }

    TEST_CASE("a grid is the cartesian product, the first parameter slowest") {
        const auto p = project(
            "project: p\ntrain:\n  command: [x]\n  sweep:\n    objective: {metric: auc}\n"
            "    params: {a: [1, 2], b: [x, y, z]}\n");
        const auto trials = plan_trials(*p.train->sweep);
        REQUIRE(trials.size() == 6);
        CHECK(trials[0].params == std::vector<std::string>{"a=1", "b=x"});
        CHECK(trials[1].params == std::vector<std::string>{"a=1", "b=y"});
        CHECK(trials[3].params == std::vector<std::string>{"a=2", "b=x"});
        CHECK(trials[5].params == std::vector<std::string>{"a=2", "b=z"});
    }

    TEST_CASE("random search is seeded, stays in range and honours types") {
        const std::string yaml =
            "project: p\ntrain:\n  command: [x]\n  sweep:\n    method: random\n    trials: 50\n"
            "    seed: SEED\n    objective: {metric: auc}\n"
            "    params:\n      C: {min: 0.001, max: 10, log: true}\n"
            "      n: {min: 1, max: 4, type: int}\n      k: [u, v]\n";
        auto with_seed = [&](const std::string& seed) {
            std::string y = yaml;
            y.replace(y.find("SEED"), 4, seed);
            return plan_trials(*project(y).train->sweep);
        };
        const auto a = with_seed("7");
        const auto b = with_seed("7");
        const auto c = with_seed("8");
        REQUIRE(a.size() == 50);
        bool differs = false;
        std::set<std::string> ns;
        for (size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i].params == b[i].params);
            differs = differs || a[i].params != c[i].params;
            const double C = std::stod(a[i].params[0].substr(2));
            CHECK(C >= 0.001);
            CHECK(C <= 10);
            const std::string n = a[i].params[1].substr(2);
            CHECK(n.find('.') == std::string::npos);
            CHECK(std::stoi(n) >= 1);
            CHECK(std::stoi(n) <= 4);
            ns.insert(n);
            CHECK((a[i].params[2] == "k=u" || a[i].params[2] == "k=v"));
        }
        CHECK(differs);
        CHECK(ns.size() == 4);  // every integer in the range is reachable
    }

    TEST_CASE("paths beneath the run directory only") {
        TempDir t;
        fs::create_directories(t.path / "run" / "sub");
        CHECK(detail::inside(t.path / "run", "model.json", "artifact") ==
              t.path / "run" / "model.json");
        CHECK(detail::inside(t.path / "run", "sub/m.json", "artifact") ==
              t.path / "run" / "sub" / "m.json");
        CHECK_THROWS_WITH_AS(detail::inside(t.path / "run", "../x", "artifact"),
                             "artifact '../x' leaves the run directory", error::UsageError);
        CHECK_THROWS_WITH_AS(detail::inside(t.path / "run", "/etc/passwd", "artifact"),
                             "artifact '/etc/passwd' must be a path inside the run directory",
                             error::UsageError);
        fs::create_symlink("/etc", t.path / "run" / "out");
        CHECK_THROWS_WITH_AS(detail::inside(t.path / "run", "out/passwd", "artifact"),
                             "artifact 'out/passwd' leads outside the run directory (through a "
                             "symlink)",
                             error::UsageError);
    }

    TEST_CASE("metrics files: a flat object of finite numbers, else an error naming the file") {
        TempDir t;
        auto write = [&](const std::string& text) {
            std::ofstream(t.path / "m.json") << text;
            return t.path / "m.json";
        };
        const auto ok = detail::read_metrics(write(R"({"b": 2, "a": 0.5})"));
        REQUIRE(ok.size() == 2);
        CHECK(ok[0].name == "a");
        CHECK(ok[1].value == 2);
        CHECK_THROWS_AS(detail::read_metrics(t.path / "missing.json"), error::ExternalError);
        CHECK_THROWS_AS(detail::read_metrics(write("[1, 2]")), error::ExternalError);
        CHECK_THROWS_AS(detail::read_metrics(write(R"({"a": "x"})")), error::ExternalError);
        CHECK_THROWS_AS(detail::read_metrics(write(R"({"a": {"b": 1}})")), error::ExternalError);
        CHECK_THROWS_AS(detail::read_metrics(write("{")), error::ExternalError);
        try {
            detail::read_metrics(write("{"));
        } catch (const error::ExternalError& e) {
            CHECK(std::string(e.what()).find("m.json' is not valid JSON") != std::string::npos);
        }
    }

    TEST_CASE("a stage's cache key covers command, params, inputs and outputs, nothing else") {
        const auto p = project(
            "project: p\ntrain:\n  stages:\n    - {name: a, command: [x, \"${run.dir}\"], outputs: "
            "[o]}\n");
        const auto& st = p.train->stages[0];
        const std::vector<registry::Param> params{{"C", "1", "integer"}};
        const std::vector<std::pair<std::string, std::string>> in{{"raw.csv", "sha256:aa"}};
        const auto k = detail::stage_cache_key(st, params, in);
        CHECK(k == detail::stage_cache_key(st, params, in));
        CHECK(k != detail::stage_cache_key(st, {{"C", "2", "integer"}}, in));
        CHECK(k != detail::stage_cache_key(st, params, {{"raw.csv", "sha256:ab"}}));
        CHECK(k.rfind("sha256:", 0) == 0);
    }

    TEST_CASE("variables expand, and unknown or unset ones say where") {
        detail::Variables v;
        v.values["run.dir"] = "/r";
        CHECK(v.expand({"--out=${run.dir}/x", {3, 5}}, "train.command") == "--out=/r/x");
        CHECK(v.expand({"$${not} ${run.dir}", {}}, "train.command") == "${not} /r");
        ::setenv("MLOOP_TEST_SET", "yes", 1);
        CHECK(v.expand({"${env.MLOOP_TEST_SET}", {}}, "x") == "yes");
        ::unsetenv("MLOOP_TEST_UNSET");
        CHECK_THROWS_WITH_AS(v.expand({"${env.MLOOP_TEST_UNSET}", {7, 9}}, "train.command"),
                             "mloop.yaml:7:9: 'train.command': environment variable "
                             "MLOOP_TEST_UNSET is not set",
                             error::UsageError);
        CHECK_THROWS_AS(v.expand({"${model.dir}", {}}, "train.command"), error::UsageError);
    }
}
