// File-system helpers: bounded reads, exclusive creation, upward search.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace mloop::util {

namespace fs = std::filesystem;

// Reads a whole regular file of at most `max_bytes`. Errors read like
// "cannot read 'x': is a directory".
Result<std::string> read_file(const fs::path& path, size_t max_bytes);

// Creates `path` (which must not exist) with `data` and `mode`; parent directories are made.
// Fails with "'x' already exists" rather than overwriting anything.
Result<bool> create_file(const fs::path& path, std::string_view data, mode_t mode);

// The nearest `dir`, `dir/..`, … that contains an entry called `name`, as git finds `.git`.
std::optional<fs::path> find_upwards(const fs::path& dir, std::string_view name);

// Whether `path`, its symlinks followed (as far as it exists), is `dir` or lies beneath it.
bool resolves_beneath(const fs::path& dir, const fs::path& path);

// `path` relative to the current directory when it lies beneath it, else as given.
std::string display_path(const fs::path& path);

// strerror for errno values, in lowercase as git prints them ("no such file or directory").
std::string errno_message(int err);

}  // namespace mloop::util
