#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "error/error.hpp"
#include "process/command.hpp"
#include "process/fake_runner.hpp"
#include "process/runner.hpp"
#include "util/fs.hpp"

using namespace mloop;
using namespace mloop::process;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-process-XXXXXX";
        path = fs::canonical(::mkdtemp(tmpl));
    }
    ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
    return util::read_file(p, 1 << 24).value();
}

RunOptions captured() {
    RunOptions o;
    o.out.capture = true;
    o.err.capture = true;
    return o;
}

Command sh(const std::string& script) {
    return Command{"sh", {"-c", script}, {}, {}, std::nullopt};
}

Result run(const Command& c, const RunOptions& o = captured()) {
    return make_posix_runner()->run(c, o);
}

// Sends `signal` to this very process after `delay`, from another thread, as a terminal's
// Ctrl-C or `kill` from outside would.
struct DelayedSignal {
    std::thread thread;
    DelayedSignal(int signal, std::chrono::milliseconds delay, int times = 1) {
        thread = std::thread([=] {
            for (int i = 0; i < times; ++i) {
                std::this_thread::sleep_for(i == 0 ? delay : 100ms);
                ::kill(::getpid(), signal);
            }
        });
    }
    ~DelayedSignal() { thread.join(); }
};

// The pid the child wrote, gone for good: not running, not a zombie.
bool pid_gone(const fs::path& pidfile) {
    const pid_t pid = std::stoi(slurp(pidfile));
    REQUIRE(pid > 1);
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

long ms_since(Clock::time_point t) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

std::atomic<int> g_handled{0};
void count_signal(int) {
    g_handled.fetch_add(1);
}

}  // namespace

