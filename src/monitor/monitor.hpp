// `mloop monitor` (SPEC §6): drift of every feature between the reference (by default the
// exact dataset that trained the version serving in the environment, read from the store) and
// the current data (the serving log), the dataset-level drift, prediction drift, performance on
// labelled rows (labels in the log or joined from `feedback` by id), KPIs, and the resource use
// of the serving container or pods. Each run is recorded in the registry as a report linked to
// the environment, its deployment and model version, and written under .mloop/reports/ as JSON
// and as a self-contained HTML page (html.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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
    std::string report;     // --report: where to write the HTML report too (relative to the cwd)
};

// Reference and current counts over the same bins, for the report's overlaid histograms: a
// picture of the distributions, not the bins a drift test used (those follow Evidently).
struct Histogram {
    // numeric: the bins' edges, one more than the bins: one bin per whole number when the
    // values are whole and span at most k_max_bins, else Sturges' count (at most k_max_bins)
    // of equal bins over the finite values of reference ∪ current
    std::vector<double> edges;
    // categorical: a label per bin, most frequent (reference ∪ current) first; when there are
    // more than k_max_categories, the rest are counted in a last bin, "other"
    std::vector<std::string> categories;
    size_t other = 0;  // how many categories the "other" bin holds (0: there is none)
    std::vector<uint64_t> reference;
    std::vector<uint64_t> current;

    static constexpr size_t k_max_bins = 30;
    static constexpr size_t k_max_categories = 20;
    bool numeric() const { return !edges.empty(); }
};

struct FeatureDrift {
    std::string column;
    std::string kind;                         // numeric | categorical
    std::optional<stats::ColumnDrift> drift;  // unset when it could not be computed
    std::string problem;                      // why not
    std::optional<Histogram> histogram;       // unset when neither side has a value
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
    std::string project;
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
    std::vector<std::string> alerts;                // what fired: exit 1
    std::vector<Sent> sent;                         // where the alerts went (alerts.hpp)
    std::optional<nlohmann::ordered_json> retrain;  // what on_alert: retrain did (retrain.hpp)
    std::vector<std::string> notes;
    std::filesystem::path path;       // the JSON report
    std::filesystem::path html;       // the HTML report beside it
    std::filesystem::path html_copy;  // --report FILE, absolute; empty without
    int64_t created_at = 0;           // ms since the epoch
};

// Has every thread allocate from the one heap that monitor() readies for its data (glibc's
// main arena). Before any thread starts: the session's git thread would otherwise make a second
// arena, which the reading threads then share, on 4 KiB pages without the heap's advice (8 000
// page faults of a million-row run). Process-wide; for the monitor command.
void use_one_heap();

Report monitor(train::Session& s, const Options& options);
// Writes the report's files (JSON, HTML, the --report copy) and its registry row; again after
// the report changed (alerts sent), so all of them say the same.
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

// The histograms of the report (Histogram above). Numeric: NaN and ±inf are left out; unset
// when no finite value is left. Categorical: missing values already left out; unset when both
// sides are empty.
std::optional<Histogram> numeric_histogram(std::span<const double> reference,
                                           std::span<const double> current);
// The same from the finite values of each side in ascending order (as the drift sorted them):
// a binary search per edge instead of a pass over the values.
std::optional<Histogram> numeric_histogram_sorted(std::span<const double> reference,
                                                  std::span<const double> current);
// The same from the finite values counted per distinct value (bins of kind `values`, as the
// drift of a column of few distinct values counted them): a bin looked up per distinct value.
std::optional<Histogram> numeric_histogram_counted(const stats::Bins& values);
std::optional<Histogram> categorical_histogram(std::span<const std::string_view> reference,
                                               std::span<const std::string_view> current);
// The same from categories already counted.
std::optional<Histogram> categorical_histogram(const stats::Bins& bins);

}  // namespace mloop::monitor
