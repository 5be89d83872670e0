// Model gates (SPEC §5 model.gates): `mloop validate model`, and the check `mloop promote` runs
// before it moves an alias. With model.evaluate, the candidate and each baseline are evaluated
// on the same data now, and both evaluations are recorded as runs; without it, the metrics the
// versions' training runs recorded are compared.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "registry/refs.hpp"
#include "train/session.hpp"

namespace mloop::train {

struct GateResult {
    std::string metric;
    std::optional<double> candidate;
    std::optional<double> baseline;
    std::optional<std::string> baseline_version;  // "churn@3 (production)"
    std::string limit;                            // "≥ 0.75", "drop ≤ 0.01", "+ ≤ 10%"
    std::string verdict;                          // pass | fail | skip
    std::string note;                             // why it failed or was skipped
};

struct GateReport {
    registry::VersionRef candidate;
    std::vector<GateResult> gates;
    std::vector<int64_t> evaluations;  // runs that evaluated candidate and baselines
    bool passed() const;
};

// Checks every gate for `candidate`. Evaluation commands stream their output when `echo`.
GateReport check_gates(Session& s, const registry::VersionRef& candidate, bool echo);

}  // namespace mloop::train
