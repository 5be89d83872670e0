#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "registry/sqlite.hpp"
#include "store/hash_cache.hpp"
#include "store/sha256.hpp"

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

constexpr int64_t k_second = 1'000'000'000;

// A key for a file last changed an hour before `now`: well outside the racy window.
FileKey old_key(uint64_t ino, int64_t now) {
    return FileKey{42, ino, 1000 + ino, now - 3600 * k_second, now - 3600 * k_second + 5};
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_SUITE("store") {
    TEST_CASE("a file key is device, inode, size and both times in nanoseconds") {
        TempDir t;
        std::ofstream(t.path / "f") << "12345";
        struct stat st {};
        REQUIRE(::stat((t.path / "f").c_str(), &st) == 0);
        const FileKey k = FileKey::from_stat(st);
        CHECK(k.dev == st.st_dev);
        CHECK(k.ino == st.st_ino);
        CHECK(k.size == 5);
        CHECK(k.mtime_ns == st.st_mtim.tv_sec * k_second + st.st_mtim.tv_nsec);
        CHECK(k.ctime_ns == st.st_ctim.tv_sec * k_second + st.st_ctim.tv_nsec);
    }

    TEST_CASE("the cache is created 0600 in a 0700 directory whatever the umask") {
        TempDir t;
        const mode_t old = ::umask(0);
        {
            HashCache cache(t.path / ".mloop" / "cache" / "hashes.db");
            CHECK(cache.record(old_key(1, wall_clock_ns()), sha256("x"), wall_clock_ns()));
            CHECK(cache.flush() == 1);
            CHECK(mode_of(t.path / ".mloop" / "cache" / "hashes.db-wal") == 0600);
        }
        ::umask(old);
        CHECK(mode_of(t.path / ".mloop") == 0700);
        CHECK(mode_of(t.path / ".mloop" / "cache") == 0700);
        CHECK(mode_of(t.path / ".mloop" / "cache" / "hashes.db") == 0600);
        auto db = mloop::registry::Db::open(t.path / ".mloop" / "cache" / "hashes.db",
                                            mloop::registry::Db::Mode::read_only,
                                            std::chrono::seconds(1));
        auto s = db->prepare("PRAGMA journal_mode");
        REQUIRE(s.step());
        CHECK(s.text(0) == "wal");
    }

    TEST_CASE("a hit needs device, inode, size, mtime and ctime to match") {
        TempDir t;
        const int64_t now = wall_clock_ns();
        const FileKey k = old_key(7, now);
        const Digest d = sha256("seven");
        {
            HashCache cache(t.path / "hashes.db");
            CHECK_FALSE(cache.lookup(k).has_value());
            REQUIRE(cache.record(k, d, now));
            CHECK(cache.flush() == 1);
            CHECK(cache.flush() == 0);
        }
        HashCache cache(t.path / "hashes.db");  // persisted
        for (const bool preloaded : {false, true}) {
            CAPTURE(preloaded);
            if (preloaded) {
                cache.preload();
            }
            CHECK(cache.lookup(k) == d);
            FileKey other = k;
            other.dev += 1;
            CHECK_FALSE(cache.lookup(other).has_value());
            other = k;
            other.ino += 1;
            CHECK_FALSE(cache.lookup(other).has_value());
            other = k;
            other.size += 1;
            CHECK_FALSE(cache.lookup(other).has_value());
            other = k;
            other.mtime_ns += 1;
            CHECK_FALSE(cache.lookup(other).has_value());
            other = k;
            other.ctime_ns += 1;
            CHECK_FALSE(cache.lookup(other).has_value());
        }
    }

    TEST_CASE("a newer entry for the same inode replaces the old one") {
        TempDir t;
        const int64_t now = wall_clock_ns();
        HashCache cache(t.path / "hashes.db");
        FileKey k = old_key(3, now);
        REQUIRE(cache.record(k, sha256("v1"), now));
        cache.flush();
        k.ctime_ns += k_second;
        REQUIRE(cache.record(k, sha256("v2"), now));
        cache.flush();
        HashCache again(t.path / "hashes.db");
        CHECK(again.lookup(k) == sha256("v2"));
        k.ctime_ns -= k_second;
        CHECK_FALSE(again.lookup(k).has_value());
    }

    TEST_CASE("entries flushed after a preload are found, the newest for an inode winning") {
        TempDir t;
        const int64_t now = wall_clock_ns();
        {
            HashCache cache(t.path / "hashes.db");
            for (uint64_t ino : {10, 30, 50}) {
                cache.record(old_key(ino, now), sha256("old " + std::to_string(ino)), now);
            }
            cache.flush();
        }
        HashCache cache(t.path / "hashes.db");
        cache.preload();
        FileKey changed = old_key(30, now);
        changed.ctime_ns += k_second;
        REQUIRE(cache.record(old_key(20, now), sha256("new 20"), now));
        REQUIRE(cache.record(changed, sha256("v2"), now));
        REQUIRE(cache.record(old_key(60, now), sha256("new 60"), now));
        changed.ctime_ns += k_second;
        REQUIRE(cache.record(changed, sha256("v3"), now));  // twice in one batch: the last wins
        CHECK_FALSE(cache.lookup(old_key(20, now)).has_value());  // queued, not yet written
        CHECK(cache.flush() == 4);
        CHECK(cache.lookup(old_key(10, now)) == sha256("old 10"));
        CHECK(cache.lookup(old_key(20, now)) == sha256("new 20"));
        CHECK_FALSE(cache.lookup(old_key(30, now)).has_value());
        CHECK(cache.lookup(changed) == sha256("v3"));
        CHECK(cache.lookup(old_key(50, now)) == sha256("old 50"));
        CHECK(cache.lookup(old_key(60, now)) == sha256("new 60"));
        HashCache fresh(t.path / "hashes.db");  // and the table agrees
        CHECK(fresh.lookup(changed) == sha256("v3"));
        CHECK(fresh.lookup(old_key(20, now)) == sha256("new 20"));
    }

    TEST_CASE("a file changed within the racy window is not cached") {
        TempDir t;
        HashCache cache(t.path / "hashes.db");  // default window: 2 s
        const int64_t now = wall_clock_ns();
        FileKey k = old_key(9, now);
        k.mtime_ns = now - k_second;  // written a second ago
        k.ctime_ns = now - k_second;
        CHECK(cache.racy(k, now));
        CHECK_FALSE(cache.record(k, sha256("racy"), now));
        // An old mtime does not help when the ctime is recent (cp -p, tar, rsync -t).
        k.mtime_ns = now - 3600 * k_second;
        CHECK_FALSE(cache.record(k, sha256("racy"), now));
        // Nor does a timestamp in the future.
        k.ctime_ns = now + 10 * k_second;
        CHECK_FALSE(cache.record(k, sha256("racy"), now));
        CHECK(cache.pending() == 0);
        CHECK(cache.flush() == 0);
        k.ctime_ns = now - 3 * k_second;
        CHECK(cache.record(k, sha256("settled"), now));
    }

    TEST_CASE("several writers at once lose nothing and never see a locked database") {
        TempDir t;
        const fs::path db = t.path / "cache" / "hashes.db";
        HashCache{db};  // created before the race, as by the first mloop to run
        const int64_t now = wall_clock_ns();
        constexpr int k_writers = 4;
        constexpr int k_rounds = 20;
        std::vector<std::thread> threads;
        for (int w = 0; w < k_writers; ++w) {
            threads.emplace_back([&, w] {
                HashCache cache(db);
                for (int r = 0; r < k_rounds; ++r) {
                    for (int i = 0; i < 10; ++i) {
                        const uint64_t ino = static_cast<uint64_t>(w * 10'000 + r * 10 + i);
                        cache.record(old_key(ino, now), sha256(std::to_string(ino)), now);
                    }
                    cache.flush();
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        HashCache cache(db);
        cache.preload();
        int found = 0;
        for (int w = 0; w < k_writers; ++w) {
            for (int j = 0; j < k_rounds * 10; ++j) {
                const uint64_t ino = static_cast<uint64_t>(w * 10'000 + j);
                found += cache.lookup(old_key(ino, now)) == sha256(std::to_string(ino));
            }
        }
        CHECK(found == k_writers * k_rounds * 10);
    }

    TEST_CASE("a cache written by a newer mloop is left alone") {
        TempDir t;
        const fs::path db = t.path / "hashes.db";
        {
            auto raw = mloop::registry::Db::open(db, mloop::registry::Db::Mode::read_write,
                                                 std::chrono::seconds(1));
            raw->exec("PRAGMA user_version = 99");
        }
        HashCache cache(db);
        const int64_t now = wall_clock_ns();
        CHECK_FALSE(cache.record(old_key(1, now), sha256("x"), now));
        CHECK_FALSE(cache.lookup(old_key(1, now)).has_value());
        CHECK(cache.flush() == 0);
    }
}
