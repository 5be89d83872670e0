#include "monitor/frame.hpp"

#include <glob.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "data/csv.hpp"
#include "data/jsonl.hpp"
#include "data/source.hpp"
#include "data/value.hpp"
#include "error/error.hpp"
#include "util/hash.hpp"
#include "util/parallel.hpp"
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

void Texts::append(const Texts& other) {
    std::vector<uint32_t> code(other.distinct());
    for (uint32_t c = 0; c < code.size(); ++c) {
        code[c] = code_of(other.value(c));
    }
    m_codes.reserve(std::max(m_codes.size() + other.size(), m_codes.capacity()));
    for (const uint32_t c : other.m_codes) {
        m_codes.push_back(code[c]);
    }
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

// Pads a column with missing cells to `rows`, or cuts it back to them.
void pad(Column& c, uint64_t rows) {
    if (c.missing.size() > rows) {
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
    // Inlined into the row handlers, with the number parser: called for every cell (bench/monitor:
    // GCC left both as calls once the reading of pieces was added, at a tenth more time).
    [[gnu::always_inline]] void set(size_t column, std::string_view text, bool missing) {
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

// How a file is read, from its name.
struct FileFormat {
    bool gzip = false;
    bool jsonl = false;
    char delimiter = ',';
};

FileFormat format_of(const DataFile& file) {
    std::string name = file.name.empty() ? file.path.filename().string() : file.name;
    FileFormat f;
    if (util::ends_with(name, ".gz")) {
        f.gzip = true;
        name.resize(name.size() - 3);
    }
    f.jsonl = util::ends_with(name, ".jsonl") || util::ends_with(name, ".ndjson") ||
              util::ends_with(name, ".json");
    const bool csv = util::ends_with(name, ".csv") || util::ends_with(name, ".tsv");
    if (!f.jsonl && !csv) {
        throw error::UsageError(
            fmt::format("'{}': cannot tell its format from its name", file.display),
            "name it .csv, .tsv or .jsonl (optionally .gz)");
    }
    f.delimiter = util::ends_with(name, ".tsv") ? '\t' : ',';
    return f;
}

// Part of the reading: a file, or a byte range of one that starts on a record boundary.
struct Piece {
    size_t request = 0;
    size_t file = 0;
    FileFormat format;
    uint64_t begin = 0;  // 0: from the file's start, header and all
    uint64_t end = data::k_to_end;
    uint64_t reserve_bytes = 0;       // bytes whose rows its frame makes room for (0: as they come)
    uint64_t bytes = 0;               // about how many it reads, for the order of the work
    std::vector<std::string> header;  // of a CSV piece that does not start the file
};

// Reads one piece into a frame of its own; the columns found not numeric part way through are in
// `retype`. When `range` is given, it is read as it is left (another thread may take the rest),
// and `started` is called once the header is read. A DataError names the file (and the row,
// right for a piece that starts the file).
Frame read_piece(const FrameRequest& request, const Piece& piece, const std::atomic<bool>* cancel,
                 data::SharedRange* range,
                 const std::function<void(const std::vector<std::string>&)>& started,
                 std::set<std::string>& retype) {
    const DataFile& file = request.files[piece.file];
    Frame f;
    Builder b(f, request.with_text, request.as_text);
    data::SourceOptions so;
    so.gzip = piece.format.gzip;
    so.begin = piece.begin;
    so.end = piece.end;
    so.cancel = cancel;
    so.range = range;
    auto source = data::open_source(file.path, file.display, so);
    try {
        if (piece.format.jsonl) {
            data::JsonlOptions jo;
            jo.first_part = piece.begin == 0;
            data::JsonlReader reader(*source, jo);
            JsonRows rows(b, piece.reserve_bytes);
            if (started) {
                started({});
            }
            reader.read_rows(rows);
        } else {
            data::CsvOptions co;
            co.delimiter = piece.format.delimiter;
            if (piece.begin != 0) {
                co.header = false;
                co.expected_fields = piece.header.size();
                co.column_names = piece.header;
            }
            data::CsvReader reader(*source, co);
            const std::vector<std::string> header =
                piece.begin == 0 ? reader.read_header() : piece.header;
            std::vector<size_t> columns;
            for (const auto& n : header) {
                columns.push_back(b.index(n));
            }
            CsvRows rows(b, std::move(columns), piece.reserve_bytes);
            if (started) {
                started(header);
            }
            reader.read_rows(rows);
        }
    } catch (const data::DataError& e) {
        const std::string where = e.row() != 0 ? fmt::format(":{}", e.row()) : std::string();
        throw data::DataError(fmt::format("{}{}: {}", file.display, where, e.message()), e.row(),
                              e.column(), e.column_name());
    }
    b.finish();
    retype = b.retype();
    return f;
}

bool has_values(const Column& c) {
    return std::find(c.missing.begin(), c.missing.end(), uint8_t{0}) != c.missing.end();
}

// From here on a column of text: its cells empty (it has no number to lose).
void make_text(Column& c) {
    c.numeric = false;
    c.has_text = true;
    c.values = {};
    c.text.resize(c.missing.size());
}

// Appends the rows of `o` to those of `f`, columns matched by name; a column one lacks is missing
// in its rows. A column numeric in one and holding text in the other goes to `retype` when the
// numeric one has numbers (their text is gone: the request is read again with the column as
// text); without any, it is text in the joined frame.
void join(Frame& f, Frame&& o, std::set<std::string>& retype) {
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < f.columns.size(); ++i) {
        index.emplace(f.columns[i].name, i);
    }
    std::vector<uint8_t> joined(f.columns.size(), 0);
    for (auto& oc : o.columns) {
        const auto it = index.find(oc.name);
        size_t i = 0;
        if (it != index.end()) {
            i = it->second;
        } else {
            Column c;
            c.name = oc.name;
            c.numeric = oc.numeric;
            c.has_text = oc.has_text;
            pad(c, f.rows);
            i = f.columns.size();
            f.columns.push_back(std::move(c));
            joined.push_back(0);
        }
        Column& c = f.columns[i];
        joined[i] = 1;
        if (c.numeric != oc.numeric) {
            Column& number = c.numeric ? c : oc;
            if (has_values(number)) {
                retype.insert(c.name);
            }
            make_text(number);
        }
        c.missing.insert(c.missing.end(), oc.missing.begin(), oc.missing.end());
        if (c.numeric) {
            c.values.insert(c.values.end(), oc.values.begin(), oc.values.end());
        }
        if (c.has_text) {
            c.text.append(oc.text);
        }
        oc = {};  // its memory back for the next
    }
    f.rows += o.rows;
    for (size_t i = 0; i < f.columns.size(); ++i) {
        if (joined[i] == 0) {
            pad(f.columns[i], f.rows);
        }
    }
}

// The first record boundary at or after `from` in a piece's file, before `end`. For CSV, the
// first newline outside quotes: whether `from` is inside quotes is told by the parity of the
// quotes from `begin` (a record boundary) to `from` when `begin` is given, else supposed not (the
// piece before the boundary then proves it by ending outside quotes).
uint64_t next_record(const DataFile& file, const FileFormat& format, uint64_t from, uint64_t end,
                     std::optional<uint64_t> begin) {
    const data::ReadFd fd(file.path, file.display);
    if (format.jsonl) {
        return data::jsonl_next_record(fd.get(), from, end, file.display);
    }
    const bool in_quotes =
        begin && data::count_quotes(fd.get(), *begin, from, file.display) % 2 == 1;
    return data::csv_next_record(fd.get(), from, end, in_quotes, file.display);
}

// File i of request r as one piece.
Piece whole_file(const FrameRequest& request, size_t r, size_t i) {
    Piece p;
    p.request = r;
    p.file = i;
    p.format = format_of(request.files[i]);
    std::error_code ec;
    const uint64_t size = fs::file_size(request.files[i].path, ec);
    p.bytes = ec ? 0 : p.format.gzip ? 4 * size : size;  // gzip inflates about fourfold
    p.reserve_bytes = p.format.gzip ? 0 : p.bytes;
    return p;
}

// A request's pieces as read; joined in order when all are.
struct RequestState {
    std::vector<size_t> pieces;  // of the round's, as they come
    bool failed = false;
};

// The reading of one round: pieces to read, first from a queue, then taken from the pieces being
// read (the second half of the one with most left) by a thread that has run out of work.
class Round {
  public:
    Round(const std::vector<FrameRequest>& requests, const SplitOptions& options)
        : m_requests(requests),
          m_options(options),
          m_state(requests.size()),
          m_stop(new std::atomic<bool>[requests.size()]) {
        for (size_t r = 0; r < requests.size(); ++r) {
            m_stop[r] = false;
            plan(r);
        }
        // The largest first.
        m_queue.resize(m_pieces.size());
        std::iota(m_queue.begin(), m_queue.end(), size_t{0});
        std::stable_sort(m_queue.begin(), m_queue.end(),
                         [&](size_t a, size_t b) { return m_pieces[a].bytes > m_pieces[b].bytes; });
    }

    void run() {
        const unsigned threads = util::default_threads();
        util::parallel_for_workers(threads, threads, [&](size_t, unsigned) {
            for (;;) {
                const size_t n = m_next.fetch_add(1);
                if (n < m_queue.size()) {
                    read(m_queue[n]);
                } else if (const auto k = take_over()) {
                    read(*k);
                } else {
                    return;
                }
            }
        });
    }

    // The request's frame: its pieces joined in order; the columns to read again as text in
    // `again`. Empty when a piece failed (the request is then read whole).
    std::optional<Frame> frame(size_t r, std::set<std::string>& again) {
        RequestState& st = m_state[r];
        if (st.failed) {
            return std::nullopt;
        }
        std::sort(st.pieces.begin(), st.pieces.end(), [&](size_t a, size_t b) {
            return std::tie(m_pieces[a].file, m_pieces[a].begin) <
                   std::tie(m_pieces[b].file, m_pieces[b].begin);
        });
        Frame f;
        for (size_t i = 0; i < st.pieces.size(); ++i) {
            const size_t k = st.pieces[i];
            again.insert(m_again[k].begin(), m_again[k].end());
            if (i == 0) {
                f = std::move(m_read[k]);
            } else {
                join(f, std::move(m_read[k]), again);
            }
            m_read[k] = {};
        }
        return f;
    }

  private:
    struct Active {
        size_t piece = 0;
        std::shared_ptr<data::SharedRange> range;
        std::vector<std::string> header;
    };

    // The request's files as pieces: one each, or `options.pieces` for one to share.
    void plan(size_t r) {
        const FrameRequest& request = m_requests[r];
        try {
            uint64_t request_bytes = 0;
            std::vector<Piece> pieces;
            for (size_t i = 0; i < request.files.size(); ++i) {
                pieces.push_back(whole_file(request, r, i));
                request_bytes += pieces.back().reserve_bytes;
            }
            // The first piece makes room for the request's rows: the others join it.
            if (!pieces.empty()) {
                pieces[0].reserve_bytes = request_bytes;
            }
            for (auto& p : pieces) {
                if (m_options.pieces > 1 && shareable(p)) {
                    presplit(p, p.bytes);
                } else {
                    add(p);
                }
            }
        } catch (const std::exception&) {
            fail(r);  // read whole, for the error
        }
    }

    bool shareable(const Piece& p) const {
        std::error_code ec;
        return !p.format.gzip && fs::is_regular_file(m_requests[p.request].files[p.file].path, ec);
    }

    // Cuts a piece into options.pieces now, each cut supposed outside quotes (tests: the joins
    // and the check of the guess, without the timing of threads).
    void presplit(Piece p, uint64_t size) {
        const DataFile& file = m_requests[p.request].files[p.file];
        if (!p.format.jsonl) {
            auto source = data::open_source(file.path, file.display, {});
            data::CsvOptions co;
            co.delimiter = p.format.delimiter;
            data::CsvReader reader(*source, co);
            p.header = reader.read_header();
        }
        std::vector<uint64_t> starts{0};
        for (uint64_t k = 1; k < m_options.pieces; ++k) {
            const uint64_t at =
                next_record(file, p.format, size * k / m_options.pieces, size, std::nullopt);
            if (at < size && at > starts.back()) {
                starts.push_back(at);
            }
        }
        for (size_t k = 0; k < starts.size(); ++k) {
            Piece q = p;
            q.begin = starts[k];
            q.end = k + 1 < starts.size() ? starts[k + 1] : data::k_to_end;
            q.bytes = (k + 1 < starts.size() ? starts[k + 1] : size) - starts[k];
            q.reserve_bytes = k == 0 ? p.reserve_bytes : q.bytes;
            add(q);
        }
    }

    size_t add(const Piece& p) {
        const std::lock_guard lock(m_mutex);
        m_pieces.push_back(p);
        m_read.emplace_back();
        m_again.emplace_back();
        m_state[p.request].pieces.push_back(m_pieces.size() - 1);
        return m_pieces.size() - 1;
    }

    void fail(size_t r) {
        m_stop[r] = true;  // the pieces left of it are not read
        const std::lock_guard lock(m_mutex);
        m_state[r].failed = true;
    }

    void read(size_t k) {
        Piece p;
        std::set<std::string>* again = nullptr;
        {
            const std::lock_guard lock(m_mutex);
            p = m_pieces[k];
            again = &m_again[k];  // a deque's elements stay where they are as it grows
        }
        if (m_stop[p.request]) {
            return;
        }
        std::shared_ptr<data::SharedRange> range;
        std::function<void(const std::vector<std::string>&)> started;
        bool starting = false;  // counted in m_starting
        if (shareable(p)) {
            uint64_t end = p.end;
            if (end == data::k_to_end) {
                std::error_code ec;
                end = fs::file_size(m_requests[p.request].files[p.file].path, ec);
            }
            range = std::make_shared<data::SharedRange>(p.begin, end);
            starting = true;
            started = [&, k, range](const std::vector<std::string>& header) {
                const std::lock_guard lock(m_mutex);
                m_active.push_back({k, range, header});
                --m_starting;
                starting = false;
            };
            const std::lock_guard lock(m_mutex);
            ++m_starting;
        }
        try {
            Frame f = read_piece(m_requests[p.request], p, &m_stop[p.request], range.get(), started,
                                 *again);
            const std::lock_guard lock(m_mutex);
            m_read[k] = std::move(f);
        } catch (...) {
            fail(p.request);
        }
        const std::lock_guard lock(m_mutex);
        std::erase_if(m_active, [&](const Active& a) { return a.piece == k; });
        if (starting) {  // failed before its header
            --m_starting;
        }
    }

    // The second half of what is left of the piece with most left, as a piece of its own; none
    // when every piece being read has less than twice min_share left. A piece that has not read
    // its header yet is waited for.
    std::optional<size_t> take_over() {
        for (int attempt = 0; attempt < 4;) {
            Active a;
            uint64_t at = 0;
            uint64_t end = 0;
            size_t starting = 0;
            {
                const std::lock_guard lock(m_mutex);
                for (const auto& x : m_active) {
                    const auto [b, e] = x.range->left();
                    if (e - b > end - at && !m_stop[m_pieces[x.piece].request]) {
                        a = x;
                        at = b;
                        end = e;
                    }
                }
                starting = m_starting;
            }
            if (!a.range || end - at < 2 * m_options.min_share) {
                if (starting == 0) {
                    return std::nullopt;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(50));
                continue;
            }
            ++attempt;
            Piece p = [&] {
                const std::lock_guard lock(m_mutex);
                return m_pieces[a.piece];
            }();
            const DataFile& file = m_requests[p.request].files[p.file];
            uint64_t cut = 0;
            try {
                cut = next_record(file, p.format, at + (end - at) / 2, end, p.begin);
            } catch (const std::exception&) {
                return std::nullopt;  // its own reader will tell
            }
            if (const auto old_end = a.range->cut(cut)) {
                p.begin = cut;
                p.end = *old_end;
                p.bytes = *old_end - cut;
                p.reserve_bytes = p.bytes;
                p.header = a.header;
                if (m_options.taken != nullptr) {
                    ++*m_options.taken;
                }
                return add(p);
            }
        }
        return std::nullopt;
    }

    const std::vector<FrameRequest>& m_requests;
    const SplitOptions& m_options;
    std::mutex m_mutex;
    std::vector<Piece> m_pieces;  // under m_mutex, as is what follows
    std::vector<RequestState> m_state;
    std::vector<Active> m_active;
    size_t m_starting = 0;  // pieces to share that have not read their header yet
    std::deque<Frame> m_read;
    std::deque<std::set<std::string>> m_again;
    std::vector<size_t> m_queue;
    std::atomic<size_t> m_next{0};
    std::unique_ptr<std::atomic<bool>[]> m_stop;
};

// One round of load_frames over the requests named in `which`; the columns to read again as text
// are in `retype`.
void read_round(const std::vector<FrameRequest>& requests, const std::vector<size_t>& which,
                const SplitOptions& options, std::vector<Frame>& frames,
                std::vector<std::set<std::string>>& retype) {
    std::vector<FrameRequest> round;
    for (const size_t r : which) {
        round.push_back(requests[r]);
    }
    Round reading(round, options);
    reading.run();
    for (size_t r = 0; r < round.size(); ++r) {
        std::set<std::string> again;
        std::optional<Frame> f = reading.frame(r, again);
        if (!f) {
            // Again, a whole file at a time, in order: the first error is the one to tell.
            if (options.reread != nullptr) {
                ++*options.reread;
            }
            f.emplace();
            again.clear();
            for (size_t i = 0; i < round[r].files.size(); ++i) {
                std::set<std::string> piece_again;
                Frame piece = read_piece(round[r], whole_file(round[r], r, i), nullptr, nullptr, {},
                                         piece_again);
                again.insert(piece_again.begin(), piece_again.end());
                if (i == 0) {
                    *f = std::move(piece);
                } else {
                    join(*f, std::move(piece), again);
                }
            }
        }
        f->files.clear();
        for (const auto& file : round[r].files) {
            f->files.push_back(file.display);
        }
        frames[which[r]] = std::move(*f);
        retype[which[r]] = std::move(again);
    }
}

}  // namespace

std::vector<Frame> load_frames(const std::vector<FrameRequest>& requests,
                               const SplitOptions& split) {
    std::vector<FrameRequest> reqs = requests;
    std::vector<Frame> frames(reqs.size());
    std::vector<std::set<std::string>> retype(reqs.size());
    std::vector<size_t> which(reqs.size());
    std::iota(which.begin(), which.end(), size_t{0});
    // A second round reads the columns found not numeric part way through as text; it finds no
    // more (each column reads as it did), so there is no third.
    while (!which.empty()) {
        read_round(reqs, which, split, frames, retype);
        std::vector<size_t> again;
        for (const size_t r : which) {
            const size_t before = reqs[r].as_text.size();
            reqs[r].as_text.insert(retype[r].begin(), retype[r].end());
            if (reqs[r].as_text.size() != before) {
                frames[r] = {};  // its memory back before the second read
                again.push_back(r);
            }
        }
        which = std::move(again);
    }
    return frames;
}

Frame load_frame(const std::vector<DataFile>& files, const std::set<std::string>& with_text,
                 const std::set<std::string>& as_text) {
    return std::move(load_frames({{files, with_text, as_text}}).front());
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
