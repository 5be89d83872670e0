#include <doctest/doctest.h>

#include <algorithm>

#include "docker/docker.hpp"

using namespace mloop::docker;

TEST_SUITE("docker") {
    TEST_CASE("build arguments: every value inside its option, the context after --") {
        BuildSpec b;
        b.context = "-ctx";
        b.dockerfile = "-ctx/Dockerfile";
        b.tag = "r/m:v1";
        b.labels = {{"io.mloop.model", "--m"}};
        b.build_args = {{"X", "-v /:/host"}};
        b.no_cache = true;
        b.iidfile = "/tmp/iid";
        CHECK(build_args(b) == std::vector<std::string>{"build", "--file=-ctx/Dockerfile",
                                                        "--tag=r/m:v1", "--iidfile=/tmp/iid",
                                                        "--no-cache", "--label=io.mloop.model=--m",
                                                        "--build-arg=X=-v /:/host", "--", "-ctx"});
    }

    TEST_CASE("run arguments: host network, env and labels as --opt=value, argv after the image") {
        RunSpec r;
        r.name = "mloop-p-local";
        r.image = "sha256:abc";
        r.port = 9000;
        r.env = {{"PORT", "9000"}, {"A", "$(rm -rf /); `x`"}};
        r.labels = {{"io.mloop.deployment", "7"}};
        r.mounts = {{"/p/logs", "/logs"}};
        r.command = {"--help", "x y"};
        CHECK(run_args(r) ==
              std::vector<std::string>{"run", "--detach", "--name=mloop-p-local", "--restart=no",
                                       "--network=host", "--label=io.mloop.deployment=7",
                                       "--env=PORT=9000", "--env=A=$(rm -rf /); `x`",
                                       "--mount=type=bind,source=/p/logs,target=/logs", "--",
                                       "sha256:abc", "--help", "x y"});
        r.network = "bridge";
        const auto a = run_args(r);
        CHECK(std::find(a.begin(), a.end(), "--publish=127.0.0.1:9000:9000") != a.end());
    }

    TEST_CASE("a container as docker inspect describes it") {
        const auto c = parse_container(R"({"Id": "abc", "Name": "/mloop-p-local",
            "Image": "sha256:111", "RestartCount": 2,
            "State": {"Status": "exited", "Running": false, "ExitCode": 3,
                      "StartedAt": "2026-11-27T10:00:00Z"},
            "Config": {"Labels": {"io.mloop.deployment": "7", "n": 1}}})");
        CHECK(c.id == "abc");
        CHECK(c.name == "mloop-p-local");
        CHECK(c.image == "sha256:111");
        CHECK(c.status == "exited");
        CHECK_FALSE(c.running);
        CHECK(c.exit_code == 3);
        CHECK(c.restarts == 2);
        CHECK(c.labels.size() == 1);
        CHECK(c.labels.at("io.mloop.deployment") == "7");
        const auto bare = parse_container(R"({"Id": "x"})");
        CHECK(bare.status.empty());
        CHECK(bare.labels.empty());
    }
}
