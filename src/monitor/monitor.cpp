#include "monitor/monitor.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <span>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "config/variables.hpp"
#include "data/value.hpp"
#include "docker/docker.hpp"
#include "error/error.hpp"
#include "k8s/kubectl.hpp"
#include "monitor/frame.hpp"
#include "monitor/html.hpp"
#include "package/package.hpp"
#include "registry/registry.hpp"
#include "registry/reports.hpp"
#include "render/format.hpp"
#include "stats/metrics.hpp"
#include "store/hasher.hpp"
#include "store/objects.hpp"
#include "util/fs.hpp"
#include "util/huge_alloc.hpp"
#include "util/parallel.hpp"
#include "util/text.hpp"
#include "workspace/workspace.hpp"

namespace mloop::monitor {

namespace fs = std::filesystem;

namespace {

std::optional<stats::Method> method_of(config::DriftMethod m) {
    switch (m) {
        case config::DriftMethod::auto_:
            return std::nullopt;
        case config::DriftMethod::ks:
            return stats::Method::ks;
        case config::DriftMethod::psi:
            return stats::Method::psi;
        case config::DriftMethod::wasserstein:
            return stats::Method::wasserstein;
        case config::DriftMethod::jensenshannon:
            return stats::Method::jensenshannon;
        case config::DriftMethod::chisquare:
            return stats::Method::chisquare;
    }
    return std::nullopt;
}

// The values of a column as numbers, NaN where missing; for a column that is not numeric:
// nothing if `strict` (the column is categorical), else each cell that reads as a number, NaN
// for the others.
std::optional<std::vector<double>> numbers(const Column& c, bool strict = true) {
    if (c.numeric) {
        return std::vector<double>(c.values.begin(), c.values.end());
    }
    if (strict) {
        return std::nullopt;
    }
    std::vector<double> out(c.missing.size(), std::nan(""));
    for (size_t i = 0; i < out.size(); ++i) {
        if (const auto v = c.number(i)) {
            out[i] = *v;
        }
    }
    return out;
}

bool any_present(const Column& c) {
    return std::find(c.missing.begin(), c.missing.end(), uint8_t{0}) != c.missing.end();
}

// Readies the heap for data of about `data_bytes`: the columns and the statistics' working
// copies are megabytes each. glibc would map each such block afresh and unmap it when freed,
// every 4 KiB page of it faulting on first touch (in a VM, a third of a run went to page faults).
// Instead: one arena for every thread, blocks up to 32 MiB from the heap and kept there when freed,
// the heap grown once by address space enough for the data (pages are only backed as they are
// touched), and transparent huge pages asked for under it (where the kernel leaves them to
// madvise, as Debian's does): a fault per 2 MiB. Advice only; the process ends with the command.
void prepare_heap(uint64_t data_bytes) {
    const uint64_t room = std::min<uint64_t>(4 * data_bytes + (256 << 20), uint64_t{1} << 36);
    use_one_heap();
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: bigger blocks are mapped anyway
    ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    ::mallopt(M_TOP_PAD, static_cast<int>(std::min<uint64_t>(room, 1 << 30)));
    const auto before = reinterpret_cast<uintptr_t>(::sbrk(0));
    // More than the heap has free, so it grows by the pad too. (Touched, or the compiler would
    // drop an allocation that is freed unused.)
    auto* volatile grow = static_cast<char*>(::malloc(16 << 20));
    if (grow != nullptr) {
        grow[0] = 0;
    }
    ::free(grow);
    const auto after = reinterpret_cast<uintptr_t>(::sbrk(0));
    ::mallopt(M_TOP_PAD, 64 << 20);
    if (before != static_cast<uintptr_t>(-1)) {
        util::advise_huge_pages(before, after);
    }
}

// The reference and the current data, read at once (both cores share them). A column numeric on
// one side and holding something else on the other is then read again as text on the numeric
// side, so the two compare as categories. An error in the reference is told first.
std::pair<Frame, Frame> load_sides(const std::vector<DataFile>& reference,
                                   const std::vector<DataFile>& current,
                                   const std::set<std::string>& current_text) {
    std::vector<FrameRequest> requests{{reference, {}, {}}, {current, current_text, {}}};
    auto frames = load_frames(requests);
    Frame& ref = frames[0];
    Frame& cur = frames[1];
    for (const auto& c : ref.columns) {
        const Column* other = cur.column(c.name);
        if (other == nullptr || other->numeric == c.numeric) {
            continue;
        }
        if (c.numeric && any_present(c)) {
            requests[0].as_text.insert(c.name);
        } else if (other->numeric && any_present(*other)) {
            requests[1].as_text.insert(c.name);
        }
    }
    std::vector<size_t> again;
    std::vector<FrameRequest> again_requests;
    for (size_t i = 0; i < 2; ++i) {
        if (!requests[i].as_text.empty()) {
            frames[i] = {};  // its memory back before the second read
            again.push_back(i);
            again_requests.push_back(requests[i]);
        }
    }
    auto reread = load_frames(again_requests);
    for (size_t k = 0; k < again.size(); ++k) {
        frames[again[k]] = std::move(reread[k]);
    }
    return {std::move(ref), std::move(cur)};
}

// A category as the histogram names it: at most 60 bytes, cut between characters.
std::string category_label(std::string_view v) {
    constexpr size_t k_max = 60;
    if (v.size() <= k_max) {
        return std::string(v);
    }
    size_t n = k_max;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xc0) == 0x80) {
        --n;
    }
    return std::string(v.substr(0, n)) + "…";
}

