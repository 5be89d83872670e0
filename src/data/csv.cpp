#include "data/csv.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "data/simd.hpp"
#include "data/value.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::data {

namespace {

// Indexing works through the buffer this many bytes at a time, then hands out the rows it
// completed, so that the separator list stays small whatever the buffer holds.
constexpr size_t k_index_chunk = size_t{64} << 10;

struct Span {
    uint32_t begin;
    uint32_t end;
};

}  // namespace

struct CsvReader::Impl {
    CsvReader& owner;
    Source& source;
    CsvOptions options;

    std::unique_ptr<char[]> buf;
    size_t cap = 0;      // bytes of data the buffer can hold (k_padding more are allocated)
    size_t filled = 0;   // bytes of data in it
    size_t scanned = 0;  // bytes indexed so far; a multiple of 64 until the end
    size_t record_start = 0;
    bool eof = false;
    bool header_done = false;
    uint64_t in_quotes = 0;

    std::vector<uint64_t> specials;  // one mask per 64-byte block of the buffer
    // Separators indexed and not yet consumed: seps[sep_at, n_seps). Not a vector: growing one
    // would zero what the index is about to overwrite.
    std::unique_ptr<uint32_t[]> seps;
    size_t seps_cap = 0;
    size_t n_seps = 0;
    size_t sep_at = 0;
    std::vector<Span> fields;  // the fields of the record being assembled
    size_t field_start = 0;

    std::vector<std::string_view> views;
    std::string scratch;
    std::vector<std::string> names;
    CsvRowHandler* handler = nullptr;
    std::vector<std::string>* header_out = nullptr;

    Impl(CsvReader& o, Source& s, CsvOptions opts) : owner(o), source(s), options(std::move(opts)) {
        names = options.column_names;
        cap = std::max<size_t>(options.block_size, 4096);
        cap = std::min(cap, options.max_row_bytes);
        allocate(cap);
    }

    void allocate(size_t new_cap) {
        std::unique_ptr<char[]> nb(new char[new_cap + simd::k_padding]);
        if (buf) {
            std::memcpy(nb.get(), buf.get(), filled);
        }
        std::memset(nb.get() + new_cap, 0, simd::k_padding);
        buf = std::move(nb);
        cap = new_cap;
        specials.resize(cap / 64 + 2);
    }

    std::string column_name(size_t index) const {
        return index < names.size() ? names[index] : std::string{};
    }

    [[noreturn]] void fail(const std::string& message, size_t column, std::string hint = {}) {
        throw DataError(message, owner.m_row, column + 1, column_name(column), std::move(hint));
    }

    // Reads more bytes, first moving the unfinished record to the front (64-byte aligned, so
    // the special masks stay valid) or growing the buffer when the record fills it.
    void refill() {
        const size_t keep_from = record_start & ~size_t{63};
        if (keep_from > 0) {
            std::memmove(buf.get(), buf.get() + keep_from, filled - keep_from);
            std::memmove(specials.data(), specials.data() + keep_from / 64,
                         (scanned - keep_from) / 64 * sizeof(uint64_t));
            filled -= keep_from;
            scanned -= keep_from;
            record_start -= keep_from;
            field_start -= keep_from;
            for (size_t i = sep_at; i < n_seps; ++i) {
                seps[i] -= static_cast<uint32_t>(keep_from);
            }
            for (auto& f : fields) {
                f.begin -= static_cast<uint32_t>(keep_from);
                f.end -= static_cast<uint32_t>(keep_from);
            }
        }
        if (filled == cap) {
            if (cap >= options.max_row_bytes) {
                too_long();
            }
            allocate(std::min(cap * 2, options.max_row_bytes));
        }
        try {
            while (filled < cap) {
                const size_t got = source.read(buf.get() + filled, cap - filled);
                if (got == 0) {
                    eof = true;
                    break;
                }
                filled += got;
            }
        } catch (const DataError& e) {
            // The source knows the bytes, the reader knows where they were going.
            throw DataError(e.message(), owner.m_row + 1, 0, {}, e.hint());
        }
    }

    [[noreturn]] void too_long() {
        ++owner.m_row;
        const size_t column = fields.size();
        const size_t field_bytes = filled - field_start;
        if (field_bytes > options.max_row_bytes / 2) {
            fail(fmt::format("field is longer than the limit of {}",
                             util::format_bytes(static_cast<double>(options.max_row_bytes))),
                 column);
        }
        fail(fmt::format("row is longer than the limit of {}",
                         util::format_bytes(static_cast<double>(options.max_row_bytes))),
             column);
    }

