#include "util/proc.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mloop::util {

namespace {

std::string boot_id() {
    static const std::string id = [] {
        std::ifstream in("/proc/sys/kernel/random/boot_id");
        std::string s;
        std::getline(in, s);
        return s;
    }();
    return id;
}

}  // namespace

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "unknown";
    }
    return buf;
}

std::string user_name() {
    if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') {
        return u;
    }
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr) {
        return pw->pw_name;
    }
    return std::to_string(::getuid());
}

std::optional<std::string> process_identity(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) {
        return std::nullopt;
    }
    // The command name (field 2) is in parentheses and may hold spaces; count from after it.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    // Field 3 is the state; the start time is field 22.
    for (int i = 3; i <= 22; ++i) {
        if (!(rest >> field)) {
            return std::nullopt;
        }
    }
    return boot_id() + ":" + field;
}

bool process_is(pid_t pid, const std::string& identity) {
    const auto now = process_identity(pid);
    return now && *now == identity;
}

}  // namespace mloop::util
