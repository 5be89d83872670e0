// The HTML report of `mloop monitor` (SPEC §6): one self-contained page that opens offline.
// Inline CSS and inline SVG only: no script, no font, image or style from anywhere else, and a
// Content-Security-Policy that forbids them, so a page mailed or archived looks the same in ten
// years. It shows what the JSON report says: the header, the verdict and the alerts, the drift
// table, a histogram per feature with reference and current overlaid (as shares of their rows,
// so samples of different sizes compare), performance, KPIs and resources, the notes, and the
// history of earlier reports of the same environment as time series. Every text that comes from
// users (column names, categories, paths, messages) is escaped.
//
// Stable hooks for tests and for people who scrape or restyle it:
//   #summary; #verdict (class "drift" or "no-drift"); #alerts (li per alert)
//   #drift-table: tr.feature-row[data-column][data-drifted], tr.prediction-row
//   #histograms: div.feature[data-column][data-kind] (div.prediction for the prediction), each
//     with one svg.histogram[data-bins] holding g.series.reference and g.series.current, one
//     rect.bar per bin in each
//   #performance (tr.check[data-name]); #resources; #notes
//   #history: svg#history-drift and svg#history-performance (svg.timeseries, one
//     circle.point[data-report] per report), #history-table (tr.history-row[data-report])
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "monitor/monitor.hpp"
#include "registry/reports.hpp"

namespace mloop::monitor {

// `history`: earlier reports of the environment, in any order; the report itself is the last
// point of the time series.
std::string html_report(const Report& r, const std::vector<registry::MonitorReport>& history);

// & < > " ' as entities: safe inside an element and inside a quoted attribute.
std::string html_escape(std::string_view text);

}  // namespace mloop::monitor
