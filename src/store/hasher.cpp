#include "store/hasher.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "error/error.hpp"
#include "store/sha256.hpp"
#include "store/tree.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"

namespace mloop::store {

namespace fs = std::filesystem;

namespace {

// Below this many files, a few indexed lookups are cheaper than reading the whole cache.
constexpr size_t k_preload_min_files = 64;

[[noreturn]] void unreadable(const std::string& path, const std::string& why) {
    throw error::UsageError(fmt::format("cannot read '{}': {}", util::display_path(path), why));
}

struct Job {
    const ScanDir* dir;       // the directory it was found in, or null for a file named as input
    const std::string* name;  // within `dir`, or the path as named
    const FileKey* key;       // as the scan (or the stat of a named file) saw it
    Digest* out;
    bool dir_is_root;  // `dir` was named as input: it may be reached through a symlink

    std::string path() const { return dir == nullptr ? *name : join_path(dir->path, *name); }
};

class Fd {
  public:
    Fd() = default;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(-1); }
    void reset(int fd) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = fd;
    }
    int get() const { return m_fd; }

  private:
    int m_fd = -1;
};

// A worker's open directory: files are opened relative to it, so that the kernel walks one
// path component per file rather than the whole path. Jobs come in directory order, so each
// worker opens each directory about once.
struct DirHandle {
    const ScanDir* dir = nullptr;
    Fd fd;

    int open_for(const Job& job) {
        if (job.dir == nullptr) {
            return AT_FDCWD;
        }
        if (job.dir != dir) {
            dir = nullptr;
            fd.reset(::open(job.dir->path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                                       (job.dir_is_root ? 0 : O_NOFOLLOW)));
            if (fd.get() < 0) {
                unreadable(job.dir->path, util::errno_message(errno));
            }
            dir = job.dir;
        }
        return fd.get();
    }
};

