// SHA-256 over OpenSSL's EVP interface, which picks the SHA-NI (or AVX2) code path the CPU has.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "store/digest.hpp"

struct evp_md_ctx_st;

namespace mloop::store {

// A streaming hash: update() any number of times, then finish(), after which it starts over.
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    Digest finish();
    // Drops what was fed since the last finish(), as after a failed read.
    void reset();

  private:
    evp_md_ctx_st* m_ctx = nullptr;
};

Digest sha256(std::string_view bytes);

// The digest of a file's bytes, as sha256sum prints it. A file that cannot be read is a
// UsageError naming it: "cannot read 'data/x.csv': permission denied".
Digest sha256_file(const std::filesystem::path& path);

// Feeds `fd` from its current offset to its end into `hash`, in large blocks through a buffer
// owned by the calling thread; a file of `size_hint` 16 MiB or more is read ahead by a helper
// thread. A short read that brings the total to `size_hint` is taken as the end of the file,
// which saves small files a second read() that would return 0. Adds the bytes read to `bytes_read`,
// and to `progress` as they are hashed. Returns 0, or the errno of the read that failed, so that
// each caller can say whose file it was (the user's or the store's).
int sha256_fd(int fd, Sha256& hash, uint64_t& bytes_read, uint64_t size_hint,
              std::atomic<uint64_t>* progress = nullptr);

// The per-thread block buffer sha256_fd reads into, for callers that copy while hashing.
struct Block {
    std::byte* data;
    size_t size;
};
Block thread_block();

}  // namespace mloop::store
