#include "stats/drift.hpp"

#include <fmt/format.h>
#include <array>
#include <cmath>

#include "stats/distance.hpp"
#include "stats/ks.hpp"
#include "stats/numeric.hpp"
#include "util/text.hpp"

namespace mloop::stats {

namespace {

constexpr std::array<std::string_view, 5> k_names = {"ks", "psi", "wasserstein", "jensenshannon",
                                                     "chisquare"};

// Evidently's auto rule: small references get a test, large ones a distance.
constexpr uint64_t k_auto_small_reference = 1000;
constexpr size_t k_auto_min_unique = 5;

std::string left_out_note(uint64_t left_out, uint64_t total, std::string_view side) {
    return fmt::format("{} of {} {} values are missing or not finite and were left out", left_out,
                       total, side);
}

std::string unseen_note(const Bins& bins) {
    const auto unseen = bins.unseen_in_reference();
    if (unseen.empty()) {
        return {};
    }
    constexpr size_t k_listed = 5;
    std::vector<std::string> names;
    for (size_t i = 0; i < unseen.size() && i < k_listed; ++i) {
        names.push_back(bins.kind == Bins::Kind::categories
                            ? util::quote(bins.categories[unseen[i]])
                            : fmt::format("{}", bins.values[unseen[i]]));
    }
    return fmt::format("current has {} {} the reference never had: {}{}", unseen.size(),
                       bins.kind == Bins::Kind::categories
                           ? (unseen.size() == 1 ? "category" : "categories")
                           : (unseen.size() == 1 ? "value" : "values"),
                       util::join(names, ", "), unseen.size() > k_listed ? ", …" : "");
}

// The tests that work on bins; shared by numeric and categorical columns.
void binned_test(Method m, const Bins& bins, ColumnDrift& r) {
    if (auto note = unseen_note(bins); !note.empty()) {
        r.notes.push_back(std::move(note));
    }
    switch (m) {
        case Method::psi:
            r.statistic = r.score = psi(bins);
            break;
        case Method::jensenshannon:
            r.statistic = r.score = jensenshannon(bins);
            break;
        case Method::chisquare: {
            auto chi = chisquare(bins);
            if (!chi) {
                // One value on both sides: no distribution to compare, and nothing moved.
                r.statistic = 0;
                r.p_value = r.score = 1.0;
                r.notes.push_back("one value in both reference and current: nothing can drift");
                break;
            }
            r.statistic = chi->statistic;
            r.p_value = r.score = chi->p_value;
            break;
        }
        case Method::ks:
        case Method::wasserstein:
            break;
    }
}

util::Result<ColumnDrift> finish(ColumnDrift r) {
    if (std::isnan(r.score)) {
        return util::Failure{
            fmt::format("{} gave no number for this column", method_name(r.method))};
    }
    r.drifted = uses_p_value(r.method) ? r.score < r.threshold : r.score >= r.threshold;
    return r;
}

util::Result<double> threshold_for(Method m, const DriftOptions& options) {
    const double t = options.threshold.value_or(default_threshold(m));
    if (!std::isfinite(t)) {
        return util::Failure{fmt::format("the {} threshold is not a number", method_name(m))};
    }
    return t;
}

std::string empty_message(std::string_view side, uint64_t rows) {
    if (rows == 0) {
        return fmt::format("the {} data has no rows", side);
    }
    return fmt::format("the {} data has no usable value: all {} are missing or not finite", side,
                       rows);
}

}  // namespace

std::string_view method_name(Method m) {
    return k_names[static_cast<size_t>(m)];
}

std::optional<Method> parse_method(std::string_view name) {
    for (size_t i = 0; i < k_names.size(); ++i) {
        if (k_names[i] == name) {
            return static_cast<Method>(i);
        }
    }
    return std::nullopt;
}

std::span<const std::string_view> method_names() {
    return k_names;
}

bool uses_p_value(Method m) {
    return m == Method::ks || m == Method::chisquare;
}

double default_threshold(Method m) {
    return uses_p_value(m) ? 0.05 : 0.1;
}

Method auto_method(bool numeric, uint64_t reference_rows, bool more_than_5_unique) {
    const bool many = numeric && more_than_5_unique;
    if (reference_rows <= k_auto_small_reference) {
        return many ? Method::ks : Method::chisquare;
    }
    return many ? Method::wasserstein : Method::jensenshannon;
}

util::Result<ColumnDrift> numeric_drift(std::span<const double> reference,
                                        std::span<const double> current,
                                        const DriftOptions& options, SortedSamples* sorted) {
    auto ref = finite_values(reference);
    auto cur = finite_values(current);
    if (ref.values.empty()) {
        return util::Failure{empty_message("reference", reference.size())};
    }
    if (cur.values.empty()) {
        return util::Failure{empty_message("current", current.size())};
    }
    ColumnDrift r;
    r.automatic = !options.method;
    r.method = options.method
                   ? *options.method
                   : auto_method(true, ref.values.size(),
                                 more_unique_than(ref.values, cur.values, k_auto_min_unique));
    auto threshold = threshold_for(r.method, options);
    if (!threshold) {
        return util::Failure{threshold.error()};
    }
    r.threshold = *threshold;
    r.reference_values = ref.values.size();
    r.current_values = cur.values.size();
    r.reference_left_out = ref.missing + ref.infinite;
    r.current_left_out = cur.missing + cur.infinite;
    if (r.reference_left_out != 0) {
        r.notes.push_back(left_out_note(r.reference_left_out, reference.size(), "reference"));
    }
    if (r.current_left_out != 0) {
        r.notes.push_back(left_out_note(r.current_left_out, current.size(), "current"));
    }

    switch (r.method) {
        case Method::ks: {
            sort_doubles(ref.values);
            sort_doubles(cur.values);
            const KsResult ks = ks_2samp_sorted(ref.values, cur.values);
            r.statistic = ks.statistic;
            r.p_value = r.score = ks.p_value;
            if (sorted != nullptr) {
                *sorted = {std::move(ref.values), std::move(cur.values), std::nullopt};
            }
            break;
        }
        case Method::wasserstein: {
            sort_doubles(ref.values);
            sort_doubles(cur.values);
            if (numpy_std(ref.values) == 0) {
                r.notes.push_back(
                    "the reference is constant (standard deviation 0): the distance is divided "
                    "by the floor 0.001");
            }
            r.statistic = r.score = wasserstein_norm_sorted(ref.values, cur.values);
            if (sorted != nullptr) {
                *sorted = {std::move(ref.values), std::move(cur.values), std::nullopt};
            }
            break;
        }
        case Method::psi:
        case Method::jensenshannon:
        case Method::chisquare: {
            Bins bins = r.method == Method::chisquare ? bin_values(ref.values, cur.values)
                                                      : bin_numeric(ref.values, cur.values);
            binned_test(r.method, bins, r);
            if (sorted != nullptr && bins.kind == Bins::Kind::values) {
                sorted->values = std::move(bins);
            }
            break;
        }
    }
    return finish(std::move(r));
}

util::Result<ColumnDrift> categorical_drift(std::span<const std::string_view> reference,
                                            std::span<const std::string_view> current,
                                            const DriftOptions& options, uint64_t reference_missing,
                                            uint64_t current_missing) {
    return categorical_drift(bin_categories(reference, current), options, reference_missing,
                             current_missing);
}

util::Result<ColumnDrift> categorical_drift(const Bins& bins, const DriftOptions& options,
                                            uint64_t reference_missing, uint64_t current_missing) {
    const uint64_t reference = bins.reference_total;
    const uint64_t current = bins.current_total;
    if (reference == 0) {
        return util::Failure{empty_message("reference", reference_missing)};
    }
    if (current == 0) {
        return util::Failure{empty_message("current", current_missing)};
    }
    ColumnDrift r;
    r.automatic = !options.method;
    r.method = options.method ? *options.method : auto_method(false, reference, false);
    if (r.method == Method::ks || r.method == Method::wasserstein) {
        return util::Failure{fmt::format(
            "{} needs a numeric column; use psi, jensenshannon or chisquare for categories",
            method_name(r.method))};
    }
    auto threshold = threshold_for(r.method, options);
    if (!threshold) {
        return util::Failure{threshold.error()};
    }
    r.threshold = *threshold;
    r.reference_values = reference;
    r.current_values = current;
    r.reference_left_out = reference_missing;
    r.current_left_out = current_missing;
    if (reference_missing != 0) {
        r.notes.push_back(
            left_out_note(reference_missing, reference + reference_missing, "reference"));
    }
    if (current_missing != 0) {
        r.notes.push_back(left_out_note(current_missing, current + current_missing, "current"));
    }
    binned_test(r.method, bins, r);
    return finish(std::move(r));
}

bool dataset_drift(size_t drifted_columns, size_t columns, double share) {
    if (columns == 0) {
        return false;
    }
    return static_cast<double>(drifted_columns) / static_cast<double>(columns) >= share;
}

}  // namespace mloop::stats
