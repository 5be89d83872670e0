#include <doctest/doctest.h>

#include "error/error.hpp"
#include "k8s/kubectl.hpp"
#include "process/fake_runner.hpp"

using namespace mloop::k8s;
using mloop::process::FakeRunner;

TEST_SUITE("k8s") {
    TEST_CASE("apply: every option as --name=value, the scope first") {
        Scope s{"staging", "ml-staging"};
        CHECK(apply_args(s, "-dir/x") ==
              std::vector<std::string>{"--context=staging", "--namespace=ml-staging",
                                       "--request-timeout=5s", "apply", "--server-side",
                                       "--field-manager=mloop", "--force-conflicts",
                                       "--validate=false", "--filename=-dir/x"});
        Scope none;
        CHECK(scope_args(none) ==
              std::vector<std::string>{"--namespace=default", "--request-timeout=5s"});
    }

    TEST_CASE("get: a name after --, a selector inside its option") {
        Scope s{"", "ml"};
        CHECK(get_deployment_args(s, "-churn-staging") ==
              std::vector<std::string>{"--namespace=ml", "--request-timeout=5s", "get",
                                       "deployment", "--output=json", "--", "-churn-staging"});
        CHECK(get_pods_args(s, "app=churn,env=staging") ==
              std::vector<std::string>{"--namespace=ml", "--request-timeout=5s", "get", "pods",
                                       "--output=json", "--selector=app=churn,env=staging"});
    }

    TEST_CASE("a deployment's status, with the zero counts the API omits") {
        const auto d = parse_deployment(R"({
          "metadata": {"name": "churn-staging", "generation": 3},
          "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "churn",
                   "io.mloop/deployment": "7"}}, "spec": {"containers": [{"name": "model",
                   "image": "r/churn:v2"}]}}},
          "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
                     "conditions": [{"type": "Progressing", "status": "False",
                                     "reason": "ProgressDeadlineExceeded",
                                     "message": "ReplicaSet has timed out progressing."}]}})");
        CHECK(d.name == "churn-staging");
        CHECK(d.generation == 3);
        CHECK(d.observed_generation == 2);
        CHECK(d.spec_replicas == 2);
        CHECK(d.replicas == 3);
        CHECK(d.updated == 1);
        CHECK(d.ready == 0);
        CHECK(d.available == 0);
        CHECK(d.template_labels.at("io.mloop/deployment") == "7");
        CHECK(d.images == std::vector<std::string>{"r/churn:v2"});
        REQUIRE(d.condition("Progressing") != nullptr);
        CHECK(d.condition("Progressing")->reason == "ProgressDeadlineExceeded");
        CHECK(d.condition("Available") == nullptr);
        CHECK(parse_deployment(R"({"metadata": {"name": "x"}})").spec_replicas == 1);
        CHECK_THROWS_AS(parse_deployment("not json"), mloop::error::ExternalError);
    }

    TEST_CASE("pods: ready, image, restarts and the waiting reason") {
        const auto pods = parse_pods(R"({"kind": "List", "items": [
          {"metadata": {"name": "a", "labels": {"io.mloop/deployment": "7"}},
           "spec": {"containers": [{"image": "r/churn:v2"}]},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                      "containerStatuses": [{"restartCount": 0, "state": {"running": {}}}]}},
          {"metadata": {"name": "b"},
           "spec": {"containers": [{"image": "r/churn:bad"}]},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                      "containerStatuses": [{"restartCount": 4, "state": {"waiting":
                        {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}}]}},
          {"metadata": {"name": "c"}, "status": {"phase": "Pending"}}]})");
        REQUIRE(pods.size() == 3);
        CHECK(pods[0].ready);
        CHECK(pods[0].labels.at("io.mloop/deployment") == "7");
        CHECK(pods[0].images == std::vector<std::string>{"r/churn:v2"});
        CHECK(pods[0].waiting_reason.empty());
        CHECK_FALSE(pods[1].ready);
        CHECK(pods[1].restarts == 4);
        CHECK(pods[1].waiting_reason == "CrashLoopBackOff");
        CHECK(pods[1].waiting_message == "back-off 40s");
        CHECK(pods[2].phase == "Pending");
        CHECK_FALSE(pods[2].ready);
    }

    TEST_CASE(
        "get_deployment: NotFound is nothing, other failures are exit 3 with kubectl's words") {
        FakeRunner runner;
        runner.push(FakeRunner::exited(
            1, "", "Error from server (NotFound): deployments.apps \"x\" not found\n"));
        runner.push(FakeRunner::exited(
            1, "",
            "The connection to the server 127.0.0.1:1 was refused - did you specify "
            "the right host or port?\n"));
        Client kubectl(runner, {});
        CHECK_FALSE(get_deployment(kubectl, {"", "ml"}, "x").has_value());
        try {
            get_deployment(kubectl, {"", "ml"}, "x");
            FAIL("no exception");
        } catch (const mloop::error::ExternalError& e) {
            CHECK(std::string(e.what()).find("was refused") != std::string::npos);
        }
        const auto calls = runner.calls();
        REQUIRE(calls.size() == 2);
        CHECK(calls[0].command.program == "kubectl");
        CHECK(calls[0].command.args.back() == "x");
    }

    TEST_CASE("--filename is a CSV list to kubectl: a comma or a quote gets the path quoted") {
        CHECK(filename_value("/p/x $(id) it's * &") == "/p/x $(id) it's * &");
        CHECK(filename_value("/p/a,b") == "\"/p/a,b\"");
        CHECK(filename_value("/p/\"q\"") == "\"/p/\"\"q\"\"\"");
        CHECK(apply_args({"", "ml"}, "/p/a,b").back() == "--filename=\"/p/a,b\"");
    }

    TEST_CASE("several files, scale, delete and get service: names after --") {
        Scope s{"", "ml"};
        const auto a = apply_args(s, std::vector<std::string>{"d/service.yaml", "d/canary.yaml"});
        CHECK(std::vector<std::string>(a.end() - 2, a.end()) ==
              std::vector<std::string>{"--filename=d/service.yaml", "--filename=d/canary.yaml"});
        CHECK(scale_args(s, "-c", 3) ==
              std::vector<std::string>{"--namespace=ml", "--request-timeout=5s", "scale",
                                       "deployment", "--replicas=3", "--", "-c"});
        CHECK(delete_deployment_args(s, "c") ==
              std::vector<std::string>{"--namespace=ml", "--request-timeout=5s", "delete",
                                       "deployment", "--ignore-not-found=true", "--wait=false",
                                       "--", "c"});
        CHECK(get_service_args(s, "c") ==
              std::vector<std::string>{"--namespace=ml", "--request-timeout=5s", "get", "service",
                                       "--output=json", "--", "c"});
    }

    TEST_CASE("a Service's selector; scale of a missing Deployment is false, a refusal throws") {
        FakeRunner runner;
        runner.push(FakeRunner::exited(
            0,
            R"({"kind": "Service", "spec": {"selector": {"app": "churn", "io.mloop/color": "green"}}})"));
        runner.push(
            FakeRunner::exited(1, "", "Error from server (NotFound): services \"x\" not found\n"));
        runner.push(FakeRunner::exited(0, "deployment.apps/c scaled\n"));
        runner.push(FakeRunner::exited(
            1, "", "Error from server (NotFound): deployments.apps \"c\" not found\n"));
        runner.push(FakeRunner::exited(1, "", "Error from server (Forbidden): no\n"));
        Client kubectl(runner, {});
        const auto sel = get_service_selector(kubectl, {"", "ml"}, "c");
        REQUIRE(sel.has_value());
        CHECK(sel->at("io.mloop/color") == "green");
        CHECK(sel->size() == 2);
        CHECK_FALSE(get_service_selector(kubectl, {"", "ml"}, "x").has_value());
        CHECK(scale(kubectl, {"", "ml"}, "c", 0));
        CHECK_FALSE(scale(kubectl, {"", "ml"}, "c", 0));
        CHECK_THROWS_AS(scale(kubectl, {"", "ml"}, "c", 0), mloop::error::ExternalError);
    }
}
