// `mloop deploy`, `mloop rollback` and `mloop status` (SPEC §6). A deployment is journalled
// step by step in the registry before each step is done (registry/deployments.hpp); the alias
// named for the environment moves only when the new version is live and healthy. A deployment
// whose mloop died is finished or undone by the next deploy, rollback or status for its
// environment, judged by the journal and the live state (recover()).
//
// Targets: docker (docker_target.cpp) and kubernetes (kubernetes_target.cpp: rolling;
// kubernetes_strategies.cpp: canary and blue-green, with the analysis of analysis.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "deploy/analysis.hpp"
#include "registry/deployments.hpp"
#include "registry/refs.hpp"
#include "train/gates.hpp"
#include "train/session.hpp"

namespace mloop::deploy {

struct Options {
    std::string env;
    std::string version;  // MODEL@VER; empty: the version aliased ENV, else the latest
    std::optional<config::Strategy> strategy;
    std::filesystem::path render_dir;  // --render DIR: write what would be applied, stop
    bool no_wait = false;              // start it and return without the health check
    bool force = false;                // past failing gates, `requires` and failed data
    bool dry_run = false;
    bool quiet = false;  // docker's own output off stderr
    bool echo = false;   // evaluation commands stream their output
    // Called with a line for each canary step, analysis check and colour switch as it happens.
    std::function<void(const std::string&)> progress;
};

// What recover() did with a deployment whose mloop died.
struct Recovery {
    int64_t deployment = 0;
    std::string last_step;  // the journal's last step
    std::string action;     // finished | undone
    std::string state;      // the state recorded now
    std::string reason;
};

struct Result {
    std::string env;
    std::string kind = "deploy";  // deploy | rollback
    registry::VersionRef version;
    std::optional<train::GateReport> gates;
    std::vector<std::string> refusals;  // why it was refused (or forced past)
    bool refused = false;
    bool forced = false;
    int64_t deployment = 0;  // 0 on dry runs, renders and refusals
    std::string state;       // succeeded | rolled-back | failed | progressing | rendered | dry-run
    std::string reason;      // why it failed or was rolled back
    std::optional<registry::Image> image;
    std::optional<int64_t> previous;     // the deployment it replaced
    std::optional<int64_t> rollback_to;  // rollback: the deployment returned to
    std::vector<std::string> argv;       // docker run …, as applied
    std::filesystem::path manifests;
    // kubernetes: the manifests by file name, as rendered (dry runs and renders too)
    std::vector<std::pair<std::string, std::string>> rendered;
    std::string url;
    std::vector<Recovery> recovered;
    std::vector<std::string> notes;     // housekeeping done on the way (a scale-down)
    std::vector<CheckResult> analysis;  // the last analysis run (canary, blue-green)
    std::string strategy;               // recreate | rolling | canary | bluegreen
    int64_t total_ms = 0;
    int64_t external_ms = 0;  // in docker (or kubectl) and waiting for health
};

Result deploy(train::Session& s, const Options& options);

struct RollbackOptions {
    std::string env;
    std::string to;  // deploy/N or MODEL@VER; empty: the last good deployment before the current
    bool dry_run = false;
    bool quiet = false;
    std::function<void(const std::string&)> progress;
};
Result rollback(train::Session& s, const RollbackOptions& options);

struct EnvStatus {
    std::string env;
    std::string target;
    std::string strategy;
    std::optional<registry::Deployment> current;  // the newest that succeeded
    std::optional<registry::Image> image;
    std::optional<registry::Deployment> in_flight;  // pending or progressing, owner alive
    std::vector<Recovery> recovered;
    std::vector<std::string> notes;  // housekeeping done on the way (a scale-down)
    std::string live;    // what runs: "running deploy/7", "no container", "unknown: …"
    std::string health;  // ok | failing: … | unknown | —
    std::vector<std::string> differences;  // where the live state differs from the registry
    std::string monitor = "—";             // the last monitor report: "monitor/4: drift 3/7"
};
// `env` empty: every environment of the project file and of the registry.
std::vector<EnvStatus> status(train::Session& s, const std::string& env, bool probe_live);

// Finishes or undoes the environment's deployments whose mloop died, and does the housekeeping
// that is due (blue-green's old colour scaled down after scale_down_delay; said in `notes`).
// Takes the environment's deploy lock without waiting; does nothing when another mloop holds it.
std::vector<Recovery> recover(train::Session& s, const std::string& env,
                              std::vector<std::string>& notes);

}  // namespace mloop::deploy
