#include "stats/distance.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <optional>
#include <unordered_map>

#include "stats/numeric.hpp"
#include "util/hash.hpp"

namespace mloop::stats {

namespace {

// Evidently's get_binned_data: a histogram only when the reference has more than 20 values.
constexpr size_t k_histogram_min_unique = 20;

uint64_t value_key(double v) {
    return std::bit_cast<uint64_t>(v + 0.0);  // -0.0 and 0.0 are one value, as in pandas
}

}  // namespace

namespace {

// A cursor of the merge of two sorted samples (u's value first on a tie), with the ECDFs at the
// value it took last.
struct MergeCursor {
    size_t p = 0;  // values taken from u, and from v
    size_t q = 0;
    double fu = 0;  // p / n1 and q / n2
    double fv = 0;
    double x = 0;  // the value taken last
};

// How many of the first k values of the merge come from u: the smallest p at which u[p] would
// not be taken before v[k - p - 1].
size_t merge_split(std::span<const double> u, std::span<const double> v, size_t k) {
    size_t lo = k > v.size() ? k - v.size() : 0;
    size_t hi = std::min(k, u.size());
    while (lo < hi) {
        const size_t p = lo + (hi - lo) / 2;
        if (u[p] <= v[k - p - 1]) {
            lo = p + 1;
        } else {
            hi = p;
        }
    }
    return lo;
}

}  // namespace

double wasserstein_sorted(std::span<const double> u, std::span<const double> v) {
    // scipy.stats._stats_py._cdf_distance(p=1): sum over consecutive values of the merged
    // samples of |U(x) - V(x)| * (x_next - x), U and V right-continuous ECDFs, summed in
    // NumPy's pairwise order.
    //
    // The terms are made into an array, then summed. The merge takes the smaller head without
    // a branch (the samples interleave unpredictably: a mispredicted branch per value was most
    // of the time), and runs as k_streams merges at once, each from its own point of the merged
    // order (found by binary search), so that one's loads wait while the others work. Each
    // take moves one of the ECDFs: one division per value keeps both (the same quotients as
    // dividing both counts every time). When the next value is larger than x, the values taken
    // so far are those <= x; when it is equal, the term is 0 whatever the ECDFs are.
    const size_t n1 = u.size();
    const size_t n2 = v.size();
    if (n1 == 0 || n2 == 0) {
        return 0;  // callers check: no distance to an empty sample
    }
    const size_t terms = n1 + n2 - 1;
    const auto dn1 = static_cast<double>(n1);
    const auto dn2 = static_cast<double>(n2);
    auto take = [&](MergeCursor& c) {
        const double a = c.p < n1 ? u[c.p] : INFINITY;  // the values are finite
        const double b = c.q < n2 ? v[c.q] : INFINITY;
        const bool from_u = a <= b;
        c.p += from_u ? 1 : 0;
        c.q += from_u ? 0 : 1;
        const double f = static_cast<double>(from_u ? c.p : c.q) / (from_u ? dn1 : dn2);
        c.fu = from_u ? f : c.fu;
        c.fv = from_u ? c.fv : f;
        c.x = from_u ? a : b;
    };
    auto term = [&](MergeCursor& c) {
        const double d = std::abs(c.fu - c.fv);
        const double x = c.x;
        take(c);
        return d * (c.x - x);
    };
    // Stream s makes terms [s * len, (s + 1) * len), the last one also the rest.
    constexpr size_t k_streams = 4;
    const size_t len = terms / k_streams;
    std::array<MergeCursor, k_streams> c;
    for (size_t s = 0; s < k_streams; ++s) {
        const size_t k = s * len;
        c[s].p = merge_split(u, v, k);
        c[s].q = k - c[s].p;
        c[s].fu = static_cast<double>(c[s].p) / dn1;
        c[s].fv = static_cast<double>(c[s].q) / dn2;
        take(c[s]);  // value k
    }
    double* out = thread_scratch(terms);
    for (size_t j = 0; j < len; ++j) {
        for (size_t s = 0; s < k_streams; ++s) {
            out[s * len + j] = term(c[s]);
        }
    }
    for (size_t i = k_streams * len; i < terms; ++i) {
        out[i] = term(c[k_streams - 1]);
    }
    size_t i = 0;
    auto next = [&] {
        return out[i++];
    };
    return numpy_sum_stream(terms, next);
}

util::Result<double> wasserstein_distance(std::span<const double> u, std::span<const double> v) {
    if (u.empty() || v.empty()) {
        return util::Failure{"wasserstein: a sample is empty"};
    }
    std::vector<double> su(u.begin(), u.end());
    std::vector<double> sv(v.begin(), v.end());
    for (const auto* s : {&su, &sv}) {
        if (!std::all_of(s->begin(), s->end(), [](double x) { return std::isfinite(x); })) {
            return util::Failure{"wasserstein: a sample holds NaN or infinity"};
        }
    }
    sort_doubles(su);
    sort_doubles(sv);
    return wasserstein_sorted(su, sv);
}

double wasserstein_norm_sorted(std::span<const double> reference, std::span<const double> current) {
    const double norm = std::max(numpy_std(reference), 0.001);
    return wasserstein_sorted(reference, current) / norm;
}

std::vector<size_t> Bins::unseen_in_reference() const {
    std::vector<size_t> out;
    if (kind == Kind::histogram) {
        return out;
    }
    for (size_t i = 0; i < reference.size(); ++i) {
        if (reference[i] == 0 && current[i] != 0) {
            out.push_back(i);
        }
    }
    return out;
}

std::vector<double> sturges_edges(std::span<const double> reference,
                                  std::span<const double> current) {
    double lo = INFINITY;
    double hi = -INFINITY;
    for (const auto s : {reference, current}) {
        for (const double x : s) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
    }
    const auto n = static_cast<double>(reference.size() + current.size());
    // _hist_bin_sturges: ptp / (log2(n) + 1); then ceil(range / width) equal bins.
    const double ptp = hi - lo;
    const double width = ptp / (std::log2(n) + 1.0);
    double first = lo;
    double last = hi;
    if (first == last) {
        first -= 0.5;
        last += 0.5;
    }
    const size_t bins = width != 0 ? static_cast<size_t>(std::ceil((last - first) / width)) : 1;
    // np.linspace(first, last, bins + 1)
    std::vector<double> edges(bins + 1);
    const double delta = last - first;
    const double div = static_cast<double>(bins);
    const double step = delta / div;
    for (size_t i = 0; i <= bins; ++i) {
        const auto di = static_cast<double>(i);
        edges[i] = (step == 0 ? di / div * delta : di * step) + first;
    }
    edges[bins] = last;
    return edges;
}

void histogram_counts(std::span<const double> values, std::span<const double> edges,
                      std::vector<uint64_t>& counts) {
    const size_t bins = edges.size() - 1;
    counts.assign(bins, 0);
    const double first = edges.front();
    const double last = edges.back();
    const double inv_step = static_cast<double>(bins) / (last - first);
    const auto top = static_cast<ptrdiff_t>(bins) - 1;
    for (const double x : values) {
        if (!(x >= first && x <= last)) {
            continue;  // outside the range: numpy.histogram leaves it out
        }
        // A guess from the arithmetic, then corrected against the actual edges so a value on
        // an edge lands where numpy's searchsorted puts it.
        auto k = static_cast<ptrdiff_t>((x - first) * inv_step);
        k = std::clamp<ptrdiff_t>(k, 0, top);
        while (k > 0 && x < edges[static_cast<size_t>(k)]) {
            --k;
        }
        while (k < top && x >= edges[static_cast<size_t>(k) + 1]) {
            ++k;
        }
        ++counts[static_cast<size_t>(k)];
    }
}

namespace {

// bin_values for samples of at most 32 distinct values (what bin_numeric sends it: 20 at most),
// the keys seen in a short list (first_match). Nothing when there are more: the caller counts
// by hash instead.
std::optional<Bins> bin_few_values(std::span<const double> reference,
                                   std::span<const double> current) {
    constexpr size_t k_max = 32;
    uint64_t keys[k_max];
    size_t n = 0;
    Bins b;
    b.kind = Bins::Kind::values;
    for (const bool is_ref : {true, false}) {
        auto& counts = is_ref ? b.reference : b.current;
        for (const double x : is_ref ? reference : current) {
            const uint64_t k = value_key(x);
            size_t at = first_match(keys, n, k);
            if (at >= n) [[unlikely]] {
                if (n == k_max) {
                    return std::nullopt;
                }
                keys[n] = k;
                at = n++;
                b.values.push_back(x + 0.0);
                b.reference.push_back(0);
                b.current.push_back(0);
            }
            ++counts[at];
        }
    }
    b.reference_total = reference.size();
    b.current_total = current.size();
    return b;
}

}  // namespace

Bins bin_values(std::span<const double> reference, std::span<const double> current) {
    if (auto few = bin_few_values(reference, current)) {
        return std::move(*few);
    }
    Bins b;
    b.kind = Bins::Kind::values;
    std::unordered_map<uint64_t, size_t> index;
    auto count = [&](std::span<const double> s, bool is_ref) {
        for (const double x : s) {
            auto [it, added] = index.try_emplace(value_key(x), b.values.size());
            if (added) {
                b.values.push_back(x + 0.0);
                b.reference.push_back(0);
                b.current.push_back(0);
            }
            ++(is_ref ? b.reference : b.current)[it->second];
        }
    };
    count(reference, true);
    count(current, false);
    b.reference_total = reference.size();
    b.current_total = current.size();
    return b;
}

Bins bin_numeric(std::span<const double> reference, std::span<const double> current) {
    if (!more_unique_than(reference, {}, k_histogram_min_unique)) {
        return bin_values(reference, current);
    }
    Bins b;
    b.kind = Bins::Kind::histogram;
    b.edges = sturges_edges(reference, current);
    histogram_counts(reference, b.edges, b.reference);
    histogram_counts(current, b.edges, b.current);
    b.reference_total = reference.size();
    b.current_total = current.size();
    return b;
}

CategoryCounter::CategoryCounter() {
    m_bins.kind = Bins::Kind::categories;
}

void CategoryCounter::add(std::string_view value, bool reference, uint64_t count) {
    const auto [bin, inserted] = m_index.find_or_insert(
        util::hash_bytes(value), static_cast<uint32_t>(m_bins.categories.size()),
        [&](uint32_t b) { return m_bins.categories[b] == value; });
    if (inserted) {
        m_bins.categories.emplace_back(value);
        m_bins.reference.push_back(0);
        m_bins.current.push_back(0);
    }
    (reference ? m_bins.reference : m_bins.current)[bin] += count;
    (reference ? m_bins.reference_total : m_bins.current_total) += count;
}

Bins CategoryCounter::take() {
    Bins out = std::move(m_bins);
    *this = CategoryCounter();
    return out;
}

Bins bin_categories(std::span<const std::string_view> reference,
                    std::span<const std::string_view> current) {
    CategoryCounter counter;
    for (const std::string_view x : reference) {
        counter.add(x, true);
    }
    for (const std::string_view x : current) {
        counter.add(x, false);
    }
    return counter.take();
}

std::vector<double> fractions(std::span<const uint64_t> counts, uint64_t total, bool floor_empty) {
    std::vector<double> out(counts.size());
    const auto dt = static_cast<double>(total);
    double smallest = INFINITY;
    for (size_t i = 0; i < counts.size(); ++i) {
        out[i] = static_cast<double>(counts[i]) / dt;
        if (out[i] != 0) {
            smallest = std::min(smallest, out[i]);
        }
    }
    if (floor_empty && std::isfinite(smallest)) {
        const double floor = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
        for (double& f : out) {
            if (f == 0) {
                f = floor;
            }
        }
    }
    return out;
}

double psi(const Bins& bins) {
    const auto r = fractions(bins.reference, bins.reference_total, true);
    const auto c = fractions(bins.current, bins.current_total, true);
    double value = 0;
    for (size_t i = 0; i < r.size(); ++i) {
        value += (r[i] - c[i]) * std::log(r[i] / c[i]);
    }
    return value;
}

double jensenshannon(const Bins& bins) {
    auto p = fractions(bins.reference, bins.reference_total, false);
    auto q = fractions(bins.current, bins.current_total, false);
    const double ps = numpy_sum(p);
    const double qs = numpy_sum(q);
    for (double& x : p) {
        x /= ps;
    }
    for (double& x : q) {
        x /= qs;
    }
    // scipy.special.rel_entr(x, m): x log(x / m), 0 for x = 0
    auto rel_entr = [](double x, double m) {
        if (x > 0 && m > 0) {
            return x * std::log(x / m);
        }
        return x == 0 && m >= 0 ? 0.0 : INFINITY;
    };
    std::vector<double> left(p.size());
    std::vector<double> right(p.size());
    for (size_t i = 0; i < p.size(); ++i) {
        const double m = (p[i] + q[i]) / 2.0;
        left[i] = rel_entr(p[i], m);
        right[i] = rel_entr(q[i], m);
    }
    const double js = numpy_sum(left) + numpy_sum(right);
    return std::sqrt(js / 2.0);
}

double chi2_sf(double x, double dof) {
    // cephes chdtrc: 1 below 0, else igamc(dof/2, x/2)
    if (std::isnan(x) || !(dof > 0)) {
        return NAN;
    }
    if (x < 0) {
        return 1.0;
    }
    if (std::isinf(x)) {
        return 0.0;
    }
    // Library code must not throw from a numerical corner: errors become NaN, which the caller
    // reports.
    using namespace boost::math::policies;
    using Quiet = policy<domain_error<errno_on_error>, pole_error<errno_on_error>,
                         overflow_error<errno_on_error>, evaluation_error<errno_on_error>>;
    return boost::math::gamma_q(dof / 2.0, x / 2.0, Quiet());
}

util::Result<ChiSquare> chisquare(const Bins& bins) {
    if (bins.size() < 2) {
        return util::Failure{"chisquare needs at least two categories"};
    }
    if (bins.reference_total == 0 || bins.current_total == 0) {
        return util::Failure{"chisquare: a sample is empty"};
    }
    const double k_norm =
        static_cast<double>(bins.current_total) / static_cast<double>(bins.reference_total);
    std::vector<double> terms(bins.size());
    for (size_t i = 0; i < bins.size(); ++i) {
        const double expected = static_cast<double>(bins.reference[i]) * k_norm;
        const double d = static_cast<double>(bins.current[i]) - expected;
        terms[i] = d * d / expected;
    }
    ChiSquare r;
    r.statistic = numpy_sum(terms);
    r.dof = bins.size() - 1;
    r.p_value = chi2_sf(r.statistic, static_cast<double>(r.dof));
    return r;
}

}  // namespace mloop::stats
