// The gates table shared by `mloop validate model` and `mloop promote`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "command.hpp"
#include "train/gates.hpp"
#include "train/session.hpp"

namespace mloop::cli {

// Progress notes of evaluations on stderr.
class GatesReporter : public train::Reporter {
  public:
    explicit GatesReporter(Output& out) : m_out(out) {}
    void note(std::string_view line) override { m_out.note(line); }
    void hashing(uint64_t, uint64_t) override {}

  private:
    Output& m_out;
};

void print_gates(Output& out, const train::GateReport& report);
nlohmann::ordered_json gates_json(const train::GateReport& report);
// The same table in GitHub-flavoured markdown, for a CI job summary.
std::string gates_markdown(const train::GateReport& report);

// `mloop validate model [REF]` and the model part of `mloop validate`: the gates of `ref`
// (default MODEL@latest). With `only_if_any`, a project whose model has no version yet gives
// nullopt instead of an error (what `validate all` wants before the first training run).
std::optional<train::GateReport> check_model_gates(Context& ctx, const config::Project& project,
                                                   const std::string& ref, bool echo,
                                                   bool only_if_any);

}  // namespace mloop::cli
