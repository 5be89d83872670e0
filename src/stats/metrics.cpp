#include "stats/metrics.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "stats/numeric.hpp"
#include "util/text.hpp"

namespace mloop::stats {

namespace {

constexpr std::array<std::string_view, 9> k_names = {"accuracy", "precision", "recall", "f1", "auc",
                                                     "log_loss", "rmse",      "mae",    "r2"};

// check_consistent_length and check_array: same length, not empty, every value finite.
util::Result<bool> check_pair(std::string_view metric, std::span<const double> y_true,
                              std::span<const double> y_pred) {
    if (y_true.size() != y_pred.size()) {
        return util::Failure{
            fmt::format("{}: {} labels but {} predictions", metric, y_true.size(), y_pred.size())};
    }
    if (y_true.empty()) {
        return util::Failure{fmt::format("{}: no rows to score", metric)};
    }
    for (const auto s : {y_true, y_pred}) {
        for (const double x : s) {
            if (!std::isfinite(x)) {
                return util::Failure{
                    fmt::format("{}: the {} hold {}", metric,
                                s.data() == y_true.data() ? "labels" : "predictions",
                                std::isnan(x) ? "a missing value (NaN)" : "an infinite value")};
            }
        }
    }
    return true;
}

// The distinct labels, sorted; fails like sklearn's type_of_target on non-integral values.
util::Result<std::vector<double>> class_labels(std::string_view metric, std::span<const double> y,
                                               std::string_view what) {
    std::vector<double> classes;
    for (const double x : y) {
        if (x != std::floor(x)) {
            return util::Failure{fmt::format(
                "{}: the {} are not class labels (found {}); classification metrics need "
                "integer classes",
                metric, what, x)};
        }
        const double v = x + 0.0;
        if (std::find(classes.begin(), classes.end(), v) == classes.end()) {
            classes.push_back(v);
            if (classes.size() > 1000) {
                break;  // plainly not a classification target; the caller fails on count
            }
        }
    }
    std::sort(classes.begin(), classes.end());
    return classes;
}

struct Counts {
    double tp = 0;
    double predicted = 0;  // predicted positive
    double actual = 0;     // truly positive
};

// sklearn's _check_set_wise_labels for average="binary", pos_label=1, then the confusion counts.
util::Result<Counts> binary_counts(std::string_view metric, std::span<const double> y_true,
                                   std::span<const double> y_pred) {
    if (auto ok = check_pair(metric, y_true, y_pred); !ok) {
        return util::Failure{ok.error()};
    }
    auto t = class_labels(metric, y_true, "labels");
    if (!t) {
        return util::Failure{t.error()};
    }
    auto p = class_labels(metric, y_pred, "predictions");
    if (!p) {
        return util::Failure{p.error()};
    }
    if (t->size() > 2 || p->size() > 2) {
        return util::Failure{fmt::format(
            "{}: the target is multiclass ({} classes); {} is computed for a binary target with "
            "positive class 1",
            metric, std::max(t->size(), p->size()), metric)};
    }
    std::vector<double> present = *t;
    for (const double x : *p) {
        if (std::find(present.begin(), present.end(), x) == present.end()) {
            present.push_back(x);
        }
    }
    std::sort(present.begin(), present.end());
    if (std::find(present.begin(), present.end(), 1.0) == present.end() && present.size() >= 2) {
        std::vector<std::string> names;
        for (const double x : present) {
            names.push_back(fmt::format("{}", x));
        }
        return util::Failure{fmt::format(
            "{}: the positive class 1 is not among the labels ({}); map the positive class to 1",
            metric, util::join(names, ", "))};
    }
    Counts c;
    for (size_t i = 0; i < y_true.size(); ++i) {
        const bool is_true = y_true[i] == 1.0;
        const bool is_pred = y_pred[i] == 1.0;
        c.tp += is_true && is_pred ? 1 : 0;
        c.actual += is_true ? 1 : 0;
        c.predicted += is_pred ? 1 : 0;
    }
    return c;
}

// _prf_divide with zero_division="warn": 0 when nothing is in the denominator.
double divide(double num, double den) {
    return den == 0 ? 0.0 : num / den;
}

}  // namespace

std::string_view metric_name(Metric m) {
    return k_names[static_cast<size_t>(m)];
}

std::optional<Metric> parse_metric(std::string_view name) {
    for (size_t i = 0; i < k_names.size(); ++i) {
        if (k_names[i] == name) {
            return static_cast<Metric>(i);
        }
    }
    return std::nullopt;
}

std::span<const std::string_view> metric_names() {
    return k_names;
}

bool higher_is_better(Metric m) {
    return m != Metric::log_loss && m != Metric::rmse && m != Metric::mae;
}

bool takes_scores(Metric m) {
    return m == Metric::auc || m == Metric::log_loss;
}

util::Result<double> compute_metric(Metric m, std::span<const double> y_true,
                                    std::span<const double> y_pred) {
    switch (m) {
        case Metric::accuracy:
            return accuracy(y_true, y_pred);
        case Metric::precision:
            return precision(y_true, y_pred);
        case Metric::recall:
            return recall(y_true, y_pred);
        case Metric::f1:
            return f1(y_true, y_pred);
        case Metric::auc:
            return roc_auc(y_true, y_pred);
        case Metric::log_loss:
            return log_loss(y_true, y_pred);
        case Metric::rmse:
            return rmse(y_true, y_pred);
        case Metric::mae:
            return mae(y_true, y_pred);
        case Metric::r2:
            return r2(y_true, y_pred);
    }
    return util::Failure{"unknown metric"};
}

util::Result<double> accuracy(std::span<const double> y_true, std::span<const double> y_pred) {
    if (auto ok = check_pair("accuracy", y_true, y_pred); !ok) {
        return util::Failure{ok.error()};
    }
    for (const auto& [s, what] : {std::pair{y_true, "labels"}, std::pair{y_pred, "predictions"}}) {
        if (auto c = class_labels("accuracy", s, what); !c) {
            return util::Failure{c.error()};
        }
    }
    size_t same = 0;
    for (size_t i = 0; i < y_true.size(); ++i) {
        same += y_true[i] == y_pred[i] ? 1 : 0;
    }
    return static_cast<double>(same) / static_cast<double>(y_true.size());
}

util::Result<double> precision(std::span<const double> y_true, std::span<const double> y_pred) {
    auto c = binary_counts("precision", y_true, y_pred);
    if (!c) {
        return util::Failure{c.error()};
    }
    return divide(c->tp, c->predicted);
}

util::Result<double> recall(std::span<const double> y_true, std::span<const double> y_pred) {
    auto c = binary_counts("recall", y_true, y_pred);
    if (!c) {
        return util::Failure{c.error()};
    }
    return divide(c->tp, c->actual);
}

util::Result<double> f1(std::span<const double> y_true, std::span<const double> y_pred) {
    auto c = binary_counts("f1", y_true, y_pred);
    if (!c) {
        return util::Failure{c.error()};
    }
    const double p = divide(c->tp, c->predicted);
    const double r = divide(c->tp, c->actual);
    double denom = 1.0 * p + r;
    if (denom == 0.0) {
        denom = 1;
    }
    return (1 + 1.0) * p * r / denom;
}

util::Result<double> roc_auc(std::span<const double> y_true, std::span<const double> y_score) {
    if (auto ok = check_pair("auc", y_true, y_score); !ok) {
        return util::Failure{ok.error()};
    }
    auto classes = class_labels("auc", y_true, "labels");
    if (!classes) {
        return util::Failure{classes.error()};
    }
    if (classes->size() == 1) {
        return util::Failure{fmt::format(
            "auc: only one class ({}) in the labels; ROC AUC is not defined", classes->front())};
    }
    if (classes->size() > 2) {
        return util::Failure{
            fmt::format("auc: the labels have {} classes; auc is computed for a binary target",
                        classes->size())};
    }
    const double positive = classes->back();  // label_binarize: the larger label
    const size_t n = y_true.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return y_score[a] > y_score[b]; });
    // _binary_clf_curve: cumulative counts at each distinct score, highest first.
    std::vector<double> fps;
    std::vector<double> tps;
    double tp = 0;
    for (size_t k = 0; k < n; ++k) {
        tp += y_true[order[k]] == positive ? 1 : 0;
        if (k + 1 == n || y_score[order[k]] != y_score[order[k + 1]]) {
            tps.push_back(tp);
            fps.push_back(1 + static_cast<double>(k) - tp);
        }
    }
    // roc_curve(drop_intermediate=True): drop points collinear with their neighbours.
    if (fps.size() > 2) {
        std::vector<double> f{fps.front()};
        std::vector<double> t{tps.front()};
        for (size_t i = 1; i + 1 < fps.size(); ++i) {
            const double d2f = (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1]);
            const double d2t = (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1]);
            if (d2f != 0 || d2t != 0) {
                f.push_back(fps[i]);
                t.push_back(tps[i]);
            }
        }
        f.push_back(fps.back());
        t.push_back(tps.back());
        fps = std::move(f);
        tps = std::move(t);
    }
    fps.insert(fps.begin(), 0.0);
    tps.insert(tps.begin(), 0.0);
    const double fmax = fps.back();
    const double tmax = tps.back();
    // np.trapz(tpr, fpr)
    std::vector<double> terms(fps.size() - 1);
    for (size_t i = 0; i + 1 < fps.size(); ++i) {
        const double dx = fps[i + 1] / fmax - fps[i] / fmax;
        terms[i] = dx * (tps[i + 1] / tmax + tps[i] / tmax) / 2.0;
    }
    return numpy_sum(terms);
}

