#include "store/sha256.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <new>
#include <semaphore>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "error/error.hpp"
#include "util/fs.hpp"

namespace mloop::store {

namespace {

// 1 MiB: a thousand syscalls per GiB, and small enough that the hash reads back from L2 what
// read() has just written.
constexpr size_t k_block_size = size_t{1} << 20;

// Above this size a second thread reads ahead while the caller hashes (see read_ahead_hash).
constexpr uint64_t k_read_ahead_min = uint64_t{16} << 20;
constexpr int k_slots = 4;
constexpr size_t k_slot_size = k_block_size / k_slots;

// Fetched once: EVP_MD_fetch walks the provider tables and takes locks, which would cost more
// than hashing a small file.
const EVP_MD* sha256_md() {
    static const EVP_MD* const md = [] {
        EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        if (fetched == nullptr) {
            throw error::RegistryError("cannot initialise sha256: openssl has no SHA256");
        }
        return fetched;
    }();
    return md;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

}  // namespace

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
    if (m_ctx == nullptr || EVP_DigestInit_ex2(m_ctx, sha256_md(), nullptr) != 1) {
        EVP_MD_CTX_free(m_ctx);
        throw std::bad_alloc();
    }
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(m_ctx);
}

void Sha256::update(const void* data, size_t size) {
    // Cannot fail for an initialised software digest; the check guards against misuse.
    if (size != 0 && EVP_DigestUpdate(m_ctx, data, size) != 1) {
        throw std::bad_alloc();
    }
}

Digest Sha256::finish() {
    Digest d;
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(m_ctx, d.bytes.data(), &n) != 1 || n != d.bytes.size() ||
        EVP_DigestInit_ex2(m_ctx, nullptr, nullptr) != 1) {
        throw std::bad_alloc();
    }
    return d;
}

void Sha256::reset() {
    if (EVP_DigestInit_ex2(m_ctx, nullptr, nullptr) != 1) {
        throw std::bad_alloc();
    }
}

Digest sha256(std::string_view bytes) {
    Sha256 h;
    h.update(bytes);
    return h.finish();
}

Block thread_block() {
    // One buffer per thread for the whole run: hashing 100 000 small files must not allocate
    // and fault in a fresh megabyte for each.
    struct Buffer {
        std::unique_ptr<std::byte[]> data{new std::byte[k_block_size]};
    };
    thread_local Buffer buffer;
    return Block{buffer.data.get(), k_block_size};
}

namespace {

int plain_hash(int fd, Sha256& hash, uint64_t& bytes_read, uint64_t size_hint,
               std::atomic<uint64_t>* progress) {
    const Block block = thread_block();
    uint64_t total = 0;
    while (true) {
        const ssize_t n = ::read(fd, block.data, block.size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (n == 0) {
            return 0;
        }
        hash.update(block.data, static_cast<size_t>(n));
        bytes_read += static_cast<uint64_t>(n);
        total += static_cast<uint64_t>(n);
        if (progress != nullptr) {
            progress->fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        }
        // A regular file reads short only at its end. Checking the expected size as well keeps
        // a file system that reads short for other reasons (FUSE, NFS) from cutting it off.
        if (static_cast<size_t>(n) < block.size && total == size_hint) {
            return 0;
        }
    }
}

// Copying a block out of the page cache costs about a quarter of what hashing it does; a reader
// thread filling a ring of four 256 KiB slots hides that copy behind the hash. bench/hash
// measured a 2 GiB file, page cache warm: 1 MiB reads 1.50 s, mmap + MADV_SEQUENTIAL 1.43 s,
// this ring 1.24 s (median of six; openssl dgst 1.59 s). The ring stays in L2, so the hash
// reads back what read() has just written.
int read_ahead_hash(int fd, Sha256& hash, uint64_t& bytes_read, std::atomic<uint64_t>* progress) {
    const Block block = thread_block();
    std::counting_semaphore<k_slots> free_slots(k_slots);
    std::counting_semaphore<k_slots> full_slots(0);
    ssize_t lengths[k_slots] = {};  // bytes in the slot, 0 at the end, -errno on failure
    std::atomic<bool> stop{false};  // the hash failed: the reader must not wait for a slot

    const auto read_loop = [&] {
        for (int i = 0;; i = (i + 1) % k_slots) {
            free_slots.acquire();
            if (stop) {
                return;
            }
            ssize_t n = 0;
            do {
                n = ::read(fd, block.data + i * k_slot_size, k_slot_size);
            } while (n < 0 && errno == EINTR);
            lengths[i] = n < 0 ? -errno : n;
            full_slots.release();
            if (n <= 0) {
                return;
            }
        }
    };
    std::thread reader;
    try {
        reader = std::thread(read_loop);
    } catch (const std::system_error&) {
        return plain_hash(fd, hash, bytes_read, UINT64_MAX, progress);  // no thread to spare
    }

    int result = 0;
    try {
        for (int i = 0;; i = (i + 1) % k_slots) {
            full_slots.acquire();
            if (lengths[i] <= 0) {
                result = static_cast<int>(-lengths[i]);
                break;
            }
            hash.update(block.data + i * k_slot_size, static_cast<size_t>(lengths[i]));
            bytes_read += static_cast<uint64_t>(lengths[i]);
            if (progress != nullptr) {
                progress->fetch_add(static_cast<uint64_t>(lengths[i]), std::memory_order_relaxed);
            }
            free_slots.release();
        }
    } catch (...) {
        // One release wakes the reader, which then sees `stop`; it cannot overflow the
        // semaphore, since this thread still holds the slot it was hashing.
        stop = true;
        free_slots.release();
        reader.join();
        throw;
    }
    reader.join();
    return result;
}

}  // namespace

int sha256_fd(int fd, Sha256& hash, uint64_t& bytes_read, uint64_t size_hint,
              std::atomic<uint64_t>* progress) {
    return size_hint >= k_read_ahead_min ? read_ahead_hash(fd, hash, bytes_read, progress)
                                         : plain_hash(fd, hash, bytes_read, size_hint, progress);
}

Digest sha256_file(const std::filesystem::path& path) {
    const auto fail = [&](const std::string& why) -> Digest {
        throw error::UsageError(fmt::format("cannot read '{}': {}", util::display_path(path), why));
    };
    // O_NONBLOCK so that naming a fifo fails below instead of waiting for a writer; it has no
    // effect on reads from a regular file.
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (f.fd < 0) {
        return fail(util::errno_message(errno));
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        return fail(util::errno_message(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        return fail(util::errno_message(EISDIR));
    }
    if (!S_ISREG(st.st_mode)) {
        return fail("not a regular file");
    }
    if (st.st_size > static_cast<off_t>(k_block_size)) {
        // Doubles the kernel's read-ahead window for a file read cold from disk.
        ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    Sha256 h;
    uint64_t bytes = 0;
    if (const int err = sha256_fd(f.fd, h, bytes, static_cast<uint64_t>(st.st_size)); err != 0) {
        return fail(util::errno_message(err));
    }
    return h.finish();
}

}  // namespace mloop::store
