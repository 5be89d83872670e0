#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "deploy/analysis.hpp"
#include "process/runner.hpp"
#include "test_http_server.hpp"

using namespace mloop;
using namespace mloop::deploy;

namespace {

// Answers one query with `body` (status 200 unless given), as Prometheus's HTTP API would.
struct Prometheus {
    test_http::OneShot server;
    int port;
    const std::string& request;

    explicit Prometheus(const std::string& body, int status = 200)
        : server("HTTP/1.1 " + std::to_string(status) +
                 " X\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body),
          port(server.port),
          request(server.received) {}
    config::Analysis check(std::optional<double> min, std::optional<double> max) const {
        config::Analysis a;
        a.kind = config::Analysis::Kind::prometheus;
        a.url.value = "http://127.0.0.1:" + std::to_string(port) + "/";
        a.query.value = "sum(rate(errors[1m])) / sum(rate(requests[1m]))";
        a.min = min;
        a.max = max;
        return a;
    }
};

std::string vector_of(const std::string& values) {
    return R"({"status":"success","data":{"resultType":"vector","result":[)" + values + "]}}";
}

}  // namespace

TEST_SUITE("deploy") {
    TEST_CASE("prometheus: every sample within its limits passes; the query is sent encoded") {
        Prometheus p(vector_of(R"({"metric":{},"value":[1700000000.5,"0.004"]},)"
                               R"({"metric":{"pod":"b"},"value":[1700000000.5,"0.008"]})"));
        const auto r = check_prometheus(p.check(std::nullopt, 0.01), std::chrono::seconds(2));
        CHECK(r.passed);
        CHECK(r.value == doctest::Approx(0.008));
        CHECK(r.reason == "0.008 within max 0.01");
        CHECK(p.request.rfind("GET /api/v1/query?query=sum%28rate%28errors%5B1m%5D%29%29%20%2F%20",
                              0) == 0);
    }

    TEST_CASE("prometheus: a sample outside, no data, an error status, no server: each fails") {
        {
            Prometheus p(vector_of(R"({"metric":{},"value":[1,"0.02"]})"));
            const auto r = check_prometheus(p.check(std::nullopt, 0.01), std::chrono::seconds(2));
            CHECK_FALSE(r.passed);
            CHECK(r.reason == "0.02 is outside max 0.01");
        }
        {
            Prometheus p(vector_of(R"({"metric":{},"value":[1,"0.5"]})"));
            const auto r = check_prometheus(p.check(0.9, std::nullopt), std::chrono::seconds(2));
            CHECK_FALSE(r.passed);
            CHECK(r.reason == "0.5 is outside min 0.9");
        }
        {
            Prometheus p(vector_of(""));
            const auto r = check_prometheus(p.check(std::nullopt, 1), std::chrono::seconds(2));
            CHECK_FALSE(r.passed);
            CHECK(r.reason == "the query returned no data");
        }
        {
            Prometheus p(R"({"status":"error","errorType":"bad_data","error":"parse error"})", 400);
            const auto r = check_prometheus(p.check(std::nullopt, 1), std::chrono::seconds(2));
            CHECK_FALSE(r.passed);
            CHECK(r.reason == "prometheus: parse error (bad_data)");
        }
        int port = 0;
        {
            Prometheus p(vector_of(R"({"metric":{},"value":[1,"NaN"]})"));
            port = p.port;
            const auto r = check_prometheus(p.check(std::nullopt, 1), std::chrono::seconds(2));
            CHECK_FALSE(r.passed);
        }
        config::Analysis gone;
        gone.url.value = "http://127.0.0.1:" + std::to_string(port);
        gone.query.value = "up";
        gone.max = 1;
        const auto r = check_prometheus(gone, std::chrono::seconds(1));
        CHECK_FALSE(r.passed);
        CHECK(r.reason.find("cannot connect to 127.0.0.1:") != std::string::npos);
    }

    TEST_CASE("command checks get their variables; exit 0 passes; monitor runs what it is given") {
        auto runner = process::make_posix_runner();
        AnalysisContext ctx;
        ctx.runner = runner.get();
        ctx.cwd = "/";
        ctx.values = {{"deploy.url", "http://127.0.0.1:1"}, {"deploy.env", "prod"}};
        ctx.display_file = "mloop.yaml";
        config::Analysis ok;
        ok.kind = config::Analysis::Kind::command;
        for (const char* a :
             {"sh", "-c", "[ \"$1\" = http://127.0.0.1:1 ]", "sh", "${deploy.url}"}) {
            ok.command.push_back({a, {}});
        }
        config::Analysis bad;
        bad.kind = config::Analysis::Kind::command;
        for (const char* a : {"sh", "-c", "echo smoke failed on ${deploy.env} >&2; exit 2"}) {
            bad.command.push_back({a, {}});
        }
        config::Analysis monitor;
        monitor.kind = config::Analysis::Kind::monitor;
        const auto results = run_analysis({ok, bad, monitor}, ctx);
        REQUIRE(results.size() == 3);
        CHECK(results[0].passed);
        CHECK_FALSE(results[1].passed);
        CHECK(results[1].reason == "exited with 2: smoke failed on prod");
        CHECK_FALSE(results[2].passed);  // no monitor to run it with: failed, not passed
        CHECK(results[2].reason == "no monitor to run it with");
        CHECK_FALSE(all_passed(results));
        monitor.current.push_back({"canary.jsonl", {}});
        ctx.monitor = [](const config::Analysis& c) {
            CheckResult r;
            r.kind = "monitor";
            r.what = c.current.at(0).value;
            r.passed = true;
            return r;
        };
        const auto wired = run_analysis({monitor}, ctx);
        REQUIRE(wired.size() == 1);
        CHECK(wired[0].passed);
        CHECK(wired[0].what == "canary.jsonl");
        CHECK(failures(results).find("command sh -c") == 0);
        config::Analysis unknown;
        unknown.kind = config::Analysis::Kind::command;
        unknown.command.push_back({"${deploy.nope}", {3, 7}});
        CHECK_THROWS_WITH_AS(run_analysis({unknown}, ctx),
                             doctest::Contains("mloop.yaml:3:7: analysis command"),
                             error::UsageError);
    }
}
