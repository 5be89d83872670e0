// mloop validate [config|data|model|all] [NAME|PATH…|REF] [--force] [--format F] [-j N]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "data/validate.hpp"
#include "error/error.hpp"
#include "gates_table.hpp"
#include "registry/registry.hpp"
#include "render/validation.hpp"
#include "store/hash_cache.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

const std::vector<std::string> k_kinds = {"config", "data", "model", "all"};

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
        app.add_option("check", m_kind, "what to check: config, data, model or all (default)")
            ->type_name("config|data|model|all");
        app.add_option("datasets", m_refs,
                       "with data: the datasets to check, by name in mloop.yaml or by path "
                       "(default: every dataset); with model: the version (default "
                       "MODEL@latest)")
            ->type_name("NAME|PATH…|REF");
        app.add_flag("--force", m_force, "read the data even when its result is recorded");
        app.add_option("--format", m_format, "print a table (default), json or markdown")
            ->type_name("table|json|markdown")
            ->check(CLI::IsMember({"table", "json", "markdown"}));
        app.add_option("-j,--jobs", m_jobs,
                       "read large files with N threads (default: one per core)")
            ->type_name("N")
            ->check(CLI::Range(1, 256));
    }

    std::vector<std::string> words() const override { return k_kinds; }

    int run(Context& ctx) override {
        if (std::find(k_kinds.begin(), k_kinds.end(), m_kind) == k_kinds.end()) {
            std::string hint = util::did_you_mean(m_kind, k_kinds);
            throw error::UsageError(
                fmt::format("'{}' is not something 'mloop validate' checks", m_kind),
                hint.empty() ? "choose config, data, model or all" : hint);
        }
        if (!m_refs.empty() && m_kind != "data" && m_kind != "model") {
            throw error::UsageError("datasets are named only with 'mloop validate data'",
                                    fmt::format("mloop validate data {}", m_refs.front()));
        }
        if (m_refs.size() > 1 && m_kind == "model") {
            throw error::UsageError("'mloop validate model' checks one model version",
                                    fmt::format("mloop validate model {}", m_refs.front()));
        }
        const bool json = ctx.out.json() || m_format == "json";
        const bool markdown = m_format == "markdown";
        const fs::path file = ctx.project_file();
        config::ParseResult r = config::read_project(file);
        size_t errors = 0;
        for (const auto& d : r.diagnostics) {
            errors += d.severity == error::Severity::error;
        }
        nlohmann::ordered_json doc = {{"ok", errors == 0}};
        if (m_kind == "config" || m_kind == "all" || errors > 0) {
            doc["config"] = {{"file", r.project.display_file},
                             {"ok", errors == 0},
                             {"errors", errors},
                             {"diagnostics", diagnostics_json(r.diagnostics)}};
        }
        if (errors > 0) {
            if (json) {
                ctx.out.json(doc);
            }
            for (const auto& d : r.diagnostics) {
                ctx.out.diagnostic(d);
            }
            return static_cast<int>(error::ExitCode::usage);
        }
        if ((m_kind == "config" || m_kind == "all") && !json && !markdown && !ctx.out.quiet()) {
            ctx.out.print("ok    config  {}  ({})", r.project.display_file, summary(r.project));
        }
        std::vector<data::Report> reports;
        if (m_kind == "data" || m_kind == "all") {
            reports = check_data(ctx, r.project);
        }
        // validate model: the gates of the named version, or with `all` of the latest version
        // when the model has one.
        std::optional<train::GateReport> gates;
        if (m_kind == "model" || m_kind == "all") {
            const bool echo = !json && !markdown && !ctx.out.quiet();
            gates = check_model_gates(
                ctx, r.project, m_refs.empty() ? r.project.model.name + "@latest" : m_refs.front(),
                echo, m_kind == "all");
        }
        const bool data_ok =
            std::all_of(reports.begin(), reports.end(), [](const auto& x) { return x.passed; });
        const bool ok = data_ok && (!gates || gates->passed());
        if (json) {
            if (gates) {
                doc["model"] = gates_json(*gates);
            }
            if (m_kind == "data" || m_kind == "all") {
                nlohmann::ordered_json list = nlohmann::ordered_json::array();
                for (const auto& rep : reports) {
                    list.push_back(data::to_json(rep));
                }
                doc["data"] = std::move(list);
            }
            doc["ok"] = ok;
            ctx.out.json(doc);
        } else if (markdown) {
            if (m_kind != "model") {
                render::MarkdownConfig mc{m_kind != "data", true, r.project.display_file,
                                          summary(r.project)};
                ctx.out.raw(render::validation_markdown(mc, reports));
            }
            if (gates) {
                ctx.out.raw((m_kind == "model" ? "" : "\n") + gates_markdown(*gates));
            }
        } else {
            std::vector<data::Report> shown;
            for (const auto& rep : reports) {
                if (!ctx.out.quiet() || !rep.passed || rep.warnings() > 0) {
                    shown.push_back(rep);
                }
            }
            if (m_kind == "data" || m_kind == "all") {
                ctx.out.raw(render::validation_table(shown, {ctx.globals.verbose > 0}));
            }
            if (gates && (!ctx.out.quiet() || !gates->passed())) {
                print_gates(ctx.out, *gates);
            }
        }
        size_t failed = 0;
        for (const auto& rep : reports) {
            if (rep.problem) {
                error::Diagnostic d;
                d.where.file = rep.problem->location();
                d.message = rep.problem->text();
                d.hint = rep.problem->hint;
                ctx.out.diagnostic(d);
            }
            failed += !rep.passed;
        }
        if (!data_ok) {
            error::Diagnostic d;
            d.message = fmt::format("{} of {} {} failed validation", failed, reports.size(),
                                    reports.size() == 1 ? "dataset" : "datasets");
            ctx.out.diagnostic(d);
        }
        if (gates && !gates->passed()) {
            size_t failed_gates = 0;
            for (const auto& g : gates->gates) {
                failed_gates += g.verdict == "fail";
            }
            error::Diagnostic d;
            d.message =
                fmt::format("{} fails {} of {} {}", gates->candidate.text(), failed_gates,
                            gates->gates.size(), gates->gates.size() == 1 ? "gate" : "gates");
            ctx.out.diagnostic(d);
        }
        if (!ok) {
            return static_cast<int>(error::ExitCode::check_failed);
        }
        return 0;
    }

  private:
    // The datasets named (or all of them), each checked against the schema and recorded.
    std::vector<data::Report> check_data(Context& ctx, const config::Project& p) {
        std::vector<data::Target> targets;
        auto of_dataset = [&](const config::Dataset& d) {
            const fs::path path = p.root / d.path.value;
            return data::Target{d.name, path, util::display_path(path), d.format};
        };
        if (m_refs.empty()) {
            for (const auto& d : p.data) {
                targets.push_back(of_dataset(d));
            }
        }
        for (const auto& ref : m_refs) {
            if (const config::Dataset* d = p.dataset(ref)) {
                targets.push_back(of_dataset(*d));
                continue;
            }
            std::error_code ec;
            if (!fs::exists(ref, ec)) {
                std::vector<std::string> names;
                for (const auto& d : p.data) {
                    names.push_back(d.name);
                }
                std::string hint = util::did_you_mean(ref, names);
                throw error::UsageError(
                    fmt::format("'{}' is neither a dataset in {} nor a path", ref, p.display_file),
                    hint.empty() ? "name a dataset under 'data', or a file or directory" : hint);
            }
            targets.push_back(data::Target{ref, fs::path(ref), util::display_path(ref), {}});
        }
        if (targets.empty()) {
            return {};
        }
        // Without a schema a dataset is still read through: it must be well-formed.
        config::Schema none;
        none.extra_columns = config::ExtraColumns::ignore;
        const config::Schema& schema = p.schema ? *p.schema : none;

        const auto paths = ctx.paths();
        auto reg = registry::Registry::open(paths.registry);
        store::HashCache cache(paths.cache / "hashes.db");
        std::vector<data::Report> reports;
        for (const auto& t : targets) {
            ProgressBar hashing(ctx.out, "hashing " + t.name);
            ProgressBar reading(ctx.out, "validating " + t.name);
            data::CheckOptions o;
            o.force = m_force;
            o.cache = &cache;
            o.db = &reg->db();
            o.read.threads = static_cast<unsigned>(m_jobs);
            o.hash_progress = [&](uint64_t d, uint64_t n) {
                hashing.update(d, n);
            };
            o.read.progress = [&](uint64_t d, uint64_t n) {
                hashing.finish();
                reading.update(d, n);
            };
            reports.push_back(data::check_dataset(schema, t, o));
        }
        return reports;
    }

    std::string m_kind = "all";
    std::vector<std::string> m_refs;
    bool m_force = false;
    std::string m_format = "table";
    int m_jobs = 0;
};

}  // namespace

std::unique_ptr<Command> make_validate() {
    return std::make_unique<ValidateCommand>();
}

}  // namespace mloop::cli
