// Directories as content: a tree's digest is the sha256 of its canonical listing.
//
// The listing has one record per entry, sorted bytewise by name, each
//
//     <mode> <kind> sha256:<64 hex>\t<name>\0
//
// with mode and kind normalised as git does: 100644 file, 100755 file (owner may execute),
// 040000 dir, 120000 link. A file's digest is that of its bytes, a directory's that of its own
// listing, a symlink's that of its target string; a symlink is never followed. Empty
// directories are entries like any other. Nothing else about an entry (owner, times, other
// permission bits) is part of the digest, so a tree hashes the same whoever made it, in
// whatever order, under whatever umask. Sockets, fifos and devices are refused, naming the
// path: they have no content to record.
//
// Note that this encoding has no header, so an empty directory and an empty file share the
// digest sha256("") and a file whose bytes happen to be a listing shares its tree's digest.
// Whoever needs to tell a tree from a file records which it was (ObjectStore::restore takes a
// kind for that reason).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/digest.hpp"
#include "store/hash_cache.hpp"

namespace mloop::store {

enum class EntryKind { file, dir, link };

constexpr uint32_t k_mode_file = 0100644;
constexpr uint32_t k_mode_exec = 0100755;
constexpr uint32_t k_mode_dir = 0040000;
constexpr uint32_t k_mode_link = 0120000;

struct TreeEntry {
    std::string name;
    EntryKind kind = EntryKind::file;
    uint32_t mode = k_mode_file;
    Digest digest;

    bool operator==(const TreeEntry&) const = default;
};

std::string_view kind_name(EntryKind kind);

// The normalised mode of a file, directory or symlink; nullopt for anything else.
std::optional<uint32_t> normalised_mode(uint32_t st_mode);

// The canonical listing of `entries` (sorted here; names must be unique).
std::string encode_tree(std::vector<TreeEntry> entries);

// The entries of a canonical listing, or nullopt when `listing` is not exactly what
// encode_tree would make (unsorted, duplicate or unsafe names such as "..", "a/b" or "",
// a mode that does not fit its kind, a malformed digest).
std::optional<std::vector<TreeEntry>> parse_tree(std::string_view listing);

// The digest of a file's bytes or of a directory's tree. A symlink named here is followed, as
// cp and tar follow the paths named on their command line (-H); symlinks inside a directory are
// not. Problems with the input are UsageError naming the path.
Digest hash_path(const std::filesystem::path& path);

// A directory read from disk: what hash_path and ObjectStore::put_tree walk.
struct ScanEntry {
    std::string name;
    EntryKind kind = EntryKind::file;
    uint32_t mode = k_mode_file;
    FileKey key;         // files: the stat seen while scanning
    size_t dir = 0;      // dirs: the index of its ScanDir
    std::string target;  // links: what it points at
    Digest digest;       // links: set by the scan; files: by the caller; dirs: by finish_tree
};

struct ScanDir {
    std::string path;                // as opened: the root as given, then root/a/b…
    std::vector<ScanEntry> entries;  // sorted by name
};

struct Scan {
    std::vector<ScanDir> dirs;   // dirs[0] is the root; every directory comes after its parent
    std::vector<size_t> levels;  // where each depth begins in `dirs`: 0, then 1, …
};

// Reads the tree under `root` (a directory) using up to `threads` threads.
Scan scan_tree(const std::filesystem::path& root, unsigned threads);

// Once every file entry has its digest: digests each directory, deepest first, the directories
// of one depth on up to `threads` threads, and returns the root's. `on_tree` (if given)
// receives each directory's listing and digest, children before their parent, possibly from
// several threads at once.
Digest finish_tree(
    Scan& scan, unsigned threads,
    const std::function<void(const std::string& listing, const Digest&)>& on_tree = nullptr);

// "root/name", without doubling a slash the root already ends with.
std::string join_path(const std::string& dir, std::string_view name);

}  // namespace mloop::store
