// The front end's shared types: global options, the output channel, the command interface and
// the one command table. Each command lives in its own file as a small adapter: options fill a
// struct, a library function does the work, a renderer prints the result.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>

#include "error/error.hpp"
#include "workspace/workspace.hpp"

namespace CLI {
class App;
}

namespace mloop::cli {

namespace fs = std::filesystem;

struct Globals {
    std::string chdir;
    std::string file;
    std::string registry;
    bool json = false;
    bool quiet = false;
    int verbose = 0;
    bool no_color = false;
    bool version = false;
};

// stdout for data, stderr for people. Remembers whether colour is wanted on each.
class Output {
  public:
    void configure(const Globals& g);
    bool json() const { return m_json; }
    bool quiet() const { return m_quiet; }
    bool color_stderr() const { return m_color_err; }
    bool stderr_is_terminal() const { return m_err_tty; }

    // Data on stdout. In --json mode only json() may write to stdout.
    void line(std::string_view s);
    template <class... Args>
    void print(fmt::format_string<Args...> f, Args&&... args) {
        line(fmt::format(f, std::forward<Args>(args)...));
    }
    void json(const nlohmann::ordered_json& doc);
    // Text exactly as given (help, scripts), unless --json.
    void raw(std::string_view s);

    // Notes for people on stderr, silenced by -q ("created mloop.yaml").
    void note(std::string_view s);

    // "mloop: error: file:line:col: message" and its hint on stderr, coloured on a terminal.
    void diagnostic(const error::Diagnostic& d) const;

    // The ANSI sequence for `style` when colour is on for stdout, else "".
    std::string_view style(std::string_view code) const { return m_color_out ? code : ""; }

  private:
    bool m_json = false;
    bool m_quiet = false;
    bool m_color_out = false;
    bool m_color_err = false;
    bool m_err_tty = false;
};

struct Context {
    Globals& globals;
    Output& out;
    CLI::App& root;

    // The project file: -f, else the nearest mloop.yaml upwards (after -C).
    fs::path project_file() const;
    // Where the project keeps its state; the project file is found but not parsed.
    workspace::Paths paths() const;
};

// A progress bar on stderr, drawn only when stderr is a terminal and output is for people.
class ProgressBar {
  public:
    ProgressBar(const Output& out, std::string label);
    ~ProgressBar();
    void update(uint64_t done, uint64_t total);
    void finish();

  private:
    bool m_enabled;
    std::string m_label;
    int64_t m_last_draw_ms = 0;
    bool m_drawn = false;
};

class Command {
  public:
    virtual ~Command() = default;
    virtual void setup(CLI::App& app) = 0;
    virtual int run(Context& ctx) = 0;
    // The words a shell may complete as this command's first argument.
    virtual std::vector<std::string> words() const { return {}; }
};

struct CommandDef {
    const char* name;
    const char* summary;
    std::unique_ptr<Command> (*make)();
};

// The command table, in the order help lists it.
std::span<const CommandDef> commands();

std::unique_ptr<Command> make_init();
std::unique_ptr<Command> make_validate();
std::unique_ptr<Command> make_help();
std::unique_ptr<Command> make_completion();
std::unique_ptr<Command> make_fsck();
std::unique_ptr<Command> make_runs();
std::unique_ptr<Command> make_show();
std::unique_ptr<Command> make_diff();
std::unique_ptr<Command> make_lineage();
std::unique_ptr<Command> make_models();
std::unique_ptr<Command> make_gc();
std::unique_ptr<Command> make_train();
std::unique_ptr<Command> make_promote();
std::unique_ptr<Command> make_package();
std::unique_ptr<Command> make_deploy();
std::unique_ptr<Command> make_rollback();
std::unique_ptr<Command> make_status();
std::unique_ptr<Command> make_monitor();

// Builds the whole CLI11 tree: global options and every command. Used by run_cli and by the
// tests that check man pages and completions against it.
struct Cli {
    std::unique_ptr<CLI::App> app;
    Globals globals;
    std::vector<std::pair<CLI::App*, std::unique_ptr<Command>>> commands;
};
std::unique_ptr<Cli> build_cli();

int run_cli(int argc, char** argv);

// Completion scripts for bash, zsh and fish, generated from the tree; empty for other shells.
std::string completion_script(const Cli& cli, std::string_view shell);

}  // namespace mloop::cli
