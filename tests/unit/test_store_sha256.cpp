#include <doctest/doctest.h>
#include <algorithm>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "error/error.hpp"
#include "store/sha256.hpp"
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

// The same bytes the expected digests below were computed from (with Python's hashlib and
// checked with sha256sum): byte i is (7 i + 3) mod 256.
std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 7 + 3) % 256);
    }
    return s;
}

void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace

TEST_SUITE("store") {
    TEST_CASE("sha256 of known inputs") {
        CHECK(sha256("").str() ==
              "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        CHECK(sha256("abc").str() ==
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        CHECK(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex() ==
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }

    TEST_CASE("streaming in pieces gives the one-shot digest, and finish starts over") {
        const std::string data = pattern(100'003);
        Sha256 h;
        size_t at = 0;
        for (size_t step = 1; at < data.size(); step = step * 3 + 1) {
            const size_t n = std::min(step, data.size() - at);
            h.update(data.data() + at, n);
            at += n;
        }
        CHECK(h.finish() == sha256(data));
        h.update("abc");
        CHECK(h.finish() == sha256("abc"));
    }

    TEST_CASE("a file's digest is what sha256sum prints") {
        TempDir t;
        write(t.path / "x.bin", pattern(3 * 1024 * 1024 + 17));
        CHECK(sha256_file(t.path / "x.bin").hex() ==
              "af0420698203db612d2363019e5daab6c288a059aad9a9ee0270be2cd0f5bd4d");
        write(t.path / "empty", "");
        CHECK(sha256_file(t.path / "empty") == sha256(""));
    }

    TEST_CASE("a large file read ahead by a second thread hashes the same") {
        TempDir t;
        // 20 MiB + 5: above the read-ahead threshold and not a whole number of slots.
        const std::string block = pattern(3 * 1024 * 1024 + 17);
        std::string big;
        while (big.size() < 20 * 1024 * 1024 + 5) {
            big += block;
        }
        big.resize(20 * 1024 * 1024 + 5);
        write(t.path / "big.bin", big);
        CHECK(sha256_file(t.path / "big.bin").hex() ==
              "1b113e58ed142f5a9958b8f22b79a33c7729bebddd429075ed9b588bfb093851");
    }

    TEST_CASE("an unreadable file is a usage error naming it") {
        TempDir t;
        const auto message = [](const fs::path& p) {
            try {
                sha256_file(p);
            } catch (const mloop::error::UsageError& e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        const auto shown = [](const fs::path& p) {
            return mloop::util::display_path(p);
        };
        const fs::path missing = t.path / "missing.csv";
        CHECK(message(missing) ==
              "cannot read '" + shown(missing) + "': no such file or directory");
        CHECK(message(t.path) == "cannot read '" + shown(t.path) + "': is a directory");
        REQUIRE(::mkfifo((t.path / "fifo").c_str(), 0600) == 0);
        CHECK(message(t.path / "fifo") ==
              "cannot read '" + shown(t.path / "fifo") + "': not a regular file");
    }
}
