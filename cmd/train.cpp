// mloop train [--param K=V…] [--sweep] [-j N] [--if-triggered] [--stage NAME] [--message TEXT]
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "error/error.hpp"
#include "train/internal.hpp"
#include "train/sweep.hpp"
#include "train/train.hpp"
#include "train/triggers.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

using Json = nlohmann::ordered_json;

// Notes on stderr for people; hashing progress as a bar on a terminal.
class CliReporter : public train::Reporter {
  public:
    explicit CliReporter(Output& out) : m_out(out), m_bar(out, "hashing") {}
    void note(std::string_view line) override {
        m_bar.finish();
        m_out.note(line);
    }
    void hashing(uint64_t done, uint64_t total) override { m_bar.update(done, total); }

  private:
    Output& m_out;
    ProgressBar m_bar;
};

std::string seconds(std::chrono::milliseconds ms) {
    return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0);
}

Json outcome_json(const train::Outcome& o) {
    Json metrics = Json::object();
    for (const auto& m : o.metrics) {
        metrics[m.name] = m.value;
    }
    Json artifacts = Json::array();
    for (const auto& a : o.artifacts) {
        artifacts.push_back({{"path", a.path}, {"digest", a.digest}, {"size", a.size}});
    }
    Json stages = Json::array();
    for (const auto& st : o.stages) {
        Json j = {{"stage", st.name}, {"state", st.state}, {"wall_ms", st.wall.count()}};
        if (st.source_run) {
            j["cached_from_run"] = *st.source_run;
        }
        stages.push_back(std::move(j));
    }
    Json j = {{"run", o.run},
              {"state", o.state},
              {"exit_code", o.exit_code ? Json(*o.exit_code) : Json()},
              {"wall_ms", o.wall.count()},
              {"cpu_ms", o.cpu.count()},
              {"max_rss_kb", o.max_rss_kb},
              {"metrics", metrics},
              {"artifacts", artifacts},
              {"stages", stages},
              {"version", o.version ? Json(o.version->text()) : Json()},
              {"run_dir", util::display_path(o.run_dir)}};
    if (!o.reason.empty()) {
        j["reason"] = o.reason;
    }
    if (!o.changed_inputs.empty()) {
        j["changed_inputs"] = o.changed_inputs;
    }
    return j;
}

class TrainCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("--param", m_opts.params, "set a parameter, overriding train.params")
            ->type_name("K=V")
            ->allow_extra_args(false);
        app.add_flag("--sweep", m_sweep, "run the train.sweep search, each trial a run");
        app.add_option("-j,--jobs", m_jobs, "sweep trials run at once (default: sweep.parallel)")
            ->type_name("N")
            ->check(CLI::Range(1, 256));
        app.add_flag("--if-triggered", m_if_triggered,
                     "train only if a train.triggers condition fired; say which and why");
        app.add_option("--stage", m_stage, "run this stage and the stages it needs")
            ->type_name("NAME");
        app.add_option("-m,--message", m_message, "a note recorded with the run")
            ->type_name("TEXT");
        app.add_flag("--dry-run", m_dry_run, "print what would run, record nothing");
        // Set by a sweep for its trials; not for people.
        app.add_option("--parent", m_parent, "")->group("");
        app.add_option("--kind", m_kind, "")->group("")->check(CLI::IsMember({"train", "trial"}));
    }

    int run(Context& ctx) override {
        config::Project project = config::load_project(ctx.project_file());
        const auto paths = ctx.paths();
        if (!m_stage.empty()) {
            m_opts.stage = m_stage;
        }
        if (!m_message.empty()) {
            m_opts.message = m_message;
        }
        if (m_parent > 0) {
            m_opts.parent = m_parent;
        }
        m_opts.kind = m_kind;
        m_opts.echo = !ctx.out.json() && !ctx.out.quiet();
        if (m_dry_run) {
            return dry_run(ctx, project);
        }
        auto runner = process::make_posix_runner();
        CliReporter reporter(ctx.out);
        train::Session s = train::open_session(std::move(project), paths, *runner, reporter);
        registry::Runs(s.db()).mark_crashed();
        if (m_if_triggered && !triggered(ctx, s)) {
            return 0;
        }
        if (m_sweep) {
            return sweep(ctx, s);
        }
        spdlog::debug("train: session open");
        const train::Outcome o = train::run_training(s, m_opts);
        const int rc = report(ctx, o);
        spdlog::debug("train: reported");
        return rc;
    }

  private:
    bool triggered(Context& ctx, train::Session& s) {
        const auto r = train::evaluate_triggers(s);
        for (const auto& c : r.checks) {
            ctx.out.note(
                fmt::format("trigger {}: {}: {}", c.name, c.fired ? "fired" : "quiet", c.reason));
        }
        if (!r.fired()) {
            if (ctx.out.json()) {
                ctx.out.json({{"trained", false}, {"triggers", Json::parse(r.json())}});
            } else {
                ctx.out.print("no trigger fired: not training");
            }
            return false;
        }
        m_opts.triggered_by = r.json();
        return true;
    }

    int sweep(Context& ctx, train::Session& s) {
        train::SweepOptions so;
        so.params = m_opts.params;
        so.jobs = static_cast<unsigned>(m_jobs);
        so.message = m_opts.message;
        std::error_code ec;
        so.self = fs::read_symlink("/proc/self/exe", ec);
        so.global_args = {"-f", s.project.file.string(), "--registry", s.paths.registry.string(),
                          "--no-color"};
        const auto o = train::run_sweep(s, so);
        if (ctx.out.json()) {
            Json trials = Json::array();
            for (const auto& t : o.trials) {
                trials.push_back({{"params", t.trial.params},
                                  {"run", t.run ? Json(*t.run) : Json()},
                                  {"state", t.state},
                                  {"objective", t.objective ? Json(*t.objective) : Json()},
                                  {"version", t.version ? Json(*t.version) : Json()},
                                  {"error", t.error}});
            }
            ctx.out.json({{"sweep_run", o.run},
                          {"state", o.state},
                          {"objective", o.objective},
                          {"goal", o.maximize ? "max" : "min"},
                          {"best", o.best ? Json(*o.best) : Json()},
                          {"trials", trials}});
        } else {
            ctx.out.print("sweep run {}: {} trials, objective {} ({})", o.run, o.trials.size(),
                          o.objective, o.maximize ? "max" : "min");
            for (size_t i = 0; i < o.trials.size(); ++i) {
                const auto& t = o.trials[i];
                ctx.out.print("{} {:>5}  {:<14} {:>10}  {:<10}  {}",
                              o.best && *o.best == i ? "*" : " ",
                              t.run ? std::to_string(*t.run) : "-", t.state,
                              t.objective ? fmt::format("{:.6g}", *t.objective) : "-",
                              t.version.value_or("-"), util::join(t.trial.params, " "));
            }
            if (o.best) {
                const auto& b = o.trials[*o.best];
                ctx.out.print("best: run {} ({} {:.6g}){}", *b.run, o.objective, *b.objective,
                              b.version ? " → " + *b.version : "");
            }
        }
        if (!o.best) {
            error::Diagnostic d;
            d.message = fmt::format("sweep run {}: no trial succeeded", o.run);
            d.hint = "see each trial with 'mloop show RUN'";
            ctx.out.diagnostic(d);
            return static_cast<int>(error::ExitCode::external);
        }
        return 0;
    }

    int report(Context& ctx, const train::Outcome& o) {
        if (ctx.out.json()) {
            ctx.out.json(outcome_json(o));
        } else {
            ctx.out.print("run {} {} in {} (cpu {}, peak {})", o.run, o.state, seconds(o.wall),
                          seconds(o.cpu),
                          util::format_bytes(static_cast<double>(o.max_rss_kb) * 1024.0));
            if (!o.metrics.empty()) {
                std::vector<std::string> parts;
                for (const auto& m : o.metrics) {
                    parts.push_back(fmt::format("{} {:.6g}", m.name, m.value));
                }
                ctx.out.print("  {}", util::join(parts, "  "));
            }
            if (o.version) {
                ctx.out.print("  registered {}", o.version->text());
            }
            if (!o.changed_inputs.empty()) {
                ctx.out.print("  inputs changed while it ran: {} (no version registered)",
                              util::join(o.changed_inputs, ", "));
            }
        }
        if (o.state == "failed") {
            error::Diagnostic d;
            d.message = fmt::format("run {} failed: {}", o.run, o.reason);
            d.hint = fmt::format("its output is in {}", util::display_path(o.run_dir));
            ctx.out.diagnostic(d);
            return static_cast<int>(error::ExitCode::external);
        }
        return 0;
    }

    // What would run, as text or one JSON document; nothing is recorded. --stage narrows the
    // stages, --sweep lists the trials, --if-triggered evaluates the triggers (against the
    // registry when there is one: hashing the data may fill the hash cache, nothing else).
    int dry_run(Context& ctx, const config::Project& p) {
        if (!p.train) {
            throw error::UsageError(fmt::format("{} has no 'train' section", p.display_file));
        }
        const auto params = train::resolve_params(p, m_opts.params);
        Json plan = {{"dry_run", true}, {"project", p.name}};
        Json jparams = Json::object();
        for (const auto& param : params) {
            jparams[param.name] = param.value;
        }
        plan["params"] = jparams;
        Json data = Json::array();
        for (const auto& name : train::detail::datasets_used(p)) {
            if (const auto* d = p.dataset(name)) {
                data.push_back(
                    {{"name", name}, {"path", d->path.value}, {"snapshot", d->snapshot}});
            }
        }
        plan["data"] = data;
        Json inputs = Json::array();
        for (const auto& i : p.train->inputs) {
            inputs.push_back(i.value);
        }
        plan["inputs"] = inputs;
        train::detail::Variables vars;
        vars.project = &p;
        vars.values["project"] = p.name;
        vars.values["run.id"] = "N";
        vars.values["run.dir"] = ".mloop/runs/N";
        vars.values["git.commit"] = "HEAD";
        for (const auto& param : params) {
            vars.values["params." + param.name] = param.value;
        }
        for (const auto& d : p.data) {
            vars.values["data." + d.name] = d.path.value;
        }
        if (p.train->stages.empty()) {
            if (m_opts.stage) {
                throw error::UsageError(fmt::format("--stage {}: {} has no train.stages",
                                                    *m_opts.stage, p.display_file));
            }
            plan["command"] = vars.expand_all(p.train->command, "train.command");
        } else {
            Json stages = Json::array();
            for (const auto* st : train::detail::stages_to_run(p.train->stages, m_opts.stage)) {
                stages.push_back({{"stage", st->name.value},
                                  {"command", vars.expand_all(st->command, "train.stages")}});
            }
            plan["stages"] = stages;
        }
        if (m_sweep) {
            if (!p.train->sweep) {
                throw error::UsageError(
                    fmt::format("--sweep: {} has no train.sweep", p.display_file));
            }
            Json trials = Json::array();
            for (const auto& t : train::plan_trials(*p.train->sweep)) {
                trials.push_back(t.params);
            }
            plan["trials"] = trials;
        }
        if (m_if_triggered) {
            plan["triggers"] = dry_run_triggers(ctx, p);
        }
        if (ctx.out.json()) {
            ctx.out.json(plan);
            return 0;
        }
        ctx.out.print("would train {} (nothing is recorded with --dry-run)", p.name);
        for (const auto& [name, value] : plan["params"].items()) {
            ctx.out.print("  param  {} = {}", name, value.get<std::string>());
        }
        for (const auto& d : plan["data"]) {
            ctx.out.print("  data   {}: {}{}", d["name"].get<std::string>(),
                          d["path"].get<std::string>(),
                          d["snapshot"].get<bool>() ? "" : " (hash only)");
        }
        for (const auto& i : plan["inputs"]) {
            ctx.out.print("  input  {}", i.get<std::string>());
        }
        if (plan.contains("command")) {
            ctx.out.print("  run    {}",
                          util::join(plan["command"].get<std::vector<std::string>>(), " "));
        }
        for (const auto& st : plan.value("stages", Json::array())) {
            ctx.out.print("  stage  {}: {}", st["stage"].get<std::string>(),
                          util::join(st["command"].get<std::vector<std::string>>(), " "));
        }
        for (const auto& t : plan.value("trials", Json::array())) {
            ctx.out.print("  trial  {}", util::join(t.get<std::vector<std::string>>(), " "));
        }
        for (const auto& t : plan.value("triggers", Json::array())) {
            ctx.out.print("  trigger {}: {}: {}", t["name"].get<std::string>(),
                          t["fired"].get<bool>() ? "fired" : "quiet",
                          t["reason"].get<std::string>());
        }
        return 0;
    }

    // The triggers as --if-triggered would evaluate them now. Without a registry nothing has
    // been trained: the first run would train.
    Json dry_run_triggers(Context& ctx, const config::Project& p) {
        const auto paths = ctx.paths();
        Json out = Json::array();
        std::error_code ec;
        if (!fs::exists(paths.registry, ec)) {
            out.push_back({{"name", "first_run"},
                           {"fired", true},
                           {"reason", "no successful training run is recorded yet"}});
            return out;
        }
        auto runner = process::make_posix_runner();
        CliReporter reporter(ctx.out);
        train::Session s = train::open_session(p, paths, *runner, reporter);
        for (const auto& c : train::evaluate_triggers(s).checks) {
            out.push_back({{"name", c.name}, {"fired", c.fired}, {"reason", c.reason}});
        }
        return out;
    }

    train::Options m_opts;
    bool m_sweep = false;
    int m_jobs = 0;
    bool m_if_triggered = false;
    std::string m_stage;
    std::string m_message;
    bool m_dry_run = false;
    int64_t m_parent = 0;
    std::string m_kind = "train";
};

}  // namespace

std::unique_ptr<Command> make_train() {
    return std::make_unique<TrainCommand>();
}

}  // namespace mloop::cli
