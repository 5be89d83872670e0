#include "monitor/frame.hpp"

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "data/csv.hpp"
#include "data/jsonl.hpp"
#include "data/source.hpp"
#include "data/value.hpp"
#include "error/error.hpp"
#include "util/hash.hpp"
#include "util/text.hpp"

namespace mloop::monitor {

namespace fs = std::filesystem;

const Column* Frame::column(const std::string& name) const {
    for (const auto& c : columns) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

uint32_t Texts::lookup(std::string_view s) {
    if (m_end.size() == std::numeric_limits<uint32_t>::max() - 1) {
        throw std::length_error("more than 2^32 - 2 distinct values in a column");
    }
    const auto [c, inserted] =
        m_index.find_or_insert(util::hash_bytes(s), static_cast<uint32_t>(m_end.size()),
                               [&](uint32_t code) { return value(code) == s; });
    if (inserted) {
        m_bytes.append(s);
        m_end.push_back(m_bytes.size());
    }
    return c;
}

void Texts::filter(const std::vector<uint8_t>& keep) {
    size_t out = 0;
    for (size_t i = 0; i < m_codes.size(); ++i) {
        if (keep[i] != 0) {
            m_codes[out++] = m_codes[i];
        }
    }
    m_codes.resize(out);
}

namespace {

// NaN and the infinities as pandas and Python spell them.
std::optional<double> special_number(std::string_view text) {
    if (text.size() > 9) {
        return std::nullopt;
    }
    std::string t(text);
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t == "nan" || t == "-nan" || t == "+nan") {
        return std::nan("");
    }
    if (t == "inf" || t == "+inf" || t == "infinity" || t == "+infinity") {
        return std::numeric_limits<double>::infinity();
    }
    if (t == "-inf" || t == "-infinity") {
        return -std::numeric_limits<double>::infinity();
    }
    return std::nullopt;
}

}  // namespace

std::optional<double> number_of(std::string_view text) {
    if (const auto v = data::parse_float(text)) {
        return v;
    }
    return special_number(text);
}

std::optional<double> Column::number(size_t i) const {
    if (missing[i] != 0) {
        return std::nullopt;
    }
    return numeric ? std::optional<double>(values[i]) : number_of(text[i]);
}

void Frame::filter(const std::vector<uint8_t>& keep) {
    for (auto& c : columns) {
        if (c.has_text) {
            c.text.filter(keep);
        }
        size_t out = 0;
        for (size_t i = 0; i < c.missing.size(); ++i) {
            if (keep[i] != 0) {
                c.missing[out] = c.missing[i];
                if (c.numeric) {
                    c.values[out] = c.values[i];
                }
                ++out;
            }
        }
        c.missing.resize(out);
        if (c.numeric) {
            c.values.resize(out);
        }
    }
    rows = static_cast<uint64_t>(std::count(keep.begin(), keep.end(), uint8_t{1}));
}

namespace {

// Appends rows to a frame whose columns are found as they come. A column holds the rows up to
// the last one that set it; the others are padded as missing when it is next set, and at the
// end.
class Builder {
  public:
    Builder(Frame& f, const std::set<std::string>& with_text, const std::set<std::string>& as_text)
        : m_f(f), m_with_text(with_text), m_as_text(as_text) {}

    size_t index(std::string_view name) {
        const auto it = m_index.find(name);
        if (it != m_index.end()) {
            return it->second;
        }
        Column c;
        c.name = std::string(name);
        const bool text = m_as_text.count(c.name) != 0;
        c.numeric = !text;
        c.has_text = text || m_with_text.count(c.name) != 0;
        m_f.columns.push_back(std::move(c));
        m_names.push_back(std::make_unique<std::string>(name));
        m_index.emplace(*m_names.back(), m_f.columns.size() - 1);
        return m_f.columns.size() - 1;
    }
    void begin_row() { ++m_f.rows; }
    void set(size_t column, std::string_view text, bool missing) {
        Column& c = m_f.columns[column];
        if (c.missing.size() != m_f.rows - 1) [[unlikely]] {
            pad(c, m_f.rows - 1);  // not set in some rows, or twice in this one (the last wins)
        }
        c.missing.push_back(missing ? 1 : 0);
        if (c.numeric) {
            double v = std::numeric_limits<double>::quiet_NaN();
            if (!missing) {
                if (!data::parse_float(text, v)) {
                    if (const auto y = special_number(text)) {
                        v = *y;
                    } else {
                        // Not numeric after all: kept as text from here, and read again if a
                        // value before this one was kept only as a number (not so when this is
                        // the first value, as for most text columns).
                        const auto before = c.missing.end() - 1;
                        if (!c.has_text && std::find(c.missing.begin(), before, 0) != before) {
                            m_retype.insert(c.name);
                        }
                        c.numeric = false;
                        c.has_text = true;
                        c.values = {};
                        c.text.resize(c.missing.size() - 1);
                    }
                }
            }
            if (c.numeric) {
                c.values.push_back(v);
            }
        }
        if (c.has_text) {
            c.text.push_back(text);
        }
    }
    // Pads every column to the frame's rows.
    void finish() {
        for (auto& c : m_f.columns) {
            pad(c, m_f.rows);
        }
    }
    const std::set<std::string>& retype() const { return m_retype; }

