#include "gates_table.hpp"

#include <fmt/format.h>

namespace mloop::cli {

namespace {

std::string num(const std::optional<double>& v) {
    return v ? fmt::format("{:.6g}", *v) : std::string("-");
}

}  // namespace

void print_gates(Output& out, const train::GateReport& r) {
    out.print("gates of {}", r.candidate.text());
    out.print("  {:<16} {:>10} {:>10}  {:<14} {:<7} {}", "metric", "candidate", "baseline", "limit",
              "verdict", "");
    for (const auto& g : r.gates) {
        out.print("  {:<16} {:>10} {:>10}  {:<14} {:<7} {}", g.metric, num(g.candidate),
                  num(g.baseline), g.limit, g.verdict,
                  g.note.empty() ? g.baseline_version.value_or("") : g.note);
    }
    if (r.gates.empty()) {
        out.print("  (model.gates is empty: nothing to check)");
    }
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
