#include "store/objects.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "error/error.hpp"
#include "store/hasher.hpp"
#include "store/sha256.hpp"
#include "store/tree.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"

namespace mloop::store {

namespace fs = std::filesystem;

namespace {

constexpr mode_t k_object_mode = 0444;
constexpr mode_t k_dir_mode = 0700;
// Tree objects and symlink targets are read whole; a listing of a million entries is ~100 MB.
constexpr size_t k_max_tree_bytes = size_t{1} << 30;
constexpr size_t k_max_link_bytes = size_t{1} << 16;
constexpr size_t k_fanout_chars = 2;

class Fd {
  public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    Fd(Fd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    Fd& operator=(Fd&&) = delete;
    ~Fd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    int get() const { return m_fd; }

  private:
    int m_fd;
};

[[noreturn]] void source_error(const std::string& path, const std::string& why) {
    throw error::UsageError(fmt::format("cannot read '{}': {}", util::display_path(path), why));
}

[[noreturn]] void dest_error(const fs::path& path, const std::string& action, int err) {
    throw error::UsageError(fmt::format("cannot {} '{}': {}", action, util::display_path(path),
                                        util::errno_message(err)));
}

[[noreturn]] void damaged(const Digest& d, std::string_view why) {
    throw error::RegistryError(fmt::format("object {} is damaged: {}", d.str(), why),
                               "run 'mloop fsck' to see what is damaged");
}

std::string random_name() {
    uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
        r ^= static_cast<uint64_t>(wall_clock_ns());  // O_EXCL still guards against a clash
    }
    return fmt::format("{}-{:016x}", ::getpid(), r);
}

bool write_all(int fd, const std::byte* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// Copies src to dst (a fresh, empty file) and hashes the bytes that land in dst: read back
// after a clone, or taken from the buffer each block is written from. Returns 0 or an errno,
// with `src_failed` saying whose file it was.
int copy_hashed(int src, int dst, uint64_t size, Sha256& h, uint64_t& bytes, bool& src_failed) {
    src_failed = false;
    // FICLONE shares the extents on btrfs, XFS and others: no bytes copied, and none read twice
    // by a later restore. Elsewhere (ext4, tmpfs) it fails at once and we copy.
    if (size > 0 && ::ioctl(dst, FICLONE, src) == 0) {
        return sha256_fd(dst, h, bytes, size);
    }
    const Block block = thread_block();
    while (true) {
        const ssize_t n = ::read(src, block.data, block.size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            src_failed = true;
            return errno;
        }
        if (n == 0) {
            return 0;
        }
        h.update(block.data, static_cast<size_t>(n));
        if (!write_all(dst, block.data, static_cast<size_t>(n))) {
            return errno;
        }
        bytes += static_cast<uint64_t>(n);
    }
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string> list_dir(const fs::path& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        return names;
    }
    while (const dirent* de = ::readdir(d)) {
        const std::string_view name = de->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    ::closedir(d);
    return names;
}

}  // namespace

// A temporary file in root/tmp, locked by this writer, unlinked unless committed.
class ObjectStore::Temp {
  public:
    Temp(Fd fd, std::string path) : m_fd(std::move(fd)), m_path(std::move(path)) {}
    Temp(Temp&& o) noexcept
        : m_fd(std::move(o.m_fd)), m_path(std::move(o.m_path)), m_keep(o.m_keep) {
        o.m_keep = true;
    }
    Temp& operator=(Temp&&) = delete;
    ~Temp() {
        // Unlinked while still locked, so no sweeper can mistake it for a dead writer's.
        if (!m_keep) {
            ::unlink(m_path.c_str());
        }
    }
    int fd() const { return m_fd.get(); }
    const std::string& path() const { return m_path; }
    void keep() { m_keep = true; }

  private:
    Fd m_fd;
    std::string m_path;
    bool m_keep = false;
};

ObjectStore::ObjectStore(fs::path root) : m_root(std::move(root)) {}

void ObjectStore::fail(std::string_view action, int err) const {
    std::string hint;
    if (err == ENOSPC || err == EDQUOT) {
        hint = "free space on the store's disk; the objects already stored are intact";
    }
    throw error::RegistryError(fmt::format("store '{}': cannot {}: {}", util::display_path(m_root),
                                           action, util::errno_message(err)),
                               hint);
}

fs::path ObjectStore::path_of(const Digest& digest) const {
    const std::string hex = digest.hex();
    return m_root / "sha256" / hex.substr(0, k_fanout_chars) / hex.substr(k_fanout_chars);
}

void ObjectStore::ensure_layout() const {
    if (m_layout_ready.load(std::memory_order_acquire)) {
        return;
    }
    // The root's missing parents too (.mloop when the store is used before init made it).
    std::vector<fs::path> missing;
    for (fs::path p = m_root; !p.empty(); p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) {
            break;
        }
        missing.push_back(p);
        if (p == p.parent_path()) {
            break;
        }
    }
    std::reverse(missing.begin(), missing.end());
    missing.push_back(m_root / "tmp");
    missing.push_back(m_root / "sha256");
    for (const fs::path& dir : missing) {
        if (::mkdir(dir.c_str(), k_dir_mode) == 0) {
            // mkdir's mode passes through the umask, which may have taken the owner's bits.
            if (::chmod(dir.c_str(), k_dir_mode) != 0) {
                fail(fmt::format("set the mode of '{}'", util::display_path(dir)), errno);
            }
        } else if (errno != EEXIST) {
            fail(fmt::format("create '{}'", util::display_path(dir)), errno);
        }
    }
    m_layout_ready.store(true, std::memory_order_release);
}

ObjectStore::Temp ObjectStore::make_temp() const {
    ensure_layout();
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string path = (m_root / "tmp" / random_name()).string();
        Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (fd.get() < 0) {
            if (errno == EEXIST) {
                continue;
            }
            if (errno == ENOENT) {
                m_layout_ready = false;  // someone removed tmp/: make it again
                ensure_layout();
                continue;
            }
            fail("create a temporary file", errno);
        }
        Temp temp(std::move(fd), std::move(path));
        while (::flock(temp.fd(), LOCK_EX) != 0) {
            if (errno != EINTR) {
                fail("lock a temporary file", errno);
            }
        }
        // A sweeper may have locked and removed the file between our open and our flock.
        struct stat mine {};
        struct stat named {};
        if (::fstat(temp.fd(), &mine) == 0 && ::lstat(temp.path().c_str(), &named) == 0 &&
            mine.st_dev == named.st_dev && mine.st_ino == named.st_ino) {
            return temp;
        }
        temp.keep();  // the name is no longer ours to unlink
    }
    fail("create a temporary file", EEXIST);
}

void ObjectStore::sync_entry(const fs::path& fanout) const {
    // The object's entry in its fan-out directory, and that directory's in sha256/. When
    // nothing changed, as when another writer already synced them, this costs microseconds.
    for (const fs::path& dir : {fanout, m_root / "sha256"}) {
        Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
            fail("sync a directory", errno);
        }
    }
}

