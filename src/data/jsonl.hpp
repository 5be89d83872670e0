// A streaming JSON-lines reader: one JSON object per line, its members handed out as key,
// kind and text, without building a document. Strings are scanned with the SIMD kernel of
// simd.hpp, checked (UTF-8, control characters, escapes) and unescaped only when they hold an
// escape; numbers are checked against JSON's grammar and handed out as written.
//
// Values that are themselves objects or arrays are not descended into: their brackets are
// matched (at most k_max_depth deep), their strings checked, and their text handed out whole.
// Blank lines are skipped (they still count as rows); rows are numbered by line from 1.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "data/csv.hpp"
#include "data/source.hpp"

namespace mloop::data {

inline constexpr int k_max_depth = 64;

enum class JsonKind : uint8_t { null, true_, false_, number, string, object, array };

struct JsonField {
    std::string_view key;   // unescaped
    std::string_view text;  // a string's unescaped text; otherwise the value as written
    JsonKind kind;
    uint32_t offset;  // of the value within its line, from 0
};

class JsonRowHandler {
  public:
    virtual ~JsonRowHandler() = default;
    // One object: its line number and members in the order written. Views are valid during
    // the call only.
    virtual void row(uint64_t number, std::span<const JsonField> fields) = 0;
};

struct JsonlOptions {
    // false for a later part of a split file: no byte order mark, and no rows is no error
    bool first_part = true;
    size_t block_size = size_t{1} << 20;
    size_t max_row_bytes = k_max_row_bytes;
};

class JsonlReader {
  public:
    JsonlReader(Source& source, JsonlOptions options);
    ~JsonlReader();
    JsonlReader(const JsonlReader&) = delete;
    JsonlReader& operator=(const JsonlReader&) = delete;

    // Reads every line to the end. DataError (with row, and the byte column within the line)
    // for malformed JSON, a line that is not an object, nesting deeper than k_max_depth, or a
    // line longer than the limit.
    void read_rows(JsonRowHandler& handler);

    uint64_t rows() const { return m_row; }
    uint64_t data_rows() const { return m_data_rows; }

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    uint64_t m_row = 0;
    uint64_t m_data_rows = 0;
    friend struct Impl;
};

// The offset just past the first '\n' at or after `from` in a regular file; `end` when there is
// none before it. Where a second thread starts reading a JSON-lines file.
uint64_t jsonl_next_record(int fd, uint64_t from, uint64_t end, const std::string& display,
                           const std::atomic<bool>* cancel = nullptr);

}  // namespace mloop::data
