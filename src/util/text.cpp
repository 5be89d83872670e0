#include "util/text.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace mloop::util {

size_t edit_distance(std::string_view a, std::string_view b) {
    const size_t n = a.size();
    const size_t m = b.size();
    std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (size_t j = 0; j <= m; ++j) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= m; ++j) {
            const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
            }
        }
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[m];
}

std::vector<std::string> nearest(std::string_view word, std::span<const std::string> candidates,
                                 size_t limit) {
    // A candidate is plausible when the edits needed are few relative to the word's length,
    // or when one is a prefix of the other (a truncated or over-typed name).
    const size_t budget = std::max<size_t>(1, std::min<size_t>(3, (word.size() + 2) / 3));
    std::vector<std::pair<size_t, std::string>> scored;
    for (const auto& c : candidates) {
        if (c == word || c.empty()) {
            continue;
        }
        size_t d = edit_distance(word, c);
        const bool prefix = word.size() >= 3 && (starts_with(c, word) || starts_with(word, c));
        if (prefix) {
            d = std::min<size_t>(d, 1);
        }
        if (d <= budget) {
            scored.emplace_back(d, c);
        }
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> out;
    for (auto& [d, c] : scored) {
        if (!out.empty() && d > scored.front().first) {
            break;  // only the best-scoring tier, like git
        }
        if (std::find(out.begin(), out.end(), c) == out.end()) {
            out.push_back(c);
        }
        if (out.size() == limit) {
            break;
        }
    }
    return out;
}

std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
    const auto near = nearest(word, candidates);
    if (near.empty()) {
        return {};
    }
    std::string list;
    for (size_t i = 0; i < near.size(); ++i) {
        if (i > 0) {
            list += i + 1 == near.size() ? " or " : ", ";
        }
        list += "'" + near[i] + "'";
    }
    return "did you mean " + list + "?";
}

std::string join(std::span<const std::string> items, std::string_view sep,
                 std::string_view quote_with) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += sep;
        }
        out += quote_with;
        out += items[i];
        out += quote_with;
    }
    return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    };
    while (!s.empty() && space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<std::string> nonempty_lines(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const size_t nl = s.find('\n');
        const std::string_view line = trim(s.substr(0, nl));
        if (!line.empty()) {
            out.emplace_back(line);
        }
        if (nl == std::string_view::npos) {
            break;
        }
        s.remove_prefix(nl + 1);
    }
    return out;
}

std::string quote(std::string_view value, size_t max) {
    std::string out = "'";
    size_t shown = 0;
    for (unsigned char c : value) {
        if (shown >= max) {
            out += "…";
            break;
        }
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
        ++shown;
    }
    out += "'";
    return out;
}

size_t invalid_utf8_offset(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        // Fast path over ASCII, eight bytes at a time.
        while (i + 8 <= n) {
            uint64_t word;
            std::memcpy(&word, p + i, 8);
            if (word & 0x8080808080808080ULL) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > n) {
            return i;
        }
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        // Overlong forms, surrogates and values beyond U+10FFFF are invalid.
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return i;
        }
        i += len;
    }
    return std::string_view::npos;
}

std::string format_bytes(double bytes) {
    static constexpr const char* k_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t unit = 0;
    while (bytes >= 1024.0 && unit + 1 < std::size(k_units)) {
        bytes /= 1024.0;
        ++unit;
    }
    if (unit == 0) {
        return fmt::format("{:.0f} B", bytes);
    }
    return fmt::format("{:.1f} {}", bytes, k_units[unit]);
}

std::string html_escape(std::string_view text, std::string_view special) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (special.find(c) == std::string_view::npos) {
            out += c;
        } else if (c == '&') {
            out += "&amp;";
        } else if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else if (c == '"') {
            out += "&quot;";
        } else {
            out += "&#" + std::to_string(static_cast<unsigned char>(c)) + ";";
        }
    }
    return out;
}

}  // namespace mloop::util
