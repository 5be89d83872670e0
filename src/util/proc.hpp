// Facts about this process and host that the registry records, and the test of whether a
// recorded process is still the one that is running (pids are reused; start times are not).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace mloop::util {

std::string host_name();
std::string user_name();

// "<boot id>:<start time in clock ticks>" of a process, or nullopt when it does not exist.
std::optional<std::string> process_identity(pid_t pid);

// Whether `pid` on this host is still the process whose identity was recorded.
bool process_is(pid_t pid, const std::string& identity);

}  // namespace mloop::util