// Counts a text column's present values into `counter` (each distinct value once, with its
// count, in order of first appearance among them: the bins a cell at a time would make), and
// returns how many are missing.
uint64_t count_categories(const Column& c, bool reference, stats::CategoryCounter& counter) {
    std::vector<uint64_t> count(c.text.distinct());
    std::vector<uint32_t> order;  // codes in order of first appearance among present cells
    uint64_t missing = 0;
    for (size_t i = 0; i < c.missing.size(); ++i) {
        if (c.missing[i] != 0) {
            ++missing;
        } else if (const uint32_t code = c.text.code(i); count[code]++ == 0) {
            order.push_back(code);
        }
    }
    for (const uint32_t code : order) {
        counter.add(c.text.value(code), reference, count[code]);
    }
    return missing;
}

FeatureDrift column_drift(const std::string& name, const Column* ref, const Column* cur,
                          const stats::DriftOptions& options) {
    FeatureDrift f;
    f.column = name;
    if (ref == nullptr || cur == nullptr) {
        f.kind = "—";
        f.problem = fmt::format("not in the {} data", ref == nullptr ? "reference" : "current");
        return f;
    }
    std::optional<util::Result<stats::ColumnDrift>> result;
    // Numeric when every value present on either side reads as a number, and there is one.
    if (ref->numeric && cur->numeric && (any_present(*ref) || any_present(*cur))) {
        f.kind = "numeric";
        stats::SortedSamples sorted;
        result.emplace(stats::numeric_drift(ref->values, cur->values, options, &sorted));
        f.histogram = !sorted.reference.empty()
                          ? numeric_histogram_sorted(sorted.reference, sorted.current)
                      : sorted.values ? numeric_histogram_counted(*sorted.values)
                                      : numeric_histogram(ref->values, cur->values);
    } else {
        // A side numeric here has no value present (load_sides read any other as text).
        f.kind = "categorical";
        stats::CategoryCounter counter;
        const uint64_t a_missing = count_categories(*ref, true, counter);
        const uint64_t b_missing = count_categories(*cur, false, counter);
        const stats::Bins bins = counter.take();
        result.emplace(stats::categorical_drift(bins, options, a_missing, b_missing));
        f.histogram = categorical_histogram(bins);
    }
    const auto& r = *result;
    if (r) {
        f.drift = r.value();
    } else {
        f.problem = r.error();
    }
    return f;
}

// A label or prediction as a number: a number, or true/false.
std::optional<double> label_value(std::string_view text) {
    if (const auto v = data::parse_float(text)) {
        return v;
    }
    if (const auto b = data::parse_bool(text)) {
        return *b ? 1.0 : 0.0;
    }
    return std::nullopt;
}

// Row i of a label or prediction column as a number.
std::optional<double> label_of(const Column& c, size_t i) {
    if (c.missing[i] != 0) {
        return std::nullopt;
    }
    if (c.numeric) {
        return std::isfinite(c.values[i]) ? std::optional<double>(c.values[i]) : std::nullopt;
    }
    return label_value(c.text[i]);
}

Check bounded(std::string name, std::optional<double> min, std::optional<double> max) {
    Check c;
    c.name = std::move(name);
    c.min = min;
    c.max = max;
    return c;
}

// A value outside its limits fails; one that could not be computed is not judged (its
// problem is said in the report), as there is nothing to alert on.
void judge(Check& c) {
    c.ok = !c.value || ((!c.min || *c.value >= *c.min) && (!c.max || *c.value <= *c.max));
}

std::string limits(const Check& c) {
    std::vector<std::string> parts;
    if (c.min) {
        parts.push_back("min " + render::number(*c.min));
    }
    if (c.max) {
        parts.push_back("max " + render::number(*c.max));
    }
    return util::join(parts, ", ");
}

std::optional<double> aggregate(const std::string& agg, std::vector<double> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }),
            v.end());
    if (agg == "count") {
        return static_cast<double>(v.size());
    }
    if (v.empty()) {
        return std::nullopt;
    }
    if (agg == "sum" || agg == "mean") {
        double sum = 0;
        for (double x : v) {
            sum += x;
        }
        return agg == "sum" ? sum : sum / static_cast<double>(v.size());
    }
    if (agg == "min") {
        return *std::min_element(v.begin(), v.end());
    }
    if (agg == "max") {
        return *std::max_element(v.begin(), v.end());
    }
    std::sort(v.begin(), v.end());  // median
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// "12m" → 0.012 cores; "1" → 1 core.
double cpu_cores(const std::string& s) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    return end != nullptr && *end == 'm' ? v / 1000 : end != nullptr && *end == 'n' ? v / 1e9 : v;
}

// "34Mi" → bytes.
int64_t memory_bytes(const std::string& s) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    const std::string unit = end != nullptr ? end : "";
    double scale = 1;
    if (unit == "Ki") {
        scale = 1024;
    } else if (unit == "Mi") {
        scale = 1024.0 * 1024;
    } else if (unit == "Gi") {
        scale = 1024.0 * 1024 * 1024;
    } else if (unit == "K" || unit == "k") {
        scale = 1e3;
    } else if (unit == "M") {
        scale = 1e6;
    } else if (unit == "G") {
        scale = 1e9;
    }
    return static_cast<int64_t>(v * scale);
}

