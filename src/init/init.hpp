// `mloop init`: a commented project file, or the whole example project, written without ever
// overwriting a file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mloop::init {

struct Options {
    std::filesystem::path dir = ".";
    bool example = false;
    bool dry_run = false;
};

struct Result {
    std::filesystem::path dir;
    std::string project;
    std::vector<std::string> created;  // relative to dir, in the order written
    bool gitignore_created = false;
    std::vector<std::string> gitignore_added;  // patterns appended to an existing .gitignore
};

// A project name from a directory name: lowercase, [a-z][a-z0-9-]{0,40}; "project" when
// nothing usable is left.
std::string project_name_for(const std::filesystem::path& dir);

// Throws UsageError when a file to be written exists already (nothing is written then).
Result init_project(const Options& options);

}  // namespace mloop::init
