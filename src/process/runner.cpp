#include "process/runner.hpp"

#include <string.h>  // sigabbrev_np

#include <fmt/format.h>

namespace mloop::process {

namespace {

std::string format_duration(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms % 1000 == 0) {
        return fmt::format("{}s", ms / 1000);
    }
    if (ms < 1000) {
        return fmt::format("{}ms", ms);
    }
    return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
}

}  // namespace

std::string signal_name(int signal) {
    const char* abbrev = ::sigabbrev_np(signal);
    if (abbrev == nullptr) {
        return fmt::format("signal {}", signal);
    }
    return fmt::format("SIG{}", abbrev);
}

bool Result::ok() const {
    return exit_code == 0 && !timed_out && !interrupted_by;
}

std::string Result::describe() const {
    if (timed_out) {
        return fmt::format("timed out after {}", format_duration(timeout));
    }
    if (interrupted_by) {
        return fmt::format("interrupted by {}", signal_name(*interrupted_by));
    }
    if (signal) {
        return fmt::format("killed by signal {} ({})", *signal, signal_name(*signal));
    }
    if (exit_code) {
        return fmt::format("exited with {}", *exit_code);
    }
    return "did not run";
}

}  // namespace mloop::process