void measure_resources(train::Session& s, const config::Environment& env, Report& r) {
    if (env.target == config::Target::docker) {
        const std::string name = fmt::format("mloop-{}-{}", s.project.name, env.name);
        docker::Client docker(*s.runner, s.secrets);
        const auto st = docker::stats(docker, name);
        if (!st) {
            r.notes.push_back(fmt::format("resources: docker stats {} answered nothing", name));
            return;
        }
        Resources res;
        res.source = "docker stats " + name;
        res.cpu_cores = st->cpu_percent / 100;
        res.memory_bytes = st->memory_bytes;
        res.pods = 1;
        r.resources = res;
        return;
    }
    k8s::Client kubectl(*s.runner, s.secrets);
    const std::string selector = fmt::format("app={},env={}", s.project.name, env.name);
    auto args =
        k8s::scope_args({env.context ? env.context->value : std::string(), env.namespace_name});
    for (const char* a : {"top", "pod", "--no-headers"}) {
        args.emplace_back(a);
    }
    args.push_back("--selector=" + selector);
    const auto out = kubectl.try_run(args);
    if (!out.ok()) {
        r.notes.push_back(
            fmt::format("resources: kubectl top pod failed: {}", k8s::kubectl_message(out)));
        return;
    }
    Resources res;
    res.source = "kubectl top pod --selector=" + selector;
    for (const auto& line : util::nonempty_lines(out.out)) {
        std::vector<std::string> parts;
        std::istringstream words(line);
        for (std::string w; words >> w;) {
            parts.push_back(w);
        }
        if (parts.size() >= 3) {
            res.cpu_cores += cpu_cores(parts[1]);
            res.memory_bytes += memory_bytes(parts[2]);
            ++res.pods;
        }
    }
    r.resources = res;
}

nlohmann::ordered_json opt(const std::optional<double>& v) {
    return v && std::isfinite(*v) ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
}

nlohmann::ordered_json histogram_json(const std::optional<Histogram>& h) {
    using J = nlohmann::ordered_json;
    if (!h) {
        return J();
    }
    J j;
    if (h->numeric()) {
        j["edges"] = h->edges;
    } else {
        j["categories"] = h->categories;
        j["other"] = h->other;
    }
    j["reference"] = h->reference;
    j["current"] = h->current;
    return j;
}

// The same keys for every feature: nulls where the drift could not be computed, and why.
nlohmann::ordered_json feature_json(const FeatureDrift& f) {
    using J = nlohmann::ordered_json;
    const auto* d = f.drift ? &*f.drift : nullptr;
    return {{"column", f.column},
            {"kind", f.kind},
            {"method", d != nullptr ? J(std::string(stats::method_name(d->method))) : J()},
            {"automatic", d != nullptr ? J(d->automatic) : J()},
            {"score", d != nullptr ? opt(d->score) : J()},
            {"statistic", d != nullptr ? opt(d->statistic) : J()},
            {"p_value", d != nullptr ? opt(d->p_value) : J()},
            {"threshold", d != nullptr ? J(d->threshold) : J()},
            {"drifted", d != nullptr ? J(d->drifted) : J()},
            {"reference_values", d != nullptr ? J(d->reference_values) : J()},
            {"current_values", d != nullptr ? J(d->current_values) : J()},
            {"notes", d != nullptr ? J(d->notes) : J::array()},
            {"problem", f.problem},
            {"histogram", histogram_json(f.histogram)}};
}

nlohmann::ordered_json check_json(const Check& c) {
    return {{"name", c.name}, {"value", opt(c.value)}, {"min", opt(c.min)},   {"max", opt(c.max)},
            {"ok", c.ok},     {"rows", c.rows},        {"problem", c.problem}};
}

}  // namespace

namespace {

struct FiniteRange {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    uint64_t count = 0;
    bool whole = true;  // every finite value a whole number
};

// The finite values' range in registers (not through the stack, which a loop over two spans
// with its bounds outside made it do: a third of the histogram's time).
FiniteRange finite_range(std::span<const double> values) {
    FiniteRange r;
    double lo = r.lo;
    double hi = r.hi;
    uint64_t count = 0;
    size_t i = 0;
    // Whole numbers first, while they last: x == trunc(x) without a call to libm (2^52 and
    // beyond are whole).
    for (; i < values.size(); ++i) {
        const double x = values[i];
        if (std::isfinite(x)) {
            if (std::fabs(x) < 0x1p52 && x != static_cast<double>(static_cast<int64_t>(x))) {
                r.whole = false;
                break;
            }
            lo = std::min(lo, x);
            hi = std::max(hi, x);
            ++count;
        }
    }
    for (; i < values.size(); ++i) {
        const double x = values[i];
        const bool finite = std::isfinite(x);
        lo = std::min(lo, finite ? x : lo);
        hi = std::max(hi, finite ? x : hi);
        count += finite ? 1 : 0;
    }
    r.lo = lo;
    r.hi = hi;
    r.count = count;
    return r;
}

// The edges numpy.histogram would draw over [lo, hi] for n values (whole: all integers): a bin
// per integer when they are whole and few, else Sturges' number of equal bins.
std::vector<double> histogram_edges(double lo, double hi, uint64_t n, bool whole) {
    std::vector<double> edges;
    if (lo == hi && !whole) {
        edges = {lo - 0.5, hi + 0.5};  // one bin, as numpy makes it
    } else if (whole && std::fabs(lo) < 1e15 && std::fabs(hi) < 1e15 &&
               hi - lo < static_cast<double>(Histogram::k_max_bins)) {
        const auto bins = static_cast<size_t>(hi - lo) + 1;
        for (size_t i = 0; i <= bins; ++i) {
            edges.push_back(lo - 0.5 + static_cast<double>(i));
        }
    } else {
        const auto sturges = static_cast<size_t>(std::ceil(std::log2(static_cast<double>(n)) + 1));
        const size_t bins = std::clamp<size_t>(sturges, 1, Histogram::k_max_bins);
        // Divided first, so a range wider than the largest double still gives finite steps.
        const double step = hi / static_cast<double>(bins) - lo / static_cast<double>(bins);
        for (size_t i = 0; i < bins; ++i) {
            edges.push_back(lo + step * static_cast<double>(i));
        }
        edges.push_back(hi);
    }
    return edges;
}

}  // namespace

