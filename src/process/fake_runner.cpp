#include "process/fake_runner.hpp"

#include "process/mask.hpp"

namespace mloop::process {

namespace {

void as_captured(std::string& text, bool& truncated, bool capture, const RunOptions& options) {
    if (!capture) {
        text.clear();
        truncated = false;
        return;
    }
    text = mask(text, options.secrets);
    if (text.size() > options.capture_limit) {
        text.resize(options.capture_limit);
        truncated = true;
    }
}

}  // namespace

void FakeRunner::push(Result result) {
    std::lock_guard lock(m_mutex);
    m_queue.push_back(std::move(result));
}

Result FakeRunner::exited(int code, std::string out, std::string err) {
    Result r;
    r.exit_code = code;
    r.out = std::move(out);
    r.err = std::move(err);
    return r;
}

Result FakeRunner::run(const Command& command, const RunOptions& options) {
    Result result;
    bool queued = false;
    {
        std::lock_guard lock(m_mutex);
        m_calls.push_back({command, options});
        if (!m_queue.empty()) {
            result = std::move(m_queue.front());
            m_queue.pop_front();
            queued = true;
        }
    }
    if (!queued) {
        // Outside the lock: a script may block or call the runner again.
        result = m_script ? m_script(command) : exited(0);
    }
    as_captured(result.out, result.out_truncated, options.out.capture, options);
    as_captured(result.err, result.err_truncated, options.err.capture, options);
    return result;
}

std::vector<FakeRunner::Call> FakeRunner::calls() const {
    std::lock_guard lock(m_mutex);
    return m_calls;
}

std::vector<std::string> FakeRunner::commands() const {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& call : m_calls) {
        out.push_back(describe(call.command));
    }
    return out;
}

}  // namespace mloop::process