    // Indexes what was read and hands out every record completed. Returns at the end of data.
    void run() {
        if (options.header && !header_done) {
            refill();
            if (filled >= 3 && std::memcmp(buf.get(), "\xef\xbb\xbf", 3) == 0) {
                record_start = field_start = 3;
            }
        }
        for (;;) {
            if (consume()) {
                return;
            }
            if (scanned < filled && (eof || filled - scanned >= 64)) {
                size_t n = std::min(k_index_chunk, filled - scanned);
                if (!eof) {
                    n &= ~size_t{63};
                }
                reserve_seps(n_seps + n + 64);
                n_seps += simd::csv_index(buf.get() + scanned, n, options.delimiter, in_quotes,
                                          static_cast<uint32_t>(scanned), seps.get() + n_seps,
                                          specials.data() + scanned / 64);
                scanned += n;
                continue;
            }
            if (eof) {
                finish();
                return;
            }
            refill();
        }
    }

    // Hands out the records the index completed; true when the header was wanted and read.
    bool consume() {
        const char* b = buf.get();
        const size_t limit = options.header && !header_done ? k_max_fields : expected() - 1;
        while (sep_at < n_seps) {
            const uint32_t s = seps[sep_at++];
            fields.push_back({static_cast<uint32_t>(field_start), s});
            field_start = s + 1;
            if (b[s] == '\n') {
                record(false);
                record_start = field_start;
                if (header_out != nullptr && header_done) {
                    compact_seps();
                    return true;
                }
            } else if (fields.size() > limit) {
                ++owner.m_row;
                if (options.header && !header_done) {
                    fail(fmt::format("the header has more than {} columns", k_max_fields),
                         fields.size());
                }
                ragged(fields.size() + 1 + count_rest());
            }
        }
        compact_seps();
        return false;
    }

    size_t expected() const { return std::max<size_t>(options.expected_fields, 1); }

    // Separators left in this record beyond those seen, for the message about a ragged row.
    size_t count_rest() const {
        size_t n = 0;
        for (size_t i = sep_at; i < n_seps && buf[seps[i]] != '\n'; ++i) {
            ++n;
        }
        return n;
    }

    void compact_seps() {
        if (sep_at > 0) {
            std::memmove(seps.get(), seps.get() + sep_at, (n_seps - sep_at) * sizeof(uint32_t));
            n_seps -= sep_at;
            sep_at = 0;
        }
    }

    void reserve_seps(size_t n) {
        if (n > seps_cap) {
            const size_t new_cap = std::max(n, seps_cap * 2);
            std::unique_ptr<uint32_t[]> grown(new uint32_t[new_cap]);
            if (n_seps > 0) {
                std::memcpy(grown.get(), seps.get(), n_seps * sizeof(uint32_t));
            }
            seps = std::move(grown);
            seps_cap = new_cap;
        }
    }

    void finish() {
        if (in_quotes != 0) {
            ++owner.m_row;
            const size_t column = fields.size();
            throw DataError(
                fmt::format("unterminated quoted field: the quote opened in this row is never "
                            "closed before the end of the file"),
                owner.m_row, column + 1, column_name(column),
                "close the quote, and double every quote inside a quoted field");
        }
        if (record_start < filled) {
            fields.push_back({static_cast<uint32_t>(field_start), static_cast<uint32_t>(filled)});
            record(true);
            record_start = filled;
        }
        if (options.header && !header_done) {
            throw DataError("file is empty: there is no header row", 0, 0, {},
                            "a CSV file starts with a row naming its columns");
        }
    }

    [[noreturn]] void ragged(size_t got) {
        const size_t want = expected();
        throw DataError(fmt::format("row has {} {} where the header has {}", got,
                                    got == 1 ? "field" : "fields", want),
                        owner.m_row, std::min(got, want) + 1);
    }

    bool any_special(size_t from, size_t to) const {
        if (from >= to) {
            return false;
        }
        const size_t first = from / 64;
        const size_t last = (to - 1) / 64;
        const uint64_t head = ~uint64_t{0} << (from % 64);
        const uint64_t tail = ~uint64_t{0} >> (63 - (to - 1) % 64);
        if (first == last) {
            return (specials[first] & head & tail) != 0;
        }
        if ((specials[first] & head) != 0 || (specials[last] & tail) != 0) {
            return true;
        }
        for (size_t i = first + 1; i < last; ++i) {
            if (specials[i] != 0) {
                return true;
            }
        }
        return false;
    }

