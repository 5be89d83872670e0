#include "store/tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include <fmt/format.h>

#include "error/error.hpp"
#include "store/hasher.hpp"
#include "store/sha256.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"

namespace mloop::store {

namespace {

[[noreturn]] void unreadable(const std::string& path, int err) {
    throw error::UsageError(
        fmt::format("cannot read '{}': {}", util::display_path(path), util::errno_message(err)));
}

const char* special_kind(uint32_t st_mode) {
    switch (st_mode & S_IFMT) {
        case S_IFIFO:
            return "a fifo";
        case S_IFSOCK:
            return "a socket";
        case S_IFCHR:
            return "a character device";
        case S_IFBLK:
            return "a block device";
        default:
            return "an unknown kind of file";
    }
}

// "<mode> <kind> sha256:" for each (mode, kind) that can occur.
std::string_view record_head(uint32_t mode) {
    switch (mode) {
        case k_mode_exec:
            return "100755 file sha256:";
        case k_mode_dir:
            return "040000 dir sha256:";
        case k_mode_link:
            return "120000 link sha256:";
        default:
            return "100644 file sha256:";
    }
}

// Appends one record; `mode` and `kind` agree and `name` is safe, as the callers ensure. Built
// by hand: a second pass over 100 000 cached files spends its time here and in stat.
void append_record(std::string& out, uint32_t mode, const Digest& digest, std::string_view name) {
    static constexpr char k_hex[] = "0123456789abcdef";
    out += record_head(mode);
    const size_t at = out.size();
    out.resize(at + 2 * digest.bytes.size());
    char* p = out.data() + at;
    for (const uint8_t b : digest.bytes) {
        *p++ = k_hex[b >> 4];
        *p++ = k_hex[b & 0xf];
    }
    out += '\t';
    out += name;
    out += '\0';
}

bool safe_name(std::string_view name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

std::string read_link(int dir_fd, const char* name, const std::string& shown) {
    std::string target(256, '\0');
    while (true) {
        const ssize_t n = ::readlinkat(dir_fd, name, target.data(), target.size());
        if (n < 0) {
            unreadable(shown, errno);
        }
        if (static_cast<size_t>(n) < target.size()) {
            target.resize(static_cast<size_t>(n));
            return target;
        }
        target.resize(target.size() * 2);
    }
}

struct DirCloser {
    DIR* dir;
    ~DirCloser() { ::closedir(dir); }
};

// Fills dir.entries from disk. Only the root may be reached through a symlink.
void read_dir(ScanDir& dir, bool is_root) {
    const int fd =
        ::open(dir.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (is_root ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        unreadable(dir.path, errno);
    }
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
        const int err = errno;
        ::close(fd);
        unreadable(dir.path, err);
    }
    DirCloser closer{d};
    while (true) {
        errno = 0;
        const dirent* de = ::readdir(d);
        if (de == nullptr) {
            if (errno != 0) {
                unreadable(dir.path, errno);
            }
            break;
        }
        const std::string_view name = de->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        ScanEntry e;
        e.name = name;
        if (de->d_type == DT_DIR) {
            // Its mode is always 040000 and its key unused: no stat needed.
            e.kind = EntryKind::dir;
            e.mode = k_mode_dir;
            dir.entries.push_back(std::move(e));
            continue;
        }
        struct stat st {};
        if (::fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue;  // deleted since readdir: it is not part of the tree any more
            }
            unreadable(join_path(dir.path, name), errno);
        }
        const auto mode = normalised_mode(st.st_mode);
        if (!mode) {
            throw error::UsageError(fmt::format(
                "cannot hash '{}': {} is not a file, directory "
                "or symlink",
                util::display_path(join_path(dir.path, name)), special_kind(st.st_mode)));
        }
        e.mode = *mode;
        if (S_ISREG(st.st_mode)) {
            e.kind = EntryKind::file;
            e.key = FileKey::from_stat(st);
        } else if (S_ISLNK(st.st_mode)) {
            e.kind = EntryKind::link;
            e.target = read_link(fd, de->d_name, join_path(dir.path, name));
            e.digest = sha256(e.target);
        } else {
            e.kind = EntryKind::dir;
        }
        dir.entries.push_back(std::move(e));
    }
    std::sort(dir.entries.begin(), dir.entries.end(),
              [](const ScanEntry& a, const ScanEntry& b) { return a.name < b.name; });
}

}  // namespace

std::string_view kind_name(EntryKind kind) {
    switch (kind) {
        case EntryKind::file:
            return "file";
        case EntryKind::dir:
            return "dir";
        case EntryKind::link:
            return "link";
    }
    return "file";
}

std::optional<uint32_t> normalised_mode(uint32_t st_mode) {
    switch (st_mode & S_IFMT) {
        case S_IFREG:
            return (st_mode & S_IXUSR) != 0 ? k_mode_exec : k_mode_file;
        case S_IFDIR:
            return k_mode_dir;
        case S_IFLNK:
            return k_mode_link;
        default:
            return std::nullopt;
    }
}

std::string join_path(const std::string& dir, std::string_view name) {
    std::string out;
    out.reserve(dir.size() + 1 + name.size());
    out += dir;
    if (!out.empty() && out.back() != '/') {
        out += '/';
    }
    out += name;
    return out;
}

std::string encode_tree(std::vector<TreeEntry> entries) {
    // std::string's ordering is char_traits<char>::compare, which compares as unsigned char:
    // bytewise, whatever the locale.
    std::sort(entries.begin(), entries.end(),
              [](const TreeEntry& a, const TreeEntry& b) { return a.name < b.name; });
    std::string out;
    for (size_t i = 0; i < entries.size(); ++i) {
        const TreeEntry& e = entries[i];
        if (i > 0 && entries[i - 1].name == e.name) {
            throw std::invalid_argument("encode_tree: duplicate name '" + e.name + "'");
        }
        const bool fits = e.kind == EntryKind::file
                              ? (e.mode == k_mode_file || e.mode == k_mode_exec)
                              : e.mode == (e.kind == EntryKind::dir ? k_mode_dir : k_mode_link);
        if (!fits || !safe_name(e.name)) {
            throw std::invalid_argument("encode_tree: bad entry '" + e.name + "'");
        }
        append_record(out, e.mode, e.digest, e.name);
    }
    return out;
}

std::optional<std::vector<TreeEntry>> parse_tree(std::string_view listing) {
    std::vector<TreeEntry> entries;
    while (!listing.empty()) {
        const size_t end = listing.find('\0');
        if (end == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view rec = listing.substr(0, end);
        listing.remove_prefix(end + 1);

        TreeEntry e;
        if (rec.size() < 7 || rec[6] != ' ') {
            return std::nullopt;
        }
        const std::string_view mode = rec.substr(0, 6);
        rec.remove_prefix(7);
        const size_t space = rec.find(' ');
        if (space == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view kind = rec.substr(0, space);
        rec.remove_prefix(space + 1);
        if (kind == "file" && mode == "100644") {
            e.kind = EntryKind::file;
            e.mode = k_mode_file;
        } else if (kind == "file" && mode == "100755") {
            e.kind = EntryKind::file;
            e.mode = k_mode_exec;
        } else if (kind == "dir" && mode == "040000") {
            e.kind = EntryKind::dir;
            e.mode = k_mode_dir;
        } else if (kind == "link" && mode == "120000") {
            e.kind = EntryKind::link;
            e.mode = k_mode_link;
        } else {
            return std::nullopt;
        }
        const size_t tab = rec.find('\t');
        if (tab == std::string_view::npos) {
            return std::nullopt;
        }
        const auto digest = Digest::parse(rec.substr(0, tab));
        const std::string_view name = rec.substr(tab + 1);
        if (!digest || !safe_name(name)) {
            return std::nullopt;
        }
        // Strictly increasing: sorted and unique, so there is one listing per tree.
        if (!entries.empty() && !(entries.back().name < name)) {
            return std::nullopt;
        }
        e.digest = *digest;
        e.name = name;
        entries.push_back(std::move(e));
    }
    return entries;
}

Scan scan_tree(const std::filesystem::path& root, unsigned threads) {
    Scan scan;
    scan.dirs.push_back(ScanDir{root.string(), {}});
    // Level by level: the directories of one level are read in parallel, and then numbered in
    // order, so the numbering (and everything built on it) does not depend on timing.
    std::vector<size_t> level{0};
    while (!level.empty()) {
        scan.levels.push_back(level.front());
        util::parallel_for(level.size(), threads,
                           [&](size_t i) { read_dir(scan.dirs[level[i]], level[i] == 0); });
        std::vector<size_t> next;
        for (const size_t parent : level) {
            for (size_t j = 0; j < scan.dirs[parent].entries.size(); ++j) {
                if (scan.dirs[parent].entries[j].kind != EntryKind::dir) {
                    continue;
                }
                const size_t child = scan.dirs.size();
                scan.dirs[parent].entries[j].dir = child;
                std::string path =
                    join_path(scan.dirs[parent].path, scan.dirs[parent].entries[j].name);
                scan.dirs.push_back(ScanDir{std::move(path), {}});
                next.push_back(child);
            }
        }
        level = std::move(next);
    }
    return scan;
}

Digest finish_tree(Scan& scan, unsigned threads,
                   const std::function<void(const std::string& listing, const Digest&)>& on_tree) {
    std::vector<Digest> digests(scan.dirs.size());
    for (size_t l = scan.levels.size(); l-- > 0;) {
        const size_t begin = scan.levels[l];
        const size_t end = l + 1 < scan.levels.size() ? scan.levels[l + 1] : scan.dirs.size();
        util::parallel_for(end - begin, threads, [&](size_t k) {
            const size_t i = begin + k;
            std::string listing;
            for (ScanEntry& e : scan.dirs[i].entries) {
                if (e.kind == EntryKind::dir) {
                    e.digest = digests[e.dir];  // a deeper level: already done
                }
                append_record(listing, e.mode, e.digest, e.name);
            }
            digests[i] = sha256(listing);
            if (on_tree) {
                on_tree(listing, digests[i]);
            }
        });
    }
    return digests[0];
}

Digest hash_path(const std::filesystem::path& path) {
    return Hasher().hash({path}).digests.at(0);
}

}  // namespace mloop::store
