#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include "error/error.hpp"
#include "registry/deployments.hpp"
#include "registry/refs.hpp"
#include "registry/registry.hpp"

using namespace mloop;
using namespace mloop::registry;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    fs::path dir;
    std::unique_ptr<Registry> reg;
    std::string data_digest = "sha256:" + std::string(60, 'a') + "0001";
    std::string model_digest = "sha256:" + std::string(60, 'b') + "0002";
    std::string commit = "0123456789abcdef0123456789abcdef01234567";

    Fixture() {
        char tmpl[] = "/tmp/mloop-refs-XXXXXX";
        dir = ::mkdtemp(tmpl);
        reg = Registry::open(dir / "registry.db");
        Db& db = reg->db();
        db.write([&] {
            Dataset d;
            d.digest = data_digest;
            d.path = "data/train.csv";
            d.size = 10;
            RunStart s;
            s.command = "[]";
            s.git.commit = commit;
            s.inputs.push_back(
                {"train", "dataset", "data/train.csv", data_digest, Datasets(db).upsert(d)});
            for (int i = 0; i < 3; ++i) {
                const int64_t run = Runs(db).begin(s);
                Objects(db).record(model_digest, 5, "file");
                RunEnd e;
                e.state = "succeeded";
                e.artifacts.push_back({"model.json", model_digest, 5});
                Runs(db).finish(run, e);
                Models(db).register_version("churn", run);
            }
            Models(db).move_alias("churn", "production", 2, false, {});
        });
    }
    ~Fixture() { fs::remove_all(dir); }

    Ref resolve(std::string_view text) {
        ResolveContext ctx;
        ctx.default_model = "churn";
        ctx.base = dir;
        ctx.digest_of = [&](const fs::path&) {
            return data_digest;
        };
        return registry::resolve(reg->db(), text, ctx);
    }

    std::string error_of(std::string_view text) {
        try {
            resolve(text);
        } catch (const error::UsageError& e) {
            return std::string(e.what()) + " | " + e.hint();
        }
        return "no error";
    }
};

}  // namespace

TEST_SUITE("registry") {
    TEST_CASE("runs by number") {
        Fixture f;
        CHECK(std::get<RunRef>(f.resolve("2")).id == 2);
        CHECK(std::get<RunRef>(f.resolve("run/3")).id == 3);
        CHECK(f.error_of("42") == "no run 42 | the newest runs are 3, 2, 1");
        CHECK(f.error_of("run/x") == "'run/x' is not a run reference | write run/N or N");
    }

    TEST_CASE("model versions by number, alias and latest") {
        Fixture f;
        auto v = std::get<VersionRef>(f.resolve("churn@2"));
        CHECK(v.model == "churn");
        CHECK(v.version == 2);
        CHECK(std::get<VersionRef>(f.resolve("churn@latest")).version == 3);
        auto p = std::get<VersionRef>(f.resolve("churn@production"));
        CHECK(p.version == 2);
        CHECK(*p.alias == "production");
        CHECK(std::get<VersionRef>(f.resolve("@latest")).model == "churn");
        CHECK(f.error_of("churn@9") == "churn has no version 9 | its versions are 1 to 3");
        CHECK(f.error_of("churn@prodution") ==
              "churn has no alias 'prodution' | did you mean 'production'?");
        CHECK(f.error_of("chrun@1") == "no model 'chrun' | did you mean 'churn'?");
        CHECK(v.text() == "churn@2");
    }

    TEST_CASE("digests, commits and paths") {
        Fixture f;
        auto d = std::get<DatasetRef>(f.resolve(f.data_digest.substr(0, 20)));
        CHECK(d.digest == f.data_digest);
        REQUIRE(d.dataset);
        CHECK(d.dataset->path == "data/train.csv");
        CHECK(std::get<ArtifactRef>(f.resolve(f.model_digest.substr(0, 19))).digest ==
              f.model_digest);
        CHECK(f.error_of("sha256:abc").find("at least 12") != std::string::npos);
        CHECK(f.error_of("sha256:cccccccccccccccc") ==
              "no dataset or artifact has the digest sha256:cccccccccccccccc | ");
        CHECK(std::get<CommitRef>(f.resolve("0123456789ab")).commit == f.commit);
        CHECK(std::get<CommitRef>(f.resolve("commit/0123")).commit == f.commit);
        std::ofstream(f.dir / "train.csv") << "a\n";
        auto p = std::get<DatasetRef>(f.resolve("train.csv"));
        CHECK(p.digest == f.data_digest);
        CHECK(p.path == "train.csv");
    }

    TEST_CASE("deployments by number; an unknown one names the nearest ids") {
        Fixture f;
        CHECK(f.error_of("deploy/7") ==
              "no deployment 7 | nothing has been deployed yet; 'mloop deploy ENV' records "
              "deployments");
        Db& db = f.reg->db();
        db.write([&] {
            Image i;
            i.model = "churn";
            i.version = 2;
            i.repository = "r/churn";
            i.tag = "v2";
            i.image_id = "sha256:" + std::string(64, 'e');
            i.context = "sha256:" + std::string(64, 'f');
            i.template_name = "Dockerfile";
            const int64_t image = Images(db).add(i);
            for (const char* env : {"staging", "production", "staging", "production", "local"}) {
                Deployment d;
                d.env = env;
                d.target = "docker";
                d.strategy = "recreate";
                d.model = "churn";
                d.version = 2;
                d.image = image;
                d.spec = "{}";
                Deployments(db).begin(d);
            }
            db.exec("DELETE FROM deployments WHERE id = 3");
        });
        CHECK(std::get<DeploymentRef>(f.resolve("deploy/2")).id == 2);
        CHECK(std::get<DeploymentRef>(f.resolve("deploy/5")).id == 5);
        CHECK(f.error_of("deploy/99") ==
              "no deployment 99 | the nearest deployments are deploy/5 (local), deploy/4 "
              "(production), deploy/2 (production)");
        // A gap: the ids either side of it, nearest first.
        CHECK(f.error_of("deploy/3") ==
              "no deployment 3 | the nearest deployments are deploy/4 (production), deploy/2 "
              "(production), deploy/1 (staging)");
        CHECK(f.error_of("deploy/x") ==
              "'deploy/x' is not a deployment reference | write deploy/N");
        CHECK(f.error_of("deploy/0") ==
              "'deploy/0' is not a deployment reference | write deploy/N");
        CHECK(f.error_of("deploy/") == "'deploy/' is not a deployment reference | write deploy/N");
        try {
            f.resolve("deploy/99");
            FAIL("deploy/99 resolved");
        } catch (const error::Error& e) {
            CHECK(e.code() == error::ExitCode::usage);
        }
    }

    TEST_CASE("nothing recorded by that name") {
        Fixture f;
        CHECK(f.error_of("chrun") ==
              "'chrun' names nothing mloop has recorded | did you mean 'churn@latest'?");
        CHECK(f.error_of("deploy/7").find("no deployment 7") == 0);
        CHECK(f.error_of("").find("empty reference") != std::string::npos);
    }
}
