// A command to run: an argument vector, never a shell line (SPEC §8, DESIGN practice 6).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mloop::process {

// Every member has an initializer, so Command{"make", {"-j4"}} names only what it sets.
struct Command {
    // Looked up on PATH when it has no '/'. When `env` sets PATH, that PATH is searched (as a
    // user who writes `env: {PATH: .venv/bin:…}` expects), not mloop's own.
    std::string program{};
    std::vector<std::string> args{};  // argv[1..], passed byte for byte; a NUL byte is refused
    // Overlay on mloop's environment, applied in order; nullopt unsets the variable.
    std::vector<std::pair<std::string, std::optional<std::string>>> env{};
    // Empty: inherit mloop's. A relative `program` containing '/' resolves beneath it.
    std::filesystem::path cwd{};
    std::optional<std::chrono::milliseconds> timeout{};
    std::chrono::milliseconds grace{5000};  // SIGTERM (or a forwarded signal) → SIGKILL
};

// argv rendered for messages with POSIX shell quoting ("python train.py --lr '1e-3 x'"); control
// characters and invalid UTF-8 use $'…' escapes so a hostile argument cannot reach the terminal
// raw. For display only: nothing ever executes this string. Secrets are not masked here: pass
// the result through mask() when an argument may hold one.
std::string describe(const Command& command);

// One argument quoted the same way.
std::string shell_quote(std::string_view arg);

}  // namespace mloop::process
