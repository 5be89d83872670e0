// Fault driver for tests/fault/f0004-store-kill.sh.
//
//   fault_store_writer write ROOT SEED   writes objects into the store at ROOT until killed:
//                                        put_file, put_bytes and put_tree, sizes 0 B to 4 MiB,
//                                        some contents repeated so that objects dedupe; prints
//                                        "writing" as it begins
//   fault_store_writer verify ROOT       sweeps dead writers' temporary files, then checks
//                                        every file under sha256/: a digest name at the right
//                                        path, mode 0444, bytes that hash to the name. Prints
//                                        "objects=N bad=M temp_left=K swept=S"; exit 1 if
//                                        anything is bad or a temporary file is left.
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <fmt/format.h>

#include "error/error.hpp"
#include "store/objects.hpp"
#include "store/sha256.hpp"

namespace fs = std::filesystem;
using mloop::store::Digest;
using mloop::store::ObjectStore;

namespace {

constexpr size_t k_max_size = size_t{4} << 20;
constexpr uint64_t k_repeated_contents = 8;  // seeds whose content recurs across writers

// Bytes from a seed, fast enough that the writer spends its time in the store.
std::string content(uint64_t seed, size_t size) {
    std::string s(size, '\0');
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i < size; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const size_t n = std::min<size_t>(8, size - i);
        std::memcpy(s.data() + i, &x, n);
    }
    return s;
}

// Mostly small, sometimes up to 4 MiB, sometimes empty.
size_t random_size(std::mt19937_64& rng) {
    const uint64_t r = rng() % 100;
    if (r < 5) {
        return 0;
    }
    if (r < 70) {
        return rng() % 65536;
    }
    return rng() % (k_max_size + 1);
}

void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

int write_forever(const fs::path& root, uint64_t seed) {
    ObjectStore store(root);
    std::mt19937_64 rng(seed);
    const fs::path scratch = fs::path(root.string() + "-scratch") / std::to_string(::getpid());
    fs::create_directories(scratch);
    // The test times its kill from this line, not from the start of the process: a sanitizer
    // build spends a good part of a second before main() on a loaded machine.
    std::printf("writing\n");
    std::fflush(stdout);
    for (uint64_t n = 0;; ++n) {
        const uint64_t op = rng() % 10;
        const uint64_t cseed =
            rng() % 4 == 0 ? rng() % k_repeated_contents : seed * 1'000'003 + n + 100;
        const size_t size = cseed < k_repeated_contents ? cseed * 1000 : random_size(rng);
        if (op < 4) {
            write_file(scratch / "src", content(cseed, size));
            store.put_file(scratch / "src");
        } else if (op < 8) {
            store.put_bytes(content(cseed, size));
        } else {
            const fs::path dir = scratch / ("tree" + std::to_string(n));
            fs::create_directories(dir / "sub" / "empty");
            const uint64_t files = 1 + rng() % 6;
            for (uint64_t f = 0; f < files; ++f) {
                const fs::path p = (f % 2 == 0 ? dir : dir / "sub") / ("f" + std::to_string(f));
                write_file(p, content(cseed + f, rng() % 100'000));
            }
            fs::create_symlink("../f0", dir / "sub" / "link");
            store.put_tree(dir);
            fs::remove_all(dir);
        }
    }
}

bool is_hex(const std::string& s) {
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

int verify(const fs::path& root) {
    ObjectStore store(root);
    const size_t swept = store.sweep_temp();
    size_t objects = 0;
    size_t bad = 0;
    const auto complain = [&](const fs::path& p, const std::string& why) {
        std::fprintf(stderr, "bad: %s: %s\n", p.c_str(), why.c_str());
        ++bad;
    };
    std::error_code ec;
    for (const auto& fan : fs::directory_iterator(root / "sha256", ec)) {
        const std::string fname = fan.path().filename().string();
        if (!fan.is_directory() || fname.size() != 2 || !is_hex(fname)) {
            complain(fan.path(), "not a fan-out directory");
            continue;
        }
        for (const auto& obj : fs::directory_iterator(fan.path())) {
            ++objects;
            const auto d = Digest::parse("sha256:" + fname + obj.path().filename().string());
            struct stat st {};
            if (!d) {
                complain(obj.path(), "not a digest name");
            } else if (::lstat(obj.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
                complain(obj.path(), "not a regular file");
            } else if ((st.st_mode & 07777) != 0444) {
                complain(obj.path(), fmt::format("mode {:o}, not 444", st.st_mode & 07777));
            } else if (store.path_of(*d) != obj.path() || !store.verify(*d)) {
                complain(obj.path(), "torn: its bytes do not hash to its name");
            }
        }
    }
    size_t temp_left = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root / "tmp", ec)) {
        ++temp_left;
    }
    std::printf("objects=%zu bad=%zu temp_left=%zu swept=%zu\n", objects, bad, temp_left, swept);
    return bad == 0 && temp_left == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "write" && argc == 4) {
            return write_forever(argv[2], std::stoull(argv[3]));
        }
        if (mode == "verify" && argc == 3) {
            return verify(argv[2]);
        }
        std::fprintf(stderr, "usage: fault_store_writer write ROOT SEED | verify ROOT\n");
        return 2;
    } catch (const mloop::error::Error& e) {
        std::fprintf(stderr, "fault_store_writer: error: %s\n", e.what());
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fault_store_writer: %s\n", e.what());
        return 1;
    }
}
