#include "util/versions.hpp"

#include <git2/common.h>
#include <sqlite3.h>

#include <fmt/format.h>

#ifndef MLOOP_VERSION
#error "MLOOP_VERSION must be defined by the build"
#endif
#ifndef MLOOP_YAML_CPP_VERSION
#error "MLOOP_YAML_CPP_VERSION must be defined by the build"
#endif

namespace mloop::util {

Versions versions() {
    int major = 0;
    int minor = 0;
    int rev = 0;
    git_libgit2_version(&major, &minor, &rev);
    return Versions{MLOOP_VERSION, sqlite3_libversion(), fmt::format("{}.{}.{}", major, minor, rev),
                    MLOOP_YAML_CPP_VERSION};
}

}  // namespace mloop::util
