#include "data/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "data/simd.hpp"
#include "store/sha256.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::data {

namespace {

[[noreturn]] void unreadable(const std::string& display, int err) {
    throw error::UsageError(fmt::format("cannot read '{}': {}", display, util::errno_message(err)));
}

class FileSource : public Source {
  public:
    FileSource(const std::filesystem::path& path, std::string display, const SourceOptions& o)
        : m_display(std::move(display)),
          m_at(o.begin),
          m_end(o.end),
          m_digest(o.digest),
          m_final_end(o.final_end),
          m_progress(o.progress),
          m_cancel(o.cancel),
          m_range(o.range) {
        m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (m_fd < 0) {
            unreadable(m_display, errno);
        }
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            const int err = errno;
            ::close(m_fd);
            unreadable(m_display, err);
        }
        if (S_ISDIR(st.st_mode)) {
            ::close(m_fd);
            unreadable(m_display, EISDIR);
        }
        m_seekable = S_ISREG(st.st_mode);
        if (m_seekable) {
            ::posix_fadvise(m_fd, static_cast<off_t>(m_at), 0, POSIX_FADV_SEQUENTIAL);
        }
    }
    ~FileSource() override { ::close(m_fd); }
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    size_t read(char* dst, size_t n) override {
        if (m_cancel != nullptr && m_cancel->load(std::memory_order_relaxed)) {
            throw ReadCancelled();
        }
        if (m_range != nullptr) {
            return read_range(dst, n);
        }
        if (m_at >= m_end && m_final_end) {
            m_end = m_final_end();
            m_final_end = nullptr;
        }
        if (m_at >= m_end) {
            return 0;
        }
        n = static_cast<size_t>(std::min<uint64_t>(n, m_end - m_at));
        for (;;) {
            const ssize_t got =
                m_seekable ? ::pread(m_fd, dst, n, static_cast<off_t>(m_at)) : ::read(m_fd, dst, n);
            if (got < 0) {
                if (errno == EINTR) {
                    continue;
                }
                unreadable(m_display, errno);
            }
            if (got == 0) {
                m_end = m_at;
                return 0;
            }
            const auto g = static_cast<size_t>(got);
            m_at += g;
            return delivered(dst, g);
        }
    }

  private:
    // Counts n bytes read into dst: consumed, progress and digest.
    size_t delivered(const char* dst, size_t n) {
        m_consumed += n;
        if (m_progress != nullptr) {
            m_progress->fetch_add(n, std::memory_order_relaxed);
        }
        if (m_digest != nullptr) {
            m_digest->update(dst, n);
        }
        return n;
    }

    // From the shared range: all the bytes taken are read (or the file ends).
    size_t read_range(char* dst, size_t n) {
        if (m_ended) {
            return 0;
        }
        const auto [from, count] = m_range->take(n);
        size_t done = 0;
        while (done < count) {
            const ssize_t got =
                ::pread(m_fd, dst + done, count - done, static_cast<off_t>(from + done));
            if (got < 0) {
                if (errno == EINTR) {
                    continue;
                }
                unreadable(m_display, errno);
            }
            if (got == 0) {  // shorter than it was
                m_ended = true;
                break;
            }
            done += static_cast<size_t>(got);
        }
        return delivered(dst, done);
    }

    std::string m_display;
    int m_fd = -1;
    bool m_seekable = false;
    bool m_ended = false;
    uint64_t m_at;
    uint64_t m_end;
    store::Sha256* m_digest;
    std::function<uint64_t()> m_final_end;
    std::atomic<uint64_t>* m_progress;
    const std::atomic<bool>* m_cancel;
    SharedRange* m_range;
};

// Inflates gzip (or zlib) data as it is read; concatenated gzip members are read one after the
// other, as gzip -d does.
class GzipSource : public Source {
  public:
    GzipSource(std::unique_ptr<Source> raw, std::string display)
        : m_raw(std::move(raw)), m_display(std::move(display)), m_in(size_t{1} << 18) {
        if (inflateInit2(&m_z, 15 + 32) != Z_OK) {
            throw std::bad_alloc();
        }
    }
    ~GzipSource() override { inflateEnd(&m_z); }
    GzipSource(const GzipSource&) = delete;
    GzipSource& operator=(const GzipSource&) = delete;

