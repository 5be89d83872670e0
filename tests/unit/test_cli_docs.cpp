// The documentation that ships beside the binary must say what the binary does: completion
// scripts, man pages (every command, every option, every project-file key) and the exit codes.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include <set>

#include "command.hpp"
#include "config/keys.hpp"
#include "error/error.hpp"
#include "util/fs.hpp"

using namespace mloop;
namespace fs = std::filesystem;

namespace {

const fs::path k_src = MLOOP_SOURCE_DIR;

std::string slurp(const fs::path& p) {
    auto r = util::read_file(p, 1 << 24);
    if (!r.ok()) {
        FAIL(r.error());
    }
    return r.value();
}

// Roff text with the escapes our pages use turned back into plain characters.
std::string unroff(std::string s) {
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"\\-", "-"},
                                   {"\\&", ""},
                                   {"\\(em", "—"},
                                   {"\\e", "\\"}}) {
        for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at)) {
            s.replace(at, from.size(), to);
            at += to.size();
        }
    }
    return s;
}

std::vector<std::string> long_options(const CLI::App& app) {
    std::vector<std::string> out;
    for (const CLI::Option* o : app.get_options()) {
        if (o->get_group().empty()) {
            continue;  // internal options (a sweep's trials) are not documented
        }
        for (const auto& l : o->get_lnames()) {
            out.push_back("--" + l);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("completions/ holds what 'mloop completion' prints") {
    auto cli = cli::build_cli();
    const std::pair<const char*, const char*> files[] = {
        {"bash", "mloop.bash"}, {"zsh", "_mloop"}, {"fish", "mloop.fish"}};
    for (const auto& [shell, file] : files) {
        INFO("stale completions/", file, ": regenerate with 'mloop completion ", shell,
             " > completions/", file, "'");
        CHECK(slurp(k_src / "completions" / file) == cli::completion_script(*cli, shell));
    }
}

TEST_CASE("every command has a man page that names each of its options") {
    auto cli = cli::build_cli();
    const std::string top = unroff(slurp(k_src / "man" / "mloop.1"));
    for (const auto& opt : long_options(*cli->app)) {
        INFO("mloop.1 lacks the global option ", opt);
        CHECK(top.find(opt) != std::string::npos);
    }
    std::set<std::string> pages;
    for (const auto& [sub, cmd] : cli->commands) {
        const std::string name = sub->get_name();
        pages.insert("mloop-" + name + ".1");
        const fs::path page = k_src / "man" / ("mloop-" + name + ".1");
        INFO("man page of ", name);
        REQUIRE(fs::exists(page));
        const std::string text = unroff(slurp(page));
        CHECK(top.find("mloop-" + name) != std::string::npos);
        for (const auto& opt : long_options(*sub)) {
            INFO("mloop-", name, ".1 lacks ", opt);
            CHECK(text.find(opt) != std::string::npos);
        }
    }
    // No page for a command that does not exist.
    for (const auto& entry : fs::directory_iterator(k_src / "man")) {
        const std::string f = entry.path().filename().string();
        if (f.rfind("mloop-", 0) == 0) {
            INFO("man/", f, " documents a command the binary does not have");
            CHECK(pages.count(f) == 1);
        }
    }
}

TEST_CASE("the exit-code table of mloop(1) is the one in src/error") {
    const std::string page = unroff(slurp(k_src / "man" / "mloop.1"));
    const size_t start = page.find(".SH EXIT STATUS\n");
    REQUIRE(start != std::string::npos);
    size_t end = page.find("\n.SH ", start + 1);
    const std::string section = page.substr(start, end - start);
    // Rows are ".TP", ".B <code>", "<meaning>"; nothing else may stand in the section.
    std::vector<std::string> lines;
    for (size_t at = 0; at < section.size();) {
        const size_t nl = section.find('\n', at);
        lines.push_back(section.substr(at, nl == std::string::npos ? nl : nl - at));
        at = nl == std::string::npos ? section.size() : nl + 1;
    }
    std::vector<std::pair<int, std::string>> documented;
    REQUIRE((lines.size() - 1) % 3 == 0);
    for (size_t i = 1; i + 2 < lines.size(); i += 3) {
        CHECK(lines[i] == ".TP");
        REQUIRE(lines[i + 1].rfind(".B ", 0) == 0);
        documented.emplace_back(std::stoi(lines[i + 1].substr(3)), lines[i + 2]);
    }
    std::vector<std::pair<int, std::string>> expected;
    for (const auto& e : error::exit_codes()) {
        expected.emplace_back(static_cast<int>(e.code), e.meaning);
    }
    REQUIRE(documented.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        CHECK(documented[i].first == expected[i].first);
        CHECK(documented[i].second == expected[i].second);
    }
}

TEST_CASE("mloop.yaml(5) documents every key of the table") {
    const std::string page = unroff(slurp(k_src / "man" / "mloop.yaml.5"));
    for (const auto& k : config::keys()) {
        INFO("mloop.yaml.5 lacks the key ", k.path);
        CHECK(page.find(".B " + std::string(k.path) + "\n") != std::string::npos);
    }
}
