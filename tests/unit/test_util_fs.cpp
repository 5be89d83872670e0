#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "util/fs.hpp"

using namespace mloop::util;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-unit-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("read_file reads, bounds and names what is wrong") {
    TempDir t;
    std::ofstream(t.path / "a.txt") << "hello";
    auto ok = read_file(t.path / "a.txt", 100);
    REQUIRE(ok.ok());
    CHECK(ok.value() == "hello");

    auto big = read_file(t.path / "a.txt", 3);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().find("more than the limit of 3") != std::string::npos);

    auto dir = read_file(t.path, 100);
    REQUIRE_FALSE(dir.ok());
    CHECK(dir.error().find("is a directory") != std::string::npos);

    auto missing = read_file(t.path / "nope", 100);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().find("no such file or directory") != std::string::npos);
}

TEST_CASE("create_file never overwrites and keeps the mode whatever the umask") {
    TempDir t;
    const mode_t old = ::umask(077);
    auto r = create_file(t.path / "sub" / "run.sh", "#!/bin/sh\n", 0755);
    ::umask(old);
    REQUIRE(r.ok());
    struct stat st {};
    REQUIRE(::stat((t.path / "sub" / "run.sh").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0755);

    auto again = create_file(t.path / "sub" / "run.sh", "other", 0644);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().find("already exists") != std::string::npos);
    CHECK(read_file(t.path / "sub" / "run.sh", 100).value() == "#!/bin/sh\n");
}

TEST_CASE("find_upwards finds the nearest entry like git finds .git") {
    TempDir t;
    fs::create_directories(t.path / "a" / "b" / "c");
    std::ofstream(t.path / "a" / "mloop.yaml") << "project: x\n";
    auto found = find_upwards(t.path / "a" / "b" / "c", "mloop.yaml");
    REQUIRE(found.has_value());
    CHECK(*found == t.path / "a" / "mloop.yaml");
    CHECK_FALSE(find_upwards(t.path, "mloop.yaml").has_value());
}
