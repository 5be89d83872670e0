// The real ProcessRunner: posix_spawnp, one process group per command, a poll() loop that
// streams both pipes through the Masker, forwards mloop's signals and enforces the timeout.
// The decisions are listed above make_posix_runner() in runner.hpp.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "error/error.hpp"
#include "process/mask.hpp"
#include "process/runner.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace mloop::process {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t k_read_block = 64 << 10;
constexpr milliseconds k_tick{10};  // polling period when no pidfd can tell us of an exit
constexpr milliseconds k_collect_limit{1000};  // for SIGKILLed descendants to disappear
constexpr milliseconds k_collect_pause{2};

class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return m_fd; }
    explicit operator bool() const { return m_fd >= 0; }
    void reset() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = -1;
    }

  private:
    int m_fd = -1;
};

std::string cannot_run(const Command& command) {
    return fmt::format("cannot run {}", util::quote(command.program));
}

// Blocks until all of `data` is written; false (errno set) on an error other than EINTR.
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {  // someone made the terminal non-blocking
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 100);
                continue;
            }
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

// ---- Signals received by mloop while commands run -----------------------------------------
//
// Several run() calls may be active at once (sweeps), so the handler writes the signal number
// to one self-pipe per active run. The pipes are created once and never closed: the handler
// may read a slot's descriptor just as its run ends, and a closed number could be reused.

struct Slot {
    std::atomic<int> notify{-1};  // write end while a run owns the slot, else -1
    int read_end = -1;
    int write_end = -1;
    bool busy = false;
};

struct SavedAction {
    int signal;
    struct sigaction previous;
    bool replaced;
};

constexpr size_t k_max_runs = 64;
std::array<Slot, k_max_runs> g_slots;
std::mutex g_mutex;  // the slots, g_active, g_saved, and collecting escaped descendants
int g_active = 0;
std::array<SavedAction, 3> g_saved{
    {{SIGINT, {}, false}, {SIGTERM, {}, false}, {SIGPIPE, {}, false}}};

void on_signal(int signal) {
    const int saved_errno = errno;
    const auto byte = static_cast<unsigned char>(signal);
    for (auto& slot : g_slots) {
        const int fd = slot.notify.load(std::memory_order_relaxed);
        if (fd >= 0) {
            [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
        }
    }
    errno = saved_errno;
}

void install_handlers() {
    for (auto& saved : g_saved) {
        struct sigaction action {};
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;  // no SA_RESTART: the poll() must wake up
        action.sa_handler = saved.signal == SIGPIPE ? SIG_IGN : on_signal;
        ::sigaction(saved.signal, nullptr, &saved.previous);
        // A signal mloop was started ignoring (nohup, a background job) stays ignored.
        saved.replaced = saved.previous.sa_handler != SIG_IGN;
        if (saved.replaced) {
            ::sigaction(saved.signal, &action, nullptr);
        }
    }
}

void restore_handlers() {
    for (auto& saved : g_saved) {
        if (saved.replaced) {
            ::sigaction(saved.signal, &saved.previous, nullptr);
        }
    }
}

class SignalScope {
  public:
    SignalScope() {
        std::lock_guard lock(g_mutex);
        for (auto& slot : g_slots) {
            if (!slot.busy) {
                m_slot = &slot;
                break;
            }
        }
        if (m_slot == nullptr) {
            throw error::ExternalError(
                fmt::format("cannot run more than {} commands at once", k_max_runs));
        }
        if (m_slot->read_end < 0) {
            int fds[2];
            if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
                throw error::ExternalError(
                    fmt::format("cannot create a pipe: {}", util::errno_message(errno)));
            }
            m_slot->read_end = fds[0];
            m_slot->write_end = fds[1];
        }
        take();  // a previous owner's leftovers
        m_slot->busy = true;
        m_slot->notify.store(m_slot->write_end);
        if (g_active++ == 0) {
            install_handlers();
        }
    }
    ~SignalScope() {
        std::lock_guard lock(g_mutex);
        m_slot->notify.store(-1);
        m_slot->busy = false;
        if (--g_active == 0) {
            restore_handlers();
        }
    }
    SignalScope(const SignalScope&) = delete;
    SignalScope& operator=(const SignalScope&) = delete;

    int fd() const { return m_slot->read_end; }
    std::vector<int> take() {
        std::vector<int> signals;
        unsigned char buf[64];
        ssize_t n;
        while ((n = ::read(m_slot->read_end, buf, sizeof buf)) > 0) {
            signals.insert(signals.end(), buf, buf + n);
        }
        return signals;
    }

  private:
    Slot* m_slot = nullptr;
};

