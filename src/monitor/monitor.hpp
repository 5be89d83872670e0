// `mloop monitor` (SPEC §6): drift of every feature between the reference (by default the
// exact dataset that trained the version serving in the environment, read from the store) and
// the current data (the serving log), the dataset-level drift, prediction drift, performance on
// labelled rows (labels in the log or joined from `feedback` by id), KPIs, and the resource use
// of the serving container or pods. Each run is recorded in the registry as a report linked to
// the environment, its deployment and model version, and written as JSON under .mloop/reports/.
//
// Not in this version: the HTML report, Prometheus export, alerts, --watch and retraining
// (the CM issue's next steps).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/deployments.hpp"
#include "registry/refs.hpp"
#include "stats/drift.hpp"
#include "train/session.hpp"

namespace mloop::monitor {

struct Options {
    std::string env;                   // empty: no environment (reference from the latest version)
    std::vector<std::string> current;  // --current: paths or globs; empty: monitor.current
    std::string reference;  // --reference: a path, or MODEL@VER; empty: monitor.reference
};

struct FeatureDrift {
    std::string column;
    std::string kind;                         // numeric | categorical
    std::optional<stats::ColumnDrift> drift;  // unset when it could not be computed
    std::string problem;                      // why not
};

struct Check {
    std::string name;  // "auc", "mean(revenue)"
    std::optional<double> value;
    std::optional<double> min;
    std::optional<double> max;
    bool ok = true;
    uint64_t rows = 0;    // rows it was computed on
    std::string problem;  // why it could not be computed (not ok)
};

struct Resources {
    std::string source;  // "docker stats mloop-churn-local", "kubectl top pod -l …"
    double cpu_cores = 0;
    int64_t memory_bytes = 0;
    int pods = 0;
};

// An alert sent to one destination of monitor.alerts.
struct Sent {
    std::string kind;    // webhook | command
    std::string target;  // the URL or command line, secrets masked
    bool ok = false;
    std::string error;  // why it could not be delivered
};

struct Report {
    int64_t id = 0;
    std::string env;
    std::optional<registry::Deployment> deployment;
    std::optional<registry::VersionRef> version;
    std::string reference;  // as shown
    std::optional<std::string> reference_digest;
    std::vector<std::string> current;  // files, as shown
    uint64_t rows_reference = 0;
    uint64_t rows_current = 0;
    uint64_t rows_outside_window = 0;
    std::vector<FeatureDrift> features;
    size_t drifted = 0;
    double share = 0.5;
    bool dataset_drift = false;
    std::optional<FeatureDrift> prediction;
    std::optional<Check> performance;
    std::vector<Check> kpis;
    std::optional<Resources> resources;
    std::vector<std::string> alerts;  // what fired: exit 1
    std::vector<Sent> sent;           // where the alerts went (alerts.hpp)
    std::vector<std::string> notes;
    std::filesystem::path path;  // the JSON report
    int64_t created_at = 0;      // ms since the epoch
};

Report monitor(train::Session& s, const Options& options);
// Writes the report again, file and registry row, after it changed (alerts sent).
void rewrite(train::Session& s, const Report& r);

// Shared by alerts.cpp and export.cpp:
// `t` with ${env.NAME} replaced by the environment variable (empty when unset); any other
// variable is a UsageError located in the project file, naming `what`.
std::string expand_env(const config::Text& t, const std::string& display_file,
                       const std::string& what);
// Writes `text` beside `path`, then renames it over `path`: a reader never sees half a file.
// A RegistryError naming the file when it cannot.
void write_atomically(const std::filesystem::path& path, const std::string& text);

nlohmann::ordered_json report_json(const Report& r);

}  // namespace mloop::monitor
