// Images and deployments in the record: `mloop show deploy/N`, the images and deployments of a
// version or run, `mloop lineage deploy/N` and downstream from data to what is serving.
//
// On top of test_lineage_fixture.hpp:
//
//   image 1  reg.example/m:v1  m@1  pushed, with provenance
//   image 2  reg.example/m:v3  m@3
//   deploy/1  staging     deploy    m@1  succeeded                        live in staging
//   deploy/2  production  deploy    m@1  succeeded
//   deploy/3  production  deploy    m@3  succeeded  previous 2
//   deploy/4  production  rollback  m@1  succeeded  previous 3, back to 2  live in production
//   deploy/5  staging     deploy    m@3  failed     previous 1
#include <doctest/doctest.h>

#include <string>

#include "error/error.hpp"
#include "lineage/graph.hpp"
#include "lineage/json.hpp"
#include "lineage/models.hpp"
#include "lineage/show.hpp"
#include "lineage/text.hpp"
#include "registry/deployments.hpp"
#include "render/dot.hpp"
#include "render/tree.hpp"
#include "test_lineage_fixture.hpp"

using namespace mloop;
using namespace lineage_test;

namespace {

const std::string IMG1 = "sha256:" + std::string(60, '8') + "1111";
const std::string IMG3 = "sha256:" + std::string(60, '9') + "3333";
const std::string PROV = "sha256:" + std::string(60, 'a') + "7777";
const std::string PUSHED = "reg.example/m@sha256:" + std::string(64, 'b');
constexpr int64_t T1 = T0 + 3600000;  // 01:00, after every run

struct DeployFixture : Fixture {
    DeployFixture() {
        Db& d = db();
        d.write([&] {
            Objects(d).record(PROV, 300, "file");
            Images images(d);
            Image i;
            i.model = "m";
            i.version = 1;
            i.repository = "reg.example/m";
            i.tag = "v1";
            i.image_id = IMG1;
            i.context = "sha256:" + std::string(64, 'c');
            i.provenance = PROV;
            i.template_name = "Dockerfile";
            const int64_t one = images.add(i);
            images.set_pushed(one, PUSHED);
            i.version = 3;
            i.tag = "v3";
            i.image_id = IMG3;
            i.provenance.reset();
            const int64_t three = images.add(i);

            Deployments deps(d);
            auto deploy = [&](const char* env, const char* kind, int64_t version, int64_t image,
                              std::optional<int64_t> previous, std::optional<int64_t> back_to,
                              const char* state, std::optional<std::string> reason) {
                Deployment x;
                x.env = env;
                x.kind = kind;
                x.target = "docker";
                x.strategy = "recreate";
                x.model = "m";
                x.version = version;
                x.image = image;
                x.previous = previous;
                x.rollback_to = back_to;
                x.spec = R"({"argv":["docker","run","-d"]})";
                x.manifests = "/srv/p/.mloop/manifests/" + std::string(env);
                const int64_t id = deps.begin(x);
                deps.set_state(id, "progressing");
                deps.set_state(id, state, reason);
                return id;
            };
            deploy("staging", "deploy", 1, one, {}, {}, "succeeded", {});
            deploy("production", "deploy", 1, one, {}, {}, "succeeded", {});
            deploy("production", "deploy", 3, three, 2, {}, "succeeded", {});
            deploy("production", "rollback", 1, one, 3, 2, "succeeded",
                   std::string("rolled back by hand"));
            deploy("staging", "deploy", 3, three, 1, {}, "failed",
                   std::string("health check failed: connection refused"));
            d.prepare(
                 "UPDATE deployments SET started_at = ?1 + id * 60000, ended_at = ?1 + id * "
                 "60000 + 5000, host = 'h', pid = 7, user = 'u', process = NULL, "
                 "manifests = manifests || '/' || id")
                .bind(1, T1)
                .run();
            d.prepare("UPDATE images SET created_at = ?1 + id * 1000, pushed_at = NULL")
                .bind(1, T1)
                .run();
        });
        // The journal, each step its own transaction, as deploy writes it.
        Deployments deps(d);
        deps.step_ended(5, deps.step_begun(5, "stop-previous", "m-staging"), true);
        deps.step_ended(5, deps.step_begun(5, "start", R"(["docker","run","-d","m:v3"])"), true,
                        "0123456789ab");
        deps.step_ended(5, deps.step_begun(5, "health", "http://127.0.0.1:8080/healthz"), false,
                        "connection refused");
        deps.step_ended(5, deps.step_begun(5, "undo"), true);
        d.write([&] {
            d.prepare("UPDATE deploy_steps SET at = ?1 + 5 * 60000 + seq * 1000").bind(1, T1).run();
        });
    }