std::optional<Histogram> numeric_histogram(std::span<const double> a, std::span<const double> b) {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    uint64_t n = 0;
    bool whole = true;
    for (const auto side : {a, b}) {
        const FiniteRange r = finite_range(side);
        lo = std::min(lo, r.lo);
        hi = std::max(hi, r.hi);
        n += r.count;
        whole = whole && r.whole;
    }
    if (n == 0) {
        return std::nullopt;
    }
    Histogram h;
    h.edges = histogram_edges(lo, hi, n, whole);
    // [e_i, e_i+1), the last bin closed, as numpy.histogram counts. The bins are of equal width:
    // the bin is guessed by arithmetic, then moved to where the edges (as rounded) put it.
    const size_t bins = h.edges.size() - 1;
    const double first = h.edges.front();
    const double width = (h.edges.back() - first) / static_cast<double>(bins);
    const double per_width = width > 0 ? 1 / width : 0;  // a guess: multiplying will do
    auto count = [&](std::span<const double> side, std::vector<uint64_t>& counts) {
        counts.assign(bins, 0);
        for (const double x : side) {
            if (!std::isfinite(x)) {
                continue;
            }
            const double guess = (x - first) * per_width;
            size_t k = guess <= 0 || !std::isfinite(guess)
                           ? 0
                           : std::min(static_cast<size_t>(std::min(guess, 1e18)), bins - 1);
            while (k > 0 && x < h.edges[k]) {
                --k;
            }
            while (k + 1 < bins && x >= h.edges[k + 1]) {
                ++k;
            }
            ++counts[k];
        }
    };
    count(a, h.reference);
    count(b, h.current);
    return h;
}

std::optional<Histogram> numeric_histogram_sorted(std::span<const double> a,
                                                  std::span<const double> b) {
    if (a.empty() && b.empty()) {
        return std::nullopt;
    }
    const double lo =
        std::min(a.empty() ? b.front() : a.front(), b.empty() ? a.front() : b.front());
    const double hi = std::max(a.empty() ? b.back() : a.back(), b.empty() ? a.back() : b.back());
    bool whole = true;  // as finite_range decides it
    for (const auto side : {a, b}) {
        for (size_t i = 0; i < side.size() && whole; ++i) {
            const double x = side[i];
            whole = std::fabs(x) >= 0x1p52 || x == static_cast<double>(static_cast<int64_t>(x));
        }
    }
    Histogram h;
    h.edges = histogram_edges(lo, hi, a.size() + b.size(), whole);
    // [e_i, e_i+1), the last bin closed: where each edge falls in the sorted values.
    const size_t bins = h.edges.size() - 1;
    auto count = [&](std::span<const double> side, std::vector<uint64_t>& counts) {
        counts.assign(bins, 0);
        size_t from = 0;
        for (size_t k = 0; k < bins; ++k) {
            const auto end = k + 1 == bins
                                 ? side.end()
                                 : std::lower_bound(side.begin() + static_cast<ptrdiff_t>(from),
                                                    side.end(), h.edges[k + 1]);
            const auto to = static_cast<size_t>(end - side.begin());
            counts[k] = to - from;
            from = to;
        }
    };
    count(a, h.reference);
    count(b, h.current);
    return h;
}

std::optional<Histogram> numeric_histogram_counted(const stats::Bins& values) {
    const uint64_t n = values.reference_total + values.current_total;
    if (n == 0 || values.values.empty()) {
        return std::nullopt;
    }
    const auto [lo, hi] = std::minmax_element(values.values.begin(), values.values.end());
    bool whole = true;  // as finite_range decides it
    for (const double x : values.values) {
        whole =
            whole && (std::fabs(x) >= 0x1p52 || x == static_cast<double>(static_cast<int64_t>(x)));
    }
    Histogram h;
    h.edges = histogram_edges(*lo, *hi, n, whole);
    // [e_i, e_i+1), the last bin closed.
    const size_t bins = h.edges.size() - 1;
    h.reference.assign(bins, 0);
    h.current.assign(bins, 0);
    for (size_t i = 0; i < values.values.size(); ++i) {
        const auto above = std::upper_bound(h.edges.begin(), h.edges.end(), values.values[i]);
        const size_t k = std::min(static_cast<size_t>(above - h.edges.begin()), bins) - 1;
        h.reference[k] += values.reference[i];
        h.current[k] += values.current[i];
    }
    return h;
}

