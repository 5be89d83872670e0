#include "monitor/frame.hpp"

#include <glob.h>

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "data/csv.hpp"
#include "data/jsonl.hpp"
#include "data/source.hpp"
#include "error/error.hpp"
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

void Texts::filter(const std::vector<uint8_t>& keep) {
    Texts kept;
    for (size_t i = 0; i < size(); ++i) {
        if (keep[i] != 0) {
            kept.push_back((*this)[i]);
        }
    }
    *this = std::move(kept);
}

void Frame::filter(const std::vector<uint8_t>& keep) {
    for (auto& c : columns) {
        c.text.filter(keep);
        size_t out = 0;
        for (size_t i = 0; i < c.missing.size(); ++i) {
            if (keep[i] != 0) {
                c.missing[out++] = c.missing[i];
            }
        }
        c.missing.resize(out);
    }
    rows = static_cast<uint64_t>(std::count(keep.begin(), keep.end(), uint8_t{1}));
}

namespace {

// Appends rows to a frame whose columns are found as they come.
class Builder {
  public:
    explicit Builder(Frame& f) : m_f(f) {
        for (size_t i = 0; i < f.columns.size(); ++i) {
            m_index[f.columns[i].name] = i;
        }
    }
    size_t index(std::string_view name) {
        const auto it = m_index.find(std::string(name));
        if (it != m_index.end()) {
            return it->second;
        }
        Column c;
        c.name = std::string(name);
        c.text.resize(m_f.rows);
        c.missing.assign(m_f.rows, 1);
        m_f.columns.push_back(std::move(c));
        m_index[std::string(name)] = m_f.columns.size() - 1;
        return m_f.columns.size() - 1;
    }
    // Starts a row: every column missing until set.
    void begin_row() {
        for (auto& c : m_f.columns) {
            c.text.push_back({});
            c.missing.push_back(1);
        }
        ++m_f.rows;
    }
    void set(size_t column, std::string_view text, bool missing) {
        Column& c = m_f.columns[column];
        if (c.text.size() < m_f.rows) {  // a column first seen in this row
            c.text.resize(m_f.rows);
            c.missing.resize(m_f.rows, 1);
        }
        c.text.set_last(text);
        c.missing.back() = missing ? 1 : 0;
    }

  private:
    Frame& m_f;
    std::unordered_map<std::string, size_t> m_index;
};

class CsvRows : public data::CsvRowHandler {
  public:
    CsvRows(Builder& b, std::vector<size_t> columns) : m_b(b), m_columns(std::move(columns)) {}
    void row(uint64_t, std::span<const std::string_view> fields) override {
        m_b.begin_row();
        for (size_t i = 0; i < fields.size() && i < m_columns.size(); ++i) {
            m_b.set(m_columns[i], fields[i], fields[i].empty());
        }
    }

  private:
    Builder& m_b;
    std::vector<size_t> m_columns;
};

class JsonRows : public data::JsonRowHandler {
  public:
    explicit JsonRows(Builder& b) : m_b(b) {}
    void row(uint64_t, std::span<const data::JsonField> fields) override {
        m_b.begin_row();
        for (const auto& f : fields) {
            const size_t c = m_b.index(f.key);
            m_b.set(c, f.text, f.kind == data::JsonKind::null);
        }
    }

  private:
    Builder& m_b;
};

}  // namespace

Frame load_frame(const std::vector<DataFile>& files) {
    Frame f;
    Builder b(f);
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
        auto source = data::open_source(file.path, file.display, so);
        try {
            if (jsonl) {
                data::JsonlReader reader(*source, {});
                JsonRows rows(b);
                reader.read_rows(rows);
            } else {
                data::CsvOptions co;
                co.delimiter = util::ends_with(name, ".tsv") ? '\t' : ',';
                data::CsvReader reader(*source, co);
                std::vector<size_t> columns;
                for (const auto& n : reader.read_header()) {
                    columns.push_back(b.index(n));
                }
                CsvRows rows(b, std::move(columns));
                reader.read_rows(rows);
            }
        } catch (const data::DataError& e) {
            const std::string where = e.row() != 0 ? fmt::format(":{}", e.row()) : std::string();
            throw data::DataError(fmt::format("{}{}: {}", file.display, where, e.message()),
                                  e.row(), e.column(), e.column_name());
        }
        f.files.push_back(file.display);
    }
    // Columns first seen late are padded to the end.
    for (auto& c : f.columns) {
        c.text.resize(f.rows);
        c.missing.resize(f.rows, 1);
    }
    return f;
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
