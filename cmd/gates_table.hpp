// The gates table shared by `mloop validate model` and `mloop promote`.
#pragma once

#include <nlohmann/json.hpp>

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

}  // namespace mloop::cli