util::Result<double> log_loss(std::span<const double> y_true, std::span<const double> y_prob) {
    if (auto ok = check_pair("log_loss", y_true, y_prob); !ok) {
        return util::Failure{ok.error()};
    }
    auto classes = class_labels("log_loss", y_true, "labels");
    if (!classes) {
        return util::Failure{classes.error()};
    }
    if (classes->size() == 1) {
        return util::Failure{fmt::format(
            "log_loss: the labels hold one class ({}); log loss needs both classes present",
            classes->front())};
    }
    if (classes->size() > 2) {
        return util::Failure{fmt::format(
            "log_loss: the labels have {} classes but the prediction is one probability; "
            "log_loss is computed for a binary target",
            classes->size())};
    }
    const double positive = classes->back();
    // eps="auto": the float64 machine epsilon, as sklearn 1.2 clips
    constexpr double eps = std::numeric_limits<double>::epsilon();
    std::vector<double> loss(y_true.size());
    for (size_t i = 0; i < y_true.size(); ++i) {
        const double p = std::clamp(y_prob[i], eps, 1 - eps);
        const double q = 1 - p;
        const double sum = q + p;  // sklearn renormalises the two columns
        const double y = y_true[i] == positive ? p / sum : q / sum;
        loss[i] = -(0.0 + std::log(y));
    }
    return numpy_mean(loss);
}

