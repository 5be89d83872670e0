// The analysis a deployment runs before it trusts a new version (SPEC §5 deploy.environments.*.
// analysis): after each canary step and before the blue-green switch. Each check passes or
// fails with a reason a person can act on:
//   prometheus  the HTTP API's instant query; every sample of the result must lie within
//               min/max; no data, an error status or an unreachable server fail the check
//   command     the user's argv (variables such as ${deploy.url} expanded), exit 0 passes
//   monitor     drift and performance of the new version's traffic (its `current` files)
//               against the data that trained it, as `mloop monitor` judges them: any alert
//               fails the check (run through AnalysisContext::monitor, which the deployment
//               provides; without one the check fails rather than pass unexamined)
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/project.hpp"
#include "process/runner.hpp"

namespace mloop::deploy {

struct CheckResult {
    std::string kind;  // prometheus | command | monitor
    std::string what;  // the query or the command line
    bool passed = false;
    std::optional<double> value;  // prometheus: the worst sample
    std::string reason;           // why it failed, or what it saw
};

struct AnalysisContext {
    process::ProcessRunner* runner = nullptr;
    std::vector<std::string> secrets;
    std::filesystem::path cwd;                  // the project's directory
    std::map<std::string, std::string> values;  // ${deploy.url}, ${deploy.env}, ${model.*} …
    std::string display_file;                   // for located errors
    std::chrono::milliseconds timeout{30000};   // per check
    // Runs a monitor check (deploy wires it to monitor::monitor).
    std::function<CheckResult(const config::Analysis&)> monitor;
};

// Runs every check (all of them, so the report is complete) and returns their results.
std::vector<CheckResult> run_analysis(const std::vector<config::Analysis>& checks,
                                      const AnalysisContext& ctx);
bool all_passed(const std::vector<CheckResult>& results);
// "prometheus error_rate: 0.02 > max 0.01; command ./smoke.sh: exited with 1"
std::string failures(const std::vector<CheckResult>& results);

// One prometheus check; exposed for tests.
CheckResult check_prometheus(const config::Analysis& check, std::chrono::milliseconds timeout);

}  // namespace mloop::deploy