void become_subreaper() {
    static std::once_flag once;
    // Failure leaves orphans to init; they are then out of reach, which the collection below
    // tolerates (it finds fewer children).
    std::call_once(once, [] { ::prctl(PR_SET_CHILD_SUBREAPER, 1); });
}

// ---- Preparing the child ------------------------------------------------------------------

void refuse_nul(const Command& command, std::string_view what, std::string_view value) {
    if (value.find('\0') != std::string_view::npos) {
        throw error::UsageError(
            fmt::format("{}: {} contains a NUL byte", cannot_run(command), what));
    }
}

std::vector<std::string> build_environment(const Command& command) {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        env.emplace_back(*e);
    }
    for (const auto& [name, value] : command.env) {
        if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
            throw error::UsageError(fmt::format("{}: invalid environment variable name {}",
                                                cannot_run(command), util::quote(name)));
        }
        const std::string prefix = name + "=";
        std::erase_if(env, [&](const std::string& entry) { return entry.starts_with(prefix); });
        if (value) {
            refuse_nul(command, fmt::format("environment variable {}", name), *value);
            env.push_back(prefix + *value);
        }
    }
    return env;
}

int directory_error(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        return errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        return ENOTDIR;
    }
    return ::access(dir.c_str(), X_OK) == 0 ? 0 : errno;
}

// The child's chdir fails with the same errno as a missing program, so the cwd is checked
// here first, where the message can name it.
void check_cwd(const Command& command) {
    if (command.cwd.empty()) {
        return;
    }
    if (const int err = directory_error(command.cwd)) {
        throw error::ExternalError(
            fmt::format("{}: cannot change directory to {}: {}", cannot_run(command),
                        util::quote(util::display_path(command.cwd)), util::errno_message(err)));
    }
}

[[noreturn]] void throw_cannot_start(const Command& command, int err) {
    std::string hint;
    if (err == ENOENT && command.program.find('/') == std::string::npos) {
        hint = "is it installed and on PATH?";
    } else if (err == EACCES) {
        hint = "is it an executable file?";
    }
    throw error::ExternalError(fmt::format("{}: {}", cannot_run(command), util::errno_message(err)),
                               hint);
}

// posix_spawnp searches mloop's own PATH; when the overlay sets PATH, the child's PATH is the
// one the user meant, so search it here (relative entries beneath the child's cwd).
std::string program_to_spawn(const Command& command) {
    const std::string* path = nullptr;
    for (const auto& [name, value] : command.env) {
        if (name == "PATH") {
            path = value ? &*value : nullptr;
        }
    }
    if (path == nullptr || command.program.find('/') != std::string::npos) {
        return command.program;
    }
    std::error_code ec;
    const fs::path base =
        command.cwd.empty() ? fs::current_path(ec) : fs::absolute(command.cwd, ec);
    std::string_view dirs = *path;
    while (true) {
        const size_t colon = dirs.find(':');
        const fs::path candidate = base / dirs.substr(0, colon) / command.program;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
        if (colon == std::string_view::npos) {
            throw_cannot_start(command, ENOENT);
        }
        dirs.remove_prefix(colon + 1);
    }
}

Fd open_log(const fs::path& path) {
    int fd =
        ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd >= 0) {
        ::fchmod(fd, 0600);  // whatever the umask
    } else if (errno == EEXIST) {
        fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
    }
    if (fd < 0) {
        throw error::RegistryError(fmt::format("cannot open log file {}: {}",
                                               util::quote(util::display_path(path)),
                                               util::errno_message(errno)));
    }
    return Fd(fd);
}

