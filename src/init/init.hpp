// `mloop init`: a commented project file, or the whole example project, and with `ci` a CI
// workflow that runs the loop, written without ever overwriting a file.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mloop::init {

struct Options {
    std::filesystem::path dir = ".";
    bool example = false;
    bool dry_run = false;
    // "github" or "gitlab": also write that CI system's workflow. When `dir` already has an
    // mloop.yaml (and not `example`), only the workflow is written.
    std::optional<std::string> ci;
};

// A CI system `mloop init --ci` knows.
struct CiTarget {
    const char* name;      // as given to --ci
    const char* title;     // "GitHub Actions"
    const char* path;      // where the workflow goes, relative to the project directory
    const char* resource;  // the built-in template
};

std::span<const CiTarget> ci_targets();
// The target called `name`; UsageError with a "did you mean" otherwise.
const CiTarget& ci_target(const std::string& name);

struct Result {
    std::filesystem::path dir;
    std::string project;
    std::vector<std::string> created;  // relative to dir, in the order written
    bool gitignore_created = false;
    std::vector<std::string> gitignore_added;  // patterns appended to an existing .gitignore
    const CiTarget* ci = nullptr;              // the workflow written, if any
    bool workflow_only = false;                // the project existed; only the workflow written
};

// A project name from a directory name: lowercase, [a-z][a-z0-9-]{0,40}; "project" when
// nothing usable is left.
std::string project_name_for(const std::filesystem::path& dir);

// The workflow of `target` for `project`, as init writes it.
std::string render_workflow(const CiTarget& target, const std::string& project);

// Throws UsageError when a file to be written exists already (nothing is written then).
Result init_project(const Options& options);

}  // namespace mloop::init