// Hashes one file into `out`. Returns the key to cache the digest under: the stat of the very
// file read, taken from its descriptor before the read (not the scan's, which may name a file
// renamed away since, perhaps still alive under a hard link elsewhere); or nullopt when the
// bytes read are not the size that stat promised.
//
// There is no second fstat after the read. A write during or after the read sets the ctime to
// a moment after the batch began, so the key taken before the read can never match the file
// again and the cache never serves the entry: HashCache::record only keeps keys whose times
// are well before the batch began.
std::optional<FileKey> hash_file(const Job& job, DirHandle& dir, Digest& out,
                                 std::atomic<uint64_t>& bytes_read) {
    // O_NONBLOCK: should the file have been replaced by a fifo since the scan, fail below
    // rather than wait for a writer. O_NOFOLLOW: nor follow a symlink swapped in for it.
    Fd f;
    f.reset(::openat(
        dir.open_for(job), job.name->c_str(),
        O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (job.dir == nullptr ? 0 : O_NOFOLLOW)));
    struct stat st {};
    if (f.get() < 0 || ::fstat(f.get(), &st) != 0) {
        unreadable(job.path(), util::errno_message(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        unreadable(job.path(), "not a regular file any more");
    }
    const FileKey key = FileKey::from_stat(st);
    // One context per thread, reused: allocating one per file costs more than hashing a
    // kilobyte.
    thread_local Sha256 h;
    h.reset();
    uint64_t n = 0;
    if (const int err = sha256_fd(f.get(), h, n, key.size, &bytes_read)) {
        unreadable(job.path(), util::errno_message(err));
    }
    out = h.finish();
    if (n != key.size) {
        return std::nullopt;
    }
    return key;
}

}  // namespace

Hasher::Hasher() : Hasher(Options{}) {}

Hasher::Hasher(Options options) : m_options(std::move(options)) {
    if (m_options.threads == 0) {
        m_options.threads = util::default_threads();
    }
}

HashResult Hasher::hash(const std::vector<fs::path>& paths) {
    // Taken before any stat: see HashCache::record.
    const int64_t observed_at = wall_clock_ns();
    HashResult result;
    result.digests.resize(paths.size());

    // The inputs as named: files and directories. Nothing is moved once jobs point into it.
    std::vector<std::string> named(paths.size());
    std::vector<FileKey> named_keys(paths.size());
    std::vector<size_t> file_inputs;
    std::vector<size_t> dir_inputs;
    for (size_t i = 0; i < paths.size(); ++i) {
        named[i] = paths[i].string();
        struct stat st {};
        if (::stat(named[i].c_str(), &st) != 0) {
            unreadable(named[i], util::errno_message(errno));
        }
        if (S_ISREG(st.st_mode)) {
            named_keys[i] = FileKey::from_stat(st);
            file_inputs.push_back(i);
        } else if (S_ISDIR(st.st_mode)) {
            dir_inputs.push_back(i);
        } else {
            throw error::UsageError(
                fmt::format("cannot hash '{}': not a file, directory or symlink",
                            util::display_path(named[i])));
        }
    }

    // Loading the whole cache pays when there are many files to look up; it runs while the
    // directories are scanned, which spends its time waiting in stat.
    HashCache* cache = m_options.cache;
    std::thread loader;
    std::exception_ptr load_failure;
    if (cache != nullptr && (!dir_inputs.empty() || file_inputs.size() >= k_preload_min_files)) {
        const auto load = [cache, &load_failure] {
            try {
                cache->preload();
            } catch (...) {
                load_failure = std::current_exception();
            }
        };
        try {
            loader = std::thread(load);
        } catch (const std::system_error&) {
            load();
        }
    }
    struct Joiner {
        std::thread& t;
        ~Joiner() {
            if (t.joinable()) {
                t.join();
            }
        }
    } joiner{loader};

    std::vector<Scan> scans;
    scans.reserve(dir_inputs.size());
    for (const size_t i : dir_inputs) {
        scans.push_back(scan_tree(named[i], m_options.threads));
    }
    if (loader.joinable()) {
        loader.join();
    }
    if (load_failure) {
        std::rethrow_exception(load_failure);
    }

    std::vector<Job> jobs;
    size_t total_files = file_inputs.size();
    for (const Scan& scan : scans) {
        for (const ScanDir& dir : scan.dirs) {
            for (const ScanEntry& e : dir.entries) {
                total_files += e.kind == EntryKind::file;
            }
        }
    }
    jobs.reserve(total_files);
    for (const size_t i : file_inputs) {
        jobs.push_back(Job{nullptr, &named[i], &named_keys[i], &result.digests[i], false});
    }
    for (Scan& scan : scans) {
        for (size_t d = 0; d < scan.dirs.size(); ++d) {
            for (ScanEntry& e : scan.dirs[d].entries) {
                if (e.kind == EntryKind::file) {
                    jobs.push_back(Job{&scan.dirs[d], &e.name, &e.key, &e.digest, d == 0});
                }
            }
        }
    }
    result.stats.files = jobs.size();

    // The cache answers what it can without a read.
    std::vector<size_t> misses;
    uint64_t bytes_total = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
        if (cache != nullptr) {
            if (auto d = cache->lookup(*jobs[j].key)) {
                *jobs[j].out = *d;
                ++result.stats.files_from_cache;
                continue;
            }
        }
        misses.push_back(j);
        bytes_total += jobs[j].key->size;
    }

    // The rest are read on every core. Each result slot is written by one worker only.
    std::vector<std::optional<FileKey>> stable(misses.size());
    std::atomic<uint64_t> bytes_read{0};
    std::atomic<bool> cancelled{false};
    std::vector<DirHandle> dirs(m_options.threads);
    const auto work = [&](size_t k, unsigned worker) {
        if (!cancelled.load(std::memory_order_relaxed)) {
            const Job& job = jobs[misses[k]];
            stable[k] = hash_file(job, dirs[worker], *job.out, bytes_read);
        }
    };
    if (!m_options.progress) {
        util::parallel_for_workers(misses.size(), m_options.threads, work);
    } else {
        // The callback runs here, on the caller's thread, while a runner thread drives the
        // workers: a progress bar never has to be thread-safe.
        std::mutex m;
        std::condition_variable cv;
        bool finished = false;
        std::exception_ptr failure;
        std::thread runner([&] {
            try {
                util::parallel_for_workers(misses.size(), m_options.threads, work);
            } catch (...) {
                failure = std::current_exception();
            }
            const std::lock_guard lock(m);
            finished = true;
            cv.notify_one();
        });
        try {
            std::unique_lock lock(m);
            while (!cv.wait_for(lock, m_options.progress_interval, [&] { return finished; })) {
                lock.unlock();
                m_options.progress(bytes_read.load(), bytes_total);
                lock.lock();
            }
        } catch (...) {
            cancelled = true;  // the callback threw (an interrupt, say): stop and pass it on
            runner.join();
            throw;
        }
        runner.join();
        if (failure) {
            std::rethrow_exception(failure);
        }
        m_options.progress(bytes_read.load(), bytes_total);
    }
    result.stats.files_hashed = misses.size();
    result.stats.bytes_read = bytes_read.load();

    if (cache != nullptr) {
        for (size_t k = 0; k < misses.size(); ++k) {
            if (stable[k] && cache->record(*stable[k], *jobs[misses[k]].out, observed_at)) {
                ++result.stats.files_cached;
            }
        }
        cache->flush();
    }

    for (size_t k = 0; k < scans.size(); ++k) {
        result.digests[dir_inputs[k]] = finish_tree(scans[k], m_options.threads);
    }
    return result;
}

}  // namespace mloop::store
