// The report's numbers for Prometheus (SPEC §6 monitor; monitor.prometheus): the text
// exposition format written atomically to `textfile` (node_exporter's textfile collector reads
// it) and pushed to a Pushgateway, and a Grafana dashboard over the same metrics.
//
//   mloop_monitor_report{project,env}                  the report's number
//   mloop_monitor_timestamp_seconds{project,env}       when it was made
//   mloop_model_version{project,env,model}             the version judged
//   mloop_rows{project,env,data}                       reference and current rows
//   mloop_dataset_drift{project,env}                   1 when the dataset drifted
//   mloop_drifted_features{project,env}                how many features drifted
//   mloop_feature_drift_score{project,env,feature,method}  p-value or distance
//   mloop_feature_drift_threshold{project,env,feature,method}
//   mloop_feature_drifted{project,env,feature}         1 when it drifted
//   mloop_performance{project,env,metric}              the performance metric
//   mloop_kpi{project,env,kpi}                         each KPI, as "mean(revenue)"
//   mloop_alerts{project,env}                          how many alerts fired
//   mloop_cpu_cores{project,env}, mloop_memory_bytes{project,env}
#pragma once

#include <string>
#include <vector>

#include "monitor/monitor.hpp"

namespace mloop::monitor {

std::string exposition(const std::string& project, const Report& r);

// Writes and pushes what monitor.prometheus asks for. Returns what happened, one line each;
// failures in `failed`.
std::vector<std::string> export_metrics(train::Session& s, const Report& r,
                                        std::vector<std::string>& failed);

// A Grafana dashboard (JSON model, schemaVersion 38) of the metrics above for the project.
std::string grafana_dashboard(const std::string& project);

}  // namespace mloop::monitor
