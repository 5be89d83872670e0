// The CLI boundary: builds the command tree, parses, runs one command, and maps every error to
// its exit code. The only try/catch of the program.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "error/error.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"
#include "util/versions.hpp"

namespace mloop::cli {

namespace {

using error::ExitCode;

constexpr CommandDef k_commands[] = {
    {"init", "create a project file, or a whole example project", make_init},
    {"validate", "check the project file (CI)", make_validate},
    {"train", "run and record the training command, a pipeline or a sweep (CT)", make_train},
    {"runs", "list runs, newest first", make_runs},
    {"show", "show what a reference names: a run, model version, dataset, artifact or commit",
     make_show},
    {"diff", "compare two runs or model versions: params, metrics, data, git, stages", make_diff},
    {"lineage", "trace a model or run upstream, or a dataset or commit downstream", make_lineage},
    {"models", "list models, or one model's versions and alias history", make_models},
    {"promote", "point an alias at a model version after its gates pass", make_promote},
    {"package", "build a model version's container image, with lineage labels and provenance (CD)",
     make_package},
    {"deploy", "deploy a model version to an environment; undo it if it is not healthy (CD)",
     make_deploy},
    {"rollback", "return an environment to an earlier deployment", make_rollback},
    {"status", "what runs where: version, image, health, and where the live state differs",
     make_status},
    {"monitor",
     "compare serving data with the data that trained the version: drift, performance, KPIs (CM)",
     make_monitor},
    {"help", "show help for a command or for the project file", make_help},
    {"gc", "delete store objects and run directories nothing references", make_gc},
    {"fsck", "check the registry and re-hash every object in the store", make_fsck},
    {"completion", "print a shell completion script", make_completion},
};

constexpr std::string_view k_red = "\033[1;31m";
constexpr std::string_view k_yellow = "\033[1;33m";
constexpr std::string_view k_reset = "\033[0m";

std::string exit_code_footer() {
    std::string s = "Exit status:\n";
    for (const auto& e : error::exit_codes()) {
        s += fmt::format("  {:>3}  {}\n", static_cast<int>(e.code), e.meaning);
    }
    s += "\nSee 'mloop help COMMAND' for one command and 'man mloop' for everything.";
    return s;
}

void print_error(const Output& out, const std::string& message, const std::string& hint) {
    error::Diagnostic d;
    d.message = message;
    d.hint = hint;
    out.diagnostic(d);
}

nlohmann::ordered_json error_json(const error::Error& e) {
    nlohmann::ordered_json j;
    const auto code = e.code();
    j["code"] = static_cast<int>(code);
    for (const auto& info : error::exit_codes()) {
        if (info.code == code) {
            j["kind"] = info.name;
        }
    }
    j["message"] = e.what();
    if (!e.hint().empty()) {
        j["hint"] = e.hint();
    }
    return j;
}

// Leftover arguments after CLI11: unknown commands, unknown options, extra positionals.
void reject_leftovers(CLI::App& root, CLI::App* sub) {
    std::vector<std::string> left = root.remaining();
    if (sub != nullptr) {
        for (const auto& a : sub->remaining()) {
            if (a != "--") {
                left.push_back(a);
            }
        }
    }
    if (left.empty()) {
        return;
    }
    const std::string& arg = left.front();
    if (util::starts_with(arg, "-") && arg != "-") {
        std::vector<std::string> names;
        auto collect = [&](const CLI::App* app) {
            for (const CLI::Option* o : app->get_options()) {
                for (const auto& l : o->get_lnames()) {
                    names.push_back("--" + l);
                }
                for (const auto& s : o->get_snames()) {
                    names.push_back("-" + s);
                }
            }
        };
        collect(&root);
        if (sub != nullptr) {
            collect(sub);
        }
        const std::string bare = arg.substr(0, arg.find('='));
        throw error::UsageError(
            fmt::format("unknown option '{}'{}", bare,
                        sub ? fmt::format(" for 'mloop {}'", sub->get_name()) : std::string{}),
            util::did_you_mean(bare, names));
    }
    if (sub == nullptr) {
        std::vector<std::string> names;
        for (const auto& c : k_commands) {
            names.emplace_back(c.name);
        }
        std::string hint = util::did_you_mean(arg, names);
        if (hint.empty()) {
            hint = "see 'mloop --help' for the commands";
        }
        throw error::UsageError(fmt::format("'{}' is not an mloop command", arg), hint);
    }
    throw error::UsageError(
        fmt::format("unexpected argument {} for 'mloop {}'", util::quote(arg), sub->get_name()),
        fmt::format("see 'mloop help {}'", sub->get_name()));
}

void setup_logging(const Globals& g) {
    auto logger = spdlog::stderr_color_mt("mloop");
    logger->set_pattern("mloop: %l: %v");
    if (g.no_color) {
        logger->sinks().clear();
        logger->sinks().push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("mloop: %l: %v");
    }
    if (g.verbose >= 2) {
        logger->set_pattern("mloop: %l: %v (+%o ms)");  // where the time goes, for -vv
    }
    spdlog::set_default_logger(logger);
    const auto level = g.verbose >= 3   ? spdlog::level::trace
                       : g.verbose == 2 ? spdlog::level::debug
                       : g.verbose == 1 ? spdlog::level::info
                       : g.quiet        ? spdlog::level::err
                                        : spdlog::level::warn;
    spdlog::set_level(level);
}

int print_version(Output& out) {
    const auto v = util::versions();
    if (out.json()) {
        out.json({{"mloop", v.mloop},
                  {"sqlite", v.sqlite},
                  {"libgit2", v.libgit2},
                  {"yaml-cpp", v.yaml_cpp}});
    } else {
        out.print("mloop {}\nsqlite {}\nlibgit2 {}\nyaml-cpp {}", v.mloop, v.sqlite, v.libgit2,
                  v.yaml_cpp);
    }
    return 0;
}

}  // namespace

int show_help(Output& out, const std::string& text) {
    if (out.json()) {
        out.json({{"help", text}});
    } else {
        out.raw(text);
    }
    return 0;
}

std::span<const CommandDef> commands() {
    return k_commands;
}

// ---------------------------------------------------------------------------------------------
// Output

void Output::configure(const Globals& g) {
    m_json = g.json;
    m_quiet = g.quiet;
    const char* no_color = std::getenv("NO_COLOR");
    const bool color = !g.no_color && (no_color == nullptr || *no_color == '\0');
    const char* term = std::getenv("TERM");
    const bool dumb = term != nullptr && std::string_view(term) == "dumb";
    m_color_out = color && !dumb && ::isatty(STDOUT_FILENO) == 1;
    m_err_tty = !dumb && ::isatty(STDERR_FILENO) == 1;
    m_color_err = color && m_err_tty;
}

void Output::line(std::string_view s) {
    if (m_json) {
        return;  // --json promises exactly one JSON document on stdout
    }
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
}

void Output::raw(std::string_view s) {
    if (!m_json) {
        std::fwrite(s.data(), 1, s.size(), stdout);
    }
}

void Output::json(const nlohmann::ordered_json& doc) {
    const std::string s = doc.dump(2);
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
}

void Output::note(std::string_view s) {
    if (!m_quiet) {
        std::fflush(stdout);  // keep notes after the data they follow on a shared terminal
        fmt::print(stderr, "{}\n", s);
    }
}

void Output::diagnostic(const error::Diagnostic& d) const {
    const bool is_error = d.severity == error::Severity::error;
    const std::string_view color = m_color_err ? (is_error ? k_red : k_yellow) : "";
    const std::string where = d.where.file.empty() ? std::string{} : d.where.str() + ": ";
    fmt::print(stderr, "mloop: {}{}{}: {}{}\n", color, is_error ? "error" : "warning",
               m_color_err ? k_reset : "", where, d.message);
    if (!d.hint.empty()) {
        fmt::print(stderr, "hint: {}\n", d.hint);
    }
}

fs::path Context::project_file() const {
    std::optional<fs::path> explicit_file;
    if (!globals.file.empty()) {
        explicit_file = fs::path(globals.file);
    }
    return config::find_project_file(fs::current_path(), explicit_file);
}

workspace::Paths Context::paths() const {
    return workspace::paths_for(project_file().parent_path(), globals.registry);
}

// ---------------------------------------------------------------------------------------------
// Progress

ProgressBar::ProgressBar(const Output& out, std::string label)
    : m_enabled(out.stderr_is_terminal() && !out.quiet() && !out.json()),
      m_label(std::move(label)) {}

ProgressBar::~ProgressBar() {
    finish();
}

void ProgressBar::update(uint64_t done, uint64_t total) {
    if (!m_enabled || total == 0) {
        return;
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    if (now - m_last_draw_ms < 100 && done < total) {
        return;
    }
    m_last_draw_ms = now;
    m_drawn = true;
    fmt::print(stderr, "\r{}  {:3}%  {} of {}\033[K", m_label, done * 100 / total,
               util::format_bytes(static_cast<double>(done)),
               util::format_bytes(static_cast<double>(total)));
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (m_drawn) {
        fmt::print(stderr, "\r\033[K");
        std::fflush(stderr);
        m_drawn = false;
    }
}

// ---------------------------------------------------------------------------------------------
// The tree

std::unique_ptr<Cli> build_cli() {
    auto cli = std::make_unique<Cli>();
    cli->app = std::make_unique<CLI::App>(
        "mloop carries a machine-learning project around the loop: validate, train, package, "
        "deploy, monitor.",
        "mloop");
    CLI::App& app = *cli->app;
    Globals& g = cli->globals;
    app.allow_extras();
    app.require_subcommand(0, 1);  // one command; later words are its arguments ("help init")
    app.set_help_flag("-h,--help", "show help and exit");
    app.add_option("-C", g.chdir, "run as if started in DIR")->type_name("DIR");
    app.add_option("-f,--file", g.file, "use FILE as the project file instead of mloop.yaml")
        ->type_name("FILE");
    app.add_option("--registry", g.registry, "the registry database (default .mloop/registry.db)")
        ->type_name("PATH")
        ->envname("MLOOP_REGISTRY");
    app.add_flag("--json", g.json, "print exactly one JSON document on stdout");
    app.add_flag("-q,--quiet", g.quiet, "print only errors and requested data");
    app.add_flag("-v,--verbose", g.verbose, "say more on stderr; repeat for more");
    app.add_flag("--no-color", g.no_color, "never colour output (also NO_COLOR)");
    app.add_flag("--version", g.version, "print the versions of mloop and its libraries");
    app.footer(exit_code_footer());
    for (const auto& def : k_commands) {
        CLI::App* sub = app.add_subcommand(def.name, def.summary);
        sub->allow_extras();
        sub->fallthrough();
        sub->footer(
            fmt::format("Global options (see 'mloop --help') may come before or after "
                        "the command.\nManual: man mloop-{}",
                        def.name));
        auto cmd = def.make();
        cmd->setup(*sub);
        cli->commands.emplace_back(sub, std::move(cmd));
    }
    return cli;
}

namespace {

// Everything that can fail, below the one catch of run_cli.
int dispatch(Cli& cli, Output& out, int argc, char** argv) {
    CLI::App& app = *cli.app;
    Globals& g = cli.globals;
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        out.configure(g);
        return show_help(out, app.help());
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        if (!what.empty()) {
            what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
        }
        throw error::UsageError(what, "see 'mloop --help'");
    }
    out.configure(g);
    CLI::App* sub = nullptr;
    Command* cmd = nullptr;
    for (auto& [s, c] : cli.commands) {
        if (s->parsed()) {
            sub = s;
            cmd = c.get();
        }
    }
    reject_leftovers(app, sub);
    setup_logging(g);
    if (g.version) {
        return print_version(out);
    }
    if (!g.chdir.empty()) {
        std::error_code ec;
        fs::current_path(g.chdir, ec);
        if (ec) {
            throw error::UsageError(
                fmt::format("cannot change to '{}': {}", g.chdir, util::errno_message(ec.value())));
        }
    }
    if (cmd == nullptr) {
        return show_help(out, app.help());
    }
    Context ctx{g, out, app};
    return cmd->run(ctx);
}

}  // namespace

// Started with stdin, stdout or stderr closed, the first file mloop opens would take that number
// and receive another program's output; /dev/null holds the place instead.
static void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            const int got = ::open("/dev/null", O_RDWR);
            if (got != fd && got >= 0) {
                ::close(got);
            }
        }
    }
}

int run_cli(int argc, char** argv) {
    ensure_standard_fds();
    auto cli = build_cli();
    Output out;
    try {
        const int rc = dispatch(*cli, out, argc, argv);
        if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
            throw error::RegistryError(
                fmt::format("cannot write to standard output: {}", util::errno_message(errno)));
        }
        return rc;
    } catch (const error::ConfigError& e) {
        if (out.json()) {
            nlohmann::ordered_json j = {{"error", error_json(e)}};
            out.json(j);
        }
        for (const auto& d : e.diagnostics()) {
            out.diagnostic(d);
        }
        return static_cast<int>(e.code());
    } catch (const error::Error& e) {
        if (out.json()) {
            out.json({{"error", error_json(e)}});
        }
        print_error(out, e.what(), e.hint());
        return static_cast<int>(e.code());
    } catch (const std::bad_alloc&) {
        print_error(out, "out of memory", {});
        return static_cast<int>(ExitCode::registry);
    } catch (const std::exception& e) {
        // A bug: say so plainly rather than pretend it was the user's fault.
        print_error(out, fmt::format("internal error: {}", e.what()),
                    "please report this with the command line that caused it");
        return static_cast<int>(ExitCode::external);
    }
}

}  // namespace mloop::cli