Digest ObjectStore::commit(Temp& temp, const Digest& digest, uint64_t size) const {
    const fs::path target = path_of(digest);
    const fs::path fanout = target.parent_path();
    struct stat st {};
    // Already stored: keep it, but make sure it is durable before the caller records it. Its
    // writer may have been killed between its rename and its sync. (An object of the wrong
    // size, left by damage, is replaced below.)
    if (::lstat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) == size) {
        freshen(digest);  // re-used: keep it from gc until the caller has recorded it
        sync_entry(fanout);
        return digest;
    }
    if (::fsync(temp.fd()) != 0) {
        fail("write an object", errno);
    }
    if (::fchmod(temp.fd(), k_object_mode) != 0) {
        fail("make an object read-only", errno);
    }
    if (::mkdir(fanout.c_str(), k_dir_mode) == 0) {
        if (::chmod(fanout.c_str(), k_dir_mode) != 0) {
            fail("set the mode of a directory", errno);
        }
    } else if (errno != EEXIST) {
        fail("create a directory", errno);
    }
    if (::rename(temp.path().c_str(), target.c_str()) != 0) {
        fail("rename an object into place", errno);
    }
    temp.keep();
    sync_entry(fanout);
    return digest;
}

Digest ObjectStore::store_fd(int src_fd, const std::string& src_path, uint64_t size) const {
    Temp temp = make_temp();
    Sha256 h;
    uint64_t bytes = 0;
    bool src_failed = false;
    if (const int err = copy_hashed(src_fd, temp.fd(), size, h, bytes, src_failed)) {
        if (src_failed) {
            source_error(src_path, util::errno_message(err));
        }
        fail("write an object", err);
    }
    return commit(temp, h.finish(), bytes);
}

