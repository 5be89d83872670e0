// Checks of a parsed project that span sections or touch the file system: variables and where
// they may be used, names that refer to other sections, files that must exist.
#pragma once

#include <vector>

#include "config/parse.hpp"

namespace mloop::config {

// Built-in Dockerfile templates that package.template may name without a project override.
std::vector<std::string> builtin_templates();

// Appends a diagnostic for every problem found in `parsed` (which must have parsed).
void check_project(ParseResult& parsed);

}  // namespace mloop::config
