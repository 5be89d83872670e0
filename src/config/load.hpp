// Finding and loading the project file: discovery like git's, then parse and check.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/parse.hpp"

namespace mloop::config {

inline constexpr const char* k_project_file = "mloop.yaml";

// The project file to use: `explicit_file` (-f) when given, else the nearest mloop.yaml in
// `start` or a parent. Throws UsageError when there is none.
std::filesystem::path find_project_file(const std::filesystem::path& start,
                                        const std::optional<std::filesystem::path>& explicit_file);

// Reads, parses and checks the file. Returns every diagnostic; never throws for file content.
ParseResult read_project(const std::filesystem::path& file);

// read_project, throwing ConfigError when any error was found.
Project load_project(const std::filesystem::path& file);

}  // namespace mloop::config
