#include "render/format.hpp"

#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mloop::render {

namespace {

std::tm utc_tm(int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    return tm;
}

std::tm local_tm(int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    return tm;
}

std::string trim_zeros(std::string s) {
    if (s.find('.') == std::string::npos) {
        return s;
    }
    while (!s.empty() && s.back() == '0') {
        s.pop_back();
    }
    if (!s.empty() && s.back() == '.') {
        s.pop_back();
    }
    return s == "-0" ? "0" : s;
}

bool needs_quotes(std::string_view a) {
    if (a.empty()) {
        return true;
    }
    for (char c : a) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') ||
                           std::string_view("-_./=:,+@%").find(c) != std::string_view::npos;
        if (!plain) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::string iso8601(int64_t ms) {
    const std::tm tm = utc_tm(ms);
    const int64_t frac = ((ms % 1000) + 1000) % 1000;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string local_time(int64_t ms) {
    const std::tm tm = local_tm(ms);
    const long off = tm.tm_gmtoff / 60;
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}{:02}{:02}", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       off < 0 ? '-' : '+', std::labs(off) / 60, std::labs(off) % 60);
}

std::string local_minute(int64_t ms) {
    const std::tm tm = local_tm(ms);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min);
}

std::string relative_age(int64_t ms, int64_t now_ms) {
    const int64_t s = (now_ms - ms) / 1000;
    if (s < 1) {
        return "just now";
    }
    if (s < 60) {
        return fmt::format("{}s ago", s);
    }
    if (s < 3600) {
        return fmt::format("{}m ago", s / 60);
    }
    if (s < 86400) {
        return fmt::format("{}h ago", s / 3600);
    }
    if (s < 30 * 86400) {
        return fmt::format("{}d ago", s / 86400);
    }
    return local_minute(ms).substr(0, 10);
}

std::string duration(int64_t ms) {
    if (ms < 0) {
        ms = 0;
    }
    if (ms < 1000) {
        return fmt::format("{}ms", ms);
    }
    if (ms < 60'000) {
        return fmt::format("{:.1f}s", static_cast<double>(ms / 100) / 10.0);
    }
    const int64_t s = ms / 1000;
    if (s < 3600) {
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    }
    if (s < 86400) {
        return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
    }
    return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

std::string number(double v) {
    if (std::isnan(v)) {
        return "nan";
    }
    if (std::isinf(v)) {
        return v > 0 ? "inf" : "-inf";
    }
    const double a = std::fabs(v);
    if (v == std::trunc(v) && a < 1e15) {
        return fmt::format("{}", static_cast<int64_t>(v));
    }
    if (a >= 1e-3 && a < 1e9) {
        return trim_zeros(fmt::format("{:.4f}", v));
    }
    return fmt::format("{:.4g}", v);
}

std::string signed_number(double v) {
    const std::string s = number(v);
    return (v > 0 && s != "0") ? "+" + s : s;
}

std::string signed_percent(double pct) {
    const std::string s = fmt::format("{:+.2f}%", pct);
    return s == "-0.00%" ? "+0.00%" : s;
}

std::string short_digest(std::string_view digest) {
    constexpr std::string_view k_prefix = "sha256:";
    if (digest.substr(0, k_prefix.size()) == k_prefix && digest.size() > k_prefix.size() + 12) {
        return std::string(digest.substr(0, k_prefix.size() + 12));
    }
    return std::string(digest);
}

std::string short_commit(std::string_view commit, bool dirty) {
    std::string s(commit.substr(0, 12));
    return dirty ? s + "+dirty" : s;
}

std::string command_line(std::string_view json_argv) {
    const auto j = nlohmann::json::parse(json_argv, nullptr, false);
    if (!j.is_array()) {
        return std::string(json_argv);
    }
    std::string out;
    for (const auto& a : j) {
        if (!a.is_string()) {
            return std::string(json_argv);
        }
        const std::string s = a.get<std::string>();
        out += out.empty() ? "" : " ";
        if (!needs_quotes(s)) {
            out += s;
            continue;
        }
        out += '\'';
        for (char c : s) {
            out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        out += '\'';
    }
    return out;
}

}  // namespace mloop::render
