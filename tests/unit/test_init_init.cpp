#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "assets/assets.hpp"
#include "config/load.hpp"
#include "error/error.hpp"
#include "init/init.hpp"
#include "util/fs.hpp"

using namespace mloop;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    explicit TempDir(const char* name = "proj") {
        char tmpl[] = "/tmp/mloop-init-XXXXXX";
        path = fs::path(::mkdtemp(tmpl)) / name;
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path.parent_path()); }
};

std::string slurp(const fs::path& p) {
    return util::read_file(p, 1 << 24).value();
}

}  // namespace

TEST_CASE("project names come from the directory") {
    CHECK(init::project_name_for("/tmp/Churn Model") == "churn-model");
    CHECK(init::project_name_for("/tmp/2024_fraud") == "fraud");
    CHECK(init::project_name_for("/tmp/___") == "project");
    CHECK(init::project_name_for("/srv/" + std::string(60, 'a')).size() == 41);
}

TEST_CASE("init writes a valid commented project file and a .gitignore") {
    TempDir t("My Project");
    const auto r = init::init_project({t.path, false, false, {}});
    CHECK(r.project == "my-project");
    CHECK(r.created == std::vector<std::string>{"mloop.yaml", ".gitignore"});
    const std::string yaml = slurp(t.path / "mloop.yaml");
    CHECK(yaml.find("project: my-project\n") != std::string::npos);
    CHECK(yaml.find("# train:") != std::string::npos);
    CHECK(slurp(t.path / ".gitignore").find(".mloop/\n") != std::string::npos);
    // What init writes passes validation as it is.
    const auto parsed = config::read_project(t.path / "mloop.yaml");
    CHECK(parsed.diagnostics.empty());
}

