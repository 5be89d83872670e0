// `mloop train`: one recorded run of the project's training command (or its pipeline of
// stages), a sweep of such runs, or nothing when no retraining trigger fired.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/refs.hpp"
#include "train/session.hpp"

namespace mloop::train {

struct Options {
    std::vector<std::string> params;   // --param K=V, in order
    std::optional<std::string> stage;  // --stage NAME: that stage and what it needs
    std::optional<std::string> message;
    bool echo = true;  // stream the command's output to the terminal
    // Set for sweep trials (by the sweep, through hidden options).
    std::optional<int64_t> parent;
    std::string kind = "train";
    std::optional<std::string> triggered_by;  // JSON of the triggers that fired
};

struct StageOutcome {
    std::string name;
    std::string state;                  // succeeded | failed | cached | interrupted
    std::optional<int64_t> source_run;  // cached: whose outputs were restored
    std::chrono::milliseconds wall{};
};

struct Outcome {
    int64_t run = 0;
    std::string state;  // succeeded | failed | interrupted | inputs-changed
    std::optional<int> exit_code;
    std::string reason;  // why it failed, for people
    std::vector<registry::Metric> metrics;
    std::vector<registry::Artifact> artifacts;
    std::vector<StageOutcome> stages;
    std::optional<registry::VersionRef> version;  // the model version it registered
    std::vector<std::string> changed_inputs;      // inputs-changed: which
    std::chrono::milliseconds wall{};
    std::chrono::milliseconds cpu{};
    int64_t max_rss_kb = 0;
    std::optional<int> interrupted_by;
    std::filesystem::path run_dir;
};

// Runs the training once and records it. Throws UsageError for a bad --param, config problems
// and the like; the command's own failure is an Outcome with state "failed". An interruption
// is recorded, and then reported as error::Interrupted.
Outcome run_training(Session& s, const Options& options);

// "K=V" → a parameter with the type YAML would give V; a name not under train.params (or the
// sweep's) is an error with "did you mean".
registry::Param parse_param(const config::Project& project, std::string_view assignment);

// The parameters of a run: the file's, then overrides in order.
std::vector<registry::Param> resolve_params(const config::Project& project,
                                            const std::vector<std::string>& overrides);

// MLOOP_PARAM_<NAME>: the name upper-cased, anything but letters and digits as '_'.
std::string param_env_name(std::string_view name);

}  // namespace mloop::train
