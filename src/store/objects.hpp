// The content-addressed store: .mloop/objects/sha256/ab/cdef… holds the bytes whose sha256 is
// abcdef…, read-only (SPEC §1).
//
// Writing an object. The bytes go to a fresh file in root/tmp/ (O_EXCL, 0600) on which the
// writer holds an flock(LOCK_EX) from creation to the end. They are cloned from the source
// (FICLONE, where the file system shares extents) or copied in large blocks, and the digest is
// taken from the bytes that land in the store: read back from the clone, or hashed from the
// very buffer each block is written from. So an object's name matches its content even if the
// source changes meanwhile. Then: fsync, fchmod 0444, rename into sha256/ab/ (the fan-out
// directory made 0700 as needed), fsync of the fan-out directory and of sha256/. An object that
// already exists is kept (its directories synced all the same) and the temporary file dropped. A
// crash at any point leaves either no object or the whole one, and at worst a temporary file that
// sweep_temp() removes.
//
// Temporary files of dead writers. A live writer holds the lock on its temporary file; the
// kernel drops it when the writer dies however it dies. sweep_temp() removes the files whose
// lock it can take. A writer that loses the race between creating its file and locking it
// (a sweeper took the lock in between and removed the file) sees that its path no longer
// names its file and starts over with a new name.
//
// Problems with the store (unwritable, disk full, a damaged object) are RegistryError (exit 4);
// a source file that cannot be read is UsageError naming it. Directories are created 0700
// whatever the umask. Every method may be called from several threads and processes at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "store/digest.hpp"

namespace mloop::store {

class ObjectStore {
  public:
    enum class Kind { file, tree };

    explicit ObjectStore(std::filesystem::path root);  // .mloop/objects; created when written

    // Stores a file's bytes (a symlink named here is followed) and returns their digest.
    Digest put_file(const std::filesystem::path& src);
    Digest put_bytes(std::string_view bytes);
    // Stores every file and symlink target under `dir` and one tree object (the listing, see
    // tree.hpp) per directory; returns the root's, which equals hash_path(dir) for an
    // unchanging directory. Files are copied on every core.
    Digest put_tree(const std::filesystem::path& dir);

    bool has(const Digest& digest) const;
    // Marks a stored object as just used: its mtime becomes now, as if it had been written.
    // `mloop gc` never deletes an object touched within its grace period, so a writer that finds
    // its bytes already stored calls this (put_* do it themselves) before it records a row naming
    // them. False when the object is not in the store: write it then.
    bool freshen(const Digest& digest) const;
    std::filesystem::path path_of(const Digest& digest) const;

    // Writes a writable copy of an object to `dest`, which must not exist (a tree may restore
    // into an empty directory). A tree object recreates the directory: files 0666 or 0777 less
    // the umask, symlinks as they were. Without `kind` an object that parses as a non-empty
    // tree listing is taken for a tree (see tree.hpp on why an empty one cannot be told from an
    // empty file). Every byte copied out is hashed, so a damaged object is a RegistryError,
    // never a silently wrong file.
    void restore(const Digest& digest, const std::filesystem::path& dest,
                 std::optional<Kind> kind = std::nullopt) const;

    // Re-hashes the object; false if it is missing, unreadable or does not match its name.
    bool verify(const Digest& digest) const;

    // Every object (sorted by digest) with its size. Files under sha256/ whose names are not
    // digests are skipped.
    void for_each(const std::function<void(const Digest&, uint64_t size)>& fn) const;

    // Deletes an object; deleting a missing one is not an error.
    void remove(const Digest& digest);

    // Removes the temporary files of dead writers; returns how many.
    size_t sweep_temp();

    const std::filesystem::path& root() const { return m_root; }

  private:
    class Temp;

    void ensure_layout() const;
    Temp make_temp() const;
    Digest commit(Temp& temp, const Digest& digest, uint64_t size) const;
    void sync_entry(const std::filesystem::path& fanout) const;
    Digest store_fd(int src_fd, const std::string& src_path, uint64_t size) const;
    Digest put_path(const std::string& src, bool follow) const;
    Digest put_string(std::string_view bytes) const;
    Kind sniff(const Digest& digest) const;
    void restore_file(const Digest& digest, const std::filesystem::path& dest, bool exec) const;
    // `created` (top level only) collects the entries made, for cleaning up after a failure.
    void restore_tree(const Digest& digest, const std::filesystem::path& dest,
                      std::vector<std::filesystem::path>* created) const;
    [[noreturn]] void fail(std::string_view action, int err) const;

    std::filesystem::path m_root;
    mutable std::atomic<bool> m_layout_ready{false};
};

}  // namespace mloop::store