    // Makes room for about `more` rows beyond the frame's, so that a million-row column grows
    // by one allocation instead of twenty doublings (each a copy, and page faults on new memory:
    // most of a monitor run before). Best effort: an estimate too large to reserve (the pages
    // are only touched as they fill) leaves the columns to grow.
    void reserve(uint64_t more) try {
        const uint64_t rows = m_f.rows + more;
        for (auto& c : m_f.columns) {
            c.missing.reserve(rows);
            if (c.numeric) {
                c.values.reserve(rows);
            }
            if (c.has_text) {
                c.text.reserve(rows);
            }
        }
    } catch (const std::bad_alloc&) {
    } catch (const std::length_error&) {
    }

  private:
    static void pad(Column& c, uint64_t rows) {
        if (c.missing.size() > rows) {  // cut back to rows (a repeated name within a row)
            c.missing.resize(rows);
            if (c.numeric) {
                c.values.resize(rows);
            }
            if (c.has_text) {
                c.text.resize(rows);
            }
            return;
        }
        c.missing.resize(rows, 1);
        if (c.numeric) {
            c.values.resize(rows, std::numeric_limits<double>::quiet_NaN());
        }
        if (c.has_text) {
            c.text.resize(rows);
        }
    }

    Frame& m_f;
    const std::set<std::string>& m_with_text;
    const std::set<std::string>& m_as_text;
    std::vector<std::unique_ptr<std::string>> m_names;
    std::unordered_map<std::string_view, size_t> m_index;
    std::set<std::string> m_retype;
};

// Estimates a file's rows from the bytes of its first rows and its size, and has the builder
// make room for them once (a file of unknown size, gzip'd, grows as it comes).
class RowEstimate {
  public:
    // min_row_bytes: what any row takes at least (a CSV row, its delimiters and newline).
    RowEstimate(uint64_t file_bytes, uint64_t min_row_bytes)
        : m_file_bytes(file_bytes), m_min_row_bytes(std::max<uint64_t>(min_row_bytes, 1)) {}
    void add(Builder& b, uint64_t row_bytes) {
        if (m_rows == k_sample || m_file_bytes == 0) {
            return;
        }
        m_bytes += row_bytes;
        if (++m_rows == k_sample && m_bytes > 0) {
            const double rows =
                std::min(static_cast<double>(m_file_bytes) * static_cast<double>(m_rows) /
                             static_cast<double>(m_bytes) * 1.05,
                         static_cast<double>(m_file_bytes / m_min_row_bytes));
            if (rows > static_cast<double>(m_rows)) {
                b.reserve(static_cast<uint64_t>(rows) - m_rows);
            }
        }
    }

  private:
    static constexpr uint64_t k_sample = 4096;
    uint64_t m_file_bytes;
    uint64_t m_min_row_bytes;
    uint64_t m_rows = 0;
    uint64_t m_bytes = 0;
};

class CsvRows : public data::CsvRowHandler {
  public:
    CsvRows(Builder& b, std::vector<size_t> columns, uint64_t file_bytes)
        : m_b(b), m_columns(std::move(columns)), m_estimate(file_bytes, m_columns.size()) {}
    void row(uint64_t, std::span<const std::string_view> fields) override {
        m_b.begin_row();
        uint64_t bytes = fields.size();  // the delimiters and the newline
        for (size_t i = 0; i < fields.size() && i < m_columns.size(); ++i) {
            m_b.set(m_columns[i], fields[i], fields[i].empty());
            bytes += fields[i].size();
        }
        m_estimate.add(m_b, bytes);
    }