std::optional<Histogram> categorical_histogram(std::span<const std::string_view> a,
                                               std::span<const std::string_view> b) {
    return categorical_histogram(stats::bin_categories(a, b));
}

std::optional<Histogram> categorical_histogram(const stats::Bins& bins) {
    if (bins.size() == 0) {
        return std::nullopt;
    }
    std::vector<std::pair<std::string_view, std::pair<uint64_t, uint64_t>>> sorted;
    sorted.reserve(bins.size());
    for (size_t i = 0; i < bins.size(); ++i) {
        sorted.push_back({bins.categories[i], {bins.reference[i], bins.current[i]}});
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) {
        const uint64_t nx = x.second.first + x.second.second;
        const uint64_t ny = y.second.first + y.second.second;
        return nx != ny ? nx > ny : x.first < y.first;
    });
    Histogram h;
    for (size_t i = 0; i < sorted.size(); ++i) {
        if (i < Histogram::k_max_categories) {
            h.categories.push_back(category_label(sorted[i].first));
            h.reference.push_back(sorted[i].second.first);
            h.current.push_back(sorted[i].second.second);
            continue;
        }
        if (h.other == 0) {
            h.categories.emplace_back("other");
            h.reference.push_back(0);
            h.current.push_back(0);
        }
        ++h.other;
        h.reference.back() += sorted[i].second.first;
        h.current.back() += sorted[i].second.second;
    }
    return h;
}

nlohmann::ordered_json report_json(const Report& r) {
    nlohmann::ordered_json j;
    j["report"] = r.id == 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(r.id);
    j["env"] = r.env.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.env);
    j["deployment"] =
        r.deployment ? nlohmann::ordered_json(r.deployment->id) : nlohmann::ordered_json();
    j["version"] = r.version ? nlohmann::ordered_json(r.version->text()) : nlohmann::ordered_json();
    j["created_at"] = render::iso8601(r.created_at);
    j["reference"] = {{"data", r.reference},
                      {"digest", r.reference_digest ? nlohmann::ordered_json(*r.reference_digest)
                                                    : nlohmann::ordered_json()},
                      {"rows", r.rows_reference}};
    j["current"] = {
        {"files", r.current}, {"rows", r.rows_current}, {"outside_window", r.rows_outside_window}};
    auto features = nlohmann::ordered_json::array();
    for (const auto& f : r.features) {
        features.push_back(feature_json(f));
    }
    j["features"] = features;
    j["drift"] = {{"drifted", r.drifted},
                  {"columns", r.features.size()},
                  {"share", r.share},
                  {"dataset_drift", r.dataset_drift}};
    j["prediction"] = r.prediction ? feature_json(*r.prediction) : nlohmann::ordered_json();
    j["performance"] = r.performance ? check_json(*r.performance) : nlohmann::ordered_json();
    auto kpis = nlohmann::ordered_json::array();
    for (const auto& k : r.kpis) {
        kpis.push_back(check_json(k));
    }
    j["kpis"] = kpis;
    j["resources"] = r.resources
                         ? nlohmann::ordered_json{{"source", r.resources->source},
                                                  {"cpu_cores", r.resources->cpu_cores},
                                                  {"memory_bytes", r.resources->memory_bytes},
                                                  {"pods", r.resources->pods}}
                         : nlohmann::ordered_json();
    j["alerts"] = r.alerts;
    auto sent = nlohmann::ordered_json::array();
    for (const auto& x : r.sent) {
        sent.push_back({{"kind", x.kind}, {"target", x.target}, {"ok", x.ok}, {"error", x.error}});
    }
    j["sent"] = sent;
    j["retrain"] = r.retrain ? *r.retrain : nlohmann::ordered_json();
    j["notes"] = r.notes;
    j["path"] = r.path.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.path.string());
    j["html"] = r.html.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.html.string());
    return j;
}

void write_atomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        f.close();
        if (!f) {
            throw error::RegistryError(fmt::format("cannot write '{}'", util::display_path(tmp)));
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        throw error::RegistryError(
            fmt::format("cannot write '{}': {}", util::display_path(path), ec.message()));
    }
}

std::string expand_env(const config::Text& t, const std::string& display_file,
                       const std::string& what) {
    auto v = config::expand(t.value, [](std::string_view name) -> std::optional<std::string> {
        if (util::starts_with(name, "env.")) {
            const char* e = std::getenv(std::string(name.substr(4)).c_str());
            return std::string(e != nullptr ? e : "");
        }
        return std::nullopt;
    });
    if (!v) {
        throw error::UsageError(fmt::format("{}:{}:{}: {}: {}", display_file, t.mark.line,
                                            t.mark.column, what, v.error()));
    }
    return v.value();
}

// How many earlier reports the HTML report draws.
constexpr int k_history = 100;

