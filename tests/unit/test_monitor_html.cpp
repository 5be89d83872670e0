#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "monitor/html.hpp"
#include "monitor/monitor.hpp"

using namespace mloop::monitor;
using mloop::registry::MonitorReport;

namespace {

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

// The element that starts at the first `start` and ends at the next `end`, both included.
std::string element(const std::string& html, const std::string& start, const std::string& end) {
    const size_t a = html.find(start);
    REQUIRE(a != std::string::npos);
    const size_t b = html.find(end, a);
    REQUIRE(b != std::string::npos);
    return html.substr(a, b + end.size() - a);
}

mloop::stats::ColumnDrift drift(double score, double threshold, bool drifted) {
    mloop::stats::ColumnDrift d;
    d.method = mloop::stats::Method::wasserstein;
    d.automatic = true;
    d.score = score;
    d.statistic = score;
    d.threshold = threshold;
    d.drifted = drifted;
    return d;
}

Report sample() {
    Report r;
    r.id = 7;
    r.project = "churn";
    r.env = "production";
    r.version = mloop::registry::VersionRef{"churn", 3, std::nullopt};
    r.reference = "train (sha256:0123456789ab)";
    r.current = {"logs/predictions.jsonl"};
    r.rows_reference = 100;
    r.rows_current = 50;
    r.created_at = 1767225600000;  // 2026-01-01T00:00:00Z
    r.path = "/p/.mloop/reports/7.json";

    FeatureDrift age;
    age.column = "age";
    age.kind = "numeric";
    age.drift = drift(0.8, 0.1, true);
    Histogram h;
    h.edges = {0, 10, 20, 30, 40, 50};
    h.reference = {10, 20, 40, 20, 10};
    h.current = {0, 5, 10, 20, 15};
    age.histogram = h;
    r.features.push_back(age);

    FeatureDrift plan;
    plan.column = "plan";
    plan.kind = "categorical";
    plan.drift = drift(0.01, 0.1, false);
    plan.drift->method = mloop::stats::Method::psi;
    plan.drift->automatic = false;
    Histogram c;
    c.categories = {"basic", "pro", "other"};
    c.other = 4;
    c.reference = {60, 30, 10};
    c.current = {30, 15, 5};
    plan.histogram = c;
    r.features.push_back(plan);
    r.drifted = 1;
    return r;
}

MonitorReport earlier(int64_t id, int64_t at, int64_t drifted, std::optional<double> auc) {
    MonitorReport m;
    m.id = id;
    m.env = "production";
    m.model = "churn";
    m.version = 3;
    m.created_at = at;
    m.columns = 2;
    m.drifted = drifted;
    m.dataset_drift = drifted >= 1;
    m.rows_current = 40;
    m.report =
        auc ? "{\"performance\": {\"name\": \"auc\", \"value\": " + std::to_string(*auc) + "}}"
            : "{\"performance\": null}";
    return m;
}

}  // namespace