  private:
    Builder& m_b;
    std::vector<size_t> m_columns;
    RowEstimate m_estimate;
};

class JsonRows : public data::JsonRowHandler {
  public:
    JsonRows(Builder& b, uint64_t file_bytes) : m_b(b), m_estimate(file_bytes, 3) {}
    void row(uint64_t, std::span<const data::JsonField> fields) override {
        m_b.begin_row();
        uint64_t bytes = 3;  // {}, the newline
        for (const auto& f : fields) {
            const size_t c = m_b.index(f.key);
            m_b.set(c, f.text, f.kind == data::JsonKind::null);
            bytes += f.key.size() + f.text.size() + 6;  // quotes, colon, comma, a space
        }
        m_estimate.add(m_b, bytes);
    }

  private:
    Builder& m_b;
    RowEstimate m_estimate;
};

// One pass over the files; the columns found not numeric part way through are in `retype`.
Frame read_frame(const std::vector<DataFile>& files, const std::set<std::string>& with_text,
                 const std::set<std::string>& as_text, std::set<std::string>& retype) {
    Frame f;
    Builder b(f, with_text, as_text);
    for (const auto& file : files) {
        std::string name = file.name.empty() ? file.path.filename().string() : file.name;
        data::SourceOptions so;
        if (util::ends_with(name, ".gz")) {
            so.gzip = true;
            name.resize(name.size() - 3);
        }
        const bool jsonl = util::ends_with(name, ".jsonl") || util::ends_with(name, ".ndjson") ||
                           util::ends_with(name, ".json");
        const bool csv = util::ends_with(name, ".csv") || util::ends_with(name, ".tsv");
        if (!jsonl && !csv) {
            throw error::UsageError(
                fmt::format("'{}': cannot tell its format from its name", file.display),
                "name it .csv, .tsv or .jsonl (optionally .gz)");
        }
        std::error_code ec;
        const uint64_t size = so.gzip ? 0 : fs::file_size(file.path, ec);
        const uint64_t file_bytes = ec ? 0 : size;
        auto source = data::open_source(file.path, file.display, so);
        try {
            if (jsonl) {
                data::JsonlReader reader(*source, {});
                JsonRows rows(b, file_bytes);
                reader.read_rows(rows);
            } else {
                data::CsvOptions co;
                co.delimiter = util::ends_with(name, ".tsv") ? '\t' : ',';
                data::CsvReader reader(*source, co);
                std::vector<size_t> columns;
                for (const auto& n : reader.read_header()) {
                    columns.push_back(b.index(n));
                }
                CsvRows rows(b, std::move(columns), file_bytes);
                reader.read_rows(rows);
            }
        } catch (const data::DataError& e) {
            const std::string where = e.row() != 0 ? fmt::format(":{}", e.row()) : std::string();
            throw data::DataError(fmt::format("{}{}: {}", file.display, where, e.message()),
                                  e.row(), e.column(), e.column_name());
        }
        f.files.push_back(file.display);
    }
    b.finish();
    retype = b.retype();
    return f;
}

}  // namespace

Frame load_frame(const std::vector<DataFile>& files, const std::set<std::string>& with_text,
                 const std::set<std::string>& as_text) {
    std::set<std::string> retype;
    Frame f = read_frame(files, with_text, as_text, retype);
    if (retype.empty()) {
        return f;
    }
    std::set<std::string> text = as_text;
    text.insert(retype.begin(), retype.end());
    f = {};  // its memory back before the second read
    return read_frame(files, with_text, text, retype);
}

std::vector<DataFile> expand_paths(const std::vector<std::string>& patterns, const fs::path& root) {
    std::vector<DataFile> out;
    for (const auto& pattern : patterns) {
        const fs::path full = fs::path(pattern).is_absolute() ? fs::path(pattern) : root / pattern;
        glob_t g{};
        const int rc = ::glob(full.c_str(), GLOB_NOSORT, nullptr, &g);
        std::vector<std::string> found;
        if (rc == 0) {
            for (size_t i = 0; i < g.gl_pathc; ++i) {
                found.emplace_back(g.gl_pathv[i]);
            }
        }
        globfree(&g);
        if (found.empty()) {
            throw error::UsageError(fmt::format("no data at '{}'", pattern),
                                    "check monitor.current, or name files with --current");
        }
        std::sort(found.begin(), found.end());
        for (const auto& p : found) {
            std::error_code ec;
            const fs::path rel = fs::relative(p, root, ec);
            const std::string shown =
                !ec && !rel.empty() && rel.native().rfind("..", 0) != 0 ? rel.string() : p;
            out.push_back({p, shown, {}});
        }
    }
    return out;
}

}  // namespace mloop::monitor
