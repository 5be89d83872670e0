// `mloop package` (SPEC §6): a model version as a container image. Renders the Dockerfile from
// a template, assembles the build context (the version's artifacts from the store under model/,
// package.files, the model server when the template uses it, and a .dockerignore that keeps
// everything else out), runs `docker build` with the lineage labels, records the image and
// writes an in-toto statement with SLSA provenance beside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "registry/deployments.hpp"
#include "registry/refs.hpp"
#include "train/gates.hpp"
#include "train/session.hpp"

namespace mloop::package {

struct Options {
    std::string version;  // MODEL@VER; empty: MODEL@latest
    bool push = false;
    bool no_cache = false;
    bool force = false;    // package even when a gate or the training data failed
    bool dry_run = false;  // render and say what would run; build nothing, record nothing
    bool quiet = false;    // keep docker's build output off stderr
    bool check_gates = true;
    bool echo = false;  // evaluation commands stream their output
};

struct DataCheck {
    std::string name;
    std::string digest;
    std::optional<bool> passed;  // nullopt: never validated
};

struct Result {
    registry::VersionRef version;
    std::optional<train::GateReport> gates;
    std::vector<DataCheck> data;
    std::vector<std::string> refusals;  // why it was refused (or forced past)
    bool refused = false;
    bool forced = false;
    std::string dockerfile;  // as rendered
    std::string template_name;
    std::filesystem::path context;
    std::vector<std::string> build_argv;
    std::map<std::string, std::string> labels;
    std::optional<registry::Image> image;  // recorded (not on dry runs or refusals)
    std::filesystem::path provenance;
    bool pushed = false;
    int64_t total_ms = 0;
    int64_t docker_ms = 0;  // in docker build and push
};

Result package(train::Session& s, const Options& options);

// "churn@3 fails its gates (auc, log_loss)" when a gate failed.
std::optional<std::string> gate_refusal(const train::GateReport& report);

// The datasets that trained the version, each with the verdict of its latest validation.
std::vector<DataCheck> training_data(train::Session& s, const registry::VersionRef& v);
// "its training data train (sha256:51d45b30ffdd) failed validation", one per failed dataset.
std::vector<std::string> data_refusals(const std::vector<DataCheck>& data);

// The image recorded for the version, if docker still has it; else packages it (the caller has
// checked the gates; training data that failed validation still refuses, unless `force`).
registry::Image ensure_packaged(train::Session& s, const registry::VersionRef& v, bool quiet,
                                bool force);

// The repository images of the project go to: package.image, else "mloop/<project>".
std::string repository(const config::Project& project);

// The model server the scratch template copies into images: $MLOOP_SERVE, else mloop-serve
// beside the running mloop, else ../libexec/mloop/mloop-serve from it.
std::optional<std::filesystem::path> find_model_server();

// The template text: the project's templates/<name> if present, else the built-in one.
// Throws ConfigError (with the package.template position) when neither exists.
std::string template_text(const config::Project& project, const std::string& name);

}  // namespace mloop::package