TEST_SUITE("monitor") {
    TEST_CASE("html_escape turns the five special characters into entities") {
        CHECK(html_escape("a<b>&\"c'd") == "a&lt;b&gt;&amp;&quot;c&#39;d");
        CHECK(html_escape("plain ünïcode") == "plain ünïcode");
        CHECK(html_escape("") == "");
    }

    TEST_CASE("the report is one self-contained page: no script, nothing fetched") {
        const std::string html = html_report(sample(), {});
        CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
        CHECK(count(html, "</html>") == 1);
        CHECK(count(html, "<script") == 0);
        CHECK(count(html, "http://") == 0);
        CHECK(count(html, "https://") == 0);
        CHECK(count(html, "src=") == 0);
        CHECK(count(html, "href=") == 0);
        CHECK(count(html, "default-src 'none'") == 1);
        CHECK(count(html, "<title>mloop monitor/7: churn production</title>") == 1);
        const std::string verdict =
            element(html, "<section id=\"verdict\" class=\"no-drift\"", "</section>");
        CHECK(count(verdict, "Dataset drift: no") == 1);
        CHECK(count(verdict, "1 of 2 features drifted") == 1);
        CHECK(count(verdict, "No alert fired.") == 1);
    }

    TEST_CASE("text from users is escaped everywhere it appears") {
        Report r = sample();
        r.env = "prod\"uction";
        r.features[0].column = "<script>alert(1)</script>";
        r.features[1].histogram->categories[0] = "<img src=x onerror=alert(2)>";
        r.alerts = {"dataset drift: <b>2</b> of 2"};
        r.dataset_drift = true;
        r.notes = {"the current data has no 'ts' column & more"};
        r.current = {"logs/<x>.csv"};
        const std::string html = html_report(r, {});
        CHECK(count(html, "<script") == 0);
        CHECK(count(html, "<img") == 0);
        CHECK(count(html, "<b>2") == 0);
        CHECK(count(html, "&lt;script&gt;alert(1)&lt;/script&gt;") >= 4);  // table, card, svg
        CHECK(count(html, "data-column=\"&lt;script&gt;alert(1)&lt;/script&gt;\"") == 2);
        CHECK(count(html, "&lt;img src=x onerror=alert(2)&gt;") >= 1);
        CHECK(count(html, "prod&quot;uction") >= 2);
        CHECK(count(html, "<li>dataset drift: &lt;b&gt;2&lt;/b&gt; of 2</li>") == 1);
        CHECK(count(html, "&#39;ts&#39; column &amp; more") == 1);
        CHECK(count(html, "logs/&lt;x&gt;.csv") == 1);
        CHECK(count(html, "<section id=\"verdict\" class=\"drift\"") == 1);
    }

    TEST_CASE("each histogram has one bar per bin in each of its two series") {
        const std::string html = html_report(sample(), {});
        const std::string age =
            element(html, "<div class=\"feature is-drifted\" data-column=\"age\"", "</div>");
        CHECK(count(age, "<svg class=\"histogram\" data-bins=\"5\"") == 1);
        const std::string ref = element(age, "<g class=\"series reference\"", "</g>");
        const std::string cur = element(age, "<g class=\"series current\"", "</g>");
        CHECK(count(ref, "<rect class=\"bar\"") == 5);
        CHECK(count(cur, "<rect class=\"bar\"") == 5);
        // Heights are shares of each side's values: reference's tallest bin (40 of 100) and
        // current's (20 of 50) are the same height.
        const std::regex height("height=\"([0-9.]+)\"><title>");
        std::vector<double> r;
        std::vector<double> c;
        for (auto [s, out] : {std::pair{&ref, &r}, std::pair{&cur, &c}}) {
            for (std::sregex_iterator it(s->begin(), s->end(), height), e; it != e; ++it) {
                out->push_back(std::stod((*it)[1]));
            }
        }
        REQUIRE(r.size() == 5);
        REQUIRE(c.size() == 5);
        CHECK(r[2] == doctest::Approx(c[3]));
        CHECK(c[0] == 0);
        CHECK(r[0] == doctest::Approx(r[2] / 4).epsilon(0.01));
        CHECK(count(age, "<title>reference, [20, 30): 40 (40%)</title>") == 1);
        CHECK(count(age, "<title>current, [40, 50]: 15 (30%)</title>") == 1);
        CHECK(count(age, "reference (100 values)") == 1);
        CHECK(count(age, "current (50 values)") == 1);

        const std::string plan =
            element(html, "<div class=\"feature\" data-column=\"plan\"", "</div>");
        CHECK(count(plan, "data-bins=\"3\"") == 1);
        CHECK(count(plan, "<rect class=\"bar\"") == 6);
        CHECK(count(plan, ">other (4)</text>") == 1);
        CHECK(count(plan, "<title>current, other (4 categories): 5 (10%)</title>") == 1);
    }

    TEST_CASE("the drift table has a row per feature, the prediction apart") {
        Report r = sample();
        FeatureDrift gone;
        gone.column = "region";
        gone.kind = "—";
        gone.problem = "not in the current data";
        r.features.push_back(gone);
        FeatureDrift pred;
        pred.column = "score";
        pred.kind = "numeric";
        pred.drift = drift(0.05, 0.1, false);
        r.prediction = pred;
        const std::string html = html_report(r, {});
        const std::string table = element(html, "<table id=\"drift-table\"", "</table>");
        CHECK(count(table, "<tr class=\"feature-row\"") == 3);
        CHECK(count(table, "<tr class=\"prediction-row\" data-column=\"score\"") == 1);
        CHECK(count(table,
                    "data-column=\"age\" data-drifted=\"true\"><td>age</td><td>numeric</td>"
                    "<td>wasserstein (auto)</td><td class=\"n\">0.8</td><td class=\"n\">0.1</td>"
                    "<td class=\"drifted\">DRIFT</td>") == 1);
        CHECK(count(table, "data-column=\"plan\" data-drifted=\"false\"") == 1);
        CHECK(count(table, "data-drifted=\"unknown\"") == 1);
        CHECK(count(table, "? not in the current data") == 1);
        CHECK(count(html, "<div class=\"feature\" data-column=\"region\"") == 1);
        CHECK(count(html, "No values to draw.") == 2);  // region, and score without a histogram
        CHECK(count(html, "<div class=\"prediction\" data-column=\"score\"") == 1);
    }

    TEST_CASE("history: no earlier report, one point; several, a series each and a table") {
        Report r = sample();
        std::string html = html_report(r, {});
        std::string history = element(html, "<section id=\"history\"", "</section>");
        CHECK(count(history, "data-reports=\"1\"") == 1);
        CHECK(count(history, "No earlier report of this environment") == 1);
        CHECK(count(history, "<circle class=\"point current\" data-report=\"7\"") == 1);
        CHECK(count(history, "<tr class=\"history-row") == 1);
        CHECK(count(history, "monitor/7 (this report)") == 1);
        CHECK(count(history, "id=\"history-performance\"") == 0);

        Check auc;
        auc.name = "auc";
        auc.value = 0.8;
        auc.min = 0.7;
        r.performance = auc;
        const int64_t hour = 3600 * 1000;
        // Given in any order; drawn oldest first.
        const std::vector<MonitorReport> before = {
            earlier(5, r.created_at - 2 * hour, 0, 0.9),
            earlier(3, r.created_at - 5 * hour, 2, 0.85),
            earlier(6, r.created_at - hour, 1, std::nullopt)};
        html = html_report(r, before);
        history = element(html, "<section id=\"history\"", "</section>");
        CHECK(count(history, "data-reports=\"4\"") == 1);
        CHECK(count(history, "3 earlier reports of environment production, and this one.") == 1);
        const std::string share = element(history, "<svg id=\"history-drift\"", "</svg>");
        CHECK(count(share, "<circle class=\"point") == 4);
        CHECK(count(share, "<circle class=\"point drift\" data-report=\"3\"") == 1);
        CHECK(count(share, "<circle class=\"point\" data-report=\"5\"") == 1);
        CHECK(count(share, ">share 0.5</text>") == 1);
        // Oldest first along the line: 3, 5, 6, 7.
        const std::regex cx("data-report=\"([0-9]+)\" cx=\"([0-9.]+)\"");
        std::vector<std::pair<int, double>> points;
        for (std::sregex_iterator it(share.begin(), share.end(), cx), e; it != e; ++it) {
            points.emplace_back(std::stoi((*it)[1]), std::stod((*it)[2]));
        }
        REQUIRE(points.size() == 4);
        CHECK(points[0].first == 3);
        CHECK(points[3].first == 7);
        CHECK(points[0].second < points[1].second);
        CHECK(points[1].second < points[2].second);
        CHECK(points[2].second < points[3].second);
        // Performance: the reports that measured auc, and this one; its limit marked.
        const std::string perf = element(history, "<svg id=\"history-performance\"", "</svg>");
        CHECK(count(perf, "<circle class=\"point") == 3);
        CHECK(count(perf, "data-report=\"6\"") == 0);
        CHECK(count(perf, ">min 0.7</text>") == 1);
        // The table, newest first.
        const std::string table = element(history, "<table id=\"history-table\"", "</table>");
        CHECK(count(table, "<tr class=\"history-row") == 4);
        CHECK(table.find("data-report=\"7\"") < table.find("data-report=\"6\""));
        CHECK(table.find("data-report=\"5\"") < table.find("data-report=\"3\""));
        CHECK(count(table, "<td class=\"n\">2 of 2</td><td class=\"drifted\">yes</td>") == 1);
    }

    TEST_CASE("numeric histograms: whole numbers one bin each, else Sturges; non-finite left out") {
        const double nan = std::nan("");
        const double inf = std::numeric_limits<double>::infinity();
        const std::vector<double> calls_ref = {0, 1, 1, 2, 3, nan, 8};
        const std::vector<double> calls_cur = {1, 5, inf, 8, 8};
        const auto h = numeric_histogram(calls_ref, calls_cur);
        REQUIRE(h);
        CHECK(h->numeric());
        CHECK(h->edges.size() == 10);
        CHECK(h->edges.front() == -0.5);
        CHECK(h->edges.back() == 8.5);
        CHECK(h->reference == std::vector<uint64_t>{1, 2, 1, 1, 0, 0, 0, 0, 1});
        CHECK(h->current == std::vector<uint64_t>{0, 1, 0, 0, 0, 1, 0, 0, 2});

        std::vector<double> ref(4000);
        std::vector<double> cur(1000);
        for (size_t i = 0; i < ref.size(); ++i) {
            ref[i] = static_cast<double>(i) / 10 + 0.25;
        }
        for (size_t i = 0; i < cur.size(); ++i) {
            cur[i] = static_cast<double>(i) / 5 + 0.5;
        }
        const auto s = numeric_histogram(ref, cur);
        REQUIRE(s);
        CHECK(s->edges.size() == 15);  // ceil(log2(5000) + 1) = 14 bins
        CHECK(s->edges.front() == 0.25);
        CHECK(s->edges.back() == ref.back());
        CHECK(std::accumulate(s->reference.begin(), s->reference.end(), uint64_t{0}) == 4000);
        CHECK(std::accumulate(s->current.begin(), s->current.end(), uint64_t{0}) == 1000);

        const std::vector<double> constant = {2.5, 2.5};
        const auto one = numeric_histogram(constant, constant);
        REQUIRE(one);
        CHECK(one->edges == std::vector<double>{2, 3});
        CHECK(one->reference == std::vector<uint64_t>{2});

        const std::vector<double> wide = {-1e308, 1e308, 0.5};
        const auto w = numeric_histogram(wide, {});
        REQUIRE(w);
        CHECK(std::accumulate(w->reference.begin(), w->reference.end(), uint64_t{0}) == 3);

        const std::vector<double> none = {nan, inf};
        CHECK_FALSE(numeric_histogram(none, none));

        // Whole numbers until the last value, the missing and infinite left out: Sturges bins
        // over [1, 4.5], not one bin per whole number.
        const std::vector<double> late = {1, nan, 2, -inf, 3, 4.5};
        const auto l = numeric_histogram(late, std::vector<double>{4, 0x1p60});
        REQUIRE(l);
        CHECK(l->edges.front() == 1);
        CHECK(l->edges.back() == 0x1p60);
        CHECK(l->edges.size() == 5);  // ceil(log2(6) + 1) = 4 bins
        CHECK(std::accumulate(l->reference.begin(), l->reference.end(), uint64_t{0}) == 4);
        CHECK(std::accumulate(l->current.begin(), l->current.end(), uint64_t{0}) == 2);
        const std::vector<double> ints = {3, nan, -2, inf, 0x1p60};
        const auto big = numeric_histogram(ints, {});  // whole, but too wide for a bin each
        REQUIRE(big);
        CHECK(big->edges.size() == 4);  // ceil(log2(3) + 1) = 3 bins
        const std::vector<double> small_ints = {3, nan, -2, inf, 1};
        const auto each = numeric_histogram(small_ints, {});
        REQUIRE(each);
        CHECK(each->edges == std::vector<double>{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5});
        CHECK(each->reference == std::vector<uint64_t>{1, 0, 0, 1, 0, 1});
    }

    TEST_CASE("numeric histograms from values counted per distinct value are the same") {
        std::mt19937_64 rng(7);
        const double nan = std::nan("");
        // Whole values in a narrow range (a bin each), in a wide one (Sturges), and fractions.
        for (const double scale : {1.0, 1e6, 0.37}) {
            for (int round = 0; round < 20; ++round) {
                std::vector<double> ref;
                std::vector<double> cur;
                const uint64_t distinct = 1 + rng() % 20;
                for (int i = 0; i < 500; ++i) {
                    ref.push_back(static_cast<double>(rng() % distinct) * scale - 3 * scale);
                    cur.push_back(static_cast<double>(rng() % (distinct + 2)) * scale);
                }
                ref.push_back(nan);  // left out by both
                const auto direct = numeric_histogram(ref, cur);
                ref.pop_back();
                const auto counted = numeric_histogram_counted(mloop::stats::bin_values(ref, cur));
                REQUIRE(direct);
                REQUIRE(counted);
                INFO("scale " << scale << ", " << distinct << " distinct values");
                CHECK(counted->edges == direct->edges);
                CHECK(counted->reference == direct->reference);
                CHECK(counted->current == direct->current);
            }
        }
        CHECK_FALSE(numeric_histogram_counted(mloop::stats::bin_values({}, {})));
    }

    TEST_CASE("numeric histograms from sorted finite values are the same histograms") {
        const double nan = std::nan("");
        const double inf = std::numeric_limits<double>::infinity();
        const auto sorted_finite = [](std::vector<double> v) {
            std::erase_if(v, [](double x) { return !std::isfinite(x); });
            std::sort(v.begin(), v.end());
            return v;
        };
        std::mt19937_64 rng(20261207);
        std::normal_distribution<double> normal(50, 10);
        std::uniform_int_distribution<int> small(0, 6);
        std::vector<std::pair<std::vector<double>, std::vector<double>>> cases = {
            {{0, 1, 1, 2, 3, nan, 8}, {1, 5, inf, 8, 8}},
            {{2.5, 2.5}, {2.5, 2.5}},
            {{-1e308, 1e308, 0.5}, {}},
            {{1, nan, 2, -inf, 3, 4.5}, {4, 0x1p60}},
            {{3, nan, -2, inf, 0x1p60}, {}},
            {{}, {3, -2, 1}},
        };
        for (int k = 0; k < 2; ++k) {
            std::vector<double> a(20000);
            std::vector<double> b(15000);
            for (auto& x : a) {
                x = k == 0 ? std::round(normal(rng) * 100) / 100 : small(rng);
            }
            for (auto& x : b) {
                x = k == 0 ? std::round((normal(rng) + 3) * 100) / 100 : small(rng) + 1;
            }
            cases.emplace_back(a, b);
        }
        for (const auto& [a, b] : cases) {
            const auto want = numeric_histogram(a, b);
            const auto got = numeric_histogram_sorted(sorted_finite(a), sorted_finite(b));
            REQUIRE(want);
            REQUIRE(got);
            CHECK(got->edges == want->edges);
            CHECK(got->reference == want->reference);
            CHECK(got->current == want->current);
        }
        CHECK_FALSE(numeric_histogram_sorted({}, {}));
    }

    TEST_CASE("categorical histograms: the most frequent categories, the rest in other") {
        std::vector<std::string> names;
        for (int i = 0; i < 25; ++i) {
            names.push_back("c" + std::to_string(100 + i));
        }
        std::vector<std::string_view> ref;
        std::vector<std::string_view> cur;
        for (int i = 0; i < 25; ++i) {
            for (int k = 0; k < 30 - i; ++k) {
                ref.emplace_back(names[static_cast<size_t>(i)]);
            }
        }
        cur.emplace_back(names[24]);
        cur.emplace_back(names[0]);
        const auto h = categorical_histogram(ref, cur);
        REQUIRE(h);
        CHECK_FALSE(h->numeric());
        REQUIRE(h->categories.size() == 21);
        CHECK(h->categories.front() == "c100");
        CHECK(h->categories[19] == "c119");
        CHECK(h->categories.back() == "other");
        CHECK(h->other == 5);
        CHECK(h->reference.front() == 30);
        CHECK(h->reference.back() == 10 + 9 + 8 + 7 + 6);
        CHECK(h->current.front() == 1);
        CHECK(h->current.back() == 1);

        const std::string long_name = std::string(59, 'x') + "é and more";
        const std::vector<std::string_view> one = {long_name};
        const auto l = categorical_histogram(one, {});
        REQUIRE(l);
        CHECK(l->categories.front() == std::string(59, 'x') + "…");
        CHECK_FALSE(categorical_histogram({}, {}));
    }
}
