#include "render/validation.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/text.hpp"

namespace mloop::render {

namespace {

// Display width of UTF-8 text: code points, which is right for the text mloop shows.
size_t width(std::string_view s) {
    size_t n = 0;
    for (const char c : s) {
        n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    }
    return n;
}

std::string pad(std::string_view s, size_t w) {
    std::string out(s);
    const size_t have = width(s);
    if (have < w) {
        out.append(w - have, ' ');
    }
    return out;
}

std::string pad_left(std::string_view s, size_t w) {
    const size_t have = width(s);
    return (have < w ? std::string(w - have, ' ') : std::string{}) + std::string(s);
}

std::string samples_text(const data::Expectation& e) {
    std::vector<std::string> parts;
    for (const auto& s : e.samples) {
        const std::string where =
            s.file.empty() ? fmt::format("row {}", s.row) : fmt::format("{}:{}", s.file, s.row);
        parts.push_back(fmt::format("{}: {}", where, s.value));
    }
    std::string out = util::join(parts, ", ");
    if (e.failed > e.samples.size() && !e.samples.empty()) {
        out += ", …";
    }
    return out;
}

const char* verdict_word(data::Verdict v) {
    switch (v) {
        case data::Verdict::fail:
            return "FAIL";
        case data::Verdict::warn:
            return "warn";
        case data::Verdict::pass:
            break;
    }
    return "pass";
}

bool dataset_level(const data::Expectation& e) {
    return e.kind == "rows_min" || e.kind == "rows_max" || e.kind == "extra_columns" ||
           e.kind == "present";
}

std::string failed_text(const data::Expectation& e) {
    if (e.kind == "rows_min" || e.kind == "rows_max") {
        return fmt::format("{} rows", e.checked);
    }
    return fmt::format("{}", e.failed);
}

std::string fraction_text(const data::Expectation& e) {
    return dataset_level(e) ? "" : percent(e.fraction());
}

std::string allowed_text(const data::Expectation& e) {
    return dataset_level(e) ? "" : percent(e.allowed);
}

std::string summary(const data::Report& r) {
    const size_t n = r.expectations.size();
    const size_t failed = r.failures();
    const size_t warned = r.warnings();
    std::string s = fmt::format("{} {}, ", r.rows, r.rows == 1 ? "row" : "rows");
    if (r.files.size() > 1) {
        s = fmt::format("{} files, {}", r.files.size(), s);
    }
    if (failed > 0) {
        s += fmt::format("{} of {} expectations failed", failed, n);
    } else {
        s += fmt::format("{} {} met", n, n == 1 ? "expectation" : "expectations");
    }
    if (warned > 0) {
        s += fmt::format(", {} {}", warned, warned == 1 ? "warning" : "warnings");
    }
    if (r.cached) {
        s += "  (cached)";
    }
    return s;
}

std::string html(std::string_view s) {
    return util::html_escape(s, "&<>|`");
}

std::string code(std::string_view s) {
    return s.empty() ? std::string{} : "<code>" + html(s) + "</code>";
}

}  // namespace

std::string percent(double fraction) {
    if (fraction <= 0) {
        return "0%";
    }
    const double p = fraction * 100;
    if (p < 0.01) {
        return "<0.01%";
    }
    if (std::fabs(p - std::round(p)) < 1e-9) {
        return fmt::format("{}%", static_cast<int64_t>(std::round(p)));
    }
    return fmt::format("{:.2f}%", p);
}

std::string problem_summary(const data::Report& r) {
    const data::DataProblem& p = *r.problem;
    std::string where;
    if (p.row > 0) {
        where = fmt::format(" at row {}", p.row);
        if (p.column > 0) {
            where += fmt::format(", column {}", p.column);
        }
    }
    return fmt::format("cannot be read as {}{}: {}", r.format, where, p.message);
}

std::string validation_table(const std::vector<data::Report>& reports, const TableOptions& o) {
    size_t name_w = 0, path_w = 0;
    for (const auto& r : reports) {
        name_w = std::max(name_w, width(r.dataset));
        path_w = std::max(path_w, width(r.path));
    }
    std::string out;
    for (const auto& r : reports) {
        const char* word = r.passed ? (r.warnings() > 0 ? "warn" : "ok") : "FAIL";
        const std::string detail = r.problem ? problem_summary(r) : summary(r);
        out += fmt::format("{}  data    {}  {}  {}\n", pad(word, 4), pad(r.dataset, name_w),
                           pad(r.path, path_w), detail);
        std::vector<const data::Expectation*> shown;
        for (const auto& e : r.expectations) {
            if (o.all || e.verdict != data::Verdict::pass) {
                shown.push_back(&e);
            }
        }
        if (!shown.empty()) {
            const std::vector<std::string> head = {"expectation", "column",  "failed", "fraction",
                                                   "allowed",     "verdict", "samples"};
            std::vector<std::vector<std::string>> rows;
            for (const auto* e : shown) {
                rows.push_back({e->expected, e->column, failed_text(*e), fraction_text(*e),
                                allowed_text(*e), verdict_word(e->verdict), samples_text(*e)});
            }
            std::vector<size_t> w(head.size());
            for (size_t i = 0; i < head.size(); ++i) {
                w[i] = width(head[i]);
                for (const auto& row : rows) {
                    w[i] = std::max(w[i], width(row[i]));
                }
            }
            auto line = [&](const std::vector<std::string>& cells) {
                std::string l = "      ";
                for (size_t i = 0; i < cells.size(); ++i) {
                    const bool right = i >= 2 && i <= 4;
                    if (i + 1 == cells.size()) {
                        l += cells[i];
                    } else {
                        l += (right ? pad_left(cells[i], w[i]) : pad(cells[i], w[i])) + "  ";
                    }
                }
                while (!l.empty() && l.back() == ' ') {
                    l.pop_back();
                }
                return l + "\n";
            };
            out += line(head);
            for (const auto& row : rows) {
                out += line(row);
            }
        }
        for (const auto& u : r.unique) {
            out += fmt::format("      unique {}: {} values, {} of memory\n", u.column, u.values,
                               util::format_bytes(static_cast<double>(u.bytes)));
        }
    }
    return out;
}

std::string validation_markdown(const MarkdownConfig& config,
                                const std::vector<data::Report>& reports) {
    std::string out = "## mloop validate\n\n";
    if (config.present) {
        out += fmt::format("{} **config** {}{}\n\n", config.ok ? "✅" : "❌", code(config.file),
                           config.summary.empty() ? "" : " — " + html(config.summary));
    }
    if (reports.empty()) {
        return out;
    }
    out += "| | dataset | path | rows | result |\n|---|---|---|---:|---|\n";
    for (const auto& r : reports) {
        const char* mark = !r.passed ? "❌" : r.warnings() > 0 ? "⚠️" : "✅";
        std::string result;
        if (r.problem) {
            result = html(r.problem->location() + ": " + r.problem->text());
        } else {
            const size_t n = r.expectations.size();
            result = r.failures() > 0 ? fmt::format("{} of {} expectations failed", r.failures(), n)
                                      : fmt::format("{} expectations met", n);
            if (r.warnings() > 0) {
                result += fmt::format(", {} warnings", r.warnings());
            }
            if (r.cached) {
                result += " (cached)";
            }
        }
        out += fmt::format("| {} | {} | {} | {} | {} |\n", mark, html(r.dataset), code(r.path),
                           r.problem ? std::string{} : fmt::format("{}", r.rows), result);
    }
    for (const auto& r : reports) {
        std::vector<const data::Expectation*> shown;
        for (const auto& e : r.expectations) {
            if (e.verdict != data::Verdict::pass) {
                shown.push_back(&e);
            }
        }
        if (shown.empty()) {
            continue;
        }
        out += fmt::format("\n### {} {} {}\n\n", r.passed ? "⚠️" : "❌", html(r.dataset),
                           code(r.path));
        out +=
            "| expectation | column | failed | fraction | allowed | verdict | samples |\n"
            "|---|---|---:|---:|---:|---|---|\n";
        for (const auto* e : shown) {
            std::vector<std::string> samples;
            for (const auto& s : e->samples) {
                const std::string where = s.file.empty() ? fmt::format("row {}", s.row)
                                                         : fmt::format("{}:{}", s.file, s.row);
                samples.push_back(html(where) + " " + code(s.value));
            }
            out +=
                fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", html(e->expected),
                            html(e->column), html(failed_text(*e)), fraction_text(*e),
                            allowed_text(*e), verdict_word(e->verdict), util::join(samples, ", "));
        }
        for (const auto& u : r.unique) {
            out += fmt::format("\nunique {}: {} values, {} of memory\n", html(u.column), u.values,
                               util::format_bytes(static_cast<double>(u.bytes)));
        }
    }
    return out;
}

}  // namespace mloop::render
