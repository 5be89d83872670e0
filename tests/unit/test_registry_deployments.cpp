#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "registry/deployments.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"

using namespace mloop::registry;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-unit-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

// Two versions of model m, each with an image.
struct Fixture {
    TempDir t;
    std::unique_ptr<Registry> reg = Registry::open(t.path / "registry.db");
    Db& db = reg->db();
    int64_t image1 = 0, image2 = 0;

    Fixture() {
        db.write([&] {
            for (int i = 1; i <= 2; ++i) {
                RunStart start;
                start.command = "[\"true\"]";
                const int64_t run = Runs(db).begin(start);
                Models(db).register_version("m", run);
                Image image;
                image.model = "m";
                image.version = i;
                image.repository = "mloop/m";
                image.tag = "v" + std::to_string(i);
                image.image_id = "sha256:" + std::string(64, static_cast<char>('0' + i));
                image.context = "sha256:" + std::string(64, 'c');
                image.template_name = "Dockerfile.scratch";
                (i == 1 ? image1 : image2) = Images(db).add(image);
            }
        });
    }

    int64_t deploy(const std::string& env, int64_t version, int64_t image,
                   const std::string& state) {
        Deployment d;
        d.env = env;
        d.target = "docker";
        d.strategy = "recreate";
        d.model = "m";
        d.version = version;
        d.image = image;
        d.spec = "{}";
        const int64_t id = db.write([&] { return Deployments(db).begin(d); });
        if (state != "pending") {
            db.write([&] { Deployments(db).set_state(id, state, "why"); });
        }
        return id;
    }
};

}  // namespace

TEST_SUITE("registry") {
    TEST_CASE("images: recorded per version, newest first, with the push digest") {
        Fixture f;
        auto i = Images(f.db).latest_for("m", 2);
        REQUIRE(i);
        CHECK(i->reference() == "mloop/m:v2");
        CHECK(i->template_name == "Dockerfile.scratch");
        CHECK_FALSE(i->repo_digest);
        f.db.write(
            [&] { Images(f.db).set_pushed(i->id, "mloop/m@sha256:" + std::string(64, 'd')); });
        i = Images(f.db).get(f.image2);
        REQUIRE(i);
        CHECK(i->repo_digest == "mloop/m@sha256:" + std::string(64, 'd'));
        CHECK(i->pushed_at.has_value());
        CHECK_FALSE(Images(f.db).latest_for("m", 3));
        CHECK(Images(f.db).for_version("m", 1).size() == 1);
    }

    TEST_CASE("deployments: state, the current one, the one before, the unfinished") {
        Fixture f;
        Deployments deps(f.db);
        const int64_t a = f.deploy("local", 1, f.image1, "succeeded");
        const int64_t b = f.deploy("local", 2, f.image2, "rolled-back");
        const int64_t c = f.deploy("local", 2, f.image2, "succeeded");
        const int64_t d = f.deploy("local", 1, f.image1, "progressing");
        const int64_t e = f.deploy("staging", 2, f.image2, "succeeded");
        REQUIRE(deps.current("local"));
        CHECK(deps.current("local")->id == c);
        CHECK(deps.succeeded_before("local", c)->id == a);
        CHECK_FALSE(deps.succeeded_before("local", a));
        const auto open = deps.unfinished("local");
        REQUIRE(open.size() == 1);
        CHECK(open[0].id == d);
        CHECK(deps.get(b)->state == "rolled-back");
        CHECK(deps.get(b)->reason == "why");
        CHECK(deps.get(b)->ended_at.has_value());
        CHECK_FALSE(deps.get(d)->ended_at.has_value());
        CHECK(deps.environments() == std::vector<std::string>{"local", "staging"});
        CHECK(deps.of_version("m", 2).size() == 3);
        CHECK(deps.of_image(f.image1).size() == 2);
        CHECK(deps.list("", 2).front().id == e);
        CHECK(Deployments::owner_alive(*deps.get(d)));  // made by this very process
        CHECK_FALSE(deps.get(99));
    }

    TEST_CASE("deployments: the journal numbers steps and records how each ended") {
        Fixture f;
        Deployments deps(f.db);
        const int64_t id = f.deploy("local", 1, f.image1, "pending");
        const int64_t s1 = deps.step_begun(id, "stop-previous", "mloop-x-local");
        deps.step_ended(id, s1, true, "none");
        const int64_t s2 = deps.step_begun(id, "start");
        deps.step_ended(id, s2, false, "docker run failed");
        CHECK(s1 == 1);
        CHECK(s2 == 2);
        const auto steps = deps.steps(id);
        REQUIRE(steps.size() == 2);
        CHECK(steps[0].step == "stop-previous");
        CHECK(steps[0].state == "done");
        CHECK(steps[0].detail == "none");
        CHECK(steps[1].state == "failed");
        CHECK(steps[1].detail == "docker run failed");
    }

    TEST_CASE("deployments: a state outside the contract is refused by the schema") {
        Fixture f;
        const int64_t id = f.deploy("local", 1, f.image1, "pending");
        CHECK_THROWS(f.db.write([&] { Deployments(f.db).set_state(id, "done"); }));
        CHECK(Deployments(f.db).get(id)->state == "pending");
    }
}
