// Small string helpers shared by the config parser and the command line.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mloop::util {

// Optimal string alignment distance (Levenshtein plus adjacent transposition), as git's
// help.c uses for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b);

// The candidates nearest to `word`, best first; empty when none is plausibly meant.
std::vector<std::string> nearest(std::string_view word, std::span<const std::string> candidates,
                                 size_t limit = 3);

// "did you mean 'x'?" / "did you mean 'x' or 'y'?" / "" when there is nothing near.
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates);

// Joins with `sep`, each item wrapped in `quote` on both sides.
std::string join(std::span<const std::string> items, std::string_view sep,
                 std::string_view quote = "");

bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);

// Without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view s);
// The non-empty lines of `s`, trimmed.
std::vector<std::string> nonempty_lines(std::string_view s);

// Quotes a value for a message: 'value', shortened to `max` bytes with "…" and with control
// characters escaped, so hostile input never reaches the terminal raw.
std::string quote(std::string_view value, size_t max = 80);

// Returns the offset of the first byte that is not valid UTF-8, or npos when all of it is.
size_t invalid_utf8_offset(std::string_view s);

// Human-readable byte count: "512 B", "1.5 KiB", "10.0 MiB".
std::string format_bytes(double bytes);

// Each character of `special` as an entity: by default & < > " ', safe inside an element and
// inside a quoted attribute (a markdown table cell wants "&<>|`": quotes left as they are).
std::string html_escape(std::string_view text, std::string_view special = "&<>\"'");

}  // namespace mloop::util