TEST_CASE("init never overwrites, and writes nothing when it refuses") {
    TempDir t;
    std::ofstream(t.path / "mloop.yaml") << "mine\n";
    CHECK_THROWS_AS(init::init_project({t.path, false, false, {}}), error::UsageError);
    CHECK(slurp(t.path / "mloop.yaml") == "mine\n");
    CHECK_FALSE(fs::exists(t.path / ".gitignore"));

    TempDir e;
    std::ofstream(e.path / "train.py") << "mine\n";
    try {
        init::init_project({e.path, true, false, {}});
        FAIL("expected a refusal");
    } catch (const error::UsageError& err) {
        CHECK(std::string(err.what()).find("train.py' already exists") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(e.path / "mloop.yaml"));
    CHECK_FALSE(fs::exists(e.path / "data"));
}

TEST_CASE("an existing .gitignore gains the entry once") {
    TempDir t;
    std::ofstream(t.path / ".gitignore") << "*.pyc";  // no trailing newline
    const auto r = init::init_project({t.path, false, false, {}});
    CHECK(r.gitignore_added == std::vector<std::string>{".mloop/"});
    CHECK(slurp(t.path / ".gitignore") == "*.pyc\n.mloop/\n");
    fs::remove(t.path / "mloop.yaml");
    const auto again = init::init_project({t.path, false, false, {}});
    CHECK(again.gitignore_added.empty());
    CHECK(slurp(t.path / ".gitignore") == "*.pyc\n.mloop/\n");
}

TEST_CASE("--example merges its ignore patterns into an existing .gitignore") {
    TempDir t;
    std::ofstream(t.path / ".gitignore") << "/.mloop\nlogs/\n";
    const auto r = init::init_project({t.path, true, false, {}});
    CHECK(r.gitignore_added == std::vector<std::string>{"metrics/"});
    CHECK(slurp(t.path / ".gitignore") == "/.mloop\nlogs/\nmetrics/\n");
}

TEST_CASE("--dry-run writes nothing") {
    TempDir t;
    const auto r = init::init_project({t.path, true, true, {}});
    CHECK(r.created.size() == assets::example().size());
    CHECK(fs::is_empty(t.path));
}

TEST_CASE("--example writes examples/churn byte for byte, modes included") {
    TempDir t;
    const auto r = init::init_project({t.path, true, false, {}});
    CHECK(r.project == "churn");
    const fs::path src = fs::path(MLOOP_SOURCE_DIR) / "examples" / "churn";
    size_t compared = 0;
    for (const auto& entry : fs::recursive_directory_iterator(src)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        const fs::path rel = fs::relative(entry.path(), src);
        const std::string name = rel.generic_string();
        if (name.find("__pycache__") != std::string::npos || rel.extension() == ".pyc") {
            continue;
        }
        INFO(name);
        REQUIRE(fs::exists(t.path / rel));
        CHECK(slurp(t.path / rel) == slurp(entry.path()));
        struct stat a {
        }, b{};
        ::stat(entry.path().c_str(), &a);
        ::stat((t.path / rel).c_str(), &b);
        CHECK(((a.st_mode & 0111) != 0) == ((b.st_mode & 0111) != 0));
        ++compared;
    }
    CHECK(compared == assets::example().size());
    CHECK(compared >= 10);
    const auto parsed = config::read_project(t.path / "mloop.yaml");
    CHECK(parsed.diagnostics.empty());
}

TEST_SUITE("init") {
    std::vector<std::string> loop_commands(const std::string& text) {
        // Every mloop command the workflow runs, in order, from whatever shell lines hold them.
        std::vector<std::string> out;
        for (const char* cmd :
             {"mloop validate --format markdown", "mloop train --if-triggered",
              "mloop validate model --format markdown", "mloop package", "mloop deploy staging"}) {
            const size_t at = text.find(cmd);
            out.push_back(at == std::string::npos ? "" : std::to_string(at));
        }
        return out;
    }

    TEST_CASE("--ci names github or gitlab, and a near miss gets a suggestion") {
        CHECK(std::string(init::ci_target("github").path) == ".github/workflows/mloop.yml");
        CHECK(std::string(init::ci_target("gitlab").path) == ".gitlab-ci.yml");
        try {
            init::ci_target("githb");
            FAIL("expected a refusal");
        } catch (const error::UsageError& e) {
            CHECK(std::string(e.what()) == "unknown CI system 'githb' for --ci");
            CHECK(e.hint() == "did you mean 'github'?");
        }
        try {
            init::ci_target("jenkins");
            FAIL("expected a refusal");
        } catch (const error::UsageError& e) {
            CHECK(e.hint() == "--ci takes 'github' or 'gitlab'");
        }
    }

    TEST_CASE("init --ci in a new directory writes the project, .gitignore and the workflow") {
        TempDir t("Fraud Model");
        const auto r = init::init_project({t.path, false, false, "github"});
        CHECK(r.created ==
              std::vector<std::string>{"mloop.yaml", ".github/workflows/mloop.yml", ".gitignore"});
        CHECK_FALSE(r.workflow_only);
        REQUIRE(r.ci != nullptr);
        const std::string yml = slurp(t.path / ".github/workflows/mloop.yml");
        CHECK(yml.find("{{project}}") == std::string::npos);
        CHECK(yml.find("key: mloop-fraud-model-${{ github.ref_name }}") != std::string::npos);
        // The loop's commands, each once and in order.
        const auto at = loop_commands(yml);
        for (size_t i = 0; i < at.size(); ++i) {
            INFO("command ", i);
            REQUIRE(!at[i].empty());
            if (i > 0) {
                CHECK(std::stoul(at[i]) > std::stoul(at[i - 1]));
            }
        }
        CHECK(yml.find("mloop validate --format markdown >> \"$GITHUB_STEP_SUMMARY\"") !=
              std::string::npos);
    }

    TEST_CASE("init --ci in a project writes only the workflow, named after the project") {
        TempDir t("checkout");
        std::ofstream(t.path / "mloop.yaml") << "mloop: 1\nproject: churn-model\n";
        const auto r = init::init_project({t.path, false, false, "gitlab"});
        CHECK(r.workflow_only);
        CHECK(r.project == "churn-model");
        CHECK(r.created == std::vector<std::string>{".gitlab-ci.yml"});
        CHECK(r.gitignore_added.empty());
        CHECK_FALSE(fs::exists(t.path / ".gitignore"));
        CHECK(slurp(t.path / "mloop.yaml") == "mloop: 1\nproject: churn-model\n");
        const std::string yml = slurp(t.path / ".gitlab-ci.yml");
        CHECK(yml.find("key: mloop-churn-model-$CI_COMMIT_REF_SLUG") != std::string::npos);
        const auto at = loop_commands(yml);
        CHECK(std::find(at.begin(), at.end(), "") == at.end());

        // A second time: the workflow exists, nothing is written.
        CHECK_THROWS_AS(init::init_project({t.path, false, false, "gitlab"}), error::UsageError);
        // A project file that names no valid project: the directory's name.
        TempDir u("My Repo");
        std::ofstream(u.path / "mloop.yaml") << "project: [not, a, name]\n";
        CHECK(init::init_project({u.path, false, false, "github"}).project == "my-repo");
    }

    TEST_CASE("init --ci refuses before writing anything when the workflow exists") {
        TempDir t;
        fs::create_directories(t.path / ".github/workflows");
        std::ofstream(t.path / ".github/workflows/mloop.yml") << "mine\n";
        try {
            init::init_project({t.path, false, false, "github"});
            FAIL("expected a refusal");
        } catch (const error::UsageError& e) {
            CHECK(std::string(e.what()).find("mloop.yml' already exists") != std::string::npos);
        }
        CHECK_FALSE(fs::exists(t.path / "mloop.yaml"));
        CHECK_FALSE(fs::exists(t.path / ".gitignore"));
        CHECK(slurp(t.path / ".github/workflows/mloop.yml") == "mine\n");
    }

    TEST_CASE("init --example --ci writes the example and the workflow; --dry-run neither") {
        TempDir t;
        const auto dry = init::init_project({t.path, true, true, "gitlab"});
        CHECK(std::find(dry.created.begin(), dry.created.end(), ".gitlab-ci.yml") !=
              dry.created.end());
        CHECK(fs::is_empty(t.path));
        const auto r = init::init_project({t.path, true, false, "gitlab"});
        CHECK(r.created == dry.created);
        CHECK(r.created.size() == assets::example().size() + 1);
        CHECK(slurp(t.path / ".gitlab-ci.yml").find("mloop-churn-") != std::string::npos);
        CHECK_FALSE(r.workflow_only);
    }

    TEST_CASE("the workflows are valid YAML that runs the loop in order") {
        for (const auto& target : init::ci_targets()) {
            INFO(target.name);
            const YAML::Node doc = YAML::Load(init::render_workflow(target, "p"));
            std::vector<std::string> runs;
            if (std::string(target.name) == "github") {
                for (const auto& step : doc["jobs"]["loop"]["steps"]) {
                    if (step["run"]) {
                        runs.push_back(step["run"].as<std::string>());
                    }
                }
            } else {
                for (const auto& line : doc["mloop"]["script"]) {
                    runs.push_back(line.as<std::string>());
                }
            }
            std::string all;
            for (const auto& r : runs) {
                all += r + "\n";
            }
            const auto at = loop_commands(all);
            for (size_t i = 0; i < at.size(); ++i) {
                INFO("command ", i);
                REQUIRE(!at[i].empty());
                if (i > 0) {
                    CHECK(std::stoul(at[i]) > std::stoul(at[i - 1]));
                }
            }
        }
    }
}
