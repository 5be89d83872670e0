// `mloop runs`: the newest runs, optionally of one state or one model, with the metrics that
// matter for the project (its gates' metrics and the sweep objective).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lineage/query.hpp"

namespace mloop::lineage {

// The run states of SPEC §7, in the order they are documented.
const std::vector<std::string>& run_states();

struct RunsOptions {
    size_t limit = 20;
    std::optional<std::string> state;
    std::optional<std::string> model;
    // The metrics to show; empty: the first three metric names the listed runs have.
    std::vector<std::string> key_metrics;
};

struct RunsResult {
    std::vector<RunSummary> runs;
    std::vector<std::string> key_metrics;
};

// Throws UsageError for a state that is not a run state.
void check_state(const std::optional<std::string>& state);

// Throws UsageError for a state that is not a run state or a model that does not exist.
RunsResult list_runs(registry::Db& db, const RunsOptions& options);

}  // namespace mloop::lineage
