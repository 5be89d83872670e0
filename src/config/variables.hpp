// ${…} variables in project-file strings, and durations.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace mloop::config {

struct Piece {
    bool variable = false;
    std::string text;   // literal text, or the variable's name ("data.train")
    size_t offset = 0;  // where the piece starts in the original string (for columns)
};

// Splits "a ${data.train} b" into literal and variable pieces. "$${" is a literal "${".
util::Result<std::vector<Piece>> split_variables(std::string_view s);

// Expands every variable through `lookup`; a name it does not know is an error naming it.
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;
util::Result<std::string> expand(std::string_view s, const Lookup& lookup);

// "90s", "15m", "2h", "30d", "1h30m", "500ms" (rounded up to whole seconds).
util::Result<std::chrono::seconds> parse_duration(std::string_view s);
std::string format_duration(std::chrono::seconds d);

}  // namespace mloop::config
