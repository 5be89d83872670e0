// `mloop diff A B`: two runs side by side (a model version stands for the run that made it):
// params, metrics with deltas, data hashes, git commits and stages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/records.hpp"
#include "registry/refs.hpp"

namespace mloop::lineage {

// same | changed | added (only in B) | removed (only in A)
struct ParamChange {
    std::string name;
    std::optional<std::string> a;
    std::optional<std::string> b;
    std::string status;
};

struct MetricChange {
    std::string name;
    std::optional<double> a;
    std::optional<double> b;
    std::optional<double> delta;      // b - a
    std::optional<double> delta_pct;  // (b - a) / |a| × 100; nullopt when a is 0 or missing
    std::string status;
};

struct DataChange {
    std::string name;              // the input's name (a dataset's name, a code file's path)
    std::string kind;              // dataset | code | file
    std::optional<std::string> a;  // digest
    std::optional<std::string> b;
    std::optional<std::string> a_path;
    std::optional<std::string> b_path;
    std::string status;
};

struct StageChange {
    std::string name;
    std::optional<std::string> a_state;
    std::optional<std::string> b_state;
    std::optional<std::string> a_key;
    std::optional<std::string> b_key;
    std::string status;  // same (cache key) | changed | added | removed
};

struct DiffSide {
    std::string label;  // what the user named: "run 12", "churn@3"
    registry::Run run;
    std::vector<registry::ModelVersion> versions;
};

struct RunDiff {
    DiffSide a;
    DiffSide b;
    std::vector<ParamChange> params;
    std::vector<MetricChange> metrics;
    std::vector<DataChange> data;
    std::vector<StageChange> stages;

    size_t changed_params() const;
};

// A reference that is not a run or a model version is a UsageError.
RunDiff diff(registry::Db& db, const registry::Ref& a, const registry::Ref& b);

}  // namespace mloop::lineage