// One of the child's streams: masked once, then copied to each destination.
class Sink {
  public:
    Sink(const Output& output, int terminal_fd, const RunOptions& options, std::string* capture,
         bool* truncated)
        : m_masker(options.secrets),
          m_terminal(output.terminal ? terminal_fd : -1),
          m_capture(output.capture ? capture : nullptr),
          m_truncated(truncated),
          m_limit(options.capture_limit) {
        if (output.log) {
            m_log = open_log(*output.log);
            m_log_name = util::quote(util::display_path(*output.log));
        }
    }
    bool wanted() const { return m_terminal >= 0 || m_log || m_capture != nullptr; }
    void write(std::string_view raw) { emit(m_masker.feed(raw)); }
    void finish() { emit(m_masker.flush()); }
    const std::string& log_error() const { return m_log_error; }

  private:
    void emit(std::string_view text) {
        if (text.empty()) {
            return;
        }
        if (m_terminal >= 0 && !write_all(m_terminal, text)) {
            m_terminal = -1;
        }
        if (m_log && !write_all(m_log.get(), text)) {
            m_log_error =
                fmt::format("cannot write log file {}: {}", m_log_name, util::errno_message(errno));
            m_log.reset();
        }
        if (m_capture != nullptr) {
            const size_t room = m_limit - std::min(m_limit, m_capture->size());
            m_capture->append(text.substr(0, room));
            *m_truncated = *m_truncated || text.size() > room;
        }
    }

    Masker m_masker;
    int m_terminal;
    Fd m_log;
    std::string m_log_name;
    std::string m_log_error;
    std::string* m_capture;
    bool* m_truncated;
    size_t m_limit;
};

struct Child {
    pid_t pid = -1;
    Fd in, out, err;  // mloop's ends of the pipes; empty when not piped
};

class SpawnSetup {
  public:
    explicit SpawnSetup(const Command& command) : m_command(command) {
        check(posix_spawn_file_actions_init(&m_actions));
        if (const int rc = posix_spawnattr_init(&m_attr)) {
            posix_spawn_file_actions_destroy(&m_actions);
            throw_cannot_start(m_command, rc);
        }
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&m_actions);
        posix_spawnattr_destroy(&m_attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;

    void check(int rc) const {
        if (rc != 0) {
            throw_cannot_start(m_command, rc);
        }
    }
    // Returns mloop's end of a new pipe whose other end becomes the child's `target`.
    Fd pipe_to(int target, bool child_reads) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            throw_cannot_start(m_command, errno);
        }
        Fd read_end(fds[0]), write_end(fds[1]);
        Fd& child_end = child_reads ? read_end : write_end;
        check(posix_spawn_file_actions_adddup2(&m_actions, child_end.get(), target));
        m_child_ends.push_back(std::move(child_end));
        Fd ours = std::move(child_reads ? write_end : read_end);
        ::fcntl(ours.get(), F_SETFL, O_NONBLOCK);
        return ours;
    }
    void null_to(int target) {
        check(posix_spawn_file_actions_addopen(&m_actions, target, "/dev/null",
                                               target == 0 ? O_RDONLY : O_WRONLY, 0));
    }
    pid_t spawn(const std::string& program, std::vector<std::string>& env) {
        // Descriptors mloop inherited or a library opened without O_CLOEXEC stay out of the
        // child too (close_fds, as Python's subprocess does by default).
        check(posix_spawn_file_actions_addclosefrom_np(&m_actions, STDERR_FILENO + 1));
        if (!m_command.cwd.empty()) {
            check(posix_spawn_file_actions_addchdir_np(&m_actions, m_command.cwd.c_str()));
        }
        sigset_t empty, defaults;
        sigemptyset(&empty);
        sigemptyset(&defaults);
        for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGQUIT, SIGHUP}) {
            sigaddset(&defaults, s);
        }
        check(posix_spawnattr_setflags(
            &m_attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
        check(posix_spawnattr_setpgroup(&m_attr, 0));
        check(posix_spawnattr_setsigmask(&m_attr, &empty));
        check(posix_spawnattr_setsigdefault(&m_attr, &defaults));

        std::vector<char*> argv{const_cast<char*>(m_command.program.c_str())};
        for (const auto& arg : m_command.args) {
            argv.push_back(const_cast<char*>(arg.c_str()));
        }
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& entry : env) {
            envp.push_back(entry.data());
        }
        envp.push_back(nullptr);

        pid_t pid = -1;
        const int rc =
            posix_spawnp(&pid, program.c_str(), &m_actions, &m_attr, argv.data(), envp.data());
        m_child_ends.clear();  // the child has its copies; EOF must come when it exits
        if (rc != 0) {
            check_cwd(m_command);  // removed meanwhile: name the directory, not the program
            throw_cannot_start(m_command, rc);
        }
        return pid;
    }

  private:
    const Command& m_command;
    posix_spawn_file_actions_t m_actions{};
    posix_spawnattr_t m_attr{};
    std::vector<Fd> m_child_ends;
};

