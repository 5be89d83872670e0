// Data for `mloop monitor`, read whole into columns: the reference (the dataset that trained
// the version) and the current data (the serving log, one file or many). CSV or JSON lines,
// either optionally gzip'd, chosen by the file's extension (.csv, .jsonl/.ndjson/.json, then
// .gz). Several files are appended; a column some lack is missing in their rows.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/hash.hpp"
#include "util/huge_alloc.hpp"

namespace mloop::monitor {

// The cells of a column, as written, coded by a dictionary: each distinct value is kept once
// (in order of first appearance), each cell as its value's code. A column of a few categories
// in a million rows is then 4 MB of codes instead of its bytes and their offsets, and drift
// counts codes instead of hashing every cell again (bench/monitor: fresh memory and hashing
// were a third of a run).
class Texts {
  public:
    std::string_view operator[](size_t i) const { return value(m_codes[i]); }
    size_t size() const { return m_codes.size(); }
    // The distinct values; value(c) for c < distinct().
    size_t distinct() const { return m_end.size(); }
    std::string_view value(uint32_t code) const {
        const uint64_t begin = code == 0 ? 0 : m_end[code - 1];
        return {m_bytes.data() + begin, static_cast<size_t>(m_end[code] - begin)};
    }
    uint32_t code(size_t i) const { return m_codes[i]; }
    void reserve(size_t cells) { m_codes.reserve(cells); }
    [[gnu::always_inline]] void push_back(std::string_view s) { m_codes.push_back(code_of(s)); }
    // Replaces the last cell.
    void set_last(std::string_view s) { m_codes.back() = code_of(s); }
    // Cuts to n cells, or pads with empty ones.
    void resize(size_t n) {
        if (n < m_codes.size()) {
            m_codes.resize(n);
        } else {
            m_codes.resize(n, code_of({}));
        }
    }
    // Keeps the cells where keep[i] is true.
    void filter(const std::vector<uint8_t>& keep);
    // Appends `other`'s cells (its codes turned into this dictionary's).
    void append(const Texts& other);

  private:
    [[gnu::always_inline]] uint32_t code_of(std::string_view s) {
        if (s.size() <= Recent::k_max) {
            const Recent::Key k = Recent::key(s);
            Recent::Entry& e = m_recent.at(k);
            if (e.key == k && e.code != 0) {
                return e.code - 1;
            }
            const uint32_t c = lookup(s);
            e = {k, c + 1};
            return c;
        }
        return lookup(s);
    }
    uint32_t lookup(std::string_view s);

    // The codes of short values met lately, by their bytes as two words: a column of a few
    // categories finds nearly every cell here, without hashing it or comparing bytes
    // (bench/monitor: the dictionary's lookups were a tenth of a run).
    struct Recent {
        static constexpr size_t k_max = 16;
        struct Key {
            uint64_t head = 0;
            uint64_t tail = 0;
            uint64_t size = 0;
            bool operator==(const Key&) const = default;
        };
        struct Entry {
            Key key;
            uint32_t code = 0;  // code + 1; 0: empty
        };
        // The value's bytes in two words (loads that overlap for sizes between 9 and 16, and
        // between 5 and 8), which with its size tell it from every other value up to k_max.
        static Key key(std::string_view s) {
            const char* p = s.data();
            const size_t n = s.size();
            Key k;
            k.size = n;
            if (n >= 8) {
                std::memcpy(&k.head, p, 8);
                std::memcpy(&k.tail, p + n - 8, 8);
            } else if (n >= 4) {
                uint32_t x = 0;
                uint32_t y = 0;
                std::memcpy(&x, p, 4);
                std::memcpy(&y, p + n - 4, 4);
                k.head = x;
                k.tail = y;
            } else if (n > 0) {
                k.head = static_cast<unsigned char>(p[0]) |
                         static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
                         static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16;
            }
            return k;
        }
        Entry& at(const Key& k) {
            const uint64_t h =
                (k.head * 0x9E3779B97F4A7C15ULL) ^ ((k.tail + k.size) * 0xBF58476D1CE4E5B9ULL);
            return entries[h >> (64 - 8)];
        }
        Entry entries[256];
    };

