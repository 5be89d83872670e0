// Distances and frequency tests between a reference and a current sample, as SciPy and
// Evidently define them: wasserstein_distance, Evidently's binning (get_binned_data) with its
// floor for empty bins, PSI, Jensen-Shannon and the chi-square test on category frequencies.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/hash.hpp"
#include "util/result.hpp"

namespace mloop::stats {

// scipy.stats.wasserstein_distance of two samples sorted ascending, finite, not empty.
double wasserstein_sorted(std::span<const double> u, std::span<const double> v);

// Copies and sorts; fails on an empty sample or a value that is not finite.
util::Result<double> wasserstein_distance(std::span<const double> u, std::span<const double> v);

// Evidently's wasserstein: the distance divided by np.std(reference) (ddof 0), at least 0.001.
// Both sorted, finite, not empty.
double wasserstein_norm_sorted(std::span<const double> reference, std::span<const double> current);

// Frequencies of reference and current over the same bins.
struct Bins {
    enum class Kind { histogram, values, categories };
    Kind kind = Kind::values;
    std::vector<double> edges;            // histogram: the bins' edges (one more than bins)
    std::vector<double> values;           // values: the number each bin holds
    std::vector<std::string> categories;  // categories: the label each bin holds
    std::vector<uint64_t> reference;      // count per bin
    std::vector<uint64_t> current;
    uint64_t reference_total = 0;
    uint64_t current_total = 0;

    size_t size() const { return reference.size(); }
    // Bins that only current fills: categories (or values) never seen in the reference.
    std::vector<size_t> unseen_in_reference() const;
};

// Evidently's get_binned_data for a numeric column of finite values: numpy's Sturges
// histogram over reference ∪ current when the reference has more than 20 distinct values,
// else one bin per distinct value of either sample.
Bins bin_numeric(std::span<const double> reference, std::span<const double> current);

// One bin per distinct value of either sample (chisquare's frequencies for a numeric column).
Bins bin_values(std::span<const double> reference, std::span<const double> current);

// One bin per category of either sample, in the order first seen. Missing values must be left
// out by the caller.
Bins bin_categories(std::span<const std::string_view> reference,
                    std::span<const std::string_view> current);

// The same a value at a time, for callers that hold their values otherwise than as a span: one
// hash of each value (an open-addressing table over the categories' bytes), no copy of it.
class CategoryCounter {
  public:
    CategoryCounter();
    // Counts `value` once (or `count` times, count > 0) on its side.
    void add(std::string_view value, bool reference, uint64_t count = 1);
    // The bins counted so far, totals set; the counter starts again empty.
    Bins take();

  private:
    Bins m_bins;
    util::HashIndex m_index;  // category -> bin
};

// numpy.histogram_bin_edges(values, bins="sturges") of reference ∪ current (finite, not both
// empty), bit for bit.
std::vector<double> sturges_edges(std::span<const double> reference,
                                  std::span<const double> current);

// Counts per bin with numpy.histogram's rule: [e_i, e_i+1), the last bin closed.
void histogram_counts(std::span<const double> values, std::span<const double> edges,
                      std::vector<uint64_t>& counts);

// count / total per bin, then Evidently's floor for empty bins ("feel_zeroes"): an empty bin
// gets the smallest non-empty fraction / 10^6 when that is at most 0.0001, else 0.0001.
std::vector<double> fractions(std::span<const uint64_t> counts, uint64_t total, bool floor_empty);

// Population stability index, sum of (r - c) * ln(r / c) over the floored fractions.
double psi(const Bins& bins);

// scipy.spatial.distance.jensenshannon of the (unfloored) fractions, natural logarithm.
double jensenshannon(const Bins& bins);

// scipy.stats.chisquare(f_obs=current counts, f_exp=reference counts * n_current/n_reference):
// Pearson's statistic and its chi-square tail with bins - 1 degrees of freedom. A category the
// reference never saw has an expected count of 0, so the statistic is infinite and p is 0, as
// in SciPy. Fails with fewer than two bins (SciPy returns NaN).
struct ChiSquare {
    double statistic = 0;
    double p_value = 1;
    size_t dof = 0;
};
util::Result<ChiSquare> chisquare(const Bins& bins);

// scipy.stats.chi2.sf(x, dof)
double chi2_sf(double x, double dof);

}  // namespace mloop::stats
