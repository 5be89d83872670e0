// A ProcessRunner for unit tests, in the manner of ninja's FakeCommandRunner: it starts
// nothing, records what it was asked to run and answers with scripted Results.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "process/runner.hpp"

namespace mloop::process {

class FakeRunner : public ProcessRunner {
  public:
    struct Call {
        Command command;
        RunOptions options;
    };
    using Script = std::function<Result(const Command&)>;

    // Without a script, a call with no queued Result "exits 0" with no output.
    FakeRunner() = default;
    explicit FakeRunner(Script script) : m_script(std::move(script)) {}

    // Queued Results are answered first, in order, before the script is asked.
    void push(Result result);
    // A Result that exited with `code`, printing `out` (and `err`).
    static Result exited(int code, std::string out = {}, std::string err = {});

    // Behaves as the real runner does with the scripted output: streams without capture
    // come back empty, captured ones masked and cut at capture_limit. A script may throw
    // error::ExternalError to stand for a program that cannot be started; the call is
    // recorded all the same.
    Result run(const Command& command, const RunOptions& options) override;

    std::vector<Call> calls() const;
    // describe() of each recorded command, for compact assertions.
    std::vector<std::string> commands() const;

  private:
    mutable std::mutex m_mutex;  // sweeps run commands from several threads
    Script m_script;
    std::deque<Result> m_queue;
    std::vector<Call> m_calls;
};

}  // namespace mloop::process
