#include "gates_table.hpp"

#include <fmt/format.h>

#include "process/runner.hpp"
#include "registry/records.hpp"

namespace mloop::cli {

namespace {

std::string num(const std::optional<double>& v) {
    return v ? fmt::format("{:.6g}", *v) : std::string("-");
}

}  // namespace

void print_gates(Output& out, const train::GateReport& r) {
    out.print("gates of {}", r.candidate.text());
    auto row = [&](std::string_view metric, std::string_view cand, std::string_view base,
                   std::string_view limit, std::string_view verdict, std::string_view note) {
        std::string line = fmt::format("  {:<16} {:>10} {:>10}  {:<14} {:<7} {}", metric, cand,
                                       base, limit, verdict, note);
        line.erase(line.find_last_not_of(' ') + 1);
        out.line(line);
    };
    row("metric", "candidate", "baseline", "limit", "verdict", "");
    for (const auto& g : r.gates) {
        row(g.metric, num(g.candidate), num(g.baseline), g.limit, g.verdict,
            g.note.empty() ? g.baseline_version.value_or("") : g.note);
    }
    if (r.gates.empty()) {
        out.print("  (model.gates is empty: nothing to check)");
    }
}

std::string gates_markdown(const train::GateReport& r) {
    auto cell = [](std::string s) {
        for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) {
            s.replace(i, 1, "\\|");
        }
        return s;
    };
    std::string out =
        fmt::format("### {} gates of `{}`\n\n", r.passed() ? "✅" : "❌", r.candidate.text());
    if (r.gates.empty()) {
        return out + "`model.gates` is empty: nothing to check.\n";
    }
    out += "| metric | candidate | baseline | limit | verdict | note |\n";
    out += "|---|---:|---:|---|---|---|\n";
    for (const auto& g : r.gates) {
        out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", cell(g.metric), num(g.candidate),
                           num(g.baseline), cell(g.limit),
                           g.verdict == "fail" ? "**fail**" : g.verdict,
                           cell(g.note.empty() ? g.baseline_version.value_or("") : g.note));
    }
    return out;
}

std::optional<train::GateReport> check_model_gates(Context& ctx, const config::Project& project,
                                                   const std::string& ref, bool echo,
                                                   bool only_if_any) {
    auto runner = process::make_posix_runner();
    GatesReporter reporter(ctx.out);
    train::Session s = train::open_session(project, ctx.paths(), *runner, reporter);
    if (only_if_any && !registry::Models(s.db()).latest_version(project.model.name)) {
        return std::nullopt;
    }
    const auto v = registry::resolve_version(s.db(), ref, s.project.model.name);
    return train::check_gates(s, v, echo);
}

nlohmann::ordered_json gates_json(const train::GateReport& r) {
    using Json = nlohmann::ordered_json;
    Json gates = Json::array();
    for (const auto& g : r.gates) {
        gates.push_back(
            {{"metric", g.metric},
             {"candidate", g.candidate ? Json(*g.candidate) : Json()},
             {"baseline", g.baseline ? Json(*g.baseline) : Json()},
             {"baseline_version", g.baseline_version ? Json(*g.baseline_version) : Json()},
             {"limit", g.limit},
             {"verdict", g.verdict},
             {"note", g.note}});
    }
    return {{"candidate", r.candidate.text()},
            {"passed", r.passed()},
            {"evaluations", r.evaluations},
            {"gates", gates}};
}

}  // namespace mloop::cli
