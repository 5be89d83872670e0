#include "data/value.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fast_float/fast_float.h>
#include <fmt/format.h>

namespace mloop::data {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads exactly `n` digits at s[at…]; false when one is not a digit or s is too short.
bool digits(std::string_view s, size_t at, size_t n, int& out) {
    if (at + n > s.size()) {
        return false;
    }
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
        const char c = s[at + i];
        if (!is_digit(c)) {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : k_days[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

size_t utf8_length(unsigned char c) {
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
}

}  // namespace

bool parse_float_slow(std::string_view s, double& out) {
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (first != last && *first == '+') {
        ++first;
        if (first != last && *first == '-') {
            return false;
        }
    }
    // fast_float also reads "nan" and "inf"; only digits and '.' may start a number here.
    const char* lead = first != last && *first == '-' ? first + 1 : first;
    if (lead == last || !(is_digit(*lead) || *lead == '.')) {
        return false;
    }
    double v = 0;
    const auto r = fast_float::from_chars(first, last, v);
    if (r.ec != std::errc() || r.ptr != last || !std::isfinite(v)) {
        return false;
    }
    out = v;
    return true;
}

std::optional<int64_t> parse_datetime(std::string_view s) {
    int y = 0, mo = 0, d = 0;
    if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        return std::nullopt;
    }
    int64_t seconds = days_from_civil(y, mo, d) * 86400;
    if (s.size() == 10) {
        return seconds;
    }
    const char sep = s[10];
    if (sep != 'T' && sep != 't' && sep != ' ') {
        return std::nullopt;
    }
    int h = 0, mi = 0, se = 0;
    if (!digits(s, 11, 2, h) || s.size() < 16 || s[13] != ':' || !digits(s, 14, 2, mi) || h > 23 ||
        mi > 59) {
        return std::nullopt;
    }
    size_t at = 16;
    if (at < s.size() && s[at] == ':') {
        if (!digits(s, at + 1, 2, se) || se > 59) {
            return std::nullopt;
        }
        at += 3;
        if (at < s.size() && (s[at] == '.' || s[at] == ',')) {
            size_t n = 0;
            ++at;
            while (at < s.size() && is_digit(s[at])) {
                ++at;
                ++n;
            }
            if (n == 0 || n > 9) {
                return std::nullopt;
            }
        }
    }
    seconds += h * 3600 + mi * 60 + se;
    if (at == s.size()) {
        return seconds;
    }
    if ((s[at] == 'Z' || s[at] == 'z') && at + 1 == s.size()) {
        return seconds;
    }
    if (s[at] == '+' || s[at] == '-') {
        int oh = 0, om = 0;
        if (at + 6 != s.size() || !digits(s, at + 1, 2, oh) || s[at + 3] != ':' ||
            !digits(s, at + 4, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        const int offset = oh * 3600 + om * 60;
        return s[at] == '+' ? seconds - offset : seconds + offset;
    }
    return std::nullopt;
}

size_t invalid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        while (i + 32 <= n) {
            uint64_t w[4];
            std::memcpy(w, p + i, 32);
            if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL) {
                break;
            }
            i += 32;
        }
        if (i >= n) {
            break;
        }
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        // One multi-byte sequence (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF).
        const unsigned char c = p[i];
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return i;
        }
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) {
            return i;
        }
        for (size_t k = 2; k < len; ++k) {
            if (p[i + k] < 0x80 || p[i + k] > 0xbf) {
                return i;
            }
        }
        i += len;
    }
    return std::string_view::npos;
}

std::string display_value(std::string_view s, size_t max) {
    std::string out = "'";
    size_t i = 0;
    while (i < s.size()) {
        if (i >= max) {
            out += "…";
            break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else if (c >= 0x80) {
            const size_t n = std::min(utf8_length(c), s.size() - i);
            out.append(s.data() + i, n);
            i += n;
            continue;
        } else {
            out += static_cast<char>(c);
        }
        ++i;
    }
    out += "'";
    return out;
}

}  // namespace mloop::data
