// The two-sample Kolmogorov-Smirnov test as scipy.stats.ks_2samp(method="auto") computes it
// (SciPy 1.10): the same statistic to the last bit, an exact p-value when both samples have at
// most 10 000 values, the asymptotic kstwo distribution otherwise.
#pragma once

#include <span>

#include "util/result.hpp"

namespace mloop::stats {

struct KsResult {
    double statistic = 0;  // sup |F1 - F2|; rounded to h / lcm(n1, n2) when exact, as SciPy does
    double p_value = 1;
    bool exact = false;  // the p-value came from the exact distribution
};

// Both samples sorted ascending, not empty, no NaN. The hot path: the monitor sorts the
// reference once.
KsResult ks_2samp_sorted(std::span<const double> a, std::span<const double> b);

// Copies and sorts (big samples one on each core). Fails on an empty sample or a NaN (SciPy would
// return a meaningless number for NaN); ±inf are values like any other.
util::Result<KsResult> ks_2samp(std::span<const double> a, std::span<const double> b);

}  // namespace mloop::stats
