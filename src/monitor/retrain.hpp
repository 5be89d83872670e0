// `on_alert: retrain` (SPEC §5 monitor): when a report opens an incident, `mloop monitor` starts
// `mloop train --if-triggered` as a child mloop, naming the report in MLOOP_MONITOR_REPORT so
// the drift and performance triggers read it (whatever its environment). The run it starts
// records those triggers — "monitor/N: 5 of 7 features drifted" — as its triggered_by, which
// `mloop lineage` and `mloop show` print.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "monitor/monitor.hpp"

namespace mloop::monitor {

struct Retrain {
    // trained (a run was recorded; see state) | not-triggered (no trigger fired: nothing
    // trained) | error (the child mloop failed before a run existed)
    std::string outcome;
    std::optional<int64_t> run;
    std::string state;                   // the run's: succeeded, failed, interrupted, …
    std::optional<std::string> version;  // MODEL@VER registered by the run
    std::string detail;                  // the run's failure reason, or the child's error
    int exit_code = 0;                   // of the child mloop
    bool ok() const { return outcome != "error" && (outcome != "trained" || exit_code == 0); }
};

// Runs `self` (this mloop) as `mloop -f FILE --registry DB --json train --if-triggered` in the
// project's directory; its notes (which triggers fired) go to stderr when `echo`.
Retrain retrain(train::Session& s, const Report& r, const std::filesystem::path& self, bool echo);

nlohmann::ordered_json retrain_json(const Retrain& r);
// One line for people from the report's "retrain" (retrain_json): "retrain: run 5 succeeded,
// registered churn@2", "retrain: no trigger fired …", "retrain failed: …".
std::string retrain_summary(const nlohmann::ordered_json& j);

}  // namespace mloop::monitor