    size_t read(char* dst, size_t n) override {
        if (m_done) {
            return 0;
        }
        m_z.next_out = reinterpret_cast<Bytef*>(dst);
        m_z.avail_out = static_cast<uInt>(std::min<size_t>(n, uInt(-1)));
        const uInt wanted = m_z.avail_out;
        while (m_z.avail_out == wanted) {
            if (m_z.avail_in == 0) {
                const size_t got = m_raw->read(reinterpret_cast<char*>(m_in.data()), m_in.size());
                m_consumed = m_raw->consumed();
                if (got == 0) {
                    if (m_member_bytes == 0 && m_members > 0) {
                        m_done = true;  // the end, between two members
                        return 0;
                    }
                    throw DataError(fmt::format("the compressed stream is truncated after {} of "
                                                "data",
                                                util::format_bytes(static_cast<double>(m_total))),
                                    0, 0, {}, "the file was cut short; copy it again");
                }
                m_z.next_in = m_in.data();
                m_z.avail_in = static_cast<uInt>(got);
            }
            const uLong before_in = m_z.total_in;
            const int rc = inflate(&m_z, Z_NO_FLUSH);
            m_member_bytes += m_z.total_in - before_in;
            if (rc == Z_STREAM_END) {
                ++m_members;
                m_member_bytes = 0;
                if (inflateReset(&m_z) != Z_OK) {
                    throw std::bad_alloc();
                }
                if (m_z.avail_out != wanted) {
                    break;
                }
                continue;
            }
            if (rc == Z_BUF_ERROR && m_z.avail_in == 0) {
                continue;  // needs more input
            }
            if (rc != Z_OK) {
                throw DataError(fmt::format("the compressed stream is damaged ({}) after {} of "
                                            "data",
                                            m_z.msg != nullptr ? m_z.msg : "inflate error",
                                            util::format_bytes(static_cast<double>(m_total))),
                                0, 0, {});
            }
        }
        const size_t produced = wanted - m_z.avail_out;
        m_total += produced;
        return produced;
    }

  private:
    std::unique_ptr<Source> m_raw;
    std::string m_display;
    std::vector<Bytef> m_in;
    z_stream m_z{};
    bool m_done = false;
    uint64_t m_members = 0;
    uint64_t m_member_bytes = 0;  // compressed bytes of the member being read
    uint64_t m_total = 0;
};

}  // namespace

std::unique_ptr<Source> open_source(const std::filesystem::path& path, const std::string& display,
                                    const SourceOptions& options) {
    auto file = std::make_unique<FileSource>(path, display, options);
    if (!options.gzip) {
        return file;
    }
    return std::make_unique<GzipSource>(std::move(file), display);
}

ReadFd::ReadFd(const std::filesystem::path& path, const std::string& display)
    : m_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (m_fd < 0) {
        unreadable(display, errno);
    }
}

ReadFd::~ReadFd() {
    ::close(m_fd);
}

uint64_t count_quotes(int fd, uint64_t begin, uint64_t end, const std::string& display,
                      const std::atomic<bool>* cancel) {
    constexpr size_t k_chunk = size_t{1} << 20;
    std::unique_ptr<char[]> chunk(new char[k_chunk + simd::k_padding]);
    uint64_t count = 0;
    uint64_t at = begin;
    while (at < end) {
        if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
            throw ReadCancelled();
        }
        const size_t want = static_cast<size_t>(std::min<uint64_t>(k_chunk, end - at));
        const ssize_t got = ::pread(fd, chunk.get(), want, static_cast<off_t>(at));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            unreadable(display, errno);
        }
        if (got == 0) {
            break;
        }
        count += simd::count_byte(chunk.get(), static_cast<size_t>(got), '"');
        at += static_cast<uint64_t>(got);
    }
    return count;
}

uint64_t scan_file(
    int fd, uint64_t from, uint64_t end, const std::string& display,
    const std::atomic<bool>* cancel,
    const std::function<std::optional<uint64_t>(const char*, size_t, uint64_t)>& find) {
    constexpr size_t k_piece = size_t{1} << 16;
    std::vector<char> piece(k_piece);
    uint64_t at = from;
    while (at < end) {
        if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
            throw ReadCancelled();
        }
        const size_t want = static_cast<size_t>(std::min<uint64_t>(k_piece, end - at));
        const ssize_t got = ::pread(fd, piece.data(), want, static_cast<off_t>(at));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw error::UsageError(
                fmt::format("cannot read '{}': {}", display, util::errno_message(errno)));
        }
        if (got == 0) {
            break;
        }
        if (auto found = find(piece.data(), static_cast<size_t>(got), at)) {
            return *found;
        }
        at += static_cast<uint64_t>(got);
    }
    return end;
}

}  // namespace mloop::data