TEST_SUITE("process") {
    TEST_CASE("exit codes and signals are reported") {
        const auto three = run(sh("exit 3"));
        CHECK(three.exit_code == 3);
        CHECK_FALSE(three.signal);
        CHECK_FALSE(three.ok());
        CHECK(three.describe() == "exited with 3");

        const auto killed = run(sh("kill -9 $$"));
        CHECK_FALSE(killed.exit_code);
        CHECK(killed.signal == SIGKILL);
        CHECK(killed.describe() == "killed by signal 9 (SIGKILL)");

        const auto fine = run(Command{"true", {}, {}, {}, std::nullopt});
        CHECK(fine.ok());
        CHECK(fine.exit_code == 0);
    }

    TEST_CASE("argv reaches the child byte for byte, through no shell") {
        TempDir t;
        const std::vector<std::string> args{"$(touch pwned)",
                                            "`touch pwned2`",
                                            "a;b",
                                            "x y",
                                            "'single'",
                                            "\"double\"",
                                            "-n",
                                            "--flag=1",
                                            "",
                                            "line1\nline2",
                                            "*",
                                            "$HOME",
                                            "back\\slash",
                                            "tab\there",
                                            "ünïcødé",
                                            "a|b>c<d&e"};
        Command c{"/usr/bin/printf", {"%s\\0"}, {}, t.path, std::nullopt};
        c.args.insert(c.args.end(), args.begin(), args.end());
        const auto r = run(c);
        REQUIRE(r.ok());
        std::string expected;
        for (const auto& a : args) {
            expected += a;
            expected += '\0';
        }
        CHECK(r.out == expected);
        CHECK_FALSE(fs::exists(t.path / "pwned"));
        CHECK_FALSE(fs::exists(t.path / "pwned2"));
    }

    TEST_CASE("describe quotes argv for display") {
        Command c{"python", {"train.py", "--lr", "1e-3", "a b", "it's", "", "x\ny", "$(id)"}};
        CHECK(describe(c) == "python train.py --lr 1e-3 'a b' 'it'\\''s' '' $'x\\ny' '$(id)'");
        CHECK(shell_quote("\xff\x01") == "$'\\xff\\x01'");
    }

    TEST_CASE("a NUL byte or a bad variable name is refused, not truncated") {
        Command c{"printf", {std::string("a\0b", 3)}};
        CHECK_THROWS_WITH_AS(run(c), "cannot run 'printf': an argument contains a NUL byte",
                             error::UsageError);
        Command e{"true", {}, {{"A=B", "x"}}};
        CHECK_THROWS_WITH_AS(run(e), "cannot run 'true': invalid environment variable name 'A=B'",
                             error::UsageError);
    }

    TEST_CASE("the environment overlay sets and unsets variables") {
        ::setenv("MLOOP_TEST_UNSET_ME", "present", 1);
        ::setenv("MLOOP_TEST_REPLACE_ME", "old", 1);
        Command c{"env",
                  {},
                  {{"MLOOP_TEST_SET", "v a=l\nue"},
                   {"MLOOP_TEST_UNSET_ME", std::nullopt},
                   {"MLOOP_TEST_REPLACE_ME", "new"}}};
        const auto r = run(c);
        ::unsetenv("MLOOP_TEST_UNSET_ME");
        ::unsetenv("MLOOP_TEST_REPLACE_ME");
        REQUIRE(r.ok());
        CHECK(r.out.find("\nMLOOP_TEST_SET=v a=l\nue\n") != std::string::npos);
        CHECK(r.out.find("MLOOP_TEST_UNSET_ME") == std::string::npos);
        CHECK(r.out.find("MLOOP_TEST_REPLACE_ME=new\n") != std::string::npos);
        CHECK(r.out.find("MLOOP_TEST_REPLACE_ME=old") == std::string::npos);
        CHECK(r.out.find("PATH=") != std::string::npos);  // the rest is inherited
    }

    TEST_CASE("a PATH set in the overlay is the one searched") {
        TempDir t;
        fs::create_directories(t.path / "bin");
        REQUIRE(
            util::create_file(t.path / "bin" / "mloop-test-tool", "#!/bin/sh\necho tool:$1\n", 0755)
                .ok());
        Command c{"mloop-test-tool", {"x"}, {{"PATH", "/nonexistent:bin:/usr/bin"}}, t.path};
        const auto r = run(c);
        CHECK(r.out == "tool:x\n");
        c.cwd.clear();
        CHECK_THROWS_WITH_AS(run(c), "cannot run 'mloop-test-tool': no such file or directory",
                             error::ExternalError);
    }

    TEST_CASE("cwd is the child's working directory") {
        TempDir t;
        const auto r = run(Command{"pwd", {}, {}, t.path});
        CHECK(r.out == t.path.string() + "\n");
        REQUIRE(util::create_file(t.path / "run.sh", "#!/bin/sh\necho here\n", 0755).ok());
        CHECK(run(Command{"./run.sh", {}, {}, t.path}).out == "here\n");
    }

    TEST_CASE("a program that cannot be started is an ExternalError naming it") {
        TempDir t;
        try {
            run(Command{"mloop-no-such-program", {"--version"}});
            FAIL("no exception");
        } catch (const error::ExternalError& e) {
            CHECK(std::string(e.what()) ==
                  "cannot run 'mloop-no-such-program': no such file or directory");
            CHECK(e.hint() == "is it installed and on PATH?");
        }
        try {
            run(Command{"/nonexistent/prog"});
            FAIL("no exception");
        } catch (const error::ExternalError& e) {
            CHECK(std::string(e.what()) ==
                  "cannot run '/nonexistent/prog': no such file or directory");
            CHECK(e.hint().empty());
        }
        REQUIRE(util::create_file(t.path / "data.txt", "not a program\n", 0644).ok());
        const std::string data = (t.path / "data.txt").string();
        CHECK_THROWS_WITH_AS(run(Command{data}),
                             ("cannot run '" + data + "': permission denied").c_str(),
                             error::ExternalError);
    }

    TEST_CASE("a missing cwd is an ExternalError naming the directory, before any log is made") {
        TempDir t;
        RunOptions o;
        o.out.log = t.path / "out.log";
        const fs::path missing = t.path / "missing";
        CHECK_THROWS_WITH_AS(run(Command{"true", {}, {}, missing}, o),
                             ("cannot run 'true': cannot change directory to '" +
                              util::display_path(missing) + "': no such file or directory")
                                 .c_str(),
                             error::ExternalError);
        CHECK_FALSE(fs::exists(t.path / "out.log"));
        REQUIRE(util::create_file(t.path / "file", "", 0644).ok());
        CHECK_THROWS_WITH_AS(run(Command{"true", {}, {}, t.path / "file"}),
                             ("cannot run 'true': cannot change directory to '" +
                              util::display_path(t.path / "file") + "': not a directory")
                                 .c_str(),
                             error::ExternalError);
    }

    TEST_CASE("stdout and stderr go to a 0600 log and the capture at once, masked") {
        TempDir t;
        const std::string secret = "S3cr3tValue!";
        const fs::path log = t.path / "run.log";
        RunOptions o = captured();
        o.out.log = log;
        o.err.log = log;
        o.secrets = {secret};
        const mode_t old_umask = ::umask(0);
        // Whole, split across two writes with a pause between, on stderr, and as the very
        // last bytes of output with no newline after it.
        const auto r = run(sh("printf 'token=S3cr3tValue!\\n'; printf 'split=S3cr3t'; sleep 0.2; "
                              "printf 'Value! done\\n'; printf 'err S3cr3tValue!\\n' >&2; "
                              "printf 'end=S3cr3tValue!'"),
                           o);
        ::umask(old_umask);
        REQUIRE(r.ok());
        CHECK(r.out == "token=***\nsplit=*** done\nend=***");
        CHECK(r.err == "err ***\n");
        const std::string logged = slurp(log);
        CHECK(logged.find("S3cr3t") == std::string::npos);
        CHECK(logged.find("token=***\n") != std::string::npos);
        CHECK(logged.find("split=*** done\n") != std::string::npos);
        CHECK(logged.find("err ***\n") != std::string::npos);
        CHECK(logged.find("end=***") != std::string::npos);  // the streams may interleave
        CHECK(logged.size() == r.out.size() + r.err.size());
        struct stat st {};
        REQUIRE(::stat(log.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(r.log_error.empty());

        // An existing log is appended to, never truncated.
        run(sh("echo again"), o);
        CHECK(slurp(log) == logged + "again\n");
    }

    TEST_CASE("terminal output is copied to mloop's own descriptor, masked") {
        TempDir t;
        const fs::path file = t.path / "terminal";
        const int saved = ::dup(STDOUT_FILENO);
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        ::dup2(fd, STDOUT_FILENO);
        ::close(fd);
        RunOptions o;
        o.out.terminal = true;
        o.secrets = {"hunter22"};
        const auto r = run(sh("echo pw=hunter22"), o);
        ::dup2(saved, STDOUT_FILENO);
        ::close(saved);
        CHECK(r.ok());
        CHECK(r.out.empty());  // not captured
        CHECK(slurp(file) == "pw=***\n");
    }

    TEST_CASE("capture keeps the first capture_limit bytes and says it cut") {
        RunOptions o = captured();
        o.capture_limit = 1000;
        const auto r = run(Command{"head", {"-c", "100000", "/dev/zero"}}, o);
        CHECK(r.ok());
        CHECK(r.out.size() == 1000);
        CHECK(r.out_truncated);
        CHECK_FALSE(r.err_truncated);
    }

    TEST_CASE("stdin_data is fed to the child; a child that ignores it does not hurt mloop") {
        RunOptions o = captured();
        o.stdin_data = "hello\n";
        CHECK(run(Command{"cat"}, o).out == "hello\n");
        o.stdin_data = std::string(1 << 20, 'x');
        CHECK(run(Command{"wc", {"-c"}}, o).out == "1048576\n");
        // Closes its stdin unread: mloop's write gets EPIPE, not a fatal SIGPIPE.
        CHECK(run(Command{"true"}, o).ok());
        // Without stdin_data the child reads /dev/null.
        CHECK(run(Command{"cat"}).out.empty());
    }

    TEST_CASE("a timeout sends SIGTERM") {
        Command c{"sleep", {"30"}};
        c.timeout = 300ms;
        const auto start = Clock::now();
        const auto r = run(c);
        CHECK(ms_since(start) < 2000);
        CHECK(r.timed_out);
        CHECK(r.signal == SIGTERM);
        CHECK(r.timeout == 300ms);
        CHECK(r.describe() == "timed out after 300ms");
        CHECK_FALSE(r.ok());
        CHECK(r.wall >= 300ms);
    }

    TEST_CASE("a child that ignores SIGTERM is killed when the grace period ends") {
        Command c = sh("trap '' TERM; sleep 30");
        c.timeout = 200ms;
        c.grace = 300ms;
        const auto start = Clock::now();
        const auto r = run(c);
        const long elapsed = ms_since(start);
        CHECK(elapsed >= 480);
        CHECK(elapsed < 2000);
        CHECK(r.timed_out);
        CHECK(r.signal == SIGKILL);
    }

    TEST_CASE("SIGINT received by mloop is forwarded and the grandchild is gone afterwards") {
        TempDir t;
        const fs::path pidfile = t.path / "pid";
        // The shell dies of SIGINT at once; its background `sleep` ignores SIGINT (POSIX:
        // asynchronous lists of a non-interactive shell do), so it is the grace period that
        // ends it. The default grace of 5 s is shortened to keep the test fast.
        Command c = sh("sleep 30 & echo $! > '" + pidfile.string() + "'; wait");
        c.grace = 300ms;
        const auto start = Clock::now();
        Result r;
        {
            DelayedSignal sigint(SIGINT, 200ms);
            r = run(c);
        }
        CHECK(ms_since(start) < 1000);
        CHECK(r.interrupted_by == SIGINT);
        CHECK(r.signal == SIGINT);
        CHECK(r.describe() == "interrupted by SIGINT");
        CHECK_FALSE(r.ok());
        CHECK(pid_gone(pidfile));
    }

    TEST_CASE("SIGINT received by mloop reaches the child within 100 ms") {
        TempDir t;
        const fs::path ready = t.path / "ready";
        const fs::path got = t.path / "got";
        // The child says when its handler is in place, then notes when the signal came
        // (CLOCK_MONOTONIC, as the sender's).
        Command c{"/usr/bin/python3",
                  {"-c",
                   "import os, signal, sys, time\n"
                   "def on_int(s, f):\n"
                   "    open(sys.argv[2], 'w').write(str(time.monotonic_ns()))\n"
                   "    os._exit(0)\n"
                   "signal.signal(signal.SIGINT, on_int)\n"
                   "open(sys.argv[1], 'w').close()\n"
                   "time.sleep(30)\n",
                   ready.string(), got.string()}};
        c.grace = 2000ms;
        const auto monotonic_ns = [] {
            timespec ts{};
            ::clock_gettime(CLOCK_MONOTONIC, &ts);
            return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
        };
        std::atomic<int64_t> sent{0};
        std::thread sender([&] {
            for (int i = 0; i < 2000 && !fs::exists(ready); ++i) {
                std::this_thread::sleep_for(5ms);
            }
            sent = monotonic_ns();
            ::kill(::getpid(), SIGINT);
        });
        const auto r = run(c);
        sender.join();
        REQUIRE(fs::exists(got));
        const int64_t latency_ms = (std::stoll(slurp(got)) - sent.load()) / 1'000'000;
        MESSAGE("SIGINT reached the child after ", latency_ms, " ms");
        CHECK(latency_ms >= 0);
        CHECK(latency_ms < 100);
        CHECK(r.interrupted_by == SIGINT);
    }

    TEST_CASE("a grandchild that ignores SIGINT is killed after the grace period") {
        TempDir t;
        const fs::path pidfile = t.path / "pid";
        Command c = sh("(trap '' INT; exec sleep 30) & echo $! > '" + pidfile.string() + "'; wait");
        c.grace = 300ms;
        const auto start = Clock::now();
        Result r;
        {
            DelayedSignal sigint(SIGINT, 200ms);
            r = run(c);
        }
        const long elapsed = ms_since(start);
        CHECK(elapsed >= 480);
        CHECK(elapsed < 2000);
        CHECK(r.interrupted_by == SIGINT);
        CHECK(pid_gone(pidfile));
    }

    TEST_CASE("a second signal kills at once, and SIGTERM is forwarded as such") {
        Command c = sh("trap '' INT; sleep 30");
        const auto start = Clock::now();  // default grace: 5 s
        Result r;
        {
            DelayedSignal twice(SIGINT, 200ms, 2);
            r = run(c);
        }
        CHECK(ms_since(start) < 1000);
        CHECK(r.interrupted_by == SIGINT);
        CHECK(r.signal == SIGKILL);

        Result term;
        {
            DelayedSignal sigterm(SIGTERM, 100ms);
            term = run(Command{"sleep", {"30"}});
        }
        CHECK(term.interrupted_by == SIGTERM);
        CHECK(term.signal == SIGTERM);
    }

    TEST_CASE("mloop's own handlers come back after run()") {
        struct sigaction mine {
        }, before{}, after{};
        mine.sa_handler = count_signal;
        sigemptyset(&mine.sa_mask);
        REQUIRE(::sigaction(SIGINT, &mine, &before) == 0);
        g_handled = 0;
        CHECK(run(Command{"true"}).ok());
        ::sigaction(SIGINT, nullptr, &after);
        const bool restored = after.sa_handler == count_signal;
        CHECK(restored);
        ::raise(SIGINT);
        CHECK(g_handled == 1);
        ::sigaction(SIGINT, &before, nullptr);
    }

    TEST_CASE("an orphaned grandchild is killed and reaped when run() returns") {
        TempDir t;
        const fs::path pidfile = t.path / "pid";
        const auto start = Clock::now();
        const auto r = run(sh("sleep 30 & echo $! > '" + pidfile.string() + "'"));
        CHECK(r.ok());
        CHECK(ms_since(start) < 1000);
        CHECK(pid_gone(pidfile));

        // One that left the process group too (a daemon) is found as a child of mloop.
        const auto escaped = run(sh("setsid sleep 30 & echo $! > '" + pidfile.string() + "'"));
        CHECK(escaped.ok());
        CHECK(pid_gone(pidfile));
    }

    TEST_CASE("peak RSS, CPU and wall time are reported") {
        const auto r =
            run(Command{"/usr/bin/python3",
                        {"-c", "x = bytearray(64 << 20); x[::4096] = b'1' * len(x[::4096])"}});
        REQUIRE(r.ok());
        CHECK(r.max_rss_kb >= 60000);
        CHECK(r.max_rss_kb < 1000000);
        CHECK(r.wall > 0ms);
        CHECK(r.wall < 5000ms);
        CHECK(r.cpu > 0ms);
        CHECK(r.cpu <= r.wall * 2 + 50ms);  // two cores at most

        // CPU burnt by a descendant that mloop reaps (its parent never waits) counts too.
        const auto busy = run(
            sh("(i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done) & sleep 5 & exec sleep 0.6"));
        CHECK(busy.ok());
        CHECK(busy.cpu >= 50ms);
    }

    TEST_CASE("descriptors mloop opened, close-on-exec or not, do not reach the child") {
        TempDir t;
        const int fd = ::open((t.path / "registry.db").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 50);
        const int leaky = ::fcntl(fd, F_DUPFD, 60);  // as a careless library might
        ::close(fd);
        REQUIRE(high >= 50);
        REQUIRE(leaky >= 60);
        const auto r = run(Command{"ls", {"/proc/self/fd"}});
        ::close(high);
        ::close(leaky);
        REQUIRE(r.ok());
        std::set<std::string> fds;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) {
            fds.insert(line);
        }
        CHECK(fds.count("0") == 1);
        CHECK(fds.count("1") == 1);
        CHECK(fds.count("2") == 1);
        CHECK(fds.count(std::to_string(high)) == 0);
        CHECK(fds.count(std::to_string(leaky)) == 0);
        CHECK(fds.size() == 4);  // and ls's own directory descriptor
    }

    TEST_CASE("runs in several threads at once are kept apart, and all see a SIGINT") {
        std::vector<Result> results(4);
        {
            DelayedSignal sigint(SIGINT, 300ms);
            std::vector<std::thread> threads;
            for (size_t i = 0; i < results.size(); ++i) {
                threads.emplace_back([&results, i] {
                    Command c = sh("echo $0; sleep 30");
                    c.args.push_back("run" + std::to_string(i));
                    c.grace = 300ms;
                    results[i] = make_posix_runner()->run(c, captured());
                });
            }
            for (auto& th : threads) {
                th.join();
            }
        }
        for (size_t i = 0; i < results.size(); ++i) {
            CHECK(results[i].out == "run" + std::to_string(i) + "\n");
            CHECK(results[i].interrupted_by == SIGINT);
            CHECK(results[i].signal == SIGINT);
        }
    }

    TEST_CASE("FakeRunner records each call and replays scripted results") {
        FakeRunner fake;
        fake.push(FakeRunner::exited(3, "", "boom"));
        RunOptions o = captured();
        o.secrets = {"hunter22"};
        Command build{"docker", {"build", "-t", "churn:3", "."}, {{"DOCKER_BUILDKIT", "1"}}};
        const auto first = fake.run(build, o);
        CHECK(first.exit_code == 3);
        CHECK(first.err == "boom");
        const auto second = fake.run(Command{"docker", {"push", "churn:3"}}, RunOptions{});
        CHECK(second.ok());  // nothing queued: exits 0
        REQUIRE(fake.calls().size() == 2);
        CHECK(fake.calls()[0].command.env.at(0).first == "DOCKER_BUILDKIT");
        CHECK(fake.calls()[0].options.secrets == std::vector<std::string>{"hunter22"});
        CHECK(fake.commands() ==
              std::vector<std::string>{"docker build -t churn:3 .", "docker push churn:3"});

        FakeRunner scripted([](const Command& c) {
            if (c.program == "kubectl") {
                throw error::ExternalError("cannot run 'kubectl': no such file or directory");
            }
            return FakeRunner::exited(0, "token hunter22\n", "not captured");
        });
        RunOptions out_only;
        out_only.out.capture = true;
        out_only.secrets = {"hunter22"};
        const auto r = scripted.run(Command{"python", {"train.py"}}, out_only);
        CHECK(r.out == "token ***\n");  // masked, as the real runner would
        CHECK(r.err.empty());           // not asked for
        CHECK_THROWS_AS(scripted.run(Command{"kubectl"}, out_only), error::ExternalError);
        CHECK(scripted.calls().size() == 2);
    }
}
