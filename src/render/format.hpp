// How mloop writes times, durations, numbers, digests and commits for people and for JSON.
// Times are milliseconds since the Unix epoch, the registry's unit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mloop::render {

// ISO 8601 in UTC with milliseconds, for JSON: "2026-01-03T14:22:05.123Z".
std::string iso8601(int64_t ms);
// Local time for people, as git prints it: "2026-01-03 14:22:05 +0100".
std::string local_time(int64_t ms);
// Local date and minute, for compact lines: "2026-01-03 14:22".
std::string local_minute(int64_t ms);
// "just now", "12s ago", "3m ago", "5h ago", "2d ago"; older than 30 days, the local date.
std::string relative_age(int64_t ms, int64_t now_ms);
// "850ms", "12.4s", "3m05s", "1h02m", "2d03h".
std::string duration(int64_t ms);

// A metric or parameter value for a table: whole numbers as such, others to four decimals with
// trailing zeros dropped ("0.8412", "12.5"), very large or small ones in exponent form.
std::string number(double v);
// The same with an explicit sign: "+0.0118", "-3", "0".
std::string signed_number(double v);
// A relative change in percent: "+1.40%", "-0.25%".
std::string signed_percent(double pct);

// "sha256:" and the first 12 hex digits, the shortest form a reference accepts.
std::string short_digest(std::string_view digest);
// The first 12 hex digits of a commit, "+dirty" when the tree had changes.
std::string short_commit(std::string_view commit, bool dirty);

// An argv stored as a JSON array, shown as a shell would need it typed (single quotes where
// needed). Text that is not a JSON array of strings is shown as it is.
std::string command_line(std::string_view json_argv);

}  // namespace mloop::render
