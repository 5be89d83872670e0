// Data for `mloop monitor`, read whole into columns: the reference (the dataset that trained
// the version) and the current data (the serving log, one file or many). CSV or JSON lines,
// either optionally gzip'd, chosen by the file's extension (.csv, .jsonl/.ndjson/.json, then
// .gz). Several files are appended; a column some lack is missing in their rows.
#pragma once

#include <cstdint>
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
    void push_back(std::string_view s) { m_codes.push_back(code_of(s)); }
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

  private:
    uint32_t code_of(std::string_view s);

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

// Reads the files in order. Columns named in `with_text` keep their text even when numeric
// (ids, times); columns named in `as_text` are read as text whatever they hold (a column numeric
// on one side of a comparison and not on the other). A column found not to be numeric part way
// through is read again as text: the files are read a second time, in that case only. A file
// that cannot be read or parsed is a DataError or UsageError naming it (and the row).
Frame load_frame(const std::vector<DataFile>& files, const std::set<std::string>& with_text = {},
                 const std::set<std::string>& as_text = {});

// Paths and shell globs relative to `root`, expanded and sorted; a pattern that matches
// nothing is an error naming it.
std::vector<DataFile> expand_paths(const std::vector<std::string>& patterns,
                                   const std::filesystem::path& root);

}  // namespace mloop::monitor
