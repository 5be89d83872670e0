#include "config/variables.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace mloop::config {

util::Result<std::vector<Piece>> split_variables(std::string_view s) {
    std::vector<Piece> out;
    std::string literal;
    size_t literal_start = 0;
    size_t i = 0;
    auto flush = [&] {
        if (!literal.empty()) {
            out.push_back({false, std::move(literal), literal_start});
            literal.clear();
        }
    };
    while (i < s.size()) {
        if (s.compare(i, 3, "$${") == 0) {
            if (literal.empty()) {
                literal_start = i;
            }
            literal += "${";
            i += 3;
            continue;
        }
        if (s.compare(i, 2, "${") == 0) {
            const size_t close = s.find('}', i + 2);
            if (close == std::string_view::npos) {
                return util::Failure{fmt::format("unterminated '${{' at offset {}", i)};
            }
            std::string_view name = s.substr(i + 2, close - i - 2);
            if (name.empty()) {
                return util::Failure{"empty variable '${}'"};
            }
            for (char c : name) {
                if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                      c == '-')) {
                    return util::Failure{fmt::format(
                        "invalid variable name '{}': use letters, digits, '_', '-' and '.'", name)};
                }
            }
            flush();
            out.push_back({true, std::string(name), i});
            i = close + 1;
            continue;
        }
        if (literal.empty()) {
            literal_start = i;
        }
        literal += s[i];
        ++i;
    }
    flush();
    return out;
}

util::Result<std::string> expand(std::string_view s, const Lookup& lookup) {
    auto pieces = split_variables(s);
    if (!pieces) {
        return util::Failure{pieces.error()};
    }
    std::string out;
    for (const auto& p : pieces.value()) {
        if (!p.variable) {
            out += p.text;
            continue;
        }
        auto v = lookup(p.text);
        if (!v) {
            return util::Failure{fmt::format("unknown variable '${{{}}}'", p.text)};
        }
        out += *v;
    }
    return out;
}

util::Result<std::chrono::seconds> parse_duration(std::string_view s) {
    const auto bad = [&] {
        return util::Failure{
            fmt::format("'{}' is not a duration; write a number and a unit: 90s, 15m, 2h, 30d", s)};
    };
    if (s.empty()) {
        return bad();
    }
    int64_t total_ms = 0;
    size_t i = 0;
    while (i < s.size()) {
        uint64_t n = 0;
        auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), n);
        if (ec != std::errc() || ptr == s.data() + i) {
            return bad();
        }
        i = static_cast<size_t>(ptr - s.data());
        size_t j = i;
        while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) {
            ++j;
        }
        const std::string_view unit = s.substr(i, j - i);
        int64_t ms_per;
        if (unit == "ms") {
            ms_per = 1;
        } else if (unit == "s") {
            ms_per = 1000;
        } else if (unit == "m") {
            ms_per = 60'000;
        } else if (unit == "h") {
            ms_per = 3'600'000;
        } else if (unit == "d") {
            ms_per = 86'400'000;
        } else {
            return bad();
        }
        // Ten years is longer than anything mloop waits for; beyond it is a typo.
        constexpr int64_t k_max_ms = int64_t{3650} * 86'400'000;
        if (n > static_cast<uint64_t>(k_max_ms / ms_per) ||
            total_ms + int64_t(n) * ms_per > k_max_ms) {
            return util::Failure{fmt::format("duration '{}' is longer than ten years", s)};
        }
        total_ms += static_cast<int64_t>(n) * ms_per;
        i = j;
    }
    return std::chrono::seconds((total_ms + 999) / 1000);
}

std::string format_duration(std::chrono::seconds d) {
    int64_t s = d.count();
    if (s == 0) {
        return "0s";
    }
    std::string out;
    const std::pair<int64_t, const char*> units[] = {
        {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    for (auto [size, name] : units) {
        if (s >= size) {
            out += fmt::format("{}{}", s / size, name);
            s %= size;
        }
    }
    return out;
}

}  // namespace mloop::config
