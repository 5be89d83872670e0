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

#include "util/huge_alloc.hpp"

namespace mloop::monitor {

// The cells of a column, as written, in one buffer of bytes with their end offsets: two growing
// allocations for a million cells instead of a string each (which cost three quarters of a
// monitor run: bench/monitor).
class Texts {
  public:
    std::string_view operator[](size_t i) const {
        const uint64_t begin = i == 0 ? 0 : m_end[i - 1];
        return {m_bytes.data() + begin, static_cast<size_t>(m_end[i] - begin)};
    }
    size_t size() const { return m_end.size(); }
    size_t bytes() const { return m_bytes.size(); }
    void reserve(size_t cells, size_t bytes) {
        m_end.reserve(cells);
        m_bytes.reserve(bytes);
    }
    void push_back(std::string_view s) {
        m_bytes.append(s);
        m_end.push_back(m_bytes.size());
    }
    // Replaces the last cell.
    void set_last(std::string_view s) {
        m_bytes.resize(m_end.size() < 2 ? 0 : m_end[m_end.size() - 2]);
        m_bytes.append(s);
        m_end.back() = m_bytes.size();
    }
    // Cuts to n cells, or pads with empty ones.
    void resize(size_t n) {
        if (n < m_end.size()) {
            m_end.resize(n);
            m_bytes.resize(n == 0 ? 0 : m_end.back());
        } else {
            m_end.resize(n, m_bytes.size());
        }
    }
    // Keeps the cells where keep[i] is true.
    void filter(const std::vector<uint8_t>& keep);

  private:
    std::basic_string<char, std::char_traits<char>, util::HugeAllocator<char>> m_bytes;
    std::vector<uint64_t, util::HugeAllocator<uint64_t>> m_end;
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
