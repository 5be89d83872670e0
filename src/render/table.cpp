#include "render/table.hpp"

#include <algorithm>

namespace mloop::render {

namespace {

constexpr std::string_view k_reset = "\033[0m";

void rstrip(std::string& s) {
    while (!s.empty() && s.back() == ' ') {
        s.pop_back();
    }
}

std::string markdown_cell(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '|') {
            out += "\\|";
        } else if (c == '\n') {
            out += "<br>";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

size_t display_width(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) {
        n += (c & 0xC0) != 0x80;
    }
    return n;
}

void Table::add(std::vector<Cell> row) {
    row.resize(m_columns.size());
    m_rows.push_back(std::move(row));
}

void Table::drop_column(size_t index) {
    if (index >= m_columns.size()) {
        return;
    }
    m_columns.erase(m_columns.begin() + static_cast<std::ptrdiff_t>(index));
    for (auto& row : m_rows) {
        row.erase(row.begin() + static_cast<std::ptrdiff_t>(index));
    }
}

void Table::drop_empty_columns() {
    for (size_t c = m_columns.size(); c-- > 0;) {
        const bool empty = std::all_of(m_rows.begin(), m_rows.end(),
                                       [&](const auto& row) { return row[c].text.empty(); });
        if (empty) {
            drop_column(c);
        }
    }
}

std::string Table::text(bool header) const {
    std::vector<size_t> width(m_columns.size(), 0);
    for (size_t c = 0; c < m_columns.size(); ++c) {
        if (header) {
            width[c] = display_width(m_columns[c].header);
        }
        for (const auto& row : m_rows) {
            width[c] = std::max(width[c], display_width(row[c].text));
        }
    }
    std::string out;
    auto emit = [&](const std::vector<Cell>& row) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) {
            const size_t pad = width[c] - display_width(row[c].text);
            if (c > 0) {
                line += "  ";
            }
            if (m_columns[c].align == Align::right) {
                line.append(pad, ' ');
            }
            if (!row[c].style.empty() && !row[c].text.empty()) {
                line += row[c].style;
                line += row[c].text;
                line += k_reset;
            } else {
                line += row[c].text;
            }
            if (m_columns[c].align == Align::left) {
                line.append(pad, ' ');
            }
        }
        rstrip(line);
        out += line;
        out += '\n';
    };
    if (header) {
        std::vector<Cell> head;
        for (const auto& col : m_columns) {
            head.emplace_back(col.header);
        }
        emit(head);
    }
    for (const auto& row : m_rows) {
        emit(row);
    }
    return out;
}

std::string Table::markdown() const {
    std::string out = "|";
    for (const auto& col : m_columns) {
        out += " " + markdown_cell(col.header) + " |";
    }
    out += "\n|";
    for (const auto& col : m_columns) {
        out += col.align == Align::right ? " ---: |" : " --- |";
    }
    out += '\n';
    for (const auto& row : m_rows) {
        out += "|";
        for (const auto& cell : row) {
            out += " " + markdown_cell(cell.text) + " |";
        }
        out += '\n';
    }
    return out;
}

std::string key_values(const std::vector<std::pair<std::string, std::string>>& rows,
                       std::string_view indent) {
    size_t width = 0;
    for (const auto& [k, v] : rows) {
        width = std::max(width, display_width(k));
    }
    std::string out;
    for (const auto& [k, v] : rows) {
        std::string line(indent);
        line += k;
        line.append(width - display_width(k) + 2, ' ');
        line += v;
        rstrip(line);
        out += line + '\n';
    }
    return out;
}

}  // namespace mloop::render
