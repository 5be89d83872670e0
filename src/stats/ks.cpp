#include "stats/ks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "stats/kolmogorov.hpp"
#include "stats/numeric.hpp"
#include "util/parallel.hpp"

namespace mloop::stats {

namespace {

// ks_2samp's 'auto' is exact when neither sample is larger than this.
constexpr size_t k_max_auto_n = 10000;
// Fewer values than this are sorted on the caller's thread.
constexpr size_t k_parallel_sort = 100000;

}  // namespace

KsResult ks_2samp_sorted(std::span<const double> a, std::span<const double> b) {
    const size_t n1 = a.size();
    const size_t n2 = b.size();
    const auto dn1 = static_cast<double>(n1);
    const auto dn2 = static_cast<double>(n2);
    // cdf1 - cdf2 at every value of either sample, each ECDF right-continuous (searchsorted
    // side='right'), in the same double arithmetic as SciPy: count / n.
    double max_s = -INFINITY;
    double min_s = INFINITY;
    auto record = [&](size_t i, size_t j) {
        const double diff = static_cast<double>(i) / dn1 - static_cast<double>(j) / dn2;
        max_s = std::max(max_s, diff);
        min_s = std::min(min_s, diff);
    };
    // Take the smaller head without a branch (the comparison is a coin toss when the samples
    // look alike); evaluate once the last copy of a value is in.
    size_t i = 0;
    size_t j = 0;
    while (i < n1 && j < n2) {
        const bool from_a = a[i] <= b[j];
        const double x = from_a ? a[i] : b[j];
        i += from_a ? 1 : 0;
        j += from_a ? 0 : 1;
        const double na = i < n1 ? a[i] : INFINITY;
        const double nb = j < n2 ? b[j] : INFINITY;
        if (std::min(na, nb) != x) {
            record(i, j);
        }
    }
    for (; i < n1; ++i) {
        if (i + 1 == n1 || a[i + 1] != a[i]) {
            record(i + 1, j);
        }
    }
    for (; j < n2; ++j) {
        if (j + 1 == n2 || b[j + 1] != b[j]) {
            record(i, j + 1);
        }
    }
    const double min_abs = std::clamp(-min_s, 0.0, 1.0);
    double d = min_abs > max_s ? min_abs : max_s;

    KsResult r;
    const auto g = static_cast<int64_t>(std::gcd(n1, n2));
    bool asymptotic = std::max(n1, n2) > k_max_auto_n;
    if (!asymptotic) {
        const int64_t lcm = static_cast<int64_t>(n1) / g * static_cast<int64_t>(n2);
        const auto h = static_cast<int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
        d = static_cast<double>(h) * 1.0 / static_cast<double>(lcm);
        if (auto p = ks_2samp_exact_sf(static_cast<int64_t>(n1), static_cast<int64_t>(n2), g, h)) {
            r.p_value = *p;
            r.exact = true;
        } else {
            asymptotic = true;  // SciPy warns and switches; d keeps its rounding
        }
    }
    if (asymptotic) {
        const double m = std::max(dn1, dn2);
        const double n = std::min(dn1, dn2);
        const double en = m * n / (m + n);
        // np.round: halves to even, as nearbyint in the default rounding mode
        r.p_value = kstwo_sf(d, static_cast<int64_t>(std::nearbyint(en)));
    }
    r.statistic = d;
    r.p_value = std::clamp(r.p_value, 0.0, 1.0);
    return r;
}

util::Result<KsResult> ks_2samp(std::span<const double> a, std::span<const double> b) {
    if (a.empty() || b.empty()) {
        return util::Failure{"ks: a sample is empty"};
    }
    for (const auto sample : {a, b}) {
        if (std::any_of(sample.begin(), sample.end(), [](double x) { return std::isnan(x); })) {
            return util::Failure{"ks: a sample holds NaN"};
        }
    }
    std::vector<double> sa;
    std::vector<double> sb;
    // A sample each on both cores when they are big enough to pay for a thread.
    const auto copy_sort = [](std::span<const double> in, std::vector<double>& out) {
        return [in, &out] {
            out.assign(in.begin(), in.end());
            sort_doubles(out);
        };
    };
    if (a.size() + b.size() >= k_parallel_sort) {
        util::run_both(copy_sort(a, sa), copy_sort(b, sb));
    } else {
        copy_sort(a, sa)();
        copy_sort(b, sb)();
    }
    return ks_2samp_sorted(sa, sb);
}

}  // namespace mloop::stats
