#include <doctest/doctest.h>
#include <algorithm>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "store/objects.hpp"
#include "store/sha256.hpp"
#include "store/tree.hpp"

using namespace mloop::store;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-unit-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        // Objects are read-only, but their directories are ours: remove_all copes.
        fs::remove_all(path);
    }
};

void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

size_t count_files(const fs::path& dir) {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        n += e.is_regular_file();
    }
    return n;
}

void make_dataset(const fs::path& root) {
    fs::create_directories(root / "raw" / "empty");
    write(root / "train.csv", "a,b\n1,2\n");
    write(root / "raw" / "part-0.csv", std::string(300'000, 'x'));
    write(root / "raw" / "copy.csv", "a,b\n1,2\n");  // same bytes as train.csv: one object
    write(root / "prepare.sh", "#!/bin/sh\necho hi\n");
    fs::permissions(root / "prepare.sh", fs::perms::owner_all);
    fs::create_symlink("train.csv", root / "latest.csv");
}

}  // namespace

TEST_SUITE("store") {
    TEST_CASE("objects are read-only files at sha256/ab/cdef… in 0700 directories") {
        TempDir t;
        const mode_t old = ::umask(0);
        ObjectStore store(t.path / ".mloop" / "objects");
        const Digest d = store.put_bytes("abc");
        ::umask(old);
        CHECK(d.str() == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const fs::path p = t.path / ".mloop" / "objects" / "sha256" / "ba" /
                           "7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        CHECK(store.path_of(d) == p);
        CHECK(store.has(d));
        CHECK(read(p) == "abc");
        CHECK(mode_of(p) == 0444);
        CHECK(mode_of(p.parent_path()) == 0700);
        CHECK(mode_of(t.path / ".mloop") == 0700);
        CHECK(mode_of(t.path / ".mloop" / "objects") == 0700);
        CHECK(mode_of(t.path / ".mloop" / "objects" / "sha256") == 0700);
        CHECK(mode_of(t.path / ".mloop" / "objects" / "tmp") == 0700);
        CHECK(fs::is_empty(t.path / ".mloop" / "objects" / "tmp"));
        CHECK_FALSE(store.has(sha256("something else")));
    }

    TEST_CASE("storing the same bytes twice keeps one object") {
        TempDir t;
        ObjectStore store(t.path / "objects");
        write(t.path / "a.csv", "same bytes");
        write(t.path / "b.csv", "same bytes");
        const Digest a = store.put_file(t.path / "a.csv");
        struct stat first {};
        REQUIRE(::stat(store.path_of(a).c_str(), &first) == 0);
        CHECK(store.put_file(t.path / "b.csv") == a);
        CHECK(store.put_bytes("same bytes") == a);
        struct stat again {};
        REQUIRE(::stat(store.path_of(a).c_str(), &again) == 0);
        CHECK(again.st_ino == first.st_ino);  // the first object was kept, not replaced
        CHECK(count_files(t.path / "objects") == 1);
        CHECK(a == sha256_file(t.path / "a.csv"));
    }

    TEST_CASE("an empty file and a large one are stored like any other") {
        TempDir t;
        ObjectStore store(t.path / "objects");
        write(t.path / "empty", "");
        CHECK(store.put_file(t.path / "empty") == sha256(""));
        std::string big(5 * 1024 * 1024 + 3, '\0');
        for (size_t i = 0; i < big.size(); ++i) {
            big[i] = static_cast<char>(i * 31 % 251);
        }
        write(t.path / "big", big);
        const Digest d = store.put_file(t.path / "big");
        CHECK(d == sha256(big));
        CHECK(read(store.path_of(d)) == big);
    }

    TEST_CASE("a source that cannot be read is a usage error naming it") {
        TempDir t;
        ObjectStore store(t.path / "objects");
        CHECK_THROWS_AS(store.put_file(t.path / "missing.csv"), mloop::error::UsageError);
        CHECK_THROWS_WITH(store.put_file(t.path), doctest::Contains("is a directory"));
        CHECK_THROWS_WITH(store.put_file(t.path / "missing.csv"),
                          doctest::Contains("missing.csv': no such file or directory"));
    }

    TEST_CASE("an unwritable store is a registry error") {
        TempDir t;
        write(t.path / "objects", "a file where the store's directory should be");
        ObjectStore store(t.path / "objects");
        CHECK_THROWS_AS(store.put_bytes("x"), mloop::error::RegistryError);
        CHECK_THROWS_WITH(store.put_bytes("x"), doctest::Contains("store '"));
    }

    TEST_CASE("restore makes a writable, byte-identical copy and never overwrites") {
        TempDir t;
        ObjectStore store(t.path / "objects");
        const std::string bytes = "id,label\n1,0\n2,1\n";
        const Digest d = store.put_bytes(bytes);
        store.restore(d, t.path / "out.csv");
        CHECK(read(t.path / "out.csv") == bytes);
        CHECK((mode_of(t.path / "out.csv") & 0200) != 0);
        write(t.path / "out.csv", "edited");  // writable, and the object is untouched
        CHECK(store.verify(d));
        CHECK_THROWS_WITH_AS(store.restore(d, t.path / "out.csv"),
                             doctest::Contains("already exists"), mloop::error::UsageError);
        CHECK(read(t.path / "out.csv") == "edited");
        CHECK_THROWS_AS(store.restore(sha256("never stored"), t.path / "x"),
                        mloop::error::RegistryError);
    }

    TEST_CASE("put_tree stores a tree whose digest is hash_path's, and restore recreates it") {
        TempDir t;
        make_dataset(t.path / "data");
        ObjectStore store(t.path / "objects");
        const Digest root = store.put_tree(t.path / "data");
        CHECK(root == hash_path(t.path / "data"));
        CHECK(store.verify(root));
        const auto listing = parse_tree(read(store.path_of(root)));
        REQUIRE(listing.has_value());
        CHECK(listing->size() == 4);  // latest.csv, prepare.sh, raw, train.csv
        for (const TreeEntry& e : *listing) {
            CHECK(store.has(e.digest));
        }

        store.restore(root, t.path / "back");
        CHECK(hash_path(t.path / "back") == root);
        CHECK(read(t.path / "back" / "raw" / "part-0.csv") == std::string(300'000, 'x'));
        CHECK(fs::is_directory(t.path / "back" / "raw" / "empty"));
        CHECK(fs::is_symlink(t.path / "back" / "latest.csv"));
        CHECK(fs::read_symlink(t.path / "back" / "latest.csv") == "train.csv");
        CHECK((mode_of(t.path / "back" / "prepare.sh") & 0100) != 0);
        CHECK((mode_of(t.path / "back" / "train.csv") & 0100) == 0);
        CHECK((mode_of(t.path / "back" / "train.csv") & 0200) != 0);

        // Into an empty directory is fine; over anything else is refused.
        fs::create_directory(t.path / "empty-dest");
        store.restore(root, t.path / "empty-dest", ObjectStore::Kind::tree);
        CHECK(hash_path(t.path / "empty-dest") == root);
        CHECK_THROWS_WITH(store.restore(root, t.path / "back"),
                          doctest::Contains("already exists"));
        CHECK(hash_path(t.path / "back") == root);  // refused without touching what is there
        write(t.path / "user-file", "mine");
        CHECK_THROWS_WITH_AS(store.restore(root, t.path / "user-file", ObjectStore::Kind::tree),
                             doctest::Contains("already exists"), mloop::error::UsageError);
        CHECK(read(t.path / "user-file") == "mine");
    }

    TEST_CASE("an empty directory restores as one when the caller says it is a tree") {
        TempDir t;
        fs::create_directory(t.path / "empty");
        ObjectStore store(t.path / "objects");
        const Digest d = store.put_tree(t.path / "empty");
        CHECK(d == sha256(""));  // see tree.hpp: shared with the empty file
        store.restore(d, t.path / "as-file");
        CHECK(fs::is_regular_file(t.path / "as-file"));
        store.restore(d, t.path / "as-tree", ObjectStore::Kind::tree);
        CHECK(fs::is_directory(t.path / "as-tree"));
        CHECK(fs::is_empty(t.path / "as-tree"));
    }

    TEST_CASE("verify and restore detect a corrupted object") {
        TempDir t;
        ObjectStore store(t.path / "objects");
        make_dataset(t.path / "data");
        const Digest root = store.put_tree(t.path / "data");
        const Digest d = sha256(std::string(300'000, 'x'));
        REQUIRE(store.verify(d));
        const fs::path p = store.path_of(d);
        fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
        {
            std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(123'456);
            f.put('y');
        }
        CHECK_FALSE(store.verify(d));
        CHECK(store.verify(root));  // the listing itself is intact
        CHECK_THROWS_WITH_AS(store.restore(d, t.path / "out"), doctest::Contains("is damaged"),
                             mloop::error::RegistryError);
        CHECK_FALSE(fs::exists(t.path / "out"));
        CHECK_THROWS_AS(store.restore(root, t.path / "tree-out"), mloop::error::RegistryError);
        CHECK_FALSE(fs::exists(t.path / "tree-out"));  // nothing half-restored is left
        fs::create_directory(t.path / "empty-dest");
        CHECK_THROWS_AS(store.restore(root, t.path / "empty-dest"), mloop::error::RegistryError);
        CHECK(fs::is_directory(t.path / "empty-dest"));  // the user's directory stays, emptied
        CHECK(fs::is_empty(t.path / "empty-dest"));
        CHECK_FALSE(store.verify(sha256("missing")));
    }

    TEST_CASE("for_each lists every object with its size, and remove deletes one") {
        TempDir t;
        ObjectStore store(t.path / "objects");
        store.for_each([](const Digest&, uint64_t) { FAIL("an empty store has no objects"); });
        const Digest a = store.put_bytes("a");
        const Digest b = store.put_bytes("bbbb");
        write(t.path / "objects" / "sha256" / "zz", "not an object");
        std::vector<std::pair<Digest, uint64_t>> seen;
        store.for_each([&](const Digest& d, uint64_t size) { seen.emplace_back(d, size); });
        std::vector<std::pair<Digest, uint64_t>> expected = {{a, 1}, {b, 4}};
        std::sort(expected.begin(), expected.end());
        CHECK(seen == expected);
        store.remove(a);
        CHECK_FALSE(store.has(a));
        store.remove(a);  // again: not an error
        CHECK(store.has(b));
    }

    TEST_CASE("sweep_temp removes a dead writer's temporary file and keeps a live one's") {
        TempDir t;
        ObjectStore store(t.path / "objects");
        store.put_bytes("makes the layout");
        const fs::path tmp = t.path / "objects" / "tmp";
        write(tmp / "123-dead", "half an object");  // nobody holds its lock
        write(tmp / "456-alive", "being written");
        const int fd = ::open((tmp / "456-alive").c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(::flock(fd, LOCK_EX) == 0);  // as a live writer holds it
        CHECK(store.sweep_temp() == 1);
        CHECK_FALSE(fs::exists(tmp / "123-dead"));
        CHECK(fs::exists(tmp / "456-alive"));
        ::close(fd);  // the writer dies
        CHECK(store.sweep_temp() == 1);
        CHECK(fs::is_empty(tmp));
        CHECK(store.sweep_temp() == 0);
    }
}