    // One complete record in `fields`; `at_end`: it ends at the end of the file, not at '\n'.
    void record(bool at_end) {
        ++owner.m_row;
        const char* b = buf.get();
        Span& last = fields.back();
        if (last.end > last.begin && b[last.end - 1] == '\r') {
            --last.end;  // CRLF
        }
        (void)at_end;
        if (fields.size() == 1 && last.end == last.begin) {
            fields.clear();  // a blank line
            return;
        }
        views.resize(fields.size());
        scratch.clear();
        scratch.reserve(static_cast<size_t>(fields.back().end - fields.front().begin));
        for (size_t i = 0; i < fields.size(); ++i) {
            const Span f = fields[i];
            if (!any_special(f.begin, f.end)) {
                views[i] = std::string_view(b + f.begin, f.end - f.begin);
            } else {
                views[i] = careful(i, f);
            }
        }
        if (options.header && !header_done) {
            header(views);
        } else {
            if (fields.size() != expected()) {
                ragged(fields.size());
            }
            ++owner.m_data_rows;
            handler->row(owner.m_row, views);
        }
        fields.clear();
    }

    // A field with quotes, carriage returns, NUL bytes or non-ASCII bytes.
    std::string_view careful(size_t column, Span f) {
        const char* p = buf.get() + f.begin;
        const size_t n = f.end - f.begin;
        std::string_view text;
        if (p[0] == '"') {
            if (n < 2 || p[n - 1] != '"') {
                fail("text follows the closing quote of a quoted field", column,
                     "double every quote inside a quoted field");
            }
            const std::string_view inner(p + 1, n - 2);
            if (inner.find('"') == std::string_view::npos) {
                text = inner;
            } else {
                const size_t start = scratch.size();
                for (size_t i = 0; i < inner.size(); ++i) {
                    if (inner[i] == '"') {
                        if (i + 1 >= inner.size() || inner[i + 1] != '"') {
                            fail("text follows the closing quote of a quoted field", column,
                                 "double every quote inside a quoted field");
                        }
                        ++i;
                    }
                    scratch.push_back(inner[i]);
                }
                text = std::string_view(scratch).substr(start);
            }
        } else {
            text = std::string_view(p, n);
            if (text.find('"') != std::string_view::npos) {
                fail("quote inside an unquoted field", column,
                     "quote the field and double the quote inside it (RFC 4180)");
            }
            if (text.find('\r') != std::string_view::npos) {
                fail("carriage return inside an unquoted field", column,
                     "lines end with LF or CRLF; quote a field that holds a line break");
            }
        }
        if (text.find('\0') != std::string_view::npos) {
            fail("NUL byte in the field", column);
        }
        if (const size_t bad = invalid_utf8(text); bad != std::string_view::npos) {
            fail(fmt::format("invalid UTF-8 byte 0x{:02x}", static_cast<unsigned char>(text[bad])),
                 column);
        }
        return text;
    }

    void header(std::span<const std::string_view> cols) {
        names.assign(cols.begin(), cols.end());
        for (size_t i = 0; i < names.size(); ++i) {
            for (size_t j = 0; j < i; ++j) {
                if (names[j] == names[i]) {
                    throw DataError(
                        fmt::format("column {} appears twice in the header (also column {})",
                                    display_value(names[i], 60), j + 1),
                        owner.m_row, i + 1, {}, "give every column its own name");
                }
            }
        }
        options.expected_fields = names.size();
        header_done = true;
        if (header_out != nullptr) {
            *header_out = names;
        }
    }
};

CsvReader::CsvReader(Source& source, CsvOptions options)
    : m_impl(std::make_unique<Impl>(*this, source, std::move(options))) {}

CsvReader::~CsvReader() = default;

std::vector<std::string> CsvReader::read_header() {
    std::vector<std::string> out;
    m_impl->header_out = &out;
    m_impl->run();
    m_impl->header_out = nullptr;
    if (!m_impl->header_done) {
        throw DataError("file is empty: there is no header row", 0, 0, {},
                        "a CSV file starts with a row naming its columns");
    }
    return out;
}

void CsvReader::read_rows(CsvRowHandler& handler) {
    if (m_impl->options.header && !m_impl->header_done) {
        read_header();
    }
    m_impl->handler = &handler;
    m_impl->run();
}

uint64_t csv_next_record(int fd, uint64_t from, uint64_t end, bool in_quotes,
                         const std::string& display, const std::atomic<bool>* cancel) {
    bool quoted = in_quotes;
    return scan_file(fd, from, end, display, cancel,
                     [&](const char* bytes, size_t n, uint64_t at) -> std::optional<uint64_t> {
                         for (size_t i = 0; i < n; ++i) {
                             if (bytes[i] == '"') {
                                 quoted = !quoted;
                             } else if (bytes[i] == '\n' && !quoted) {
                                 return at + i + 1;
                             }
                         }
                         return std::nullopt;
                     });
}

}  // namespace mloop::data
