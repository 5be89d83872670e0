#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store/hash_cache.hpp"
#include "store/hasher.hpp"
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
    ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// 3 directories × 40 files of different sizes, plus a nested level. Returns the bytes written.
uint64_t make_tree(const fs::path& root) {
    uint64_t bytes = 0;
    for (int d = 0; d < 3; ++d) {
        const fs::path dir = root / ("dir" + std::to_string(d)) / "inner";
        fs::create_directories(dir);
        for (int f = 0; f < 40; ++f) {
            const std::string content(static_cast<size_t>(f * 97 + d),
                                      static_cast<char>('a' + f % 26));
            write(dir / ("f" + std::to_string(f)), content);
            bytes += content.size();
        }
    }
    return bytes;
}

// Caches everything: tests that want hits must not wait 2 s for their files to settle.
HashCache::Options no_racy_window() {
    HashCache::Options o;
    o.racy_window = std::chrono::nanoseconds(0);
    return o;
}

}  // namespace

TEST_SUITE("store") {
    TEST_CASE("the digests do not depend on the number of threads") {
        TempDir t;
        const uint64_t bytes = make_tree(t.path / "tree");
        write(t.path / "single", "one file");
        const std::vector<fs::path> inputs = {t.path / "tree", t.path / "single",
                                              t.path / "tree" / "dir1"};
        Hasher::Options one;
        one.threads = 1;
        Hasher::Options four;
        four.threads = 4;
        const HashResult a = Hasher(one).hash(inputs);
        const HashResult b = Hasher(four).hash(inputs);
        REQUIRE(a.digests.size() == 3);
        CHECK(a.digests == b.digests);
        CHECK(a.digests[1] == sha256("one file"));
        CHECK(a.digests[0] == hash_path(t.path / "tree"));
        CHECK(a.stats.files == 120 + 1 + 40);
        CHECK(a.stats.files_hashed == a.stats.files);
        CHECK(a.stats.files_from_cache == 0);
        CHECK(b.stats.bytes_read == a.stats.bytes_read);
        CHECK(a.stats.bytes_read > bytes);  // dir1 is counted twice
    }

    TEST_CASE("an unchanged file is answered by the cache without a read") {
        TempDir t;
        const uint64_t bytes = make_tree(t.path / "tree");
        HashCache cache(t.path / "cache" / "hashes.db", no_racy_window());
        Hasher::Options o;
        o.cache = &cache;
        const HashResult first = Hasher(o).hash({t.path / "tree"});
        CHECK(first.stats.files_hashed == 120);
        CHECK(first.stats.files_cached == 120);
        CHECK(first.stats.bytes_read == bytes);

        HashCache reopened(t.path / "cache" / "hashes.db", no_racy_window());
        o.cache = &reopened;
        const HashResult second = Hasher(o).hash({t.path / "tree"});
        CHECK(second.digests == first.digests);
        CHECK(second.stats.files_from_cache == 120);
        CHECK(second.stats.files_hashed == 0);
        CHECK(second.stats.bytes_read == 0);
    }

    TEST_CASE("rewritten bytes with the size and mtime put back are hashed again: ctime moved") {
        TempDir t;
        const fs::path f = t.path / "data.csv";
        write(f, "a,b\n1,2\n");
        HashCache cache(t.path / "hashes.db", no_racy_window());
        Hasher::Options o;
        o.cache = &cache;
        o.threads = 1;
        const HashResult first = Hasher(o).hash({f});
        REQUIRE(first.stats.files_cached == 1);
        CHECK(Hasher(o).hash({f}).stats.files_from_cache == 1);

        struct stat before {};
        REQUIRE(::stat(f.c_str(), &before) == 0);
        // Past the kernel's timestamp granularity, so the ctime of the rewrite must differ.
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        write(f, "a,b\n9,9\n");
        const struct timespec times[2] = {before.st_atim, before.st_mtim};
        REQUIRE(::utimensat(AT_FDCWD, f.c_str(), times, 0) == 0);
        struct stat after {};
        REQUIRE(::stat(f.c_str(), &after) == 0);
        REQUIRE(after.st_size == before.st_size);
        REQUIRE(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
        REQUIRE(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
        REQUIRE(FileKey::from_stat(after).ctime_ns != FileKey::from_stat(before).ctime_ns);

        const HashResult third = Hasher(o).hash({f});
        CHECK(third.stats.files_from_cache == 0);
        CHECK(third.stats.files_hashed == 1);
        CHECK(third.digests[0] == sha256("a,b\n9,9\n"));
        CHECK(third.digests[0] != first.digests[0]);
    }

    TEST_CASE("files written within the racy window are hashed but not cached") {
        TempDir t;
        make_tree(t.path / "tree");
        HashCache cache(t.path / "hashes.db");  // the default 2 s window
        Hasher::Options o;
        o.cache = &cache;
        const HashResult first = Hasher(o).hash({t.path / "tree"});
        CHECK(first.stats.files_hashed == 120);
        CHECK(first.stats.files_cached == 0);
        const HashResult second = Hasher(o).hash({t.path / "tree"});
        CHECK(second.stats.files_hashed == 120);
        CHECK(second.stats.files_from_cache == 0);
        CHECK(second.digests == first.digests);
    }

    TEST_CASE("progress is reported on the calling thread and ends at the total") {
        TempDir t;
        // One file large enough to take several progress intervals' worth of reads is not
        // needed: the last call always reports the whole.
        const uint64_t bytes = make_tree(t.path / "tree");
        std::vector<std::pair<uint64_t, uint64_t>> calls;
        const auto caller = std::this_thread::get_id();
        bool same_thread = true;
        Hasher::Options o;
        o.progress_interval = std::chrono::milliseconds(1);
        o.progress = [&](uint64_t done, uint64_t total) {
            same_thread = same_thread && std::this_thread::get_id() == caller;
            calls.emplace_back(done, total);
        };
        Hasher(o).hash({t.path / "tree"});
        REQUIRE_FALSE(calls.empty());
        CHECK(same_thread);
        CHECK(calls.back() == std::make_pair(bytes, bytes));
        for (size_t i = 1; i < calls.size(); ++i) {
            CHECK(calls[i].first >= calls[i - 1].first);
        }
    }
}
