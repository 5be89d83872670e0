#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "git/git.hpp"

using namespace mloop;
namespace fs = std::filesystem;

namespace {

struct Repo {
    fs::path dir;
    Repo() {
        char tmpl[] = "/tmp/mloop-git-XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    ~Repo() { fs::remove_all(dir); }

    // Runs git in the repository with a fixed identity and no user or system config.
    std::string git(const std::string& args) const {
        const std::string cmd =
            "cd '" + dir.string() +
            "' && GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent git -c "
            "user.email=t@example.com -c user.name=t -c init.defaultBranch=main " +
            args + " 2>&1";
        std::string out;
        FILE* p = ::popen(cmd.c_str(), "r");
        REQUIRE(p != nullptr);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
            out.append(buf, n);
        }
        REQUIRE(::pclose(p) == 0);
        while (!out.empty() && out.back() == '\n') {
            out.pop_back();
        }
        return out;
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(dir / name) << text;
    }
};

}  // namespace

TEST_SUITE("git") {
    TEST_CASE("outside a repository there is no git, and that is not an error") {
        char tmpl[] = "/tmp/mloop-nogit-XXXXXX";
        const fs::path d = ::mkdtemp(tmpl);
        const auto st = git::inspect(d);
        CHECK_FALSE(st.in_repository);
        CHECK_FALSE(st.commit);
        CHECK_FALSE(st.dirty);
        fs::remove_all(d);
    }

    TEST_CASE("a fresh repository has a branch but no commit") {
        Repo r;
        r.git("init -q");
        const auto st = git::inspect(r.dir);
        CHECK(st.in_repository);
        CHECK_FALSE(st.commit);
        CHECK(st.branch == "main");
    }

    TEST_CASE("HEAD's commit and branch; found from a subdirectory") {
        Repo r;
        r.git("init -q");
        r.write("train.py", "print(1)\n");
        fs::create_directories(r.dir / "sub" / "dir");
        r.git("add train.py && git -c user.email=t@example.com -c user.name=t commit -qm one");
        const auto st = git::inspect(r.dir / "sub" / "dir");
        CHECK(st.in_repository);
        CHECK(*st.commit == r.git("rev-parse HEAD"));
        CHECK(*st.branch == "main");
        CHECK_FALSE(st.dirty);
        CHECK_FALSE(st.diff_digest);
        CHECK(st.workdir == fs::path(r.dir.string() + "/"));
    }

    TEST_CASE("a modified tracked file makes the tree dirty; untracked files do not") {
        Repo r;
        r.git("init -q");
        r.write("train.py", "print(1)\n");
        r.git("add train.py && git -c user.email=t@example.com -c user.name=t commit -qm one");
        r.write("notes.txt", "untracked\n");
        CHECK_FALSE(git::inspect(r.dir).dirty);

        r.write("train.py", "print(2)\n");
        const auto a = git::inspect(r.dir);
        CHECK(a.dirty);
        REQUIRE(a.diff_digest);
        CHECK(a.diff_digest->rfind("sha256:", 0) == 0);
        CHECK(a.changed == std::vector<std::string>{"train.py"});
        CHECK(git::is_modified(a, "train.py"));
        CHECK(git::is_modified(a, r.dir / "train.py"));
        CHECK_FALSE(git::is_modified(a, "notes.txt"));

        // The same change gives the same digest; another change another one.
        CHECK(git::inspect(r.dir).diff_digest == a.diff_digest);
        r.write("train.py", "print(3)\n");
        CHECK(git::inspect(r.dir).diff_digest != a.diff_digest);

        // Staged changes count too.
        r.git("add train.py");
        CHECK(git::inspect(r.dir).dirty);
    }

    TEST_CASE("a detached HEAD has a commit and no branch") {
        Repo r;
        r.git("init -q");
        r.write("a", "1\n");
        r.git("add a && git -c user.email=t@example.com -c user.name=t commit -qm one");
        r.git("checkout -q --detach HEAD");
        const auto st = git::inspect(r.dir);
        CHECK(st.commit.has_value());
        CHECK_FALSE(st.branch.has_value());
    }
}
