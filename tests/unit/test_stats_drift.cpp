#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "stats/drift.hpp"
#include "stats/ks.hpp"
#include "test_stats_fixture.hpp"

using namespace mloop::stats;

namespace {

std::vector<double> uniform(uint64_t seed, size_t n, double shift = 0) {
    return stats_fixture::lcg(seed, n, 0, 1.0, shift);
}

bool has_note(const ColumnDrift& d, std::string_view text) {
    for (const auto& n : d.notes) {
        if (n.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("the auto rule of SPEC §6") {
    CHECK(auto_method(true, 1000, true) == Method::ks);
    CHECK(auto_method(true, 1000, false) == Method::chisquare);
    CHECK(auto_method(true, 1001, true) == Method::wasserstein);
    CHECK(auto_method(true, 1001, false) == Method::jensenshannon);
    CHECK(auto_method(false, 10, true) == Method::chisquare);
    CHECK(auto_method(false, 5000, true) == Method::jensenshannon);

    // The distinct values are counted over reference ∪ current, after cleaning.
    const std::vector<double> five = {1, 2, 3, 4, 5, NAN, 1, 2};
    auto d = numeric_drift(five, std::vector<double>{1, 2, 3});
    REQUIRE(d.ok());
    CHECK(d->method == Method::chisquare);
    CHECK(d->automatic);
    d = numeric_drift(five, std::vector<double>{6});
    REQUIRE(d.ok());
    CHECK(d->method == Method::ks);
    d = numeric_drift(uniform(1, 1001), uniform(2, 50));
    REQUIRE(d.ok());
    CHECK(d->method == Method::wasserstein);
}

TEST_CASE("thresholds: p-values drift below, distances at or above") {
    const auto ref = uniform(3, 500);
    const auto same = uniform(4, 500);
    const auto moved = uniform(5, 500, 0.3);
    auto d = numeric_drift(ref, same);
    REQUIRE(d.ok());
    CHECK(d->method == Method::ks);
    CHECK(d->threshold == 0.05);
    CHECK_FALSE(d->drifted);
    CHECK(d->p_value == d->score);
    CHECK(d->score == ks_2samp(ref, same)->p_value);
    d = numeric_drift(ref, moved);
    CHECK(d->drifted);
    d = numeric_drift(ref, moved, {Method::psi, std::nullopt});
    CHECK(d->threshold == 0.1);
    CHECK(d->drifted);
    CHECK_FALSE(d->p_value);
    d = numeric_drift(ref, moved, {Method::psi, 1e9});
    CHECK_FALSE(d->drifted);
    CHECK(numeric_drift(ref, moved, {Method::psi, NAN}).error() ==
          "the psi threshold is not a number");
}

TEST_CASE("missing and infinite values are left out and said so") {
    std::vector<double> ref = uniform(6, 100);
    ref[0] = NAN;
    ref[1] = INFINITY;
    std::vector<double> cur = uniform(7, 100);
    cur[5] = -INFINITY;
    auto d = numeric_drift(ref, cur, {Method::ks, std::nullopt});
    REQUIRE(d.ok());
    CHECK(d->reference_values == 98);
    CHECK(d->reference_left_out == 2);
    CHECK(d->current_left_out == 1);
    CHECK(has_note(*d, "2 of 100 reference values are missing or not finite"));
    CHECK(has_note(*d, "1 of 100 current values are missing or not finite"));
    std::vector<double> clean_ref(ref.begin() + 2, ref.end());
    std::vector<double> clean_cur = cur;
    clean_cur.erase(clean_cur.begin() + 5);
    CHECK(d->score == ks_2samp(clean_ref, clean_cur)->p_value);
}

TEST_CASE("empty and all-null columns are errors that say which side") {
    const std::vector<double> some = {1.0, 2.0, 3.0};
    const std::vector<double> nulls = {NAN, NAN};
    CHECK(numeric_drift(some, {}).error() == "the current data has no rows");
    CHECK(numeric_drift(nulls, some).error() ==
          "the reference data has no usable value: all 2 are missing or not finite");
    CHECK(numeric_drift(some, std::vector<double>{INFINITY}).error() ==
          "the current data has no usable value: all 1 are missing or not finite");
    const std::vector<std::string_view> cats = {"a"};
    CHECK(categorical_drift(cats, {}, {}, 0, 7).error() ==
          "the current data has no usable value: all 7 are missing or not finite");
}

TEST_CASE("constant columns give numbers, not NaN") {
    const std::vector<double> c1(50, 3.0);
    const std::vector<double> c2(40, 3.0);
    auto d = numeric_drift(c1, c2, {Method::wasserstein, std::nullopt});
    REQUIRE(d.ok());
    CHECK(d->score == 0.0);
    CHECK_FALSE(d->drifted);
    CHECK(has_note(*d, "the reference is constant"));
    d = numeric_drift(c1, std::vector<double>(40, 3.5), {Method::wasserstein, std::nullopt});
    CHECK(d->score == doctest::Approx(500.0));  // 0.5 / the 0.001 floor
    CHECK(d->drifted);
    d = numeric_drift(c1, c2, {Method::chisquare, std::nullopt});  // scipy: NaN
    REQUIRE(d.ok());
    CHECK(d->p_value == 1.0);
    CHECK_FALSE(d->drifted);
    CHECK(has_note(*d, "one value in both reference and current"));
    for (const auto m : {Method::ks, Method::psi, Method::jensenshannon}) {
        d = numeric_drift(c1, c2, {m, std::nullopt});
        REQUIRE(d.ok());
        CHECK_FALSE(d->drifted);
    }
}

TEST_CASE("a category the reference never saw is drift, and named") {
    const std::vector<std::string_view> ref = {"basic", "pro", "basic", "pro"};
    const std::vector<std::string_view> cur = {"basic", "pro", "enterprise"};
    auto d = categorical_drift(ref, cur);
    REQUIRE(d.ok());
    CHECK(d->method == Method::chisquare);
    CHECK(d->statistic == INFINITY);
    CHECK(d->p_value == 0.0);
    CHECK(d->drifted);
    CHECK(has_note(*d, "current has 1 category the reference never had: 'enterprise'"));
    d = categorical_drift(ref, cur, {Method::psi, std::nullopt});
    REQUIRE(d.ok());
    CHECK(std::isfinite(d->score));  // Evidently's floor keeps PSI finite
    CHECK(d->drifted);
}

TEST_CASE("categorical drift from counted bins is the drift from the values") {
    const std::vector<std::string_view> ref = {"basic", "pro", "basic", "pro", "basic"};
    const std::vector<std::string_view> cur = {"basic", "pro", "pro", "pro"};
    CategoryCounter counter;
    for (const auto v : ref) {
        counter.add(v, true);
    }
    for (const auto v : cur) {
        counter.add(v, false);
    }
    const Bins bins = counter.take();
    for (const auto method : {Method::chisquare, Method::psi, Method::jensenshannon}) {
        auto from_values = categorical_drift(ref, cur, {method, std::nullopt}, 2, 1);
        auto from_bins = categorical_drift(bins, {method, std::nullopt}, 2, 1);
        REQUIRE(from_values.ok());
        REQUIRE(from_bins.ok());
        CHECK(from_bins->score == from_values->score);
        CHECK(from_bins->statistic == from_values->statistic);
        CHECK(from_bins->reference_values == 5);
        CHECK(from_bins->current_values == 4);
        CHECK(from_bins->notes == from_values->notes);
    }
    CHECK(categorical_drift(Bins{}, {}, 3, 0).error() ==
          "the reference data has no usable value: all 3 are missing or not finite");
}

TEST_CASE("single values and methods that need numbers") {
    auto d = numeric_drift(std::vector<double>{1.0}, std::vector<double>{2.0},
                           {Method::ks, std::nullopt});
    REQUIRE(d.ok());
    CHECK(d->statistic == 1.0);
    CHECK(d->p_value == 1.0);  // two single values cannot show drift
    const std::vector<std::string_view> cats = {"a", "b"};
    CHECK(categorical_drift(cats, cats, {Method::ks, std::nullopt}).error() ==
          "ks needs a numeric column; use psi, jensenshannon or chisquare for categories");
}

TEST_CASE("method names and the dataset share") {
    CHECK(parse_method("jensenshannon") == Method::jensenshannon);
    CHECK_FALSE(parse_method("auto"));
    CHECK(method_name(Method::chisquare) == "chisquare");
    CHECK(method_names().size() == 5);
    CHECK(dataset_drift(1, 2, 0.5));
    CHECK_FALSE(dataset_drift(1, 3, 0.5));
    CHECK_FALSE(dataset_drift(0, 0, 0.5));
}
