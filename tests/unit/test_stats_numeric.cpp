#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "stats/numeric.hpp"
#include "test_stats_fixture.hpp"

using namespace mloop::stats;

TEST_CASE("the radix sort agrees with std::sort, negatives, zeros and infinities included") {
    for (const size_t n : {0, 1, 7, 255, 256, 10000}) {
        auto v = stats_fixture::lcg(n + 1, n, 0, 2e6, -1e6);
        if (n > 10) {
            v[3] = -0.0;
            v[4] = 0.0;
            v[5] = INFINITY;
            v[6] = -INFINITY;
            v[7] = 5e-324;
            v[8] = v[9];
        }
        auto expected = v;
        std::sort(expected.begin(), expected.end());
        sort_doubles(v);
        CHECK(v == expected);
    }
}

TEST_CASE("the radix sort agrees with std::sort on large inputs of many shapes") {
    // Wide and narrow ranges, few and many distinct values, negatives, and digits that every
    // key shares (the passes that are skipped).
    std::mt19937_64 rng(5);
    std::normal_distribution<double> normal(50, 20);
    std::uniform_int_distribution<int> small(0, 6);
    for (const size_t n : {65535, 65536, 200000}) {
        std::vector<std::vector<double>> cases(5, std::vector<double>(n));
        for (size_t i = 0; i < n; ++i) {
            cases[0][i] = normal(rng);                                  // a bell, both signs
            cases[1][i] = small(rng);                                   // a handful of integers
            cases[2][i] = std::round(normal(rng) * 100) / 100;          // two decimals
            cases[3][i] = 1.0 + static_cast<double>(i % 1000) * 1e-12;  // a narrow range
            cases[4][i] = i % 3 == 0 ? -1e300 : normal(rng) * 1e-300;   // far apart
        }
        for (auto& v : cases) {
            auto expected = v;
            std::sort(expected.begin(), expected.end());
            sort_doubles(v);
            CAPTURE(n);
            CHECK(v == expected);
        }
    }
}

TEST_CASE("numpy's pairwise sum, whole and streamed") {
    const auto v = stats_fixture::lcg(3, 1001, 0, 1.0, 0.0);
    size_t i = 0;
    auto next = [&] {
        return v[i++];
    };
    CHECK(numpy_sum_stream(v.size(), next) == numpy_sum(v));
    CHECK(numpy_sum(std::vector<double>{}) == 0.0);
    // Not left to right, which would lose every 1 to rounding: numpy.sum gives 1e16 + 14.
    std::vector<double> big(16, 1.0);
    big[0] = 1e16;
    CHECK(numpy_sum(big) == 1e16 + 14.0);
    CHECK(numpy_std(std::vector<double>{2, 4, 4, 4, 5, 5, 7, 9}) == 2.0);
}

TEST_CASE("finite values leave out and count NaN and infinities") {
    const auto f = finite_values(std::vector<double>{1.0, NAN, INFINITY, -INFINITY, 2.0});
    CHECK(f.values == std::vector<double>{1.0, 2.0});
    CHECK(f.missing == 1);
    CHECK(f.infinite == 2);
}

TEST_CASE("unique counts stop at the cap and treat -0.0 as 0.0") {
    const std::vector<double> a = {1, 2, 3, -0.0, 0.0};
    CHECK_FALSE(more_unique_than(a, {}, 4));
    CHECK(more_unique_than(a, std::vector<double>{9}, 4));
    CHECK_FALSE(more_unique_than({}, {}, 0));
}

TEST_CASE("unique counts agree with a set at every cap, small and large") {
    // Caps under 8 and under 32 take the short-table paths, larger ones the hash table.
    std::mt19937_64 rng(11);
    for (const int distinct : {1, 2, 5, 6, 19, 20, 21, 40, 100}) {
        std::uniform_int_distribution<int> pick(0, distinct - 1);
        std::vector<double> a(500);
        std::vector<double> b(300);
        for (auto& x : a) {
            x = pick(rng) * 0.5;
        }
        for (auto& x : b) {
            x = pick(rng) * 0.5;
        }
        std::set<double> all(a.begin(), a.end());
        all.insert(b.begin(), b.end());
        for (const size_t cap : {0, 1, 4, 5, 7, 8, 19, 20, 31, 32, 50, 99}) {
            CAPTURE(distinct);
            CAPTURE(cap);
            CHECK(more_unique_than(a, b, cap) == (all.size() > cap));
            CHECK(more_unique_than(b, a, cap) == (all.size() > cap));
        }
    }
    const std::vector<double> zeros = {0.0, -0.0, 0.0};
    CHECK_FALSE(more_unique_than(zeros, {}, 1));
    CHECK(more_unique_than(zeros, std::vector<double>{1.0}, 1));
}
