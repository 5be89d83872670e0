// Runs Commands as child processes: the one way mloop starts a training command, docker or
// kubectl. The interface lets unit tests substitute FakeRunner (fake_runner.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process/command.hpp"

namespace mloop::process {

// Where one of the child's streams goes. Every destination receives the same masked bytes.
struct Output {
    // Also copy to mloop's own stdout/stderr (the same fd number), unbuffered. If that copy
    // fails (a closed pipe, `mloop train | head`), the copying stops and the run goes on.
    // Under --json mloop's stdout must hold one JSON document only: leave out.terminal off
    // then (the log still gets everything).
    bool terminal = false;
    // Append to this file, created 0600 if missing whatever the umask (logs may hold what a
    // secret pattern missed). Opening it is checked before the child starts.
    std::optional<std::filesystem::path> log{};
    // Keep in Result::out/err: the first capture_limit bytes. The head, not the tail, because
    // captured output is parsed (docker inspect, kubectl -o json); the log has all of it.
    bool capture = false;
};

struct RunOptions {
    Output out{};
    Output err{};
    std::vector<std::string> secrets{};       // values masked as "***" before any byte is written
    size_t capture_limit = 16 << 20;          // per stream
    std::optional<std::string> stdin_data{};  // else the child reads /dev/null
};

struct Result {
    std::optional<int> exit_code{};  // set when the child exited
    std::optional<int> signal{};     // set when a signal killed it
    bool timed_out = false;
    std::chrono::milliseconds timeout{};  // the limit that ran out, when timed_out
    // SIGINT or SIGTERM that mloop received (and forwarded) while the command ran. The caller
    // records the interruption and stops (exit 130/143): the child may well have exited 0 after
    // handling the signal, and that is still not a success.
    std::optional<int> interrupted_by{};
    std::chrono::milliseconds wall{};  // from start to the exit of the direct child
    // user+sys of the child, the descendants it waited for, and those mloop reaped
    std::chrono::milliseconds cpu{};
    int64_t max_rss_kb = 0;    // the largest peak RSS among them (not a sum: they need not overlap)
    std::string out{}, err{};  // masked; only for streams with capture set
    bool out_truncated = false, err_truncated = false;
    // Set when a log file could not be written to the end (disk full): the run is reported
    // as it ended and the caller decides what a partial log means.
    std::string log_error{};

    bool ok() const;  // exited 0, and neither timed out nor interrupted
    // "exited with 3", "killed by signal 9 (SIGKILL)", "timed out after 30s",
    // "interrupted by SIGINT"
    std::string describe() const;
};

class ProcessRunner {
  public:
    virtual ~ProcessRunner() = default;
    // Throws error::ExternalError when the program cannot be started (not found, not
    // executable, the cwd is missing), error::UsageError for an argument or environment entry
    // that cannot be passed (a NUL byte, a name with '='), error::RegistryError when a log
    // file cannot be opened. Anything the child does is reported in the Result.
    virtual Result run(const Command& command, const RunOptions& options) = 0;
};

// The real runner (posix_runner.cpp). Decisions, for mloop(1) and the next reader:
//  - The child runs in its own process group, so the terminal's Ctrl-C reaches mloop alone;
//    while run() is active mloop catches SIGINT and SIGTERM and forwards them to the group at
//    once. A second signal sends SIGKILL at once (the usual "press Ctrl-C twice"). A signal
//    that mloop itself ignored when run() began (nohup, a background job) stays ignored.
//  - Timeout: SIGTERM to the group, SIGKILL after Command::grace.
//  - mloop becomes a child subreaper, so descendants that outlive the child come back to it.
//    When the child exits on its own, whatever is left of its group is SIGKILLed and reaped
//    at once. When mloop had already asked the group to stop (a signal or the timeout), the
//    rest of the group keeps the remainder of the grace period first: `sh -c 'python
//    train.py; …'` under dash loses the shell at the first SIGINT while python is still
//    writing its checkpoint. Descendants that left the group (setsid daemons) are found
//    through /proc (ppid = mloop) and killed too, but only by the last run() active in the
//    process: a concurrent run (a sweep with -j N) cannot tell whose they are.
//  - Assumption: every child of mloop is started by this runner. Collection reaps any child
//    of mloop it finds; nothing else in mloop may keep children of its own across a run().
//  - run() may be called from several threads at once (sweeps); SIGPIPE is ignored while any
//    run() is active so a child that closes its stdin early cannot kill mloop.
//  - The child gets fds 0-2 only: everything else is closed in it, close-on-exec or not
//    (a library's careless open, a descriptor mloop inherited). No jobserver fds pass through.
//  - Reported usage comes from wait4() of each process mloop reaps (the child, which includes
//    what it waited for, and each collected descendant), not from RUSAGE_CHILDREN deltas,
//    which concurrent runs would mix up.
// Limitations: if mloop is killed with SIGKILL its child keeps running (posix_spawn offers no
// parent-death signal). As PID 1 of a container mloop is the namespace's reaper anyway, and
// the kernel drops SIGTERM/SIGINT sent to PID 1 from inside the namespace unless a handler is
// installed: outside run() such signals do nothing. A child that opens /dev/tty is in a
// background process group and is stopped if it reads from it.
std::unique_ptr<ProcessRunner> make_posix_runner();

// "SIGKILL" for 9; "signal N" when the C library has no name for N.
std::string signal_name(int signal);

}  // namespace mloop::process