// Everything that can be refused before a log file is created or a process started.
struct Prepared {
    std::vector<std::string> env;
    std::string program;  // what posix_spawnp looks up; argv[0] stays Command::program
};

Prepared prepare(const Command& command) {
    refuse_nul(command, "the program name", command.program);
    for (const auto& arg : command.args) {
        refuse_nul(command, "an argument", arg);
    }
    Prepared prepared{build_environment(command), {}};
    check_cwd(command);
    prepared.program = program_to_spawn(command);
    return prepared;
}

Child start_child(const Command& command, Prepared& prepared, const RunOptions& options, bool out,
                  bool err) {
    SpawnSetup setup(command);
    Child child;
    if (options.stdin_data) {
        child.in = setup.pipe_to(STDIN_FILENO, true);
    } else {
        setup.null_to(STDIN_FILENO);
    }
    if (out) {
        child.out = setup.pipe_to(STDOUT_FILENO, false);
    } else {
        setup.null_to(STDOUT_FILENO);
    }
    if (err) {
        child.err = setup.pipe_to(STDERR_FILENO, false);
    } else {
        setup.null_to(STDERR_FILENO);
    }
    child.pid = setup.spawn(prepared.program, prepared.env);
    return child;
}

// glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link its pidfd_open.
int open_pidfd(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// ---- Supervising it -----------------------------------------------------------------------

// /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> out;
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr) {
        return out;
    }
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name.empty() || name.find_first_not_of("0123456789") != std::string_view::npos) {
            continue;
        }
        Fd fd(::open(fmt::format("/proc/{}/stat", name).c_str(), O_RDONLY | O_CLOEXEC));
        char buf[512];
        const ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
        if (n <= 0) {
            continue;
        }
        const std::string_view stat(buf, static_cast<size_t>(n));
        const size_t close = stat.rfind(')');
        int ppid = 0;
        if (close != std::string_view::npos &&
            std::sscanf(std::string(stat.substr(close + 1)).c_str(), " %*c %d", &ppid) == 1 &&
            ppid == parent) {
            out.push_back(static_cast<pid_t>(std::stol(std::string(name))));
        }
    }
    ::closedir(dir);
    return out;
}

class Supervision {
  public:
    Supervision(const Command& command, const RunOptions& options, Child& child, Sink& out,
                Sink& err, SignalScope& signals, Result& result, Clock::time_point start)
        : m_command(command),
          m_stdin(options.stdin_data ? *options.stdin_data : std::string_view()),
          m_child(child),
          m_out(out),
          m_err(err),
          m_signals(signals),
          m_result(result),
          m_start(start),
          m_pidfd(open_pidfd(child.pid)),
          m_buffer(k_read_block, '\0') {
        if (command.timeout) {
            m_timeout_at = start + *command.timeout;
        }
        if (m_child.in && m_stdin.empty()) {
            m_child.in.reset();
        }
    }

