// mloop.yaml → Project: syntax, key names and value types. Cross-references between sections
// and the file system are checked afterwards by check_project (check.hpp).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/project.hpp"
#include "error/error.hpp"

namespace mloop::config {

// A string value the parser met, with the key it was under, for the variable checks.
struct TextUse {
    Text text;
    std::string key;  // "train.command", "deploy.environments.local.analysis"
};

struct ParseResult {
    Project project;
    bool parsed = false;  // false when the YAML itself could not be read
    std::vector<error::Diagnostic> diagnostics;
    std::vector<TextUse> texts;       // every string value, for ${…} checks
    std::set<std::string> keys_read;  // table paths the parser asked for (a test's coverage)
};

// Orders diagnostics by position, keeping the order of those at the same place.
void sort_diagnostics(std::vector<error::Diagnostic>& diagnostics);

// `display_file` is the name used in diagnostics; `file` the absolute path.
ParseResult parse_project(std::string_view text, const std::filesystem::path& file,
                          const std::string& display_file);

}  // namespace mloop::config