void rewrite(train::Session& s, const Report& r) {
    workspace::make_private_dir(r.path.parent_path());
    const std::string text = report_json(r).dump(2) + "\n";
    write_atomically(r.path, text);
    registry::Db& db = s.db();
    // The earlier reports of the same environment (or of none), for the history.
    std::vector<registry::MonitorReport> history;
    for (auto& x : registry::Reports(db).list(
             r.env.empty() ? std::nullopt : std::optional<std::string>(r.env), k_history)) {
        if (x.id < r.id && (!r.env.empty() || !x.env)) {
            history.push_back(std::move(x));
        }
    }
    const std::string page = html_report(r, history);
    write_atomically(r.html, page);
    if (!r.html_copy.empty()) {
        write_atomically(r.html_copy, page);
    }
    db.write([&] {
        db.prepare("UPDATE monitor_reports SET report = ?, path = ? WHERE id = ?")
            .bind_all(text, r.path.string(), r.id)
            .run();
    });
}

void use_one_heap() {
    ::mallopt(M_ARENA_MAX, 1);
}

Report monitor(train::Session& s, const Options& o) {
    const config::Project& p = s.project;
    if (!p.monitor) {
        throw error::UsageError(fmt::format("{} has no monitor section", p.display_file),
                                "add one: mloop help mloop.yaml");
    }
    const config::Monitor& m = *p.monitor;
    // Before anything is recorded: a --report that cannot be written is a usage error.
    if (!o.report.empty()) {
        const fs::path dir = fs::absolute(o.report).parent_path();
        std::error_code ec;
        if (!fs::is_directory(dir, ec) || fs::is_directory(o.report, ec)) {
            throw error::UsageError(
                fmt::format("--report '{}': {}", o.report,
                            fs::is_directory(o.report, ec)
                                ? "is a directory"
                                : fmt::format("no directory '{}'", util::display_path(dir))),
                "name a file in an existing directory");
        }
    }
    registry::Db& db = s.db();
    Report r;
    r.project = p.name;
    r.env = o.env;
    r.share = m.drift_share;
    r.created_at = registry::now_ms();

    // The environment, what serves there, and its version.
    const config::Environment* env = nullptr;
    if (!o.env.empty()) {
        env = &p.require_environment(o.env);
        r.deployment = registry::Deployments(db).current(o.env);
        if (r.deployment) {
            r.version =
                registry::VersionRef{r.deployment->model, r.deployment->version, std::nullopt};
        }
    }

    // The reference.
    const std::string reference = !o.reference.empty() ? o.reference : m.reference.value;
    std::vector<DataFile> reference_files;
    // MODEL@VER, unless a file has that name.
    std::error_code exists_ec;
    const bool looks_like_version =
        reference.find('@') != std::string::npos &&
        !fs::exists(fs::path(reference).is_absolute() ? fs::path(reference) : p.root / reference,
                    exists_ec);
    if (reference == "auto" || looks_like_version) {
        registry::VersionRef v;
        if (looks_like_version) {
            v = registry::resolve_version(db, reference, p.model.name);
        } else if (r.version) {
            v = *r.version;
        } else if (!o.env.empty()) {
            throw error::UsageError(
                fmt::format("nothing is deployed to '{}': reference: auto has no version to "
                            "take the training data of",
                            o.env),
                "deploy a version, or name the reference with --reference PATH|MODEL@VER");
        } else {
            v = registry::resolve_version(db, p.model.name + "@latest", p.model.name);
        }
        if (!r.version) {
            r.version = v;
        }
        const auto data = package::training_data(s, v);
        const package::DataCheck* chosen = nullptr;
        for (const auto& d : data) {
            if (chosen == nullptr || d.name == "train") {
                chosen = &d;
            }
        }
        if (chosen == nullptr) {
            throw error::UsageError(fmt::format("{} was trained on no recorded dataset", v.text()),
                                    "name the reference with --reference PATH");
        }
        const auto digest = store::Digest::parse(chosen->digest);
        if (!digest || !s.objects->has(*digest)) {
            throw error::UsageError(
                fmt::format("the training data of {} ({} {}) is not in the store", v.text(),
                            chosen->name, chosen->digest.substr(0, 19)),
                "keep snapshots (data.*.snapshot), or name the reference with --reference PATH");
        }
        const config::Dataset* ds = p.dataset(chosen->name);
        std::string name = ds != nullptr ? fs::path(ds->path.value).filename().string() : "";
        if (ds != nullptr && !ds->format.empty() && name.find('.') == std::string::npos) {
            name += "." + ds->format;
        }
        reference_files.push_back(
            {s.objects->path_of(*digest),
             fmt::format("{} ({})", chosen->name, chosen->digest.substr(0, 19)),
             name.empty() ? chosen->name + ".csv" : name});
        r.reference = reference_files.back().display;
        r.reference_digest = chosen->digest;
    } else {
        reference_files = expand_paths({reference}, p.root);
        r.reference = reference;
    }

    // The current data.
    std::vector<std::string> patterns = o.current;
    if (patterns.empty()) {
        for (const auto& c : m.current) {
            patterns.push_back(c.value);
        }
    }
    if (patterns.empty()) {
        throw error::UsageError("no current data: set monitor.current or pass --current PATH");
    }
    const auto current_files = expand_paths(patterns, p.root);
    std::set<std::string> cur_text;  // the columns read as text as well as numbers
    for (const auto& c : {m.timestamp, m.id}) {
        if (c) {
            cur_text.insert(*c);
        }
    }
    if (m.feedback_path) {  // the id that joins feedback (below)
        cur_text.insert(m.id.value_or(!m.feedback_id.empty() ? m.feedback_id : "id"));
    }
    uint64_t data_bytes = 0;
    for (const auto& files : {std::cref(reference_files), std::cref(current_files)}) {
        for (const auto& f : files.get()) {
            std::error_code ec;
            const uint64_t n = fs::file_size(f.path, ec);
            data_bytes += ec ? 0 : util::ends_with(f.path.string(), ".gz") ? 4 * n : n;
        }
    }
    prepare_heap(data_bytes);
    auto [ref, cur] = load_sides(reference_files, current_files, cur_text);
    r.current = cur.files;
    r.rows_reference = ref.rows;

    // Only rows inside the window.
    if (m.window && m.timestamp) {
        if (const Column* ts = cur.column(*m.timestamp)) {
            const int64_t since =
                static_cast<int64_t>(std::time(nullptr)) -
                std::chrono::duration_cast<std::chrono::seconds>(*m.window).count();
            std::vector<uint8_t> keep(cur.rows, 1);
            uint64_t unreadable = 0;
            for (size_t i = 0; i < cur.rows; ++i) {
                const auto t =
                    ts->missing[i] != 0 ? std::nullopt : data::parse_datetime(ts->text[i]);
                if (!t) {
                    ++unreadable;
                    keep[i] = 0;
                } else if (*t < since) {
                    keep[i] = 0;
                }
            }
            r.rows_outside_window =
                cur.rows - static_cast<uint64_t>(std::count(keep.begin(), keep.end(), uint8_t{1}));
            if (unreadable > 0) {
                r.notes.push_back(
                    fmt::format("{} current rows without a readable '{}' were left out", unreadable,
                                *m.timestamp));
            }
            cur.filter(keep);
        } else {
            r.notes.push_back(fmt::format("the current data has no '{}' column: window not applied",
                                          *m.timestamp));
        }
    }
    r.rows_current = cur.rows;
    if (cur.rows == 0) {
        r.notes.push_back("the current data has no rows" +
                          std::string(r.rows_outside_window > 0 ? " inside the window" : ""));
    }

    // Features: the project's, else the columns both sides share that are not labels, ids,
    // timestamps or predictions.
    std::vector<std::string> features = p.feature_names();
    const std::string target = p.target ? p.target->value : "";
    if (features.empty()) {
        std::set<std::string> skip{target};
        for (const auto& o2 : {m.id, m.timestamp, m.prediction}) {
            if (o2) {
                skip.insert(*o2);
            }
        }
        for (const auto& c : ref.columns) {
            if (!skip.count(c.name) && cur.column(c.name) != nullptr) {
                features.push_back(c.name);
            }
        }
    }

    // Drift per feature.
    std::vector<stats::DriftOptions> options;
    for (const auto& name : features) {
        stats::DriftOptions opts;
        opts.method = method_of(m.drift_method);
        opts.threshold = m.drift_threshold;
        for (const auto& c : m.drift_columns) {
            if (c.column.value == name) {
                if (c.method) {
                    opts.method = method_of(*c.method);
                }
                if (c.threshold) {
                    opts.threshold = c.threshold;
                }
            }
        }
        options.push_back(opts);
    }
    // Each column's drift is independent of the others': both cores share them.
    r.features.resize(features.size());
    util::parallel_for(features.size(), 0, [&](size_t i) {
        r.features[i] =
            column_drift(features[i], ref.column(features[i]), cur.column(features[i]), options[i]);
    });
    for (const auto& f : r.features) {
        if (f.drift && f.drift->drifted) {
            ++r.drifted;
        }
    }
    size_t judged = 0;
    for (const auto& f : r.features) {
        judged += f.drift ? 1 : 0;
    }
    r.dataset_drift = judged > 0 && stats::dataset_drift(r.drifted, judged, m.drift_share);
    if (r.dataset_drift) {
        r.alerts.push_back(fmt::format("dataset drift: {} of {} features drifted (share {})",
                                       r.drifted, judged, render::number(m.drift_share)));
    }

    // Prediction drift, when the reference has predictions too.
    if (m.prediction) {
        if (ref.column(*m.prediction) != nullptr && cur.column(*m.prediction) != nullptr) {
            stats::DriftOptions opts;
            opts.method = method_of(m.drift_method);
            r.prediction = column_drift(*m.prediction, ref.column(*m.prediction),
                                        cur.column(*m.prediction), opts);
        } else if (cur.column(*m.prediction) != nullptr) {
            r.notes.push_back(fmt::format(
                "the reference has no '{}' column: prediction drift not computed", *m.prediction));
        }
    }

    // Labels: in the current data, or joined from feedback by id.
    std::vector<std::optional<double>> labels(cur.rows);
    bool have_labels = false;
    if (!target.empty()) {
        if (const Column* t = cur.column(target)) {
            for (size_t i = 0; i < cur.rows; ++i) {
                labels[i] = label_of(*t, i);
                have_labels = have_labels || labels[i].has_value();
            }
        }
    }
    if (m.feedback_path && !target.empty()) {
        const std::string id = !m.feedback_id.empty() ? m.feedback_id : m.id.value_or("id");
        const auto fb_files = [&] {
            try {
                return expand_paths({m.feedback_path->value}, p.root);
            } catch (const error::UsageError&) {
                r.notes.push_back(fmt::format("no feedback at '{}' yet", m.feedback_path->value));
                return std::vector<DataFile>{};
            }
        }();
        const Column* cur_id = cur.column(m.id.value_or(id));
        if (!fb_files.empty() && cur_id != nullptr) {
            Frame fb = load_frame(fb_files, {id});
            const Column* fb_id = fb.column(id);
            const Column* fb_label = fb.column(target);
            if (fb_id == nullptr || fb_label == nullptr) {
                r.notes.push_back(
                    fmt::format("the feedback lacks '{}' or '{}': no labels joined", id, target));
            } else {
                std::unordered_map<std::string, double> by_id;
                for (size_t i = 0; i < fb.rows; ++i) {
                    if (fb_id->missing[i] == 0) {
                        if (const auto v = label_of(*fb_label, i)) {
                            by_id[std::string(fb_id->text[i])] = *v;
                        }
                    }
                }
                for (size_t i = 0; i < cur.rows; ++i) {
                    if (cur_id->missing[i] == 0) {
                        const auto it = by_id.find(std::string(cur_id->text[i]));
                        if (it != by_id.end()) {
                            labels[i] = it->second;
                            have_labels = true;
                        }
                    }
                }
            }
        }
    }

    // Performance on the labelled rows.
    if (m.performance_metric) {
        Check c = bounded(m.performance_metric->value, m.performance_min, m.performance_max);
        const auto metric = stats::parse_metric(m.performance_metric->value);
        const Column* pred = m.prediction ? cur.column(*m.prediction) : nullptr;
        if (!metric) {
            c.problem = "unknown metric";
        } else if (!have_labels) {
            c.problem = "no labelled rows";
        } else if (pred == nullptr) {
            c.problem = fmt::format("the current data has no prediction column '{}'",
                                    m.prediction.value_or("prediction"));
        } else {
            std::vector<double> y_true;
            std::vector<double> y_pred;
            for (size_t i = 0; i < cur.rows; ++i) {
                const auto v = label_of(*pred, i);
                if (labels[i] && v) {
                    y_true.push_back(*labels[i]);
                    const bool classify =
                        !stats::takes_scores(*metric) &&
                        (*metric == stats::Metric::accuracy ||
                         *metric == stats::Metric::precision || *metric == stats::Metric::recall ||
                         *metric == stats::Metric::f1);
                    y_pred.push_back(classify ? (*v >= 0.5 ? 1.0 : 0.0) : *v);
                }
            }
            c.rows = y_true.size();
            const auto value = stats::compute_metric(*metric, y_true, y_pred);
            if (value) {
                c.value = value.value();
            } else {
                c.problem = value.error();
            }
        }
        judge(c);
        if (!c.ok) {
            r.alerts.push_back(fmt::format("performance: {} {} outside {}", c.name,
                                           render::number(*c.value), limits(c)));
        }
        if (!c.value) {
            r.notes.push_back(fmt::format("performance not computed: {}", c.problem));
        }
        r.performance = c;
    }

    // KPIs.
    for (const auto& k : m.kpis) {
        Check c = bounded(fmt::format("{}({})", k.agg, k.column.value), k.min, k.max);
        if (const Column* col = cur.column(k.column.value)) {
            c.value = aggregate(k.agg, *numbers(*col, false));
            c.rows = cur.rows;
            if (!c.value) {
                c.problem = "no numeric values";
            }
        } else {
            c.problem = fmt::format("the current data has no '{}' column", k.column.value);
        }
        judge(c);
        if (!c.ok) {
            r.alerts.push_back(
                fmt::format("kpi: {} {} outside {}", c.name, render::number(*c.value), limits(c)));
        }
        if (!c.value) {
            r.notes.push_back(fmt::format("kpi {} not computed: {}", c.name, c.problem));
        }
        r.kpis.push_back(c);
    }

    // Resources of the serving container or pods.
    if (m.resources && env != nullptr && r.deployment) {
        measure_resources(s, *env, r);
    }

    // Record, then write the JSON report under .mloop/reports/.
    registry::MonitorReport row;
    if (!o.env.empty()) {
        row.env = o.env;
    }
    if (r.deployment) {
        row.deployment = r.deployment->id;
    }
    if (r.version) {
        row.model = r.version->model;
        row.version = r.version->version;
    }
    row.created_at = r.created_at;
    row.reference = r.reference;
    row.reference_digest = r.reference_digest;
    row.rows_reference = static_cast<int64_t>(r.rows_reference);
    row.rows_current = static_cast<int64_t>(r.rows_current);
    row.columns = static_cast<int64_t>(r.features.size());
    row.drifted = static_cast<int64_t>(r.drifted);
    row.dataset_drift = r.dataset_drift;
    row.alerts = r.alerts;
    row.report = "{}";
    r.id = db.write([&] {
        const int64_t id = registry::Reports(db).add(row);
        registry::Events(db).append("monitor", fmt::format("monitor/{}", id),
                                    nlohmann::json({{"env", o.env}, {"alerts", r.alerts}}).dump());
        return id;
    });
    r.path = s.paths.state / "reports" / fmt::format("{}.json", r.id);
    r.html = s.paths.state / "reports" / fmt::format("{}.html", r.id);
    if (!o.report.empty()) {
        r.html_copy = fs::absolute(o.report);
    }
    rewrite(s, r);
    return r;
}

}  // namespace mloop::monitor
