// Drift of one column between reference and current data (SPEC §6, mloop monitor): the method
// the column asks for or the one Evidently's `auto` rule picks, its statistic, and whether it
// crosses the threshold. Odd data gives a typed answer with a note, or an error that says what
// is wrong; never a NaN that would read as "no drift".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stats/distance.hpp"
#include "util/result.hpp"

namespace mloop::stats {

enum class Method { ks, psi, wasserstein, jensenshannon, chisquare };

// "ks", "psi", "wasserstein", "jensenshannon", "chisquare"
std::string_view method_name(Method m);
std::optional<Method> parse_method(std::string_view name);  // "auto" is not a method: nullopt
std::span<const std::string_view> method_names();

// Drift when the p-value is below the threshold (ks, chisquare); otherwise when the distance
// reaches it.
bool uses_p_value(Method m);
double default_threshold(Method m);  // 0.05 for p-values, 0.1 for distances

// SPEC §6's `auto` (Evidently's default): a reference of at most 1000 rows gets ks for a
// numeric column with more than 5 distinct values (reference ∪ current), else chisquare;
// a larger reference gets wasserstein, else jensenshannon. Categorical columns count as
// having few values.
Method auto_method(bool numeric, uint64_t reference_rows, bool more_than_5_unique);

struct DriftOptions {
    std::optional<Method> method;     // unset: auto
    std::optional<double> threshold;  // unset: the method's default
};

struct ColumnDrift {
    Method method = Method::ks;
    bool automatic = false;  // chosen by the auto rule
    // The number the threshold is compared with: the p-value for ks and chisquare, the
    // distance for the others (Evidently's drift_score).
    double score = 0;
    // The test statistic: ks D, chi-square's Pearson sum (inf when current has a category the
    // reference lacks), or the distance itself.
    double statistic = 0;
    std::optional<double> p_value;
    double threshold = 0;
    bool drifted = false;
    uint64_t reference_values = 0;  // values the test used
    uint64_t current_values = 0;
    uint64_t reference_left_out = 0;  // missing or not finite
    uint64_t current_left_out = 0;
    std::vector<std::string> notes;  // what a reader of the report should know
};

// The finite values of both sides in ascending order, as numeric_drift sorted them; or, when it
// counted them per distinct value instead (few distinct values, binned), those bins.
struct SortedSamples {
    std::vector<double> reference;
    std::vector<double> current;
    std::optional<Bins> values;
};

// A numeric column; NaN is a missing value, and NaN and ±inf are left out as Evidently does.
// Fails when nothing is left on either side or the threshold is not a finite number. When the
// method sorts the values (ks, wasserstein) and `sorted` is given, the sorted values are moved
// there (a histogram of them then costs a binary search per edge); when it counts them per
// distinct value, the counts are copied there.
util::Result<ColumnDrift> numeric_drift(std::span<const double> reference,
                                        std::span<const double> current,
                                        const DriftOptions& options = {},
                                        SortedSamples* sorted = nullptr);

// A categorical column, missing values already left out (their counts in *_missing).
// ks and wasserstein need numbers and fail here.
util::Result<ColumnDrift> categorical_drift(std::span<const std::string_view> reference,
                                            std::span<const std::string_view> current,
                                            const DriftOptions& options = {},
                                            uint64_t reference_missing = 0,
                                            uint64_t current_missing = 0);
// The same from categories already counted (bin_categories, CategoryCounter).
util::Result<ColumnDrift> categorical_drift(const Bins& bins, const DriftOptions& options = {},
                                            uint64_t reference_missing = 0,
                                            uint64_t current_missing = 0);

// The dataset drifts when at least `share` of the columns drift (SPEC §5 monitor.drift.share).
bool dataset_drift(size_t drifted_columns, size_t columns, double share);

}  // namespace mloop::stats
