#include "monitor/html.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "monitor/retrain.hpp"
#include "render/format.hpp"
#include "util/text.hpp"

namespace mloop::monitor {

namespace {

const char* const k_reference_colour = "#4c78a8";
const char* const k_current_colour = "#f58518";
const char* const k_drift_colour = "#c62828";

// Nothing may be fetched: a page that opens offline today and in ten years. Inline styles are
// the only thing allowed to apply.
const char* const k_head = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
)";

const char* const k_style = R"(<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;margin:0 auto;max-width:1240px;padding:16px 24px}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d1d9e0;padding-bottom:4px}
h3{font-size:14px;margin:0 0 2px;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
dt{color:#59636e}
dd{margin:0;overflow-wrap:anywhere}
#verdict{border-radius:6px;padding:10px 14px;margin:16px 0;border:1px solid}
#verdict.drift{background:#fdecea;border-color:#c62828}
#verdict.no-drift{background:#e8f5e9;border-color:#2e7d32}
#verdict ul{margin:6px 0 0}
.headline{font-size:18px;font-weight:600;margin:0}
table{border-collapse:collapse;margin:4px 0}
th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #d1d9e0;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.drifted,.alert{color:#c62828;font-weight:700}
.unknown,.muted{color:#59636e}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(390px,1fr));gap:12px}
.feature,.prediction{border:1px solid #d1d9e0;border-radius:6px;padding:8px}
.is-drifted{border-color:#c62828}
.meta{color:#59636e;font-size:12px;margin:0 0 4px}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}
svg .gridline{stroke:#e6e6e6}
svg .axis{stroke:#888}
footer{margin-top:32px;color:#59636e;font-size:12px}
</style>
</head>
)";

using Out = std::string;

template <typename... Args>
void put(Out& o, fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(o), f, std::forward<Args>(args)...);
}

std::string esc(std::string_view t) {
    return html_escape(t);
}

// An SVG coordinate.
std::string at(double v) {
    return fmt::format("{:.1f}", v);
}

std::string num(const std::optional<double>& v) {
    return v ? render::number(*v) : "—";
}

std::string percent(double share) {
    return render::number(std::round(share * 1000) / 10) + "%";
}

// "2026-01-03 14:22:05 UTC"
std::string when(int64_t ms) {
    const std::string iso = render::iso8601(ms);
    return iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC";
}

// At most n characters, "…" when cut.
std::string shorten(std::string_view s, size_t n) {
    size_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) {
            if (chars == n) {
                return std::string(s.substr(0, i)) + "…";
            }
            ++chars;
        }
    }
    return std::string(s);
}

// A round step that divides `span` in about `ticks`: 1, 2 or 5 times a power of ten.
double nice_step(double span, int ticks) {
    const double raw = span / ticks;
    if (!(raw > 0) || !std::isfinite(raw)) {
        return 1;
    }
    const double p = std::pow(10, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 5.0}) {
        if (raw <= m * p) {
            return m * p;
        }
    }
    return 10 * p;
}

uint64_t total(const std::vector<uint64_t>& v) {
    return std::accumulate(v.begin(), v.end(), uint64_t{0});
}

double share_of(uint64_t count, uint64_t all) {
    return all == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(all);
}

bool whole_bins(const Histogram& h) {
    return h.edges.size() > 1 && h.edges[1] - h.edges[0] == 1 &&
           std::fmod(h.edges[0] + 0.5, 1.0) == 0;
}

// What one bin holds, for its tooltip.
std::string bin_label(const Histogram& h, size_t i) {
    if (!h.numeric()) {
        return h.other > 0 && i + 1 == h.categories.size()
                   ? fmt::format("other ({} categories)", h.other)
                   : h.categories[i];
    }
    if (whole_bins(h)) {
        return render::number(h.edges[i] + 0.5);
    }
    return fmt::format("[{}, {}{}", render::number(h.edges[i]), render::number(h.edges[i + 1]),
                       i + 2 == h.edges.size() ? "]" : ")");
}

// Reference and current overlaid, each bar the share of its side's rows.
void histogram_svg(Out& o, const std::string& column, const Histogram& h) {
    constexpr double w = 380;
    constexpr double ht = 240;
    constexpr double left = 52;
    constexpr double right = 12;
    constexpr double top = 30;
    constexpr double bottom = 66;
    const double pw = w - left - right;
    const double ph = ht - top - bottom;
    const double base = top + ph;
    const size_t n = h.reference.size();
    const uint64_t rt = total(h.reference);
    const uint64_t ct = total(h.current);
    double most = 0;
    for (size_t i = 0; i < n; ++i) {
        most = std::max({most, share_of(h.reference[i], rt), share_of(h.current[i], ct)});
    }
    if (most <= 0) {
        most = 1;
    }
    const double step = nice_step(most, 4);
    const double ymax = std::ceil(most / step - 1e-9) * step;
    auto y = [&](double v) {
        return base - v / ymax * ph;
    };
    const double bw = pw / static_cast<double>(std::max<size_t>(n, 1));

    put(o,
        "<svg class=\"histogram\" data-bins=\"{}\" viewBox=\"0 0 {} {}\" width=\"{}\" "
        "height=\"{}\" role=\"img\" aria-label=\"histogram of {}: reference and current\">\n",
        n, w, ht, w, ht, esc(column));
    put(o,
        "<g class=\"legend\"><rect x=\"{}\" y=\"8\" width=\"10\" height=\"10\" fill=\"{}\" "
        "fill-opacity=\"0.55\"/><text x=\"{}\" y=\"17\">reference ({} values)</text>"
        "<rect x=\"{}\" y=\"8\" width=\"10\" height=\"10\" fill=\"{}\" fill-opacity=\"0.55\"/>"
        "<text x=\"{}\" y=\"17\">current ({} values)</text></g>\n",
        at(left), k_reference_colour, at(left + 14), rt, at(left + 170), k_current_colour,
        at(left + 184), ct);
    for (double v = 0; v <= ymax + step / 2; v += step) {
        put(o,
            "<line class=\"gridline\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>"
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            at(left), at(y(v)), at(w - right), at(y(v)), at(left - 4), at(y(v) + 4), percent(v));
    }
    put(o,
        "<text class=\"axis-label\" transform=\"translate(12 {}) rotate(-90)\" "
        "text-anchor=\"middle\">share of values</text>\n",
        at(top + ph / 2));
    const struct {
        const char* name;
        const char* colour;
        const std::vector<uint64_t>& counts;
        uint64_t all;
    } sides[] = {{"reference", k_reference_colour, h.reference, rt},
                 {"current", k_current_colour, h.current, ct}};
    for (const auto& side : sides) {
        put(o, "<g class=\"series {}\" fill=\"{}\" fill-opacity=\"0.55\">\n", side.name,
            side.colour);
        for (size_t i = 0; i < n; ++i) {
            const double s = share_of(side.counts[i], side.all);
            put(o,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}, {}: "
                "{} ({})</title></rect>\n",
                at(left + static_cast<double>(i) * bw + 0.5), at(y(s)), at(std::max(bw - 1, 0.5)),
                at(base - y(s)), side.name, esc(bin_label(h, i)), side.counts[i], percent(s));
        }
        put(o, "</g>\n");
    }
    put(o, "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", at(left), at(base),
        at(w - right), at(base));
    // The x axis: categories under their bars, numbers at a few edges (or whole numbers under
    // theirs).
    if (!h.numeric()) {
        for (size_t i = 0; i < n; ++i) {
            const std::string label = h.other > 0 && i + 1 == n ? fmt::format("other ({})", h.other)
                                                                : shorten(h.categories[i], 12);
            put(o,
                "<text transform=\"translate({} {}) rotate(-40)\" text-anchor=\"end\">{}</text>\n",
                at(left + (static_cast<double>(i) + 0.5) * bw + 3), at(base + 12), esc(label));
        }
    } else if (whole_bins(h)) {
        const size_t every = (n + 9) / 10;
        for (size_t i = 0; i < n; i += every) {
            put(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                at(left + (static_cast<double>(i) + 0.5) * bw), at(base + 14),
                render::number(h.edges[i] + 0.5));
        }
    } else {
        const size_t every = std::max<size_t>((n + 4) / 5, 1);
        for (size_t i = 0; i <= n; i += every) {
            put(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                at(left + static_cast<double>(i) * bw), at(base + 14),
                esc(fmt::format("{:.4g}", h.edges[i])));
        }
    }
    put(o, "<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
        at(left + pw / 2), at(ht - 6), esc(shorten(column, 48)));
    put(o, "</svg>\n");
}

std::string method_text(const stats::ColumnDrift& d) {
    return std::string(stats::method_name(d.method)) + (d.automatic ? " (auto)" : "");
}

void drift_row(Out& o, const FeatureDrift& f, const char* cls) {
    if (!f.drift) {
        put(o,
            "<tr class=\"{}\" data-column=\"{}\" data-drifted=\"unknown\"><td>{}</td><td>{}</td>"
            "<td>—</td><td class=\"n\">—</td><td class=\"n\">—</td><td class=\"unknown\">? {}</td>"
            "</tr>\n",
            cls, esc(f.column), esc(f.column), esc(f.kind), esc(f.problem));
        return;
    }
    const auto& d = *f.drift;
    put(o,
        "<tr class=\"{}\" data-column=\"{}\" data-drifted=\"{}\"><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td{}>{}</td></tr>\n",
        cls, esc(f.column), d.drifted ? "true" : "false", esc(f.column), esc(f.kind),
        esc(method_text(d)), render::number(d.score), render::number(d.threshold),
        d.drifted ? " class=\"drifted\"" : "", d.drifted ? "DRIFT" : "no");
}

void feature_card(Out& o, const FeatureDrift& f, const char* cls) {
    const bool drifted = f.drift && f.drift->drifted;
    put(o, "<div class=\"{}{}\" data-column=\"{}\" data-kind=\"{}\">\n<h3>{}</h3>\n", cls,
        drifted ? " is-drifted" : "", esc(f.column), esc(f.kind), esc(f.column));
    if (f.drift) {
        const auto& d = *f.drift;
        put(o, "<p class=\"meta\">{} · {} {} · threshold {} · {}</p>\n", esc(f.kind),
            esc(method_text(d)), render::number(d.score), render::number(d.threshold),
            d.drifted ? "<span class=\"drifted\">DRIFT</span>" : "no drift");
    } else {
        put(o, "<p class=\"meta\">{} · <span class=\"unknown\">? {}</span></p>\n", esc(f.kind),
            esc(f.problem));
    }
    if (f.histogram && !f.histogram->reference.empty()) {
        histogram_svg(o, f.column, *f.histogram);
    } else {
        put(o, "<p class=\"muted\">No values to draw.</p>\n");
    }
    put(o, "</div>\n");
}

std::string limits_text(const Check& c) {
    std::vector<std::string> parts;
    if (c.min) {
        parts.push_back("min " + render::number(*c.min));
    }
    if (c.max) {
        parts.push_back("max " + render::number(*c.max));
    }
    return parts.empty() ? "—" : util::join(parts, ", ");
}

void check_row(Out& o, const char* kind, const Check& c) {
    const std::string status =
        !c.value ? "<span class=\"unknown\">not computed: " + esc(c.problem) + "</span>"
        : c.ok   ? std::string("ok")
                 : std::string("<span class=\"alert\">ALERT</span>");
    put(o,
        "<tr class=\"check\" data-name=\"{}\"><td>{}</td><td>{}</td><td class=\"n\">{}</td>"
        "<td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
        esc(c.name), kind, esc(c.name), num(c.value), limits_text(c), c.rows, status);
}

// One report in the history.
struct Point {
    int64_t id = 0;
    int64_t created_at = 0;
    std::string version;
    int64_t rows_current = 0;
    int64_t drifted = 0;
    int64_t columns = 0;
    bool dataset_drift = false;
    std::optional<double> performance;
    size_t alerts = 0;
    bool current = false;
};

// The performance value a stored report holds, when it was measured with `metric`.
std::optional<double> stored_performance(const std::string& report, const std::string& metric) {
    const auto j = nlohmann::json::parse(report, nullptr, false);
    if (!j.is_object()) {
        return std::nullopt;
    }
    const auto p = j.find("performance");
    if (p == j.end() || !p->is_object()) {
        return std::nullopt;
    }
    const auto name = p->find("name");
    const auto value = p->find("value");
    if (name == p->end() || !name->is_string() || name->get<std::string>() != metric ||
        value == p->end() || !value->is_number()) {
        return std::nullopt;
    }
    return value->get<double>();
}

struct Series {
    std::string id;
    std::string label;  // of the y axis
    std::vector<std::optional<double>> values;
    double lo = 0;
    double hi = 1;
    bool percent = false;
    std::vector<std::pair<double, std::string>> lines;  // dashed marks: value, label
};

// A time series over the reports, oldest first: x is the time the report was made.
void timeseries_svg(Out& o, const std::vector<Point>& points, const Series& s) {
    constexpr double w = 760;
    constexpr double ht = 220;
    constexpr double left = 64;
    constexpr double right = 110;
    constexpr double top = 14;
    constexpr double bottom = 40;
    const double pw = w - left - right;
    const double ph = ht - top - bottom;
    const double base = top + ph;
    const size_t n = points.size();
    const int64_t t0 = points.front().created_at;
    const int64_t t1 = points.back().created_at;
    auto x = [&](size_t i) {
        if (t1 > t0) {
            return left + static_cast<double>(points[i].created_at - t0) /
                              static_cast<double>(t1 - t0) * pw;
        }
        return n == 1 ? left + pw / 2
                      : left + static_cast<double>(i) / static_cast<double>(n - 1) * pw;
    };
    auto y = [&](double v) {
        return base - (v - s.lo) / (s.hi - s.lo) * ph;
    };
    auto label = [&](double v) {
        return s.percent ? percent(v) : render::number(v);
    };
    put(o,
        "<svg id=\"{}\" class=\"timeseries\" data-points=\"{}\" viewBox=\"0 0 {} {}\" "
        "width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{} per report\">\n",
        s.id, n, w, ht, w, ht, esc(s.label));
    const double step = nice_step(s.hi - s.lo, 4);
    for (double v = std::ceil(s.lo / step - 1e-9) * step; v <= s.hi + step / 1e6; v += step) {
        put(o,
            "<line class=\"gridline\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>"
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            at(left), at(y(v)), at(w - right), at(y(v)), at(left - 4), at(y(v) + 4), label(v));
    }
    put(o,
        "<text class=\"axis-label\" transform=\"translate(12 {}) rotate(-90)\" "
        "text-anchor=\"middle\">{}</text>\n",
        at(top + ph / 2), esc(shorten(s.label, 30)));
    for (const auto& [v, text] : s.lines) {
        put(o,
            "<line class=\"limit\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
            "stroke-dasharray=\"5 4\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
            at(left), at(y(v)), at(w - right), at(y(v)), k_drift_colour, at(w - right + 4),
            at(y(v) + 4), esc(text));
    }
    put(o, "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", at(left), at(base),
        at(w - right), at(base));
    std::string line;
    for (size_t i = 0; i < n; ++i) {
        if (s.values[i]) {
            line += fmt::format("{}{},{}", line.empty() ? "" : " ", at(x(i)), at(y(*s.values[i])));
        }
    }
    put(o,
        "<polyline class=\"series\" points=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"2\"/>\n",
        line, k_reference_colour);
    for (size_t i = 0; i < n; ++i) {
        if (!s.values[i]) {
            continue;
        }
        const auto& p = points[i];
        put(o,
            "<circle class=\"point{}{}\" data-report=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{}\" "
            "fill=\"{}\"{}><title>monitor/{} ({}): {}</title></circle>\n",
            p.dataset_drift ? " drift" : "", p.current ? " current" : "", p.id, at(x(i)),
            at(y(*s.values[i])), p.current ? 6 : 4,
            p.dataset_drift ? k_drift_colour : k_reference_colour,
            p.current ? " stroke=\"#1f2328\" stroke-width=\"2\"" : "", p.id, when(p.created_at),
            label(*s.values[i]));
    }
    // The first and the last time under the axis.
    put(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n", at(x(0)), at(base + 16),
        n == 1 ? "middle" : "start", when(points.front().created_at));
    if (n > 1) {
        put(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", at(x(n - 1)),
            at(base + 30), when(points.back().created_at));
    }
    put(o, "</svg>\n");
}

void history_section(Out& o, const Report& r, const std::vector<registry::MonitorReport>& history) {
    std::vector<const registry::MonitorReport*> earlier;
    for (const auto& h : history) {
        earlier.push_back(&h);
    }
    std::sort(earlier.begin(), earlier.end(),
              [](const auto* a, const auto* b) { return a->id < b->id; });
    // The metric the series follows: this report's, else the latest one measured.
    std::string metric = r.performance ? r.performance->name : "";
    std::vector<Point> points;
    for (const auto* h : earlier) {
        Point p;
        p.id = h->id;
        p.created_at = h->created_at;
        p.version = h->model && h->version ? fmt::format("{}@{}", *h->model, *h->version) : "";
        p.rows_current = h->rows_current;
        p.drifted = h->drifted;
        p.columns = h->columns;
        p.dataset_drift = h->dataset_drift;
        p.alerts = h->alerts.size();
        points.push_back(p);
    }
    if (metric.empty()) {
        for (auto it = earlier.rbegin(); it != earlier.rend() && metric.empty(); ++it) {
            const auto j = nlohmann::json::parse((*it)->report, nullptr, false);
            if (j.is_object() && j.contains("performance") && j["performance"].is_object() &&
                j["performance"].contains("name") && j["performance"]["name"].is_string() &&
                j["performance"].contains("value") && j["performance"]["value"].is_number()) {
                metric = j["performance"]["name"].get<std::string>();
            }
        }
    }
    for (size_t i = 0; i < earlier.size() && !metric.empty(); ++i) {
        points[i].performance = stored_performance(earlier[i]->report, metric);
    }
    Point self;
    self.id = r.id;
    self.created_at = r.created_at;
    self.version = r.version ? r.version->text() : "";
    self.rows_current = static_cast<int64_t>(r.rows_current);
    self.drifted = static_cast<int64_t>(r.drifted);
    self.columns = static_cast<int64_t>(r.features.size());
    self.dataset_drift = r.dataset_drift;
    self.alerts = r.alerts.size();
    self.current = true;
    if (r.performance && r.performance->value && std::isfinite(*r.performance->value)) {
        self.performance = r.performance->value;
    }
    points.push_back(self);

    put(o, "<section id=\"history\" data-reports=\"{}\">\n<h2>History</h2>\n", points.size());
    put(o, "<p>{}</p>\n",
        earlier.empty()
            ? std::string("No earlier report of this environment: the series starts here.")
            : fmt::format(
                  "{} earlier report{} of {}, and this one.", earlier.size(),
                  earlier.size() == 1 ? "" : "s",
                  r.env.empty() ? std::string("no environment") : "environment " + esc(r.env)));
    Series drift;
    drift.id = "history-drift";
    drift.label = "drifted features";
    drift.percent = true;
    for (const auto& p : points) {
        drift.values.push_back(
            p.columns > 0 ? std::optional<double>(share_of(static_cast<uint64_t>(p.drifted),
                                                           static_cast<uint64_t>(p.columns)))
                          : std::nullopt);
    }
    drift.lines.emplace_back(r.share, "share " + render::number(r.share));
    put(o, "<h3>Share of drifted features</h3>\n");
    timeseries_svg(o, points, drift);

    Series perf;
    perf.id = "history-performance";
    perf.label = metric;
    bool any = false;
    double lo = INFINITY;
    double hi = -INFINITY;
    for (const auto& p : points) {
        perf.values.push_back(p.performance);
        if (p.performance) {
            any = true;
            lo = std::min(lo, *p.performance);
            hi = std::max(hi, *p.performance);
        }
    }
    if (any) {
        if (r.performance && r.performance->name == metric) {
            if (r.performance->min) {
                perf.lines.emplace_back(*r.performance->min,
                                        "min " + render::number(*r.performance->min));
                lo = std::min(lo, *r.performance->min);
                hi = std::max(hi, *r.performance->min);
            }
            if (r.performance->max) {
                perf.lines.emplace_back(*r.performance->max,
                                        "max " + render::number(*r.performance->max));
                lo = std::min(lo, *r.performance->max);
                hi = std::max(hi, *r.performance->max);
            }
        }
        const double pad = hi > lo ? (hi - lo) * 0.1 : std::max(std::fabs(hi) * 0.1, 0.05);
        perf.lo = lo - pad;
        perf.hi = hi + pad;
        put(o, "<h3>Performance: {}</h3>\n", esc(metric));
        timeseries_svg(o, points, perf);
    }

    put(o,
        "<table id=\"history-table\">\n<thead><tr><th>Report</th><th>Time</th><th>Version</th>"
        "<th>Current rows</th><th>Drifted</th><th>Dataset drift</th><th>Performance</th>"
        "<th>Alerts</th></tr></thead>\n<tbody>\n");
    for (auto it = points.rbegin(); it != points.rend(); ++it) {
        const auto& p = *it;
        put(o,
            "<tr class=\"history-row{}\" data-report=\"{}\"><td>monitor/{}{}</td><td>{}</td>"
            "<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} of {}</td><td{}>{}</td>"
            "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            p.current ? " current" : "", p.id, p.id, p.current ? " (this report)" : "",
            when(p.created_at), p.version.empty() ? "—" : esc(p.version), p.rows_current, p.drifted,
            p.columns, p.dataset_drift ? " class=\"drifted\"" : "", p.dataset_drift ? "yes" : "no",
            num(p.performance), p.alerts);
    }
    put(o, "</tbody>\n</table>\n</section>\n");
}

}  // namespace

std::string html_escape(std::string_view text) {
    return util::html_escape(text);
}

std::string html_report(const Report& r, const std::vector<registry::MonitorReport>& history) {
    Out o;
    o.reserve(64 * 1024);
    o += k_head;
    const std::string subject = fmt::format("monitor/{}: {}{}", r.id, r.project,
                                            r.env.empty() ? std::string() : " " + r.env);
    put(o, "<title>mloop {}</title>\n", esc(subject));
    o += k_style;
    put(o, "<body>\n<header>\n<h1>mloop {}</h1>\n<dl id=\"summary\">\n", esc(subject));
    put(o, "<dt>Project</dt><dd>{}</dd>\n", esc(r.project));
    put(o, "<dt>Environment</dt><dd>{}</dd>\n", r.env.empty() ? "—" : esc(r.env));
    put(o, "<dt>Version</dt><dd>{}</dd>\n", r.version ? esc(r.version->text()) : "—");
    put(o, "<dt>Deployment</dt><dd>{}</dd>\n",
        r.deployment ? fmt::format("deploy/{}", r.deployment->id) : "—");
    put(o, "<dt>Reference</dt><dd id=\"reference\">{} ({} rows){}</dd>\n", esc(r.reference),
        r.rows_reference, r.reference_digest ? ", digest " + esc(*r.reference_digest) : "");
    put(o, "<dt>Current</dt><dd id=\"current\">{} ({} rows{})</dd>\n",
        esc(util::join(r.current, ", ")), r.rows_current,
        r.rows_outside_window > 0 ? fmt::format(", {} outside the window", r.rows_outside_window)
                                  : "");
    put(o, "<dt>Made</dt><dd><time datetime=\"{}\">{}</time></dd>\n</dl>\n</header>\n",
        render::iso8601(r.created_at), when(r.created_at));

    // The verdict.
    size_t judged = 0;
    for (const auto& f : r.features) {
        judged += f.drift ? 1 : 0;
    }
    put(o,
        "<section id=\"verdict\" class=\"{}\">\n<p class=\"headline\">Dataset drift: {}</p>\n"
        "<p>{} of {} features drifted (the dataset drifts at a share of {}).</p>\n",
        r.dataset_drift ? "drift" : "no-drift", r.dataset_drift ? "yes" : "no", r.drifted, judged,
        render::number(r.share));
    if (r.alerts.empty()) {
        put(o, "<p id=\"alerts\" class=\"none\">No alert fired.</p>\n");
    } else {
        put(o, "<p class=\"alert\">{} alert{} fired:</p>\n<ul id=\"alerts\">\n", r.alerts.size(),
            r.alerts.size() == 1 ? "" : "s");
        for (const auto& a : r.alerts) {
            put(o, "<li>{}</li>\n", esc(a));
        }
        put(o, "</ul>\n");
    }
    if (!r.sent.empty()) {
        put(o, "<ul id=\"sent\">\n");
        for (const auto& x : r.sent) {
            put(o, "<li>{}</li>\n",
                x.ok ? esc(fmt::format("sent to {} {}", x.kind, x.target))
                     : esc(fmt::format("not sent to {} {}: {}", x.kind, x.target, x.error)));
        }
        put(o, "</ul>\n");
    }
    if (r.retrain) {
        put(o, "<p id=\"retrain\">{}</p>\n", esc(retrain_summary(*r.retrain)));
    }
    put(o, "</section>\n");

    // The drift table.
    put(o,
        "<section id=\"drift\">\n<h2>Drift</h2>\n<table id=\"drift-table\">\n<thead><tr>"
        "<th>Feature</th><th>Kind</th><th>Method</th><th>Score</th><th>Threshold</th>"
        "<th>Drift</th></tr></thead>\n<tbody>\n");
    for (const auto& f : r.features) {
        drift_row(o, f, "feature-row");
    }
    if (r.prediction) {
        drift_row(o, *r.prediction, "prediction-row");
    }
    put(o, "</tbody>\n</table>\n</section>\n");

    // Histograms.
    put(o,
        "<section id=\"histograms\">\n<h2>Distributions</h2>\n<p class=\"meta\">Share of each "
        "side's values per bin: reference <span style=\"color:{}\">■</span>, current "
        "<span style=\"color:{}\">■</span>, overlaid. Missing and non-finite values are left "
        "out.</p>\n<div class=\"cards\">\n",
        k_reference_colour, k_current_colour);
    for (const auto& f : r.features) {
        feature_card(o, f, "feature");
    }
    if (r.prediction) {
        feature_card(o, *r.prediction, "prediction");
    }
    put(o, "</div>\n</section>\n");

    // Performance and KPIs.
    put(o, "<section id=\"performance\">\n<h2>Performance and KPIs</h2>\n");
    if (!r.performance && r.kpis.empty()) {
        put(o, "<p class=\"muted\">No performance metric or KPI is configured.</p>\n");
    } else {
        put(o,
            "<table>\n<thead><tr><th></th><th>Name</th><th>Value</th><th>Limits</th>"
            "<th>Rows</th><th>Status</th></tr></thead>\n<tbody>\n");
        if (r.performance) {
            check_row(o, "performance", *r.performance);
        }
        for (const auto& k : r.kpis) {
            check_row(o, "kpi", k);
        }
        put(o, "</tbody>\n</table>\n");
    }
    put(o, "</section>\n");

    if (r.resources) {
        const auto& res = *r.resources;
        put(o,
            "<section id=\"resources\">\n<h2>Resources</h2>\n<dl>\n<dt>CPU</dt><dd>{:.3f} "
            "cores</dd>\n<dt>Memory</dt><dd>{}</dd>\n<dt>Pods</dt><dd>{}</dd>\n"
            "<dt>Measured by</dt><dd>{}</dd>\n</dl>\n</section>\n",
            res.cpu_cores, esc(util::format_bytes(static_cast<double>(res.memory_bytes))), res.pods,
            esc(res.source));
    }

    if (!r.notes.empty()) {
        put(o, "<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n");
        for (const auto& n : r.notes) {
            put(o, "<li>{}</li>\n", esc(n));
        }
        put(o, "</ul>\n</section>\n");
    }

    history_section(o, r, history);

    put(o,
        "<footer>Written by mloop monitor; the same report as JSON: {}.</footer>\n</body>\n"
        "</html>\n",
        r.path.empty() ? "—" : esc(r.path.filename().string()));
    return o;
}

}  // namespace mloop::monitor
