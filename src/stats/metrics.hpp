// Model metrics as scikit-learn 1.2 computes them with its defaults (binary metrics with
// positive label 1, sklearn's eps clipping in log_loss, ROC AUC with ties as its trapezoids),
// in NumPy's summation order so the values agree to the last bits.
//
// Labels are numbers (a categorical target is mapped to codes by the caller). Where sklearn
// raises, these fail with a message that says why; where it warns and returns NaN (r2 on one
// sample), these fail too, so no NaN reaches a gate.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "util/result.hpp"

namespace mloop::stats {

enum class Metric { accuracy, precision, recall, f1, auc, log_loss, rmse, mae, r2 };

std::string_view metric_name(Metric m);
std::optional<Metric> parse_metric(std::string_view name);
std::span<const std::string_view> metric_names();

bool higher_is_better(Metric m);  // false for log_loss, rmse, mae
// auc and log_loss take a score or probability of the positive class as the prediction;
// the other classification metrics take predicted labels.
bool takes_scores(Metric m);

util::Result<double> compute_metric(Metric m, std::span<const double> y_true,
                                    std::span<const double> y_pred);

util::Result<double> accuracy(std::span<const double> y_true, std::span<const double> y_pred);
util::Result<double> precision(std::span<const double> y_true, std::span<const double> y_pred);
util::Result<double> recall(std::span<const double> y_true, std::span<const double> y_pred);
util::Result<double> f1(std::span<const double> y_true, std::span<const double> y_pred);
util::Result<double> roc_auc(std::span<const double> y_true, std::span<const double> y_score);
util::Result<double> log_loss(std::span<const double> y_true, std::span<const double> y_prob);
util::Result<double> rmse(std::span<const double> y_true, std::span<const double> y_pred);
util::Result<double> mae(std::span<const double> y_true, std::span<const double> y_pred);
util::Result<double> r2(std::span<const double> y_true, std::span<const double> y_pred);

}  // namespace mloop::stats
