// What each schema type accepts, one function per type (the rules mloop-validate(1) documents).
// They take a field's text as the reader delivers it (a CSV field after unquoting, a JSON
// string after unescaping, a JSON number as written) and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mloop::data {

// These three run once per value of a column, so they are inline; what is rare is not.

// [+-]digits, within int64. No spaces, no decimal point, no exponent. The hot loops use the
// form that writes `out` and says whether it did: an optional returned through the stack
// stalled the store buffer at every value (bench/monitor: a third of reading a column).
inline bool parse_int(std::string_view s, int64_t& out) {
    size_t i = 0;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        i = 1;
    }
    if (i == s.size() || s.size() - i > 19) {
        return false;  // 19 digits hold every int64; more are out of range or padding
    }
    uint64_t v = 0;
    for (; i < s.size(); ++i) {
        const auto d = static_cast<unsigned>(s[i] - '0');
        if (d > 9) {
            return false;
        }
        v = v * 10 + d;
    }
    const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    if (v > limit) {
        return false;
    }
    out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    return true;
}

inline std::optional<int64_t> parse_int(std::string_view s) {
    int64_t v = 0;
    return parse_int(s, v) ? std::optional<int64_t>(v) : std::nullopt;
}

bool parse_float_slow(std::string_view s, double& out);

// A decimal number as C's strtod reads it, without hexadecimal: [+-]digits[.digits][e[+-]digits]
// (".5" and "5." too). NaN and infinity, spelled or reached by overflow, are not finite and so
// not accepted.
[[gnu::always_inline]] inline bool parse_float(std::string_view s, double& out) {
    // Clinger's fast path: at most 15 digits and no exponent, so the digits as an integer and
    // the power of ten are both exact doubles and one division rounds correctly. The rest goes
    // to fast_float.
    static constexpr double k_pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char* p = s.data();
    const char* e = p + s.size();
    bool negative = false;
    if (p != e && (*p == '-' || *p == '+')) {
        negative = *p == '-';
        ++p;
    }
    uint64_t m = 0;
    int digits = 0;
    int fraction = 0;
    for (; p != e; ++p) {
        const auto d = static_cast<unsigned>(*p - '0');
        if (d > 9) {
            break;
        }
        m = m * 10 + d;
        ++digits;
    }
    if (p != e && *p == '.') {
        for (++p; p != e; ++p) {
            const auto d = static_cast<unsigned>(*p - '0');
            if (d > 9) {
                break;
            }
            m = m * 10 + d;
            ++digits;
            ++fraction;
        }
    }
    if (p != e || digits == 0 || digits > 15) {
        return parse_float_slow(s, out);
    }
    const double v = static_cast<double>(m) / k_pow10[fraction];
    out = negative ? -v : v;
    return true;
}

inline std::optional<double> parse_float(std::string_view s) {
    double v = 0;
    return parse_float(s, v) ? std::optional<double>(v) : std::nullopt;
}

// true/false in any case, and 1/0.
inline std::optional<bool> parse_bool(std::string_view s) {
    if (s.size() == 1) {
        if (s[0] == '1' || s[0] == '0') {
            return s[0] == '1';
        }
        return std::nullopt;
    }
    auto is = [&](std::string_view word) {
        if (s.size() != word.size()) {
            return false;
        }
        for (size_t i = 0; i < word.size(); ++i) {
            if ((s[i] | 0x20) != word[i]) {
                return false;
            }
        }
        return true;
    };
    if (is("true")) {
        return true;
    }
    if (is("false")) {
        return false;
    }
    return std::nullopt;
}

// ISO 8601 / RFC 3339: YYYY-MM-DD, optionally followed by 'T' (or 't' or one space) and
// hh:mm, hh:mm:ss or hh:mm:ss.fraction (1 to 9 digits), optionally followed by 'Z' or an offset
// ±hh:mm. Each part is range-checked (months, days of the month with leap years, hours 0-23,
// minutes and seconds 0-59, offsets to ±23:59). Returns seconds since the epoch, in UTC.
std::optional<int64_t> parse_datetime(std::string_view s);

// The first byte of `s` that is not valid UTF-8, or npos. ASCII is checked 32 bytes at a time.
size_t invalid_utf8(std::string_view s);

// A value as a report shows it: in single quotes, cut after `max` bytes at a character
// boundary with "…", control characters escaped, so hostile data never reaches a terminal raw
// and the result is always valid UTF-8 (the input must be).
std::string display_value(std::string_view s, size_t max = 40);

}  // namespace mloop::data
