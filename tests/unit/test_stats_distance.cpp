#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "stats/distance.hpp"
#include "stats/numeric.hpp"
#include "test_stats_fixture.hpp"

using namespace mloop::stats;

namespace {

std::vector<double> sorted(std::vector<double> v) {
    sort_doubles(v);
    return v;
}

std::vector<std::string_view> views(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE("numeric distances match scipy and Evidently") {
    const auto f = stats_fixture::load("distance.json");
    for (const auto& c : f.at("numeric")) {
        const auto a = sorted(stats_fixture::sample(c.at("a")));
        const auto b = sorted(stats_fixture::sample(c.at("b")));
        CAPTURE(a.size());
        CAPTURE(b.size());
        CHECK_STAT(wasserstein_sorted(a, b), stats_fixture::num(c.at("wasserstein")));
        CHECK_STAT(wasserstein_norm_sorted(a, b), stats_fixture::num(c.at("wasserstein_norm")));
        const Bins bins = bin_numeric(a, b);
        CHECK_STAT(psi(bins), stats_fixture::num(c.at("psi")));
        CHECK_STAT(jensenshannon(bins), stats_fixture::num(c.at("jensenshannon")));
        if (c.contains("edges")) {
            REQUIRE(bins.kind == Bins::Kind::histogram);
            REQUIRE(bins.edges.size() == c.at("edges").size());
            for (size_t i = 0; i < bins.edges.size(); ++i) {
                CHECK(bins.edges[i] == stats_fixture::num(c.at("edges")[i]));  // bit for bit
            }
        } else {
            CHECK(bins.kind == Bins::Kind::values);
        }
        if (c.contains("chisquare")) {
            auto chi = chisquare(bin_values(a, b));
            REQUIRE(chi.ok());
            CHECK_STAT(chi->statistic, stats_fixture::num(c.at("chisquare")));
            CHECK_P(chi->p_value, stats_fixture::num(c.at("chisquare_p")));
        }
    }
}

namespace {

// scipy's _cdf_distance(p=1) as written: the merge one value at a time, both ECDFs counted
// afresh, summed in NumPy's order. What the streamed version must equal bit for bit.
double wasserstein_plain(const std::vector<double>& u, const std::vector<double>& v) {
    std::vector<double> all(u);
    all.insert(all.end(), v.begin(), v.end());
    sort_doubles(all);
    std::vector<double> terms;
    size_t cu = 0;
    size_t cv = 0;
    for (size_t i = 0; i + 1 < all.size(); ++i) {
        while (cu < u.size() && u[cu] <= all[i]) {
            ++cu;
        }
        while (cv < v.size() && v[cv] <= all[i]) {
            ++cv;
        }
        terms.push_back(std::abs(static_cast<double>(cu) / static_cast<double>(u.size()) -
                                 static_cast<double>(cv) / static_cast<double>(v.size())) *
                        (all[i + 1] - all[i]));
    }
    return numpy_sum(terms);
}

}  // namespace

TEST_CASE("wasserstein's streamed merge equals the plain one bit for bit") {
    // Sizes around the four streams' split points, with ties within and across the samples
    // (values drawn from few decimals), and samples of very different sizes.
    std::mt19937_64 rng(7);
    for (const size_t n1 : {1, 2, 3, 4, 5, 7, 8, 9, 31, 200, 1001}) {
        for (const size_t n2 : {1, 2, 3, 5, 6, 64, 333}) {
            for (const int levels : {3, 1000000}) {
                std::uniform_int_distribution<int> pick(0, levels);
                auto draw = [&](size_t n) {
                    std::vector<double> x(n);
                    for (auto& e : x) {
                        e = pick(rng) / 7.0;
                    }
                    sort_doubles(x);
                    return x;
                };
                const auto u = draw(n1);
                const auto v = draw(n2);
                CAPTURE(n1);
                CAPTURE(n2);
                CAPTURE(levels);
                CHECK(wasserstein_sorted(u, v) == wasserstein_plain(u, v));
                CHECK(wasserstein_sorted(v, u) == wasserstein_plain(v, u));
            }
        }
    }
    const std::vector<double> same = {1, 2, 3};
    CHECK(wasserstein_sorted(same, same) == 0.0);
}

TEST_CASE("values are binned in order of first appearance, few or many, -0.0 as 0.0") {
    // Up to 32 distinct values take the vector-compare path, more the hash table; both must
    // give the bins a plain map gives.
    std::mt19937_64 rng(9);
    for (const int distinct : {1, 2, 5, 20, 31, 32, 33, 100}) {
        std::uniform_int_distribution<int> pick(0, distinct - 1);
        std::vector<double> a(700);
        std::vector<double> b(400);
        for (auto& x : a) {
            x = pick(rng) - distinct / 2;
        }
        for (auto& x : b) {
            x = pick(rng) - distinct / 2;
        }
        a[0] = 0.5;  // first, and not 0: keys not yet seen must not match 0.0
        a[1] = -0.0;
        b[0] = 0.0;
        std::vector<double> values;
        std::vector<uint64_t> ref;
        std::vector<uint64_t> cur;
        auto count = [&](const std::vector<double>& s, bool is_ref) {
            for (const double x : s) {
                const auto at = std::find(values.begin(), values.end(), x + 0.0);
                size_t i = static_cast<size_t>(at - values.begin());
                if (at == values.end()) {
                    values.push_back(x + 0.0);
                    ref.push_back(0);
                    cur.push_back(0);
                }
                ++(is_ref ? ref : cur)[i];
            }
        };
        count(a, true);
        count(b, false);
        const Bins bins = bin_values(a, b);
        CAPTURE(distinct);
        CHECK(bins.kind == Bins::Kind::values);
        CHECK(bins.values == values);
        CHECK(bins.reference == ref);
        CHECK(bins.current == cur);
        CHECK(bins.reference_total == a.size());
        CHECK(bins.current_total == b.size());
        for (const double v : bins.values) {
            CHECK_FALSE((v == 0 && std::signbit(v)));  // 0.0, not -0.0
        }
    }
}

TEST_CASE("categorical distances match scipy and Evidently") {
    const auto f = stats_fixture::load("distance.json");
    for (const auto& c : f.at("categorical")) {
        const auto a = stats_fixture::categories(c.at("a"));
        const auto b = stats_fixture::categories(c.at("b"));
        const Bins bins = bin_categories(views(a), views(b));
        CHECK_STAT(psi(bins), stats_fixture::num(c.at("psi")));
        CHECK_STAT(jensenshannon(bins), stats_fixture::num(c.at("jensenshannon")));
        auto chi = chisquare(bins);
        if (c.contains("chisquare")) {
            REQUIRE(chi.ok());
            CHECK_STAT(chi->statistic, stats_fixture::num(c.at("chisquare")));
            CHECK_P(chi->p_value, stats_fixture::num(c.at("chisquare_p")));
        } else {
            CHECK(chi.error() == "chisquare needs at least two categories");
        }
    }
}

TEST_CASE("histogram counts follow numpy: half-open bins, the last one closed") {
    const std::vector<double> edges = {0.0, 1.0, 2.0, 3.0};
    std::vector<uint64_t> counts;
    histogram_counts(std::vector<double>{0.0, 0.5, 1.0, 2.0, 2.999, 3.0, -1.0, 4.0}, edges, counts);
    CHECK(counts == std::vector<uint64_t>{2, 1, 3});
}

TEST_CASE("Evidently's floor for empty bins") {
    const std::vector<uint64_t> counts = {0, 5, 5};
    CHECK(fractions(counts, 10, false) == std::vector<double>{0.0, 0.5, 0.5});
    CHECK(fractions(counts, 10, true) == std::vector<double>{0.0001, 0.5, 0.5});
    const std::vector<uint64_t> skewed = {0, 1, 99999};
    const auto f = fractions(skewed, 100000, true);
    CHECK(f[0] == 0.00001 / 1e6);  // the smallest fraction is below 0.0001: a millionth of it
}

TEST_CASE("unseen categories are named, and only for current") {
    const std::vector<std::string> ref = {"a", "b"};
    const std::vector<std::string> cur = {"a", "c", "c"};
    const Bins bins = bin_categories(views(ref), views(cur));
    REQUIRE(bins.unseen_in_reference().size() == 1);
    CHECK(bins.categories[bins.unseen_in_reference()[0]] == "c");
}

TEST_CASE("CategoryCounter counts each category once, in the order first seen, past growth") {
    CategoryCounter counter;
    // 5 000 categories (the table starts at 64 slots), long ones too (hashed 8 bytes a time),
    // and values that differ only past their first 8 bytes.
    std::vector<std::string> values;
    for (int i = 0; i < 5000; ++i) {
        values.push_back(i % 3 == 0 ? "category-number-" + std::to_string(i) : std::to_string(i));
    }
    for (int round = 0; round < 3; ++round) {
        for (const auto& v : values) {
            counter.add(v, round < 2);
        }
    }
    counter.add("", true);
    counter.add("", false);
    const Bins bins = counter.take();
    CHECK(bins.kind == Bins::Kind::categories);
    REQUIRE(bins.size() == 5001);
    CHECK(bins.reference_total == 10001);
    CHECK(bins.current_total == 5001);
    for (size_t i = 0; i < values.size(); ++i) {
        CHECK(bins.categories[i] == values[i]);
        CHECK(bins.reference[i] == 2);
        CHECK(bins.current[i] == 1);
    }
    CHECK(bins.categories.back().empty());
    // take() starts again empty
    counter.add("x", false);
    const Bins again = counter.take();
    REQUIRE(again.size() == 1);
    CHECK(again.reference == std::vector<uint64_t>{0});
    CHECK(again.current == std::vector<uint64_t>{1});
    CHECK(again.reference_total == 0);
}

TEST_CASE("wasserstein_distance refuses empty and non-finite samples") {
    const std::vector<double> one = {1.0};
    CHECK(wasserstein_distance(one, {}).error() == "wasserstein: a sample is empty");
    CHECK(wasserstein_distance(one, std::vector<double>{INFINITY}).error() ==
          "wasserstein: a sample holds NaN or infinity");
    CHECK(
        wasserstein_distance(std::vector<double>{0.0, 1.0, 3.0}, std::vector<double>{5.0, 6.0, 8.0})
            .value() == doctest::Approx(5.0));
}
