#include "error/error.hpp"

#include <csignal>

#include <fmt/format.h>

namespace mloop::error {

namespace {

constexpr ExitCodeInfo k_exit_codes[] = {
    {ExitCode::ok, "ok", "success; for checks: everything passed"},
    {ExitCode::check_failed, "check-failed",
     "a check failed: data expectations, model gates, drift or performance alert, deployment "
     "analysis (after automatic rollback)"},
    {ExitCode::usage, "usage", "usage error, invalid project file, unknown reference"},
    {ExitCode::external, "external",
     "an external command failed or is missing: training or evaluation command, docker, "
     "kubectl, a webhook that did not answer"},
    {ExitCode::registry, "registry",
     "registry or store problem: corruption, newer schema, lock not obtained in time, disk full"},
    {ExitCode::sigint, "interrupted",
     "interrupted by SIGINT (after cleaning up and recording the interruption)"},
    {ExitCode::sigterm, "terminated",
     "interrupted by SIGTERM (after cleaning up and recording the interruption)"},
};

std::string summarize(const std::vector<Diagnostic>& diagnostics) {
    size_t errors = 0;
    for (const auto& d : diagnostics) {
        errors += d.severity == Severity::error;
    }
    if (diagnostics.empty()) {
        return "invalid project file";
    }
    const auto& first = diagnostics.front();
    if (errors <= 1) {
        return fmt::format("{}: {}", first.where.str(), first.message);
    }
    return fmt::format("{}: {} errors in the project file", first.where.file, errors);
}

}  // namespace

std::span<const ExitCodeInfo> exit_codes() {
    return k_exit_codes;
}

std::string Location::str() const {
    if (line <= 0) {
        return file;
    }
    if (column <= 0) {
        return fmt::format("{}:{}", file, line);
    }
    return fmt::format("{}:{}:{}", file, line, column);
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : Error(summarize(diagnostics)), m_diagnostics(std::move(diagnostics)) {}

Interrupted::Interrupted(int signal_number)
    : Error(signal_number == SIGTERM ? "terminated" : "interrupted"), m_signal(signal_number) {}

ExitCode Interrupted::code() const {
    return m_signal == SIGTERM ? ExitCode::sigterm : ExitCode::sigint;
}

}  // namespace mloop::error
