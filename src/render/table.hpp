// Tables for people (aligned columns, as `docker ps` and `kubectl get` print them) and for
// markdown (CI job summaries, PR comments). Generic: any command that lists things uses them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mloop::render {

enum class Align { left, right };

struct Column {
    std::string header;
    Align align = Align::left;
};

// A cell's text, and an ANSI style drawn around it on a terminal (padding ignores the style).
struct Cell {
    std::string text;
    std::string_view style = {};

    Cell() = default;
    Cell(std::string t) : text(std::move(t)) {}  // NOLINT: a plain string is the common cell
    Cell(const char* t) : text(t) {}             // NOLINT
    Cell(std::string t, std::string_view s) : text(std::move(t)), style(s) {}
};

class Table {
  public:
    explicit Table(std::vector<Column> columns) : m_columns(std::move(columns)) {}

    // A row shorter than the columns is padded with empty cells.
    void add(std::vector<Cell> row);
    size_t rows() const { return m_rows.size(); }
    size_t columns() const { return m_columns.size(); }

    // Removes the columns whose every cell is empty (a metric no listed run has).
    void drop_empty_columns();
    void drop_column(size_t index);

    // Columns separated by two spaces, the header first (unless `header` is false), each line
    // ending in '\n' with no trailing blanks. Widths count UTF-8 characters, not bytes.
    std::string text(bool header = true) const;
    // A GitHub-flavoured markdown table; '|' in a cell is escaped, newlines become <br>.
    std::string markdown() const;

  private:
    std::vector<Column> m_columns;
    std::vector<std::vector<Cell>> m_rows;
};

// The number of characters (code points) `s` shows as; UTF-8 continuation bytes count nothing.
size_t display_width(std::string_view s);

// Key–value lines ("state      succeeded"), keys padded to the longest, two spaces after it.
std::string key_values(const std::vector<std::pair<std::string, std::string>>& rows,
                       std::string_view indent = "");

}  // namespace mloop::render