Digest ObjectStore::put_path(const std::string& src, bool follow) const {
    Fd fd(::open(src.c_str(),
                 O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW)));
    if (fd.get() < 0) {
        source_error(src, util::errno_message(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        source_error(src, util::errno_message(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        source_error(src, util::errno_message(EISDIR));
    }
    if (!S_ISREG(st.st_mode)) {
        source_error(src, "not a regular file");
    }
    return store_fd(fd.get(), src, static_cast<uint64_t>(st.st_size));
}

Digest ObjectStore::put_string(std::string_view bytes) const {
    Temp temp = make_temp();
    // Hashed from the same buffer the write takes its bytes from.
    const Digest digest = sha256(bytes);
    if (!write_all(temp.fd(), reinterpret_cast<const std::byte*>(bytes.data()), bytes.size())) {
        fail("write an object", errno);
    }
    return commit(temp, digest, bytes.size());
}

Digest ObjectStore::put_file(const fs::path& src) {
    return put_path(src.string(), true);
}

Digest ObjectStore::put_bytes(std::string_view bytes) {
    return put_string(bytes);
}

Digest ObjectStore::put_tree(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        source_error(dir.string(), util::errno_message(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        source_error(dir.string(), util::errno_message(ENOTDIR));
    }
    const unsigned threads = util::default_threads();
    Scan scan = scan_tree(dir, threads);
    std::vector<std::pair<std::string, ScanEntry*>> files;
    for (ScanDir& d : scan.dirs) {
        for (ScanEntry& e : d.entries) {
            if (e.kind == EntryKind::file) {
                files.emplace_back(join_path(d.path, e.name), &e);
            } else if (e.kind == EntryKind::link) {
                put_string(e.target);
            }
        }
    }
    util::parallel_for(files.size(), threads, [&](size_t i) {
        files[i].second->digest = put_path(files[i].first, false);
    });
    return finish_tree(scan, threads,
                       [&](const std::string& listing, const Digest&) { put_string(listing); });
}

bool ObjectStore::has(const Digest& digest) const {
    struct stat st {};
    return ::lstat(path_of(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ObjectStore::verify(const Digest& digest) const {
    Fd fd(::open(path_of(digest).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return false;
    }
    Sha256 h;
    uint64_t bytes = 0;
    return sha256_fd(fd.get(), h, bytes, static_cast<uint64_t>(st.st_size)) == 0 &&
           h.finish() == digest;
}

bool ObjectStore::freshen(const Digest& digest) const {
    // Failure other than absence (a store shared read-only) only shortens the object's grace.
    return ::utimensat(AT_FDCWD, path_of(digest).c_str(), nullptr, AT_SYMLINK_NOFOLLOW) == 0 ||
           errno != ENOENT;
}

void ObjectStore::for_each(const std::function<void(const Digest&, uint64_t)>& fn) const {
    std::vector<std::pair<Digest, uint64_t>> objects;
    const fs::path base = m_root / "sha256";
    for (const std::string& fan : list_dir(base)) {
        if (fan.size() != k_fanout_chars || !is_hex(fan)) {
            continue;
        }
        for (const std::string& rest : list_dir(base / fan)) {
            const auto d = Digest::parse("sha256:" + fan + rest);
            struct stat st {};
            if (d && ::lstat((base / fan / rest).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
                objects.emplace_back(*d, static_cast<uint64_t>(st.st_size));
            }
        }
    }
    std::sort(objects.begin(), objects.end());
    for (const auto& [d, size] : objects) {
        fn(d, size);
    }
}

void ObjectStore::remove(const Digest& digest) {
    if (::unlink(path_of(digest).c_str()) != 0 && errno != ENOENT) {
        fail("remove an object", errno);
    }
}

size_t ObjectStore::sweep_temp() {
    size_t removed = 0;
    const fs::path tmp = m_root / "tmp";
    for (const std::string& name : list_dir(tmp)) {
        const std::string path = (tmp / name).string();
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
        if (fd.get() < 0) {
            continue;  // gone (its writer finished) or not ours to judge
        }
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            continue;  // its writer is alive
        }
        // Still the file we locked, not an object it has meanwhile been renamed into.
        struct stat mine {};
        struct stat named {};
        if (::fstat(fd.get(), &mine) == 0 && S_ISREG(mine.st_mode) &&
            ::lstat(path.c_str(), &named) == 0 && mine.st_dev == named.st_dev &&
            mine.st_ino == named.st_ino) {
            if (::unlink(path.c_str()) == 0) {
                ++removed;
            } else if (errno != ENOENT) {
                fail("remove a temporary file", errno);
            }
        }
    }
    return removed;
}

ObjectStore::Kind ObjectStore::sniff(const Digest& digest) const {
    // Only a file that starts like a listing is read whole to find out.
    Fd fd(::open(path_of(digest).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    char head[24] = {};
    const ssize_t n = fd.get() < 0 ? -1 : ::pread(fd.get(), head, sizeof head, 0);
    if (n < 20) {
        return Kind::file;
    }
    const std::string_view start(head, 7);
    if (start != "100644 " && start != "100755 " && start != "040000 " && start != "120000 ") {
        return Kind::file;
    }
    auto bytes = util::read_file(path_of(digest), k_max_tree_bytes);
    if (!bytes.ok()) {
        return Kind::file;
    }
    const auto entries = parse_tree(bytes.value());
    return entries && !entries->empty() ? Kind::tree : Kind::file;
}

void ObjectStore::restore_file(const Digest& digest, const fs::path& dest, bool exec) const {
    Fd src(::open(path_of(digest).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st {};
    if (src.get() < 0 || ::fstat(src.get(), &st) != 0) {
        if (errno == ENOENT) {
            throw error::RegistryError(fmt::format("object {} is not in the store '{}'",
                                                   digest.str(), util::display_path(m_root)),
                                       "run 'mloop fsck' to see what is missing");
        }
        fail(fmt::format("read object {}", digest.str()), errno);
    }
    Fd out(::open(dest.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  exec ? 0777 : 0666));
    if (out.get() < 0) {
        if (errno == EEXIST) {
            throw error::UsageError(fmt::format("'{}' already exists", util::display_path(dest)));
        }
        dest_error(dest, "create", errno);
    }
    Sha256 h;
    uint64_t bytes = 0;
    bool src_failed = false;
    const int err =
        copy_hashed(src.get(), out.get(), static_cast<uint64_t>(st.st_size), h, bytes, src_failed);
    if (err != 0 || h.finish() != digest) {
        ::unlink(dest.c_str());
        if (err != 0 && !src_failed) {
            dest_error(dest, "write", err);
        }
        if (err != 0) {
            fail(fmt::format("read object {}", digest.str()), err);
        }
        damaged(digest, "its bytes no longer match its name");
    }
}

void ObjectStore::restore_tree(const Digest& digest, const fs::path& dest,
                               std::vector<fs::path>* created) const {
    auto bytes = util::read_file(path_of(digest), k_max_tree_bytes);
    if (!bytes.ok()) {
        if (!has(digest)) {
            throw error::RegistryError(fmt::format("object {} is not in the store '{}'",
                                                   digest.str(), util::display_path(m_root)),
                                       "run 'mloop fsck' to see what is missing");
        }
        throw error::RegistryError(bytes.error());
    }
    // Checked before use: a damaged listing could otherwise name itself and never end.
    if (sha256(bytes.value()) != digest) {
        damaged(digest, "its bytes no longer match its name");
    }
    const auto entries = parse_tree(bytes.value());
    if (!entries) {
        throw error::RegistryError(fmt::format("object {} is not a tree", digest.str()));
    }
    // The top level may exist (restore() checked that it is an empty directory); below it,
    // everything is new.
    if (::mkdir(dest.c_str(), 0777) != 0 && (created == nullptr || errno != EEXIST)) {
        if (errno == EEXIST) {
            throw error::UsageError(fmt::format("'{}' already exists", util::display_path(dest)));
        }
        dest_error(dest, "create", errno);
    }
    for (const TreeEntry& e : *entries) {
        const fs::path path = dest / e.name;
        struct stat st {};
        if (created != nullptr && ::lstat(path.c_str(), &st) != 0) {
            created->push_back(path);  // ours to remove should the restore fail
        }
        switch (e.kind) {
            case EntryKind::file:
                restore_file(e.digest, path, e.mode == k_mode_exec);
                break;
            case EntryKind::dir:
                restore_tree(e.digest, path, nullptr);
                break;
            case EntryKind::link: {
                auto target = util::read_file(path_of(e.digest), k_max_link_bytes);
                if (!target.ok()) {
                    throw error::RegistryError(
                        fmt::format("object {} (the target of '{}') cannot be read: {}",
                                    e.digest.str(), util::display_path(path), target.error()));
                }
                if (sha256(target.value()) != e.digest) {
                    damaged(e.digest, "its bytes no longer match its name");
                }
                if (::symlink(target.value().c_str(), path.c_str()) != 0) {
                    dest_error(path, "create", errno);
                }
                break;
            }
        }
    }
}

void ObjectStore::restore(const Digest& digest, const fs::path& dest,
                          std::optional<Kind> kind) const {
    if (!has(digest)) {
        throw error::RegistryError(fmt::format("object {} is not in the store '{}'", digest.str(),
                                               util::display_path(m_root)),
                                   "run 'mloop fsck' to see what is missing");
    }
    if ((kind ? *kind : sniff(digest)) == Kind::file) {
        restore_file(digest, dest, false);
        return;
    }
    // Refused before anything is written: only an absent path or an empty directory will do.
    std::error_code ec;
    const bool existed = fs::exists(fs::symlink_status(dest, ec));
    if (existed && !(fs::is_directory(fs::symlink_status(dest, ec)) && fs::is_empty(dest, ec))) {
        throw error::UsageError(fmt::format("'{}' already exists", util::display_path(dest)));
    }
    std::vector<fs::path> created;
    try {
        restore_tree(digest, dest, &created);
    } catch (...) {
        // Leave nothing half-restored behind, and remove only what this restore made.
        if (!existed) {
            fs::remove_all(dest, ec);
        } else {
            for (const fs::path& p : created) {
                fs::remove_all(p, ec);
            }
        }
        throw;
    }
}

}  // namespace mloop::store
