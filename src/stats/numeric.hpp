// Numeric building blocks the drift tests share: NumPy's summation order, a radix sort for
// doubles, the finite values of a column, and capped unique counts.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mloop::stats {

// NumPy's pairwise summation (np.sum / np.add.reduce over a contiguous float64 array): blocks
// of up to 128 summed with eight accumulators, larger ranges split in halves rounded down to a
// multiple of eight. Using the same order makes sums, means and variances bit-identical to
// NumPy's rather than merely close.
double numpy_sum(std::span<const double> values);

// The same order for a sequence produced on the fly: `next()` is called exactly `n` times, in
// index order, so a sum over a merge of two sorted samples needs no array.
template <class Next>
double numpy_sum_stream(size_t n, Next& next) {
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; ++i) {
            res += next();
        }
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (double& x : r) {
            x = next();
        }
        size_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (double& x : r) {
                x += next();
            }
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += next();
        }
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    const double left = numpy_sum_stream(n2, next);
    return left + numpy_sum_stream(n - n2, next);
}

// np.mean and np.std (ddof 0) in NumPy's order: sum / n, then the sum of squared deviations.
double numpy_mean(std::span<const double> values);
double numpy_std(std::span<const double> values);

// The first of keys[0, n) equal to `key`, or n or more when none is (n <= 32). Compares with
// every key without a branch on the outcome: for the few distinct values of a column, read to
// its end, where hashing each value or a mispredicted early exit cost most of the time.
inline size_t first_match(const uint64_t* keys, size_t n, uint64_t key) {
    uint32_t match = 0;
    for (size_t i = 0; i < n; ++i) {
        match |= static_cast<uint32_t>(keys[i] == key) << i;
    }
    return static_cast<size_t>(std::countr_zero(match));
}

// Working memory for n doubles, this thread's, kept from call to call and on huge pages (a
// fresh 16 MB on 4 KiB pages faulted 4 096 times, a tenth of a second in a VM). Valid until
// the next call on the same thread; for a function's own use within one call.
double* thread_scratch(size_t n);

// Sorts ascending. An LSD radix sort on the IEEE bit patterns, several times faster than
// std::sort on a million doubles. Values must not be NaN; -0.0 sorts before +0.0, which
// compare equal anyway.
void sort_doubles(std::vector<double>& values);

// The finite values of a column: NaN (missing) and ±inf are left out, as Evidently does before
// any drift test (`replace([-inf, inf], nan).dropna()`), and counted.
struct FiniteValues {
    std::vector<double> values;
    uint64_t missing = 0;   // NaN
    uint64_t infinite = 0;  // +inf or -inf
};
FiniteValues finite_values(std::span<const double> column);

// Whether `a` and `b` together hold more than `cap` distinct values (pandas' nunique, so -0.0
// and 0.0 are one value). Stops reading as soon as the answer is known.
bool more_unique_than(std::span<const double> a, std::span<const double> b, size_t cap);

}  // namespace mloop::stats
