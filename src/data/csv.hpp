// A streaming CSV reader (RFC 4180): quoted fields, doubled quotes, CRLF or LF line ends,
// newlines inside quotes, a UTF-8 byte order mark. It indexes each block with the SIMD kernel
// of simd.hpp, then hands out one row at a time as views into its buffer.
//
// Strict where CSV writers disagree, so that every file has one reading (and so that a file
// can be split between threads by counting quotes): a quote inside an unquoted field, text
// after a closing quote, a lone carriage return, a NUL byte and invalid UTF-8 are errors that
// name the row and column. Blank lines are skipped (they still count as rows).
//
// Rows are numbered as a spreadsheet shows them: the header is row 1, every record after it
// (a blank line too) is one more, whatever newlines its quoted fields hold.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/source.hpp"

namespace mloop::data {

inline constexpr size_t k_max_row_bytes = size_t{64} << 20;  // a row (or field) above: error
inline constexpr size_t k_max_fields = 65536;

struct CsvOptions {
    char delimiter = ',';
    // true: the first record is the header (a leading byte order mark is skipped). false: a
    // later part of a split file; rows must have `expected_fields` fields.
    bool header = true;
    size_t expected_fields = 0;
    std::vector<std::string> column_names;  // for messages about a part without the header
    size_t block_size = size_t{1} << 20;    // the buffer's starting size
    size_t max_row_bytes = k_max_row_bytes;
};

class CsvRowHandler {
  public:
    virtual ~CsvRowHandler() = default;
    // One data row: its number (as above, within this part) and its fields, unquoted. The views
    // are valid during the call only.
    virtual void row(uint64_t number, std::span<const std::string_view> fields) = 0;
};

class CsvReader {
  public:
    CsvReader(Source& source, CsvOptions options);
    ~CsvReader();
    CsvReader(const CsvReader&) = delete;
    CsvReader& operator=(const CsvReader&) = delete;

    // The header's column names. DataError when the file is empty, when a name repeats, or
    // when the header is malformed.
    std::vector<std::string> read_header();

    // Reads every data row to the end. DataError (with row and column) for malformed data.
    void read_rows(CsvRowHandler& handler);

    // Records read so far, the header and blank lines included: the row number of the last.
    uint64_t rows() const { return m_row; }
    uint64_t data_rows() const { return m_data_rows; }

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    uint64_t m_row = 0;
    uint64_t m_data_rows = 0;
    friend struct Impl;
};

// The offset just past the first newline outside quotes at or after `from` in a regular file,
// given the quote state there (the parity of the quotes before it); `end` when there is none
// before `end`. Where a second thread starts reading a CSV file.
uint64_t csv_next_record(int fd, uint64_t from, uint64_t end, bool in_quotes,
                         const std::string& display, const std::atomic<bool>* cancel = nullptr);

}  // namespace mloop::data
