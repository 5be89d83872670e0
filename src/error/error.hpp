// Typed errors of mloop, each mapped to one process exit code (SPEC §3).
//
// Library code throws these; only run_cli() catches them and turns them into a
// diagnostic on stderr and an exit status. Nothing below the CLI boundary prints.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace mloop::error {

enum class ExitCode : int {
    ok = 0,
    check_failed = 1,
    usage = 2,
    external = 3,
    registry = 4,
    sigint = 130,
    sigterm = 143,
};

struct ExitCodeInfo {
    ExitCode code;
    const char* name;     // short identifier used in --json output
    const char* meaning;  // the sentence documented in mloop(1)
};

// The exit-code contract, in the order mloop(1) lists it. A test checks the man page against it.
std::span<const ExitCodeInfo> exit_codes();

// A position in a file. Lines and columns start at 1; 0 means "unknown".
struct Location {
    std::string file;
    int line = 0;
    int column = 0;

    std::string str() const;  // "file:line:col", "file:line" or "file"
};

enum class Severity { error, warning };

struct Diagnostic {
    Severity severity = Severity::error;
    Location where;
    std::string message;
    std::string hint;  // empty when there is nothing useful to add
};

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what, std::string hint = {})
        : std::runtime_error(what), m_hint(std::move(hint)) {}
    virtual ExitCode code() const = 0;
    const std::string& hint() const { return m_hint; }

  private:
    std::string m_hint;
};

// A check failed: data expectations, model gates, drift, deployment analysis. Exit 1.
class CheckFailed : public Error {
  public:
    using Error::Error;
    ExitCode code() const override { return ExitCode::check_failed; }
};

// Usage error, unknown reference, bad argument. Exit 2.
class UsageError : public Error {
  public:
    using Error::Error;
    ExitCode code() const override { return ExitCode::usage; }
};

// The project file is invalid; carries every diagnostic found. Exit 2.
class ConfigError : public Error {
  public:
    explicit ConfigError(std::vector<Diagnostic> diagnostics);
    ExitCode code() const override { return ExitCode::usage; }
    const std::vector<Diagnostic>& diagnostics() const { return m_diagnostics; }

  private:
    std::vector<Diagnostic> m_diagnostics;
};

// An external command failed or is missing: training, docker, kubectl, a webhook. Exit 3.
class ExternalError : public Error {
  public:
    using Error::Error;
    ExitCode code() const override { return ExitCode::external; }
};

// Registry or store problem: corruption, newer schema, lock timeout, disk full. Exit 4.
class RegistryError : public Error {
  public:
    using Error::Error;
    ExitCode code() const override { return ExitCode::registry; }
};

// Interrupted by a signal after cleaning up. Exit 130 or 143.
class Interrupted : public Error {
  public:
    explicit Interrupted(int signal_number);
    ExitCode code() const override;
    int signal_number() const { return m_signal; }

  private:
    int m_signal;
};

}  // namespace mloop::error
