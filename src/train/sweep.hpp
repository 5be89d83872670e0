// `mloop train --sweep`: grid or seeded random search over train.sweep.params. Each trial is a
// whole `mloop train` in its own process (so one trial's crash cannot take the others with it),
// recorded as a run of kind 'trial' whose parent is the sweep's run.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "train/train.hpp"

namespace mloop::train {

struct Trial {
    size_t index = 0;                 // 0-based, in plan order
    std::vector<std::string> params;  // "K=V", as --param takes them
};

// The trials of the sweep in the order they run: a grid's cartesian product (the first
// parameter varies slowest), or `trials` seeded random draws.
std::vector<Trial> plan_trials(const config::Sweep& sweep);

struct SweepOptions {
    std::vector<std::string> params;  // --param overrides applied to every trial
    unsigned jobs = 0;                // -j; 0: train.sweep.parallel
    std::optional<std::string> message;
    std::filesystem::path self;            // the mloop binary that runs the trials
    std::vector<std::string> global_args;  // -f FILE --registry PATH …, passed to each trial
};

struct TrialOutcome {
    Trial trial;
    std::optional<int64_t> run;
    std::string state;  // succeeded | failed | interrupted | inputs-changed | error
    std::optional<double> objective;
    std::optional<std::string> version;  // "churn@7"
    std::string error;
};

struct SweepOutcome {
    int64_t run = 0;  // the sweep's own run
    std::string state;
    std::vector<TrialOutcome> trials;
    std::optional<size_t> best;  // index into trials
    std::string objective;
    bool maximize = true;
};

SweepOutcome run_sweep(Session& s, const SweepOptions& options);

}  // namespace mloop::train