    void run() {
        try {
            wait_loop();
        } catch (...) {
            // Never leave the child running behind an exception (say, out of memory).
            kill_group(SIGKILL);
            while (!m_exited && ::waitpid(m_child.pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            m_exited = true;
            collect();
            throw;
        }
        collect();
        for (int s : m_signals.take()) {  // arrived as the child was finishing
            note_signal(s, false);
        }
        drain(m_child.out, m_out);
        drain(m_child.err, m_err);
        m_out.finish();
        m_err.finish();
        m_result.cpu =
            std::chrono::duration_cast<milliseconds>(std::chrono::microseconds(m_cpu_us));
        m_result.max_rss_kb = m_max_rss_kb;
        m_result.log_error = m_out.log_error().empty() ? m_err.log_error() : m_out.log_error();
    }

  private:
    void wait_loop() {
        while (true) {
            const auto now = Clock::now();
            if (m_exited && (!m_kill_at || m_killed || group_gone())) {
                return;
            }
            if (!m_exited && m_timeout_at && now >= *m_timeout_at && !m_kill_at) {
                m_result.timed_out = true;
                m_result.timeout = *m_command.timeout;
                ask_to_stop(SIGTERM);
            }
            if (m_kill_at && !m_killed && now >= *m_kill_at) {
                kill_group(SIGKILL);
                m_killed = true;
            }
            wait_for_events(now);
            if (!m_exited) {
                check_child();
            }
        }
    }

    void wait_for_events(Clock::time_point now) {
        std::array<pollfd, 5> fds{{{m_signals.fd(), POLLIN, 0},
                                   {m_child.out.get(), POLLIN, 0},
                                   {m_child.err.get(), POLLIN, 0},
                                   {m_child.in.get(), POLLOUT, 0},
                                   {m_exited ? -1 : m_pidfd.get(), POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), poll_timeout(now)) < 0) {
            return;  // EINTR: one of our signals; its byte is in the pipe
        }
        if (fds[0].revents != 0) {
            for (int s : m_signals.take()) {
                note_signal(s, true);
            }
        }
        if (fds[1].revents != 0) {
            pump(m_child.out, m_out);
        }
        if (fds[2].revents != 0) {
            pump(m_child.err, m_err);
        }
        if (fds[3].revents != 0) {
            feed_stdin();
        }
    }

    int poll_timeout(Clock::time_point now) const {
        std::optional<Clock::time_point> next;
        auto consider = [&](Clock::time_point t) {
            next = next ? std::min(*next, t) : t;
        };
        if (m_timeout_at && !m_kill_at && !m_exited) {
            consider(*m_timeout_at);
        }
        if (m_kill_at && !m_killed) {
            consider(*m_kill_at);
        }
        if (m_exited || !m_pidfd) {
            consider(now + k_tick);  // no descriptor tells us when the group empties
        }
        if (!next) {
            return -1;
        }
        const auto wait = std::chrono::ceil<milliseconds>(*next - now).count();
        return static_cast<int>(std::clamp<int64_t>(wait, 0, 60'000));
    }

    void note_signal(int signal, bool forward) {
        if (!m_result.interrupted_by) {
            m_result.interrupted_by = signal;
        }
        if (!forward) {
            return;
        }
        if (++m_signals_received >= 2) {
            kill_group(SIGKILL);
            m_killed = true;
        } else {
            ask_to_stop(signal);
        }
    }

    void ask_to_stop(int signal) {
        kill_group(signal);
        if (!m_kill_at) {
            m_kill_at = Clock::now() + m_command.grace;
        }
    }

    // Only while the group may still exist: once it was seen empty its id can be reused.
    void kill_group(int signal) {
        if (!m_group_gone) {
            ::kill(-m_child.pid, signal);
        }
    }

    void pump(Fd& fd, Sink& sink) {
        const ssize_t n = ::read(fd.get(), m_buffer.data(), m_buffer.size());
        if (n > 0) {
            sink.write(std::string_view(m_buffer.data(), static_cast<size_t>(n)));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            fd.reset();
        }
    }

    // After every process is gone: what is still buffered in the pipes. EAGAIN means a writer
    // that could not be stopped still holds one; it is left to EPIPE.
    void drain(Fd& fd, Sink& sink) {
        while (fd) {
            const ssize_t n = ::read(fd.get(), m_buffer.data(), m_buffer.size());
            if (n > 0) {
                sink.write(std::string_view(m_buffer.data(), static_cast<size_t>(n)));
            } else if (n == 0 || errno != EINTR) {
                fd.reset();
            }
        }
    }

    void feed_stdin() {
        const ssize_t n =
            ::write(m_child.in.get(), m_stdin.data() + m_stdin_done, m_stdin.size() - m_stdin_done);
        if (n > 0) {
            m_stdin_done += static_cast<size_t>(n);
        }
        if (m_stdin_done == m_stdin.size() || (n < 0 && errno != EINTR && errno != EAGAIN)) {
            m_child.in.reset();  // EOF for the child, or it closed its end (EPIPE)
        }
    }

    void check_child() {
        int status = 0;
        rusage usage{};
        const pid_t pid = ::wait4(m_child.pid, &status, WNOHANG, &usage);
        if (pid == 0 || (pid < 0 && errno == EINTR)) {
            return;
        }
        m_exited = true;  // or reaped by someone else (ECHILD): no status to report then
        m_result.wall = std::chrono::duration_cast<milliseconds>(Clock::now() - m_start);
        m_pidfd.reset();
        if (pid != m_child.pid) {
            return;
        }
        add_usage(usage);
        if (WIFEXITED(status)) {
            m_result.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            m_result.signal = WTERMSIG(status);
        }
    }

    void add_usage(const rusage& usage) {
        m_cpu_us += (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000 +
                    usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
        m_max_rss_kb = std::max<int64_t>(m_max_rss_kb, usage.ru_maxrss);
    }

    // Reaps the group's members that came back to mloop; true once none is left at all.
    bool group_gone() {
        if (m_group_gone) {
            return true;
        }
        int status = 0;
        rusage usage{};
        pid_t pid;
        while ((pid = ::wait4(-m_child.pid, &status, WNOHANG, &usage)) > 0) {
            add_usage(usage);
        }
        m_group_gone = ::kill(-m_child.pid, 0) != 0 && errno == ESRCH;
        return m_group_gone;
    }

    // Nothing the command started may outlive run(): first its process group, then (when no
    // other run is active, see runner.hpp) children of mloop that left the group.
    void collect() {
        const auto limit = Clock::now() + k_collect_limit;
        while (!group_gone() && Clock::now() < limit) {
            kill_group(SIGKILL);
            std::this_thread::sleep_for(k_collect_pause);
        }
        std::lock_guard lock(g_mutex);
        if (g_active != 1) {
            return;
        }
        while (true) {
            int status = 0;
            rusage usage{};
            while (::wait4(-1, &status, WNOHANG, &usage) > 0) {
                add_usage(usage);
            }
            const auto left = children_of(::getpid());
            if (left.empty() || Clock::now() >= limit) {
                return;
            }
            for (pid_t pid : left) {
                ::kill(pid, SIGKILL);
            }
            std::this_thread::sleep_for(k_collect_pause);
        }
    }

    const Command& m_command;
    std::string_view m_stdin;
    size_t m_stdin_done = 0;
    Child& m_child;
    Sink& m_out;
    Sink& m_err;
    SignalScope& m_signals;
    Result& m_result;
    Clock::time_point m_start;
    Fd m_pidfd;  // readable when the child exits; absent on kernels without pidfd_open
    std::string m_buffer;
    std::optional<Clock::time_point> m_timeout_at;
    std::optional<Clock::time_point> m_kill_at;  // SIGKILL for the group when still alive
    bool m_killed = false;
    bool m_exited = false;
    bool m_group_gone = false;
    int m_signals_received = 0;
    int64_t m_cpu_us = 0;
    int64_t m_max_rss_kb = 0;
};

class PosixRunner : public ProcessRunner {
  public:
    Result run(const Command& command, const RunOptions& options) override {
        Prepared prepared = prepare(command);
        Result result;
        Sink out(options.out, STDOUT_FILENO, options, &result.out, &result.out_truncated);
        Sink err(options.err, STDERR_FILENO, options, &result.err, &result.err_truncated);
        become_subreaper();
        SignalScope signals;  // before the spawn, so no signal falls between the two
        const auto start = Clock::now();
        Child child = start_child(command, prepared, options, out.wanted(), err.wanted());
        Supervision(command, options, child, out, err, signals, result, start).run();
        return result;
    }
};

}  // namespace

std::unique_ptr<ProcessRunner> make_posix_runner() {
    return std::make_unique<PosixRunner>();
}

}  // namespace mloop::process
