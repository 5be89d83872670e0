// The bytes of one data file, read in large blocks: a byte range of a regular file (so two
// threads can each read half), a pipe read once, or a gzip stream inflated as it is read.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "error/error.hpp"

namespace mloop::store {
class Sha256;
}

namespace mloop::data {

// Malformed data: the file is read but cannot be taken as CSV or JSON lines. Readers say where
// (row and column); a source leaves that to the reader that called it. It is a failed check
// (exit 1), not a usage error: the data is what failed.
class DataError : public error::CheckFailed {
  public:
    DataError(std::string message, uint64_t row = 0, uint64_t column = 0,
              std::string column_name = {}, std::string hint = {})
        : error::CheckFailed(message, std::move(hint)),
          m_message(std::move(message)),
          m_row(row),
          m_column(column),
          m_column_name(std::move(column_name)) {}
    const std::string& message() const { return m_message; }
    uint64_t row() const { return m_row; }        // 0: not known
    uint64_t column() const { return m_column; }  // 0: not known
    const std::string& column_name() const { return m_column_name; }

  private:
    std::string m_message;
    uint64_t m_row;
    uint64_t m_column;
    std::string m_column_name;
};

// Thrown by a read that was told to stop: a part of a split file after one that failed, whose
// own reading no longer matters (the earlier part's error is the one reported).
class ReadCancelled : public std::exception {
  public:
    const char* what() const noexcept override { return "reading cancelled"; }
};

class Source {
  public:
    virtual ~Source() = default;
    // Up to `n` bytes of data into `dst`; 0 at the end. Damaged compressed data is a DataError;
    // a failed read is a UsageError naming the file.
    virtual size_t read(char* dst, size_t n) = 0;

    // Bytes of the file on disk consumed so far (compressed bytes for gzip), for progress.
    uint64_t consumed() const { return m_consumed; }

  protected:
    uint64_t m_consumed = 0;
};

constexpr uint64_t k_to_end = std::numeric_limits<uint64_t>::max();

// A byte range of a file being read that another thread may take the rest of: the reader takes
// bytes from its front, and a thread with nothing left to do cuts it short and reads the part
// after the cut itself (mloop monitor's readers share the work so).
class SharedRange {
  public:
    SharedRange(uint64_t begin, uint64_t end) : m_at(begin), m_end(end) {}
    // Takes up to n bytes from the front: their offset, and how many (0: the range is read).
    std::pair<uint64_t, size_t> take(size_t n) {
        const std::lock_guard lock(m_mutex);
        const auto count = static_cast<size_t>(std::min<uint64_t>(n, m_end - m_at));
        const uint64_t from = m_at;
        m_at += count;
        return {from, count};
    }
    // Where the bytes not yet taken begin and end.
    std::pair<uint64_t, uint64_t> left() const {
        const std::lock_guard lock(m_mutex);
        return {m_at, m_end};
    }
    // Ends the range at `at` when nothing at or after it is taken yet: the end it had, if so.
    std::optional<uint64_t> cut(uint64_t at) {
        const std::lock_guard lock(m_mutex);
        if (at < m_at || at >= m_end) {
            return std::nullopt;
        }
        return std::exchange(m_end, at);
    }

  private:
    mutable std::mutex m_mutex;
    uint64_t m_at;
    uint64_t m_end;
};

struct SourceOptions {
    bool gzip = false;
    uint64_t begin = 0;               // byte range of the file (uncompressed files only)
    uint64_t end = k_to_end;          // exclusive
    store::Sha256* digest = nullptr;  // fed every byte of the file as read, if given
    // Called once on reaching `end`, for the end that holds from then on (it may wait: the
    // first part of a split file knows its true end only when the next part has found it).
    std::function<uint64_t()> final_end;
    std::atomic<uint64_t>* progress = nullptr;  // bytes of the file read, added as they are
    const std::atomic<bool>* cancel = nullptr;  // when set, the next read throws ReadCancelled
    // Instead of begin and end (a regular, uncompressed file): the range, read as it is left.
    SharedRange* range = nullptr;
};

// Opens `path` (shown as `display` in messages). Throws UsageError when it cannot be opened.
std::unique_ptr<Source> open_source(const std::filesystem::path& path, const std::string& display,
                                    const SourceOptions& options);

// A file opened for reading, closed with the object: the descriptor the offset finders below
// read through. Throws UsageError naming `display` when it cannot be opened.
class ReadFd {
  public:
    ReadFd(const std::filesystem::path& path, const std::string& display);
    ~ReadFd();
    ReadFd(const ReadFd&) = delete;
    ReadFd& operator=(const ReadFd&) = delete;
    int get() const { return m_fd; }

  private:
    int m_fd;
};

// Counts the '"' bytes in [begin, end) of a regular file: their parity is whether a CSV split
// there falls inside a quoted field. Reads 1 MiB at a time through `fd`; throws ReadCancelled
// when `cancel` is set.
uint64_t count_quotes(int fd, uint64_t begin, uint64_t end, const std::string& display,
                      const std::atomic<bool>* cancel = nullptr);

// Reads [from, end) of a regular file 64 KiB at a time, calling `find(bytes, n, offset)` on each
// piece until it returns the offset of what it looked for; `end` when no piece has it. The
// record finders of the parallel readers (csv_next_record, jsonl_next_record) share it. Throws
// ReadCancelled when `cancel` is set, UsageError naming `display` when a read fails.
uint64_t scan_file(
    int fd, uint64_t from, uint64_t end, const std::string& display,
    const std::atomic<bool>* cancel,
    const std::function<std::optional<uint64_t>(const char*, size_t, uint64_t)>& find);

}  // namespace mloop::data
