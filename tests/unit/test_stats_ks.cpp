#include <doctest/doctest.h>
#include <algorithm>

#include <vector>

#include "stats/ks.hpp"
#include "test_stats_fixture.hpp"

using namespace mloop::stats;

TEST_CASE("ks_2samp matches scipy's method='auto', exact and asymptotic") {
    const auto f = stats_fixture::load("ks.json");
    REQUIRE(f.at("cases").size() >= 20);
    for (const auto& c : f.at("cases")) {
        const auto a = stats_fixture::sample(c.at("a"));
        const auto b = stats_fixture::sample(c.at("b"));
        CAPTURE(a.size());
        CAPTURE(b.size());
        auto r = ks_2samp(a, b);
        REQUIRE(r.ok());
        CHECK(r->exact == (std::max(a.size(), b.size()) <= 10000));
        CHECK_STAT(r->statistic, stats_fixture::num(c.at("statistic")));
        CHECK_P(r->p_value, stats_fixture::num(c.at("p_value")));
    }
}

TEST_CASE("ks_2samp refuses what scipy would answer with nonsense") {
    const std::vector<double> some = {1.0, 2.0};
    const std::vector<double> none;
    const std::vector<double> with_nan = {1.0, NAN};
    CHECK(ks_2samp(some, none).error() == "ks: a sample is empty");
    CHECK(ks_2samp(none, some).error() == "ks: a sample is empty");
    CHECK(ks_2samp(some, with_nan).error() == "ks: a sample holds NaN");
    // Infinities are ordinary values to the test
    const std::vector<double> with_inf = {-INFINITY, 0.0, INFINITY};
    auto r = ks_2samp(some, with_inf);
    REQUIRE(r.ok());
    CHECK(r->statistic == doctest::Approx(2.0 / 3.0));
}