    Recent m_recent;
    std::string m_bytes;          // the distinct values, one after another
    std::vector<uint64_t> m_end;  // per code: where its value ends in m_bytes
    util::HashIndex m_index;      // value -> code
    std::vector<uint32_t, util::HugeAllocator<uint32_t>> m_codes;
};

// A column as read. Numeric when every value present in it reads as a number (NaN and the
// infinities spelled as pandas and Python write them included): then its values are kept as
// doubles, each cell parsed once while reading, and its text only when asked for (ids and
// times). Otherwise its cells are kept as text.
// A column's numbers: one block of memory, filled as read (util/huge_alloc.hpp).
using Doubles = std::vector<double, util::HugeAllocator<double>>;

struct Column {
    std::string name;
    bool numeric = true;
    Doubles values;                // numeric: one per row, NaN where missing
    Texts text;                    // not numeric, or asked for: one per row ("" when missing)
    std::vector<uint8_t> missing;  // 1: empty, null or absent
    bool has_text = false;         // text holds every row (not numeric, or asked for)

    // The number in row i, or nothing (missing, or not a number in a text column).
    std::optional<double> number(size_t i) const;
};

struct Frame {
    std::vector<Column> columns;
    uint64_t rows = 0;
    std::vector<std::string> files;  // as shown

    const Column* column(const std::string& name) const;
    // Keeps the rows where keep[i] is true.
    void filter(const std::vector<uint8_t>& keep);
};

// A number as written, NaN and infinity included (spelled as pandas and Python write them).
std::optional<double> number_of(std::string_view text);

// One file to read: where it is and how to name it in messages.
struct DataFile {
    std::filesystem::path path;
    std::string display;
    std::string name;  // whose extension says the format; empty: the path's (a store object
                       // has none: the dataset's original name is given)
};

// What one frame is read from. Columns named in `with_text` keep their text even when numeric
// (ids, times); columns named in `as_text` are read as text whatever they hold (a column numeric
// on one side of a comparison and not on the other).
struct FrameRequest {
    std::vector<DataFile> files;
    std::set<std::string> with_text;
    std::set<std::string> as_text;
};

// How files are shared between threads (below).
struct SplitOptions {
    // What is left of a file is cut in two only when each half has this much at least.
    uint64_t min_share = uint64_t{1} << 20;
    // Tests: each file cut into this many pieces before reading starts (the joins without the
    // timing of threads).
    uint64_t pieces = 1;
    std::atomic<uint64_t>* taken = nullptr;   // tests: counts the pieces taken over
    std::atomic<uint64_t>* reread = nullptr;  // tests: counts the requests read again whole
};

// Reads each request's files in order into a frame of its own, every core sharing the work. Each
// file is a piece, the largest read first; a thread that has no piece left takes the second half
// of what is left of the piece with most left (a regular, uncompressed file), cut on a record
// boundary, and reads it as a piece of its own (the cores of a VM are seldom equally fast: one
// often finished its file a third sooner than the other). The pieces of a request are then joined
// in order, columns matched by name.
//
// A CSV cut is on the first newline after the half-way point outside quotes, the quotes before
// that point counted from the piece's start (their parity says whether it lies inside quoted
// text); the piece before the cut must also end outside quotes. When a piece fails (bad data),
// its request is read again whole, one file after another, for the error with its row.
//
// A column found not to be numeric part way through is read again as text: the files are read
// a second time, in that case only. A file that cannot be read or parsed is a DataError or
// UsageError naming it (and the row); the first request's error is the one thrown.
std::vector<Frame> load_frames(const std::vector<FrameRequest>& requests,
                               const SplitOptions& split = {});

// One request's frame.
Frame load_frame(const std::vector<DataFile>& files, const std::set<std::string>& with_text = {},
                 const std::set<std::string>& as_text = {});

// Paths and shell globs relative to `root`, expanded and sorted; a pattern that matches
// nothing is an error naming it.
std::vector<DataFile> expand_paths(const std::vector<std::string>& patterns,
                                   const std::filesystem::path& root);

}  // namespace mloop::monitor
