// Versions of mloop and of the libraries it runs on, for --version and bug reports.
#pragma once

#include <string>

namespace mloop::util {

struct Versions {
    std::string mloop;
    std::string sqlite;    // the library loaded at run time
    std::string libgit2;   // the library loaded at run time
    std::string yaml_cpp;  // the version built against (yaml-cpp has no run-time query)
};

Versions versions();

}  // namespace mloop::util
