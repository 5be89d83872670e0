#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "error/error.hpp"
#include "store/sha256.hpp"
#include "store/tree.hpp"
#include "util/fs.hpp"

using namespace mloop::store;
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

mode_t current_umask() {
    const mode_t m = ::umask(0);
    ::umask(m);
    return m;
}

// Like a program creating the file with `mode`: the umask takes its bits away.
void write(const fs::path& p, const std::string& bytes, mode_t mode = 0666) {
    std::ofstream(p, std::ios::binary) << bytes;
    fs::permissions(p, static_cast<fs::perms>(mode & ~current_umask()));
}

// The tree whose digest was computed independently (Python hashlib over the listing):
//   a       file "x"
//   b/      empty directory
//   ln  ->  a
//   run.sh  executable "#!/bin/sh\n"
constexpr const char* k_golden =
    "sha256:80644c7f9e483990daa581fa556184f36276d18bb00b2fbaab62a9ad4071eb16";

void make_golden(const fs::path& root, bool reversed) {
    fs::create_directory(root);
    if (reversed) {
        write(root / "run.sh", "#!/bin/sh\n", 0777);
        fs::create_symlink("a", root / "ln");
        fs::create_directory(root / "b");
        write(root / "a", "x");
    } else {
        write(root / "a", "x");
        fs::create_directory(root / "b");
        fs::create_symlink("a", root / "ln");
        write(root / "run.sh", "#!/bin/sh\n", 0777);
    }
}

