#include <doctest/doctest.h>

#include "stats/kolmogorov.hpp"
#include "test_stats_fixture.hpp"

using namespace mloop::stats;

TEST_CASE("kstwo.sf matches scipy over every algorithm's region") {
    const auto f = stats_fixture::load("kolmogorov.json");
    REQUIRE(f.at("kstwo").size() > 300);
    for (const auto& c : f.at("kstwo")) {
        const auto n = c.at("n").get<int64_t>();
        const double d = c.at("d").get<double>();
        CAPTURE(n);
        CAPTURE(d);
        CHECK_P(kstwo_sf(d, n), stats_fixture::num(c.at("sf")));
    }
}

TEST_CASE("smirnov matches scipy.special.smirnov") {
    const auto f = stats_fixture::load("kolmogorov.json");
    for (const auto& c : f.at("smirnov")) {
        const auto n = c.at("n").get<int64_t>();
        const double d = c.at("d").get<double>();
        CAPTURE(n);
        CAPTURE(d);
        CHECK_P(smirnov_sf(n, d), stats_fixture::num(c.at("sf")));
    }
}

TEST_CASE("kstwo and smirnov at their ends") {
    CHECK(kstwo_sf(0.0, 10) == 1.0);
    CHECK(kstwo_sf(0.05, 10) == 1.0);  // at or below 0.5/n
    CHECK(kstwo_sf(1.0, 10) == 0.0);
    CHECK(std::isnan(kstwo_sf(NAN, 10)));
    CHECK(std::isnan(kstwo_sf(0.5, 0)));
    CHECK(smirnov_sf(5, 0.0) == 1.0);
    CHECK(smirnov_sf(5, 1.0) == 0.0);
    CHECK(smirnov_sf(1, 0.25) == 0.75);
}

TEST_CASE("exact two-sample probabilities") {
    CHECK(ks_2samp_exact_sf(5, 5, 5, 0) == 1.0);
    // Pr(D_{1,1} >= 1) = 1: two single values always differ completely or not at all
    CHECK(*ks_2samp_exact_sf(1, 1, 1, 1) == doctest::Approx(1.0));
    CHECK(*ks_2samp_exact_sf(3, 4, 1, 12) == doctest::Approx(2.0 / 35.0));
}
