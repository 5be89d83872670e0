#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stats/metrics.hpp"
#include "test_stats_fixture.hpp"

using namespace mloop::stats;

TEST_CASE("model metrics match scikit-learn") {
    const auto f = stats_fixture::load("metrics.json");
    int checked = 0;
    for (const auto& c : f.at("cases")) {
        const auto y = stats_fixture::sample(c.at("y"));
        const auto p = stats_fixture::sample(c.at("p"));
        for (const auto name : metric_names()) {
            const std::string key(name);
            if (!c.contains(key)) {
                continue;
            }
            CAPTURE(key);
            CAPTURE(y.size());
            auto r = compute_metric(*parse_metric(name), y, p);
            if (c.at(key) == "error" || c.at(key) == "nan") {
                // sklearn raised, or warned and returned NaN: we fail, with a message
                REQUIRE_FALSE(r.ok());
                CHECK_FALSE(r.error().empty());
            } else {
                REQUIRE_MESSAGE(r.ok(), r.error());
                CHECK_STAT(*r, stats_fixture::num(c.at(key)));
            }
            ++checked;
        }
    }
    CHECK(checked > 40);
}

TEST_CASE("metric errors say what is wrong") {
    const std::vector<double> y = {0, 1, 1};
    CHECK(accuracy(y, std::vector<double>{0, 1}).error() == "accuracy: 3 labels but 2 predictions");
    CHECK(rmse({}, {}).error() == "rmse: no rows to score");
}

TEST_CASE("metrics refuse NaN, one-class AUC and non-integer labels") {
    const std::vector<double> y = {0, 1, 1};
    CHECK(log_loss(y, std::vector<double>{0.2, NAN, 0.3}).error() ==
          "log_loss: the predictions hold a missing value (NaN)");
    CHECK(roc_auc(std::vector<double>{1, 1}, std::vector<double>{0.2, 0.4}).error() ==
          "auc: only one class (1) in the labels; ROC AUC is not defined");
    CHECK(precision(std::vector<double>{0, 0.5}, std::vector<double>{0, 1}).error() ==
          "precision: the labels are not class labels (found 0.5); classification metrics "
          "need integer classes");
    CHECK(r2(std::vector<double>{1}, std::vector<double>{1}).error() ==
          "r2: not defined for fewer than two rows");
    CHECK(f1(std::vector<double>{0, 1, 2}, std::vector<double>{0, 1, 1}).error() ==
          "f1: the target is multiclass (3 classes); f1 is computed for a binary target with "
          "positive class 1");
}

TEST_CASE("metric names and directions") {
    CHECK(parse_metric("auc") == Metric::auc);
    CHECK_FALSE(parse_metric("AUC"));
    CHECK(higher_is_better(Metric::auc));
    CHECK_FALSE(higher_is_better(Metric::log_loss));
    CHECK(takes_scores(Metric::log_loss));
    CHECK_FALSE(takes_scores(Metric::f1));
}