    lineage::TextStyle style() const {
        lineage::TextStyle s;
        s.now_ms = T1 + 24 * 3600000;  // a day later
        s.runs_dir = ".mloop/runs";
        return s;
    }

    std::string show(const registry::Ref& ref) {
        return lineage::show_text(lineage::show(db(), ref), style());
    }
};

std::string up(Fixture& f, const registry::Ref& ref) {
    return render::tree_text(lineage::tree_of(lineage::upstream(f.db(), ref)));
}

std::string down(Fixture& f, const registry::Ref& ref) {
    return render::tree_text(lineage::tree_of(lineage::downstream(f.db(), ref)));
}

registry::Ref resolve(Fixture& f, std::string_view text) {
    registry::ResolveContext ctx;
    ctx.default_model = "m";
    ctx.base = f.dir;
    return registry::resolve(f.db(), text, ctx);
}

}  // namespace

TEST_SUITE("lineage") {
    TEST_CASE("deploy/N names a deployment; an unknown one is a usage error naming the nearest") {
        DeployFixture f;
        CHECK(std::get<registry::DeploymentRef>(resolve(f, "deploy/3")).id == 3);
        try {
            resolve(f, "deploy/99");
            FAIL("deploy/99 resolved");
        } catch (const error::UsageError& e) {
            CHECK(e.code() == error::ExitCode::usage);
            CHECK(std::string(e.what()) == "no deployment 99");
            CHECK(e.hint() ==
                  "the nearest deployments are deploy/5 (staging), deploy/4 (production), "
                  "deploy/3 (production)");
        }
        CHECK_THROWS_AS(lineage::show(f.db(), registry::DeploymentRef{99}), error::UsageError);
        CHECK_THROWS_AS(lineage::upstream(f.db(), registry::DeploymentRef{99}), error::UsageError);
        CHECK_THROWS_AS(lineage::downstream(f.db(), registry::DeploymentRef{99}),
                        error::UsageError);
    }

    TEST_CASE("show a failed deployment: what it ran, what is live instead, its journal") {
        DeployFixture f;
        CHECK(f.show(registry::DeploymentRef{5}) ==
              "deploy/5  failed\n"
              "env        staging\n"
              "kind       deploy\n"
              "version    m@3, run 4\n"
              "image      reg.example/m:v3\n"
              "image id   " +
                  IMG3 +
                  "\n"
                  "target     docker, strategy recreate\n"
                  "previous   deploy/1  m@1  succeeded\n"
                  "live now   deploy/1  m@1  succeeded\n"
                  "started    2025-06-01 01:05:00 +0000 (23h ago)\n"
                  "ended      2025-06-01 01:05:05 +0000\n"
                  "duration   5.0s\n"
                  "by         u@h (pid 7)\n"
                  "reason     health check failed: connection refused\n"
                  "manifests  /srv/p/.mloop/manifests/staging/5\n"
                  "\n"
                  "steps\n"
                  "  SEQ  STEP           STATE   AT                         DETAIL\n"
                  "    1  stop-previous  done    2025-06-01 01:05:01 +0000  m-staging\n"
                  "    2  start          done    2025-06-01 01:05:02 +0000  0123456789ab\n"
                  "    3  health         failed  2025-06-01 01:05:03 +0000  connection refused\n"
                  "    4  undo           done    2025-06-01 01:05:04 +0000\n");
    }

    TEST_CASE("show a live rollback: image digests, previous and rollback_to, manifests") {
        DeployFixture f;
        lineage::TextStyle style = f.style();
        style.show_path = [](const std::filesystem::path& p) {
            return p.lexically_relative("/srv/p").string();
        };
        CHECK(lineage::show_text(lineage::show(f.db(), registry::DeploymentRef{4}), style) ==
              "deploy/4  succeeded  (live in production)\n"
              "env          production\n"
              "kind         rollback\n"
              "version      m@1 (production), run 1\n"
              "image        reg.example/m:v1\n"
              "image id     " +
                  IMG1 +
                  "\n"
                  "repo digest  " +
                  PUSHED +
                  "\n"
                  "provenance   " +
                  PROV +
                  "\n"
                  "target       docker, strategy recreate\n"
                  "previous     deploy/3  m@3  succeeded\n"
                  "rollback to  deploy/2  m@1  succeeded\n"
                  "started      2025-06-01 01:04:00 +0000 (23h ago)\n"
                  "ended        2025-06-01 01:04:05 +0000\n"
                  "duration     5.0s\n"
                  "by           u@h (pid 7)\n"
                  "reason       rolled back by hand\n"
                  "manifests    .mloop/manifests/production/4\n");
    }

    TEST_CASE("show deploy/N --json") {
        DeployFixture f;
        const auto j = lineage::show_json(lineage::show(f.db(), registry::DeploymentRef{4}), ".");
        CHECK(j["kind"] == "deployment");
        const auto& d = j["deployment"];
        CHECK(d["ref"] == "deploy/4");
        CHECK(d["env"] == "production");
        CHECK(d["kind"] == "rollback");
        CHECK(d["state"] == "succeeded");
        CHECK(d["live"] == true);
        CHECK(d["version"]["ref"] == "m@1");
        CHECK(d["version"]["run"] == 1);
        CHECK(d["image"]["reference"] == "reg.example/m:v1");
        CHECK(d["image"]["image_id"] == IMG1);
        CHECK(d["image"]["repo_digest"] == PUSHED);
        CHECK(d["image"]["provenance"] == PROV);
        CHECK(d["previous"]["ref"] == "deploy/3");
        CHECK(d["rollback_to"]["ref"] == "deploy/2");
        CHECK(d["started_at"] == "2025-06-01T01:04:00.000Z");
        CHECK(d["ended_at"] == "2025-06-01T01:04:05.000Z");
        CHECK(d["user"] == "u");
        CHECK(d["host"] == "h");
        CHECK(d["reason"] == "rolled back by hand");
        CHECK(d["manifests"] == "/srv/p/.mloop/manifests/production/4");
        CHECK(d["spec"]["argv"][0] == "docker");
        CHECK(d["steps"].empty());

        const auto f5 = lineage::show_json(lineage::show(f.db(), registry::DeploymentRef{5}), ".");
        const auto& d5 = f5["deployment"];
        CHECK(d5["live"] == false);
        CHECK(d5["live_now"]["ref"] == "deploy/1");
        CHECK(d5["rollback_to"].is_null());
        CHECK(d5["image"]["repo_digest"].is_null());
        REQUIRE(d5["steps"].size() == 4);
        CHECK(d5["steps"][2] == nlohmann::ordered_json{{"seq", 3},
                                                       {"step", "health"},
                                                       {"state", "failed"},
                                                       {"detail", "connection refused"},
                                                       {"at", "2025-06-01T01:05:03.000Z"}});
        CHECK(d5["steps"][3]["detail"].is_null());
    }

    TEST_CASE("show a version: where it is live, its images and deployments") {
        DeployFixture f;
        const std::string t = f.show(registry::VersionRef{"m", 1, {}});
        CHECK(t.find("git      c1c1c1c1c1c1 (main)\n"
                     "live in  production, staging\n") != std::string::npos);
        CHECK(t.find("\nimages\n"
                     "  IMAGE             ID                   PUSHED" +
                     std::string(81, ' ') +
                     "BUILT\n"
                     "  reg.example/m:v1  sha256:888888888888  " +
                     PUSHED +
                     "  23h ago\n"
                     "\n"
                     "deployments (3)\n"
                     "  DEPLOYMENT  ENV         KIND      STATE      STARTED  LIVE\n"
                     "  deploy/4    production  rollback  succeeded  23h ago  live\n"
                     "  deploy/2    production  deploy    succeeded  23h ago\n"
                     "  deploy/1    staging     deploy    succeeded  23h ago  live\n"
                     "\n"
                     "alias history\n") != std::string::npos);
        // Packaged and deployed, live nowhere: no "live in", no LIVE or KIND column.
        const std::string v3 = f.show(registry::VersionRef{"m", 3, {}});
        CHECK(v3.find("live in") == std::string::npos);
        CHECK(v3.find("deployments (2)\n"
                      "  DEPLOYMENT  ENV         STATE      STARTED\n"
                      "  deploy/5    staging     failed     23h ago\n"
                      "  deploy/3    production  succeeded  23h ago\n") != std::string::npos);
        // Never packaged: nothing added.
        const std::string v2 = f.show(registry::VersionRef{"m", 2, {}});
        CHECK(v2.find("images") == std::string::npos);
        CHECK(v2.find("deployments") == std::string::npos);

        const auto j = lineage::show_json(lineage::show(f.db(), registry::VersionRef{"m", 1, {}}),
                                          ".")["version"];
        CHECK(j["live_in"] == nlohmann::ordered_json{"production", "staging"});
        CHECK(j["deployment_count"] == 3);
        REQUIRE(j["images"].size() == 1);
        CHECK(j["images"][0]["image_id"] == IMG1);
        CHECK(j["deployments"][0]["ref"] == "deploy/4");
        CHECK(j["deployments"][0]["live"] == true);
        CHECK(j["deployments"][1]["live"] == false);
    }

    TEST_CASE("show a run: the images and deployments of the version it produced") {
        DeployFixture f;
        const std::string t = f.show(registry::RunRef{4});
        CHECK(t.find("\nimages\n"
                     "  IMAGE             ID                   BUILT\n"
                     "  reg.example/m:v3  sha256:999999999999  23h ago\n"
                     "\n"
                     "deployments (2)\n"
                     "  DEPLOYMENT  ENV         STATE      STARTED\n"
                     "  deploy/5    staging     failed     23h ago\n"
                     "  deploy/3    production  succeeded  23h ago\n") != std::string::npos);
        CHECK(t.find("live in") == std::string::npos);
        CHECK(f.show(registry::RunRef{1}).find("live in    production, staging\n") !=
              std::string::npos);
        const auto j = lineage::show_json(lineage::show(f.db(), registry::RunRef{4}), ".")["run"];
        CHECK(j["live_in"].empty());
        CHECK(j["images"][0]["reference"] == "reg.example/m:v3");
        CHECK(j["deployments"][1]["ref"] == "deploy/3");
    }

    TEST_CASE("lineage of a deployment: image, version, run and what it was made from") {
        DeployFixture f;
        CHECK(up(f, registry::DeploymentRef{4}) ==
              "deploy/4  production  rollback  succeeded  2025-06-01 01:04  (live in production)\n"
              "├── image reg.example/m:v1  sha256:888888888888\n"
              "│   ├── pushed " +
                  PUSHED +
                  "\n"
                  "│   ├── provenance sha256:aaaaaaaaaaaa\n"
                  "│   └── built from m@1 (production)\n"
                  "│       └── produced by run 1  train  succeeded  2025-06-01 00:01\n"
                  "│           ├── commit c1c1c1c1c1c1 (main)\n"
                  "│           ├── params\n"
                  "│           │   ├── C = 1.0\n"
                  "│           │   └── max_iter = 200\n"
                  "│           ├── dataset train  data/train.csv  sha256:111111111111  validation "
                  "passed\n"
                  "│           └── code train.py  sha256:333333333333\n"
                  "└── returns to deploy/2  production  deploy  succeeded  2025-06-01 01:02\n");
        CHECK(up(f, registry::DeploymentRef{5})
                  .rfind("deploy/5  staging  deploy  failed  2025-06-01 01:05\n"
                         "└── image reg.example/m:v3  sha256:999999999999\n"
                         "    └── built from m@3\n"
                         "        └── produced by run 4  train  succeeded  2025-06-01 00:04\n",
                         0) == 0);
        // Upstream of a version is as it was: nothing downstream of it joins.
        CHECK(up(f, registry::VersionRef{"m", 1, {}}).find("image") == std::string::npos);

        const auto g = lineage::upstream(f.db(), registry::DeploymentRef{4});
        const auto j = lineage::json_of(g);
        CHECK(j["root"] == "deploy/4");
        CHECK(j["nodes"][0]["kind"] == "deployment");
        CHECK(j["nodes"][0]["deployment_kind"] == "rollback");
        CHECK(j["nodes"][0]["live"] == true);
        CHECK(j["nodes"][1]["id"] == "image/1");
        CHECK(j["nodes"][1]["kind"] == "image");
        CHECK(j["nodes"][1]["image_id"] == IMG1);
        CHECK(j["nodes"][1]["provenance"] == PROV);
        CHECK(j["nodes"][2]["id"] == "m@1");
        bool deployed = false;
        bool packaged = false;
        for (const auto& e : j["edges"]) {
            deployed |=
                e["from"] == "image/1" && e["to"] == "deploy/4" && e["relation"] == "deployed";
            packaged |= e["from"] == "m@1" && e["to"] == "image/1" && e["relation"] == "packaged";
        }
        CHECK(deployed);
        CHECK(packaged);
        const std::string dot = render::dot_text(lineage::dot_of(g));
        CHECK(dot.find("  \"deploy/4\" [label=\"deploy/4  production  rollback  succeeded  "
                       "2025-06-01 01:04  (live in production)\", shape=\"house\", "
                       "peripheries=\"2\", penwidth=\"2\"];\n") != std::string::npos);
        CHECK(dot.find(
                  "  \"image/1\" [label=\"image reg.example/m:v1  sha256:888888888888\\npushed " +
                  PUSHED + "\\nprovenance sha256:aaaaaaaaaaaa\", shape=\"tab\"];\n") !=
              std::string::npos);
        CHECK(dot.find("  \"m@1\" -> \"image/1\" [label=\"packaged\"];\n") != std::string::npos);
        CHECK(dot.find("  \"image/1\" -> \"deploy/4\" [label=\"deployed\"];\n") !=
              std::string::npos);
    }

    TEST_CASE("downstream of data reaches what is serving, the live deployments marked") {
        DeployFixture f;
        const registry::DatasetRef d1{D1, registry::Datasets(f.db()).by_digest(D1),
                                      "data/train.csv"};
        CHECK(
            down(f, d1) ==
            "dataset data/train.csv  sha256:111111111111  validation passed\n"
            "├── used by run 3  trial  succeeded  2025-06-01 00:03\n"
            "│   └── m@2\n"
            "└── used by run 1  train  succeeded  2025-06-01 00:01\n"
            "    ├── m@1 (production)\n"
            "    │   ├── evaluated by run 6  evaluate  succeeded  2025-06-01 00:06\n"
            "    │   └── image reg.example/m:v1  sha256:888888888888\n"
            "    │       ├── pushed " +
                PUSHED +
                "\n"
                "    │       ├── provenance sha256:aaaaaaaaaaaa\n"
                "    │       ├── deploy/1  staging  deploy  succeeded  2025-06-01 01:01  (live in "
                "staging)\n"
                "    │       ├── deploy/2  production  deploy  succeeded  2025-06-01 01:02\n"
                "    │       └── deploy/4  production  rollback  succeeded  2025-06-01 01:04  "
                "(live "
                "in production)\n"
                "    └── artifact model.json  sha256:444444444444\n"
                "        └── used by run 5  train  failed  2025-06-01 00:05\n");

        const auto j = lineage::json_of(lineage::downstream(f.db(), d1));
        std::vector<std::string> deployments;
        std::vector<std::string> live;
        for (const auto& n : j["nodes"]) {
            if (n["kind"] == "deployment") {
                deployments.push_back(n["id"]);
                if (n["live"] == true) {
                    live.push_back(n["env"]);
                }
            }
        }
        CHECK(deployments == std::vector<std::string>{"deploy/1", "deploy/2", "deploy/4"});
        CHECK(live == std::vector<std::string>{"staging", "production"});
        const std::string dot = render::dot_text(lineage::dot_of(lineage::downstream(f.db(), d1)));
        CHECK(dot.find("  \"image/1\" -> \"deploy/2\" [label=\"deployed\"];\n") !=
              std::string::npos);
        CHECK(dot.find("  \"deploy/2\" [label=\"deploy/2  production  deploy  succeeded  "
                       "2025-06-01 01:02\", shape=\"house\"];\n") != std::string::npos);

        // From D2 through run 4: m@3's image and its two deployments, none live.
        const std::string t2 = down(f, registry::DatasetRef{D2, {}, "data/train.csv"});
        CHECK(t2.find("m@3\n"
                      "    │   └── image reg.example/m:v3  sha256:999999999999\n"
                      "    │       ├── deploy/3  production  deploy  succeeded  2025-06-01 01:03\n"
                      "    │       └── deploy/5  staging  deploy  failed  2025-06-01 01:05\n") !=
              std::string::npos);
    }

    TEST_CASE("downstream of a commit, a run and a deployment") {
        DeployFixture f;
        const auto g = lineage::downstream(f.db(), registry::CommitRef{C1});
        size_t deployments = 0;
        for (const auto& n : g.nodes) {
            deployments += n.kind == lineage::NodeKind::deployment;
        }
        CHECK(deployments == 5);
        CHECK(down(f, registry::RunRef{4}) ==
              "run 4  train  succeeded  2025-06-01 00:04\n"
              "├── m@3\n"
              "│   └── image reg.example/m:v3  sha256:999999999999\n"
              "│       ├── deploy/3  production  deploy  succeeded  2025-06-01 01:03\n"
              "│       └── deploy/5  staging  deploy  failed  2025-06-01 01:05\n"
              "└── stage prep cached by run 5  train  failed  2025-06-01 00:05\n");
        CHECK(down(f, registry::DeploymentRef{2}) ==
              "deploy/2  production  deploy  succeeded  2025-06-01 01:02\n"
              "└── returned to by deploy/4  production  rollback  succeeded  2025-06-01 01:04  "
              "(live in production)\n");
        CHECK(down(f, registry::DeploymentRef{5}) ==
              "deploy/5  staging  deploy  failed  2025-06-01 01:05\n");
    }

    TEST_CASE("models NAME: where each version is live") {
        DeployFixture f;
        const auto d = lineage::model_detail(f.db(), "m", 0, {});
        CHECK(lineage::model_text(d, f.style()) ==
              "m  3 versions  (production=1)\n"
              "\n"
              "VERSION  RUN  STATE      CREATED   auc  log_loss  ALIASES     LIVE IN\n"
              "      3    4  succeeded  1d ago   0.85      0.15\n"
              "      2    3  succeeded  1d ago   0.82      0.18\n"
              "      1    1  succeeded  1d ago    0.8       0.2  production  production, staging\n"
              "\n"
              "alias history\n"
              "  WHEN                       ALIAS       MOVE  BY   REASON\n"
              "  2025-06-01 00:00:00 +0000  production  → 1   u@h  first\n");
        const auto j = lineage::model_json(d);
        CHECK(j["versions"][2]["live_in"] == nlohmann::ordered_json{"production", "staging"});
        CHECK(j["versions"][0]["live_in"].empty());
        // Without deployments the column is not there at all.
        Fixture plain;
        CHECK(lineage::model_text(lineage::model_detail(plain.db(), "m", 0, {}), f.style())
                  .find("LIVE") == std::string::npos);
    }
}
