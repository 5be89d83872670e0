// Distributions of the Kolmogorov-Smirnov statistics, ported from SciPy 1.10 so p-values
// match it: scipy.stats.kstwo (stats/_ksstats.py), scipy.special.smirnov
// (special/cephes/kolmogorov.c) and the exact two-sample probabilities of ks_2samp
// (stats/_stats_py.py, stats/_stats_pythran.py).
#pragma once

#include <cstdint>
#include <optional>

namespace mloop::stats {

// scipy.stats.kstwo.sf(d, n): Pr(D_n >= d) for the two-sided one-sample statistic, n >= 1.
// Picks the same algorithm as SciPy for each (n, d): Ruben-Gambino ends, Durbin's matrix
// (Marsaglia-Tsang-Wang), Pomeranz's recursion, Pelz-Good's asymptotic series, or twice the
// one-sided Smirnov tail.
double kstwo_sf(double d, int64_t n);

// scipy.special.smirnov(n, d): Pr(D+_n >= d) for the one-sided one-sample statistic. SciPy
// sums in double-double arithmetic; this takes each term's logarithm in long double (the x87
// 80-bit type) and the term as a double, which keeps the relative error near 1e-13 and is
// several times faster; a long sum (a two-sample test of a million values each needs ~450 000
// terms) is split over both cores.
double smirnov_sf(int64_t n, double d);

// The exact two-sided two-sample probability Pr(D_{n1,n2} >= h / lcm(n1, n2)) of
// ks_2samp(method="exact"); g = gcd(n1, n2). Empty when SciPy's computation would fail (the
// value leaves [0, 1]) and it would fall back to the asymptotic distribution.
std::optional<double> ks_2samp_exact_sf(int64_t n1, int64_t n2, int64_t g, int64_t h);

}  // namespace mloop::stats
