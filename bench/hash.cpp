// Driver for bench/hash.
//
//   bench_hash file PATH            sha256_file: prints "<digest> <seconds>"
//   bench_hash file-read PATH       the read strategies sha256_file chose between, for the
//   bench_hash file-mmap PATH       record: plain 1 MiB reads with POSIX_FADV_SEQUENTIAL, and
//                                   mmap with MADV_SEQUENTIAL (the library reads ahead on a
//                                   second thread, which beat both)
//   bench_hash tree DIR CACHE_DB    Hasher with the hash cache, as mloop hashes a dataset:
//                                   prints "<digest> files=N hashed=H from_cache=C
//                                   bytes_read=B seconds=S"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "store/hash_cache.hpp"
#include "store/hasher.hpp"
#include "store/sha256.hpp"

namespace fs = std::filesystem;
using namespace mloop::store;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Digest hash_with_reads(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error("cannot open");
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::vector<char> block(size_t{1} << 20);
    Sha256 h;
    ssize_t n = 0;
    while ((n = ::read(fd, block.data(), block.size())) > 0) {
        h.update(block.data(), static_cast<size_t>(n));
    }
    ::close(fd);
    return h.finish();
}

Digest hash_with_mmap(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        throw std::runtime_error("cannot open");
    }
    Sha256 h;
    if (st.st_size > 0) {
        void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            throw std::runtime_error("cannot map");
        }
        ::madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
        h.update(p, static_cast<size_t>(st.st_size));
        ::munmap(p, static_cast<size_t>(st.st_size));
    }
    ::close(fd);
    return h.finish();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        const auto start = std::chrono::steady_clock::now();
        if (argc == 3 && (mode == "file" || mode == "file-read" || mode == "file-mmap")) {
            const Digest d = mode == "file"        ? sha256_file(argv[2])
                             : mode == "file-read" ? hash_with_reads(argv[2])
                                                   : hash_with_mmap(argv[2]);
            std::printf("%s %.3f\n", d.str().c_str(), seconds_since(start));
            return 0;
        }
        if (argc == 4 && mode == "tree") {
            HashCache cache{fs::path(argv[3])};
            Hasher::Options options;
            options.cache = &cache;
            const HashResult r = Hasher(options).hash({argv[2]});
            std::printf("%s files=%llu hashed=%llu from_cache=%llu bytes_read=%llu seconds=%.3f\n",
                        r.digests[0].str().c_str(), static_cast<unsigned long long>(r.stats.files),
                        static_cast<unsigned long long>(r.stats.files_hashed),
                        static_cast<unsigned long long>(r.stats.files_from_cache),
                        static_cast<unsigned long long>(r.stats.bytes_read), seconds_since(start));
            return 0;
        }
        std::fprintf(stderr,
                     "usage: bench_hash file|file-read|file-mmap PATH | tree DIR CACHE_DB\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_hash: %s\n", e.what());
        return 1;
    }
}
