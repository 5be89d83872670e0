// Shared by tests/unit/test_stats_*.cpp: the fixtures bench/stats_fixtures.py computed with
// SciPy and scikit-learn, the generator both sides run bit for bit, and the tolerances.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stats_fixture {

inline nlohmann::json load(const std::string& name) {
    const auto path =
        std::filesystem::path(MLOOP_SOURCE_DIR) / "tests" / "fixtures" / "stats" / name;
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path);
    return nlohmann::json::parse(in);
}

// JSON has no NaN or infinity: the script writes them as strings.
inline double num(const nlohmann::json& j) {
    if (j.is_string()) {
        const auto s = j.get<std::string>();
        if (s == "nan") {
            return std::numeric_limits<double>::quiet_NaN();
        }
        return s == "inf" ? INFINITY : -INFINITY;
    }
    return j.get<double>();
}

// bench/stats_fixtures.py's lcg(): u = k * 2**-53 from a 64-bit LCG, floor(u * levels) when
// levels > 0, then * scale + shift.
inline std::vector<double> lcg(uint64_t seed, size_t n, int levels, double scale, double shift) {
    std::vector<double> out(n);
    uint64_t state = seed;
    for (size_t i = 0; i < n; ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        double u = static_cast<double>(state >> 11) * 0x1p-53;
        if (levels != 0) {
            u = std::floor(u * levels);
        }
        out[i] = u * scale + shift;
    }
    return out;
}

// A sample written inline (null for NaN) or as a generator spec.
inline std::vector<double> sample(const nlohmann::json& j) {
    if (j.is_object()) {
        return lcg(j.at("seed").get<uint64_t>(), j.at("n").get<size_t>(), j.value("levels", 0),
                   j.value("scale", 1.0), j.value("shift", 0.0));
    }
    std::vector<double> out;
    for (const auto& v : j) {
        out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : num(v));
    }
    return out;
}

// Categories written as runs: [["label", count], ...]
inline std::vector<std::string> categories(const nlohmann::json& j) {
    std::vector<std::string> out;
    for (const auto& run : j) {
        for (int k = 0; k < run.at(1).get<int>(); ++k) {
            out.push_back(run.at(0).get<std::string>());
        }
    }
    return out;
}

// Statistics to 1e-12 relative, p-values to 1e-9 relative; NaN and infinities exactly. Below
// 1e-300 (subnormal tails, where neither side has 53 bits left) any two values agree.
inline bool close(double actual, double expected, double rel) {
    if (std::isnan(expected) || std::isinf(expected)) {
        return std::isnan(expected) ? std::isnan(actual) : actual == expected;
    }
    if (std::abs(expected) < 1e-300) {
        return std::abs(actual) < 1e-300;
    }
    return std::abs(actual - expected) <= rel * std::abs(expected);
}
constexpr double k_stat_rel = 1e-12;
constexpr double k_p_rel = 1e-9;

}  // namespace stats_fixture

#define CHECK_STAT(actual, expected)                                                     \
    CHECK_MESSAGE(stats_fixture::close((actual), (expected), stats_fixture::k_stat_rel), \
                  std::setprecision(17) << (actual) << " vs " << (expected))
#define CHECK_P(actual, expected)                                                     \
    CHECK_MESSAGE(stats_fixture::close((actual), (expected), stats_fixture::k_p_rel), \
                  std::setprecision(17) << (actual) << " vs " << (expected))
