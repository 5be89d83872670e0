#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

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
    const auto r = init::init_project({t.path, false, false});
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
    CHECK_THROWS_AS(init::init_project({t.path, false, false}), error::UsageError);
    CHECK(slurp(t.path / "mloop.yaml") == "mine\n");
    CHECK_FALSE(fs::exists(t.path / ".gitignore"));

    TempDir e;
    std::ofstream(e.path / "train.py") << "mine\n";
    try {
        init::init_project({e.path, true, false});
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
    const auto r = init::init_project({t.path, false, false});
    CHECK(r.gitignore_added == std::vector<std::string>{".mloop/"});
    CHECK(slurp(t.path / ".gitignore") == "*.pyc\n.mloop/\n");
    fs::remove(t.path / "mloop.yaml");
    const auto again = init::init_project({t.path, false, false});
    CHECK(again.gitignore_added.empty());
    CHECK(slurp(t.path / ".gitignore") == "*.pyc\n.mloop/\n");
}

TEST_CASE("--example merges its ignore patterns into an existing .gitignore") {
    TempDir t;
    std::ofstream(t.path / ".gitignore") << "/.mloop\nlogs/\n";
    const auto r = init::init_project({t.path, true, false});
    CHECK(r.gitignore_added == std::vector<std::string>{"metrics/"});
    CHECK(slurp(t.path / ".gitignore") == "/.mloop\nlogs/\nmetrics/\n");
}

TEST_CASE("--dry-run writes nothing") {
    TempDir t;
    const auto r = init::init_project({t.path, true, true});
    CHECK(r.created.size() == assets::example().size());
    CHECK(fs::is_empty(t.path));
}

TEST_CASE("--example writes examples/churn byte for byte, modes included") {
    TempDir t;
    const auto r = init::init_project({t.path, true, false});
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