std::string error_of(const fs::path& p) {
    try {
        hash_path(p);
    } catch (const mloop::error::UsageError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_SUITE("store") {
    TEST_CASE("the listing encodes mode, kind, digest and name, sorted bytewise") {
        const std::vector<TreeEntry> entries = {
            {"b", EntryKind::dir, k_mode_dir, sha256("")},
            {"a", EntryKind::file, k_mode_file, sha256("x")},
            {"\xc3\xa9", EntryKind::link, k_mode_link, sha256("a")},  // é sorts after ASCII
            {"Z", EntryKind::file, k_mode_exec, sha256("z")},
        };
        const std::string listing = encode_tree(entries);
        const std::string expected =
            "100755 file " + sha256("z").str() + "\tZ" + std::string(1, '\0') + "100644 file " +
            sha256("x").str() + "\ta" + std::string(1, '\0') + "040000 dir " + sha256("").str() +
            "\tb" + std::string(1, '\0') + "120000 link " + sha256("a").str() + "\t\xc3\xa9" +
            std::string(1, '\0');
        CHECK(listing == expected);
        const auto parsed = parse_tree(listing);
        REQUIRE(parsed.has_value());
        REQUIRE(parsed->size() == 4);
        CHECK((*parsed)[0].name == "Z");
        CHECK((*parsed)[3] == entries[2]);
        CHECK(encode_tree(*parsed) == listing);
    }

    TEST_CASE("only a canonical listing parses") {
        const std::string d = sha256("x").str();
        const std::string z(1, '\0');
        CHECK(parse_tree("").has_value());  // the empty directory
        CHECK(parse_tree("100644 file " + d + "\ta" + z).has_value());
        CHECK_FALSE(parse_tree("100644 file " + d + "\ta").has_value());  // no terminator
        CHECK_FALSE(parse_tree("100644 file " + d + "\tb" + z + "100644 file " + d + "\ta" + z)
                        .has_value());  // unsorted
        CHECK_FALSE(parse_tree("100644 file " + d + "\ta" + z + "100644 file " + d + "\ta" + z)
                        .has_value());  // duplicate
        CHECK_FALSE(parse_tree("100644 file " + d + "\t.." + z).has_value());
        CHECK_FALSE(parse_tree("100644 file " + d + "\t." + z).has_value());
        CHECK_FALSE(parse_tree("100644 file " + d + "\ta/b" + z).has_value());
        CHECK_FALSE(parse_tree("100644 file " + d + "\t" + z).has_value());
        CHECK_FALSE(parse_tree("100644 dir " + d + "\ta" + z).has_value());  // mode vs kind
        CHECK_FALSE(parse_tree("100600 file " + d + "\ta" + z).has_value());
        CHECK_FALSE(parse_tree("100644 file " + d.substr(0, 70) + "\ta" + z).has_value());
    }

    TEST_CASE("git's mode normalisation: only the owner's execute bit counts") {
        CHECK(normalised_mode(S_IFREG | 0644) == k_mode_file);
        CHECK(normalised_mode(S_IFREG | 0600) == k_mode_file);
        CHECK(normalised_mode(S_IFREG | 0655) == k_mode_file);  // group/other x only
        CHECK(normalised_mode(S_IFREG | 0744) == k_mode_exec);
        CHECK(normalised_mode(S_IFDIR | 0700) == k_mode_dir);
        CHECK(normalised_mode(S_IFLNK | 0777) == k_mode_link);
        CHECK_FALSE(normalised_mode(S_IFIFO | 0644).has_value());
        CHECK_FALSE(normalised_mode(S_IFSOCK | 0644).has_value());
        CHECK_FALSE(normalised_mode(S_IFCHR | 0644).has_value());
    }

    TEST_CASE("a tree's digest matches an independently computed one") {
        TempDir t;
        make_golden(t.path / "d", false);
        CHECK(hash_path(t.path / "d").str() == k_golden);
    }

    TEST_CASE("tree digests do not depend on creation order or umask") {
        TempDir t;
        const mode_t old = ::umask(0);
        make_golden(t.path / "one", false);
        ::umask(077);
        make_golden(t.path / "two", true);
        ::umask(old);
        CHECK(hash_path(t.path / "one").str() == k_golden);
        CHECK(hash_path(t.path / "two").str() == k_golden);
    }

    TEST_CASE("a file's mode bit, its name, its bytes and an empty directory change the digest") {
        TempDir t;
        const fs::path d = t.path / "d";
        make_golden(d, false);
        const Digest base = hash_path(d);

        fs::permissions(d / "a", fs::perms::owner_exec, fs::perm_options::add);
        const Digest exec = hash_path(d);
        CHECK(exec != base);
        fs::permissions(d / "a", fs::perms::owner_exec, fs::perm_options::remove);
        fs::permissions(d / "a", fs::perms::group_exec | fs::perms::others_write,
                        fs::perm_options::add);
        CHECK(hash_path(d) == base);  // not the owner's execute bit: not part of the digest

        fs::rename(d / "run.sh", d / "run2.sh");
        CHECK(hash_path(d) != base);
        fs::rename(d / "run2.sh", d / "run.sh");
        CHECK(hash_path(d) == base);

        fs::create_directory(d / "b" / "empty");
        CHECK(hash_path(d) != base);
        fs::remove(d / "b" / "empty");
        CHECK(hash_path(d) == base);

        write(d / "a", "y");
        CHECK(hash_path(d) != base);
    }

    TEST_CASE("a symlink inside a tree is hashed as its target string, never followed") {
        TempDir t;
        const fs::path d = t.path / "d";
        fs::create_directory(d);
        write(t.path / "outside", "secret v1");
        fs::create_symlink(t.path / "outside", d / "ln");
        fs::create_symlink(".", d / "loop");  // would never end if followed
        fs::create_symlink("nowhere", d / "dangling");
        const Digest before = hash_path(d);
        write(t.path / "outside", "secret v2, longer");
        CHECK(hash_path(d) == before);
        fs::remove(d / "ln");
        fs::create_symlink(t.path / "elsewhere", d / "ln");
        CHECK(hash_path(d) != before);
    }

    TEST_CASE("a file is its bytes' digest, and a symlink named on its own is followed") {
        TempDir t;
        write(t.path / "f", "payload");
        CHECK(hash_path(t.path / "f") == sha256("payload"));
        make_golden(t.path / "d", false);
        fs::create_symlink("d", t.path / "to-d");
        fs::create_symlink("f", t.path / "to-f");
        CHECK(hash_path(t.path / "to-d").str() == k_golden);
        CHECK(hash_path(t.path / "to-f") == sha256("payload"));
    }

    TEST_CASE("a fifo, socket or device in a tree is an error naming its path") {
        TempDir t;
        const fs::path d = t.path / "d";
        fs::create_directories(d / "sub");
        write(d / "ok", "fine");
        REQUIRE(::mkfifo((d / "sub" / "pipe").c_str(), 0600) == 0);
        CHECK(error_of(d) == "cannot hash '" + mloop::util::display_path(d / "sub" / "pipe") +
                                 "': a fifo is not a file, directory or symlink");
        CHECK(error_of(d / "sub" / "pipe") == "cannot hash '" +
                                                  mloop::util::display_path(d / "sub" / "pipe") +
                                                  "': not a file, directory or symlink");
        CHECK(error_of(t.path / "missing") == "cannot read '" +
                                                  mloop::util::display_path(t.path / "missing") +
                                                  "': no such file or directory");
    }

    TEST_CASE("an unreadable directory is an error naming it") {
        if (::geteuid() == 0) {
            return;  // root reads everything
        }
        TempDir t;
        fs::create_directories(t.path / "d" / "locked");
        fs::permissions(t.path / "d" / "locked", fs::perms::none);
        CHECK(error_of(t.path / "d") == "cannot read '" +
                                            mloop::util::display_path(t.path / "d" / "locked") +
                                            "': permission denied");
        fs::permissions(t.path / "d" / "locked", fs::perms::owner_all);
    }
}
