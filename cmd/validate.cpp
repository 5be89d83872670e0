// mloop validate [config|all]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

const std::vector<std::string> k_kinds = {"config", "all"};

nlohmann::ordered_json diagnostics_json(const std::vector<error::Diagnostic>& ds) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& d : ds) {
        nlohmann::ordered_json j = {
            {"severity", d.severity == error::Severity::error ? "error" : "warning"},
            {"file", d.where.file},
            {"line", d.where.line},
            {"column", d.where.column},
            {"message", d.message}};
        if (!d.hint.empty()) {
            j["hint"] = d.hint;
        }
        out.push_back(std::move(j));
    }
    return out;
}

std::string summary(const config::Project& p) {
    auto count = [](size_t n, const char* one, const char* many) {
        return fmt::format("{} {}", n, n == 1 ? one : many);
    };
    std::vector<std::string> parts{count(p.data.size(), "dataset", "datasets")};
    if (p.schema) {
        parts.push_back(count(p.schema->columns.size(), "column", "columns"));
    }
    parts.push_back(count(p.model.gates.size(), "gate", "gates"));
    if (p.deploy) {
        parts.push_back(count(p.deploy->environments.size(), "environment", "environments"));
    }
    return util::join(parts, ", ");
}

class ValidateCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("check", m_kind, "what to check: config or all (default)")
            ->type_name("config|all");
    }

    std::vector<std::string> words() const override { return k_kinds; }

    int run(Context& ctx) override {
        if (std::find(k_kinds.begin(), k_kinds.end(), m_kind) == k_kinds.end()) {
            std::string hint = util::did_you_mean(m_kind, k_kinds);
            throw error::UsageError(
                fmt::format("'{}' is not something 'mloop validate' checks", m_kind),
                hint.empty() ? "choose config or all" : hint);
        }
        const fs::path file = ctx.project_file();
        config::ParseResult r = config::read_project(file);
        size_t errors = 0;
        for (const auto& d : r.diagnostics) {
            errors += d.severity == error::Severity::error;
        }
        const bool ok = errors == 0;
        if (ctx.out.json()) {
            nlohmann::ordered_json j = {{"ok", ok},
                                        {"config",
                                         {{"file", r.project.display_file},
                                          {"ok", ok},
                                          {"errors", errors},
                                          {"diagnostics", diagnostics_json(r.diagnostics)}}}};
            ctx.out.json(j);
        }
        if (!ok) {
            for (const auto& d : r.diagnostics) {
                ctx.out.diagnostic(d);
            }
            return static_cast<int>(error::ExitCode::usage);
        }
        if (!ctx.out.quiet()) {
            ctx.out.print("ok    config  {}  ({})", r.project.display_file, summary(r.project));
        }
        return 0;
    }

  private:
    std::string m_kind = "all";
};

}  // namespace

std::unique_ptr<Command> make_validate() {
    return std::make_unique<ValidateCommand>();
}

}  // namespace mloop::cli