util::Result<double> rmse(std::span<const double> y_true, std::span<const double> y_pred) {
    if (auto ok = check_pair("rmse", y_true, y_pred); !ok) {
        return util::Failure{ok.error()};
    }
    size_t i = 0;
    auto next = [&] {
        const double d = y_true[i] - y_pred[i];
        ++i;
        return d * d;
    };
    return std::sqrt(numpy_sum_stream(y_true.size(), next) / static_cast<double>(y_true.size()));
}

util::Result<double> mae(std::span<const double> y_true, std::span<const double> y_pred) {
    if (auto ok = check_pair("mae", y_true, y_pred); !ok) {
        return util::Failure{ok.error()};
    }
    size_t i = 0;
    auto next = [&] {
        const double d = std::abs(y_pred[i] - y_true[i]);
        ++i;
        return d;
    };
    return numpy_sum_stream(y_true.size(), next) / static_cast<double>(y_true.size());
}

util::Result<double> r2(std::span<const double> y_true, std::span<const double> y_pred) {
    if (auto ok = check_pair("r2", y_true, y_pred); !ok) {
        return util::Failure{ok.error()};
    }
    if (y_true.size() < 2) {
        return util::Failure{"r2: not defined for fewer than two rows"};
    }
    size_t i = 0;
    auto residual = [&] {
        const double d = y_true[i] - y_pred[i];
        ++i;
        return d * d;
    };
    const double numerator = numpy_sum_stream(y_true.size(), residual);
    const double mean = numpy_mean(y_true);
    i = 0;
    auto spread = [&] {
        const double d = y_true[i] - mean;
        ++i;
        return d * d;
    };
    const double denominator = numpy_sum_stream(y_true.size(), spread);
    // _assemble_r2_explained_variance with force_finite=True
    if (denominator == 0) {
        return numerator == 0 ? 1.0 : 0.0;
    }
    if (numerator == 0) {
        return 1.0;
    }
    return 1 - numerator / denominator;
}

}  // namespace mloop::stats
