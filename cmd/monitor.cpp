// mloop monitor [ENV] [--current PATH]... [--reference PATH|MODEL@VER] [--report FILE]
//               [--no-alert] [--watch INTERVAL [--count N]] | --grafana
#include <thread>

#include <CLI/CLI.hpp>

#include "command.hpp"
#include "config/load.hpp"
#include "config/variables.hpp"
#include "gates_table.hpp"
#include "monitor/alerts.hpp"
#include "monitor/export.hpp"
#include "monitor/monitor.hpp"
#include "monitor/retrain.hpp"
#include "process/runner.hpp"
#include "render/format.hpp"
#include "render/table.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::cli {

namespace {

std::string number(const std::optional<double>& v) {
    return v ? render::number(*v) : "—";
}

class MonitorCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("env", m_opts.env,
                       "the environment whose traffic to judge (its deployment gives the "
                       "version and the reference)")
            ->type_name("ENV");
        app.add_option("--current", m_opts.current,
                       "current data: a path or glob, CSV or JSON lines, optionally .gz "
                       "(repeatable; default: monitor.current)")
            ->type_name("PATH");
        app.add_option("--reference", m_opts.reference,
                       "reference data: a path, or MODEL@VER for the data that trained it "
                       "(default: monitor.reference)")
            ->type_name("PATH|REF");
        app.add_option("--report", m_opts.report,
                       "write the HTML report to FILE too (it is always written beside the JSON "
                       "report under .mloop/reports/)")
            ->type_name("FILE");
        app.add_flag("--no-alert", m_no_alert, "send no alerts (the report is still recorded)");
        app.add_option("--watch", m_watch,
                       "run again every INTERVAL (90s, 15m, 1h); each report is recorded")
            ->type_name("INTERVAL");
        app.add_option("--count", m_count, "with --watch: stop after N reports")
            ->type_name("N")
            ->check(CLI::PositiveNumber);
        app.add_flag("--grafana", m_grafana,
                     "print a Grafana dashboard (JSON) of the exported metrics, and stop");
    }

    int run(Context& ctx) override {
        std::optional<std::chrono::seconds> interval;
        if (!m_watch.empty()) {
            auto d = config::parse_duration(m_watch);
            if (!d || d->count() == 0) {
                throw error::UsageError(
                    fmt::format("--watch '{}': {}", m_watch,
                                d ? std::string("must be longer than zero") : d.error()),
                    "an interval such as 90s, 15m or 1h");
            }
            interval = *d;
        } else if (m_count != 0) {
            throw error::UsageError("--count needs --watch");
        }
        if (m_grafana) {
            const auto project = config::load_project(ctx.project_file());
            ctx.out.raw(monitor::grafana_dashboard(project.name));
            return 0;
        }
        monitor::use_one_heap();  // before the session's thread
        auto runner = process::make_posix_runner();
        GatesReporter reporter(ctx.out);
        train::Session s = train::open_session(config::load_project(ctx.project_file()),
                                               ctx.paths(), *runner, reporter);
        int code = 0;
        for (int tick = 1;; ++tick) {
            code = once(ctx, s);
            if (!interval || (m_count != 0 && tick >= m_count)) {
                break;
            }
            std::this_thread::sleep_for(*interval);
        }
        return code;
    }

  private:
    // One report: computed, recorded, printed, alerted.
    int once(Context& ctx, train::Session& s) {
        auto r = monitor::monitor(s, m_opts);
        std::vector<monitor::Sent> sent;
        const bool alert = !m_no_alert && monitor::opens_incident(s, r);
        if (alert) {
            sent = monitor::send_alerts(s, r);
        }
        std::vector<std::string> export_failed;
        const auto exported = monitor::export_metrics(s, r, export_failed);
        if (!ctx.out.json()) {
            print(ctx, r);
        }
        // After the table, which they follow on a terminal.
        for (const auto& line : exported) {
            ctx.out.note(line);
        }
        if (!ctx.out.json()) {
            for (const auto& x : sent) {
                ctx.out.note(
                    x.ok ? fmt::format("alert sent: {} {}", x.kind, x.target)
                         : fmt::format("alert not sent: {} {}: {}", x.kind, x.target, x.error));
            }
            if (!r.alerts.empty() && !alert && !m_no_alert && !s.project.monitor->alerts.empty()) {
                ctx.out.note("no alert sent: the incident was alerted at an earlier report");
            }
        }
        std::optional<monitor::Retrain> retrained;
        if (alert && s.project.monitor->on_alert_retrain) {
            retrained = retrain(ctx, s, r);
        }
        if (ctx.out.json()) {
            ctx.out.json(monitor::report_json(r));
        }
        if (!r.alerts.empty()) {
            error::Diagnostic d;
            d.message = fmt::format("monitor/{}: {}", r.id, util::join(r.alerts, "; "));
            ctx.out.diagnostic(d);
        }
        for (const auto& x : sent) {
            if (!x.ok) {
                error::Diagnostic d;
                d.message = fmt::format("monitor/{}: the alert to {} {} failed: {}", r.id, x.kind,
                                        x.target, x.error);
                d.hint = "the report is recorded; fix the destination in monitor.alerts";
                ctx.out.diagnostic(d);
                return static_cast<int>(error::ExitCode::external);
            }
        }
        for (const auto& why : export_failed) {
            error::Diagnostic d;
            d.message = fmt::format("monitor/{}: metrics not exported: {}", r.id, why);
            d.hint = "the report is recorded; check monitor.prometheus";
            ctx.out.diagnostic(d);
        }
        if (!export_failed.empty()) {
            return static_cast<int>(error::ExitCode::external);
        }
        if (retrained && !retrained->ok()) {
            error::Diagnostic d;
            d.message = fmt::format(
                "monitor/{}: the retraining failed: {}", r.id,
                retrained->run
                    ? fmt::format("run {} {}{}", *retrained->run, retrained->state,
                                  retrained->detail.empty() ? "" : ": " + retrained->detail)
                    : retrained->detail);
            d.hint = "the report is recorded; mloop train --if-triggered retries it";
            ctx.out.diagnostic(d);
            return static_cast<int>(error::ExitCode::external);
        }
        return r.alerts.empty() ? 0 : static_cast<int>(error::ExitCode::check_failed);
    }

    // on_alert: retrain — `mloop train --if-triggered` on this report, its outcome recorded in
    // the report.
    static monitor::Retrain retrain(Context& ctx, train::Session& s, monitor::Report& r) {
        if (!ctx.out.json()) {
            ctx.out.note(fmt::format(
                "on_alert: retrain: mloop train --if-triggered (MLOOP_MONITOR_REPORT=monitor/{})",
                r.id));
        }
        std::error_code ec;
        const auto self = fs::read_symlink("/proc/self/exe", ec);
        auto rt = monitor::retrain(s, r, self, !ctx.out.quiet());
        r.retrain = monitor::retrain_json(rt);
        monitor::rewrite(s, r);
        if (rt.ok()) {  // a failure is the diagnostic
            ctx.out.note(monitor::retrain_summary(*r.retrain));
        }
        return rt;
    }

  private:
    static void print(Context& ctx, const monitor::Report& r) {
        ctx.out.print("monitor/{}{}{}: reference {} ({} rows), current {} ({} rows{})", r.id,
                      r.env.empty() ? "" : " " + r.env,
                      r.version ? " " + r.version->text() +
                                      (r.deployment ? fmt::format(" (deploy/{})", r.deployment->id)
                                                    : std::string())
                                : std::string(),
                      r.reference, r.rows_reference, util::join(r.current, ", "), r.rows_current,
                      r.rows_outside_window > 0
                          ? fmt::format(", {} outside the window", r.rows_outside_window)
                          : std::string());
        const auto drift_style = ctx.out.style("\033[1;31m");
        render::Table t({{"FEATURE"}, {"KIND"}, {"METHOD"}, {"SCORE"}, {"THRESHOLD"}, {"DRIFT"}});
        auto add = [&](const monitor::FeatureDrift& f) {
            if (!f.drift) {
                t.add({f.column, f.kind, "—", "—", "—", "? " + f.problem});
                return;
            }
            const auto& d = *f.drift;
            t.add({f.column, f.kind,
                   std::string(stats::method_name(d.method)) + (d.automatic ? " (auto)" : ""),
                   render::number(d.score), render::number(d.threshold),
                   d.drifted ? render::Cell("DRIFT", drift_style) : render::Cell("no")});
        };
        for (const auto& f : r.features) {
            add(f);
        }
        if (r.prediction) {
            add(*r.prediction);
        }
        ctx.out.raw(t.text());
        size_t judged = 0;
        for (const auto& f : r.features) {
            judged += f.drift ? 1 : 0;
        }
        ctx.out.print("dataset drift: {} ({} of {} features drifted; share {})",
                      r.dataset_drift ? "yes" : "no", r.drifted, judged, render::number(r.share));
        if (r.performance) {
            const auto& c = *r.performance;
            if (c.value) {
                ctx.out.print(
                    "performance: {} {} on {} labelled rows{}{}{}", c.name, number(c.value), c.rows,
                    c.min ? ", min " + render::number(*c.min) : "",
                    c.max ? ", max " + render::number(*c.max) : "", c.ok ? "" : " — ALERT");
            } else {
                ctx.out.print("performance: {} not computed ({})", c.name, c.problem);
            }
        }
        for (const auto& k : r.kpis) {
            ctx.out.print("kpi: {} {}{}{}{}", k.name, number(k.value),
                          k.min ? ", min " + render::number(*k.min) : "",
                          k.max ? ", max " + render::number(*k.max) : "",
                          !k.problem.empty() ? " (" + k.problem + ")"
                          : k.ok             ? ""
                                             : " — ALERT");
        }
        if (r.resources) {
            ctx.out.print(
                "resources: {:.3f} CPU cores, {} memory over {} pod{} ({})", r.resources->cpu_cores,
                util::format_bytes(static_cast<double>(r.resources->memory_bytes)),
                r.resources->pods, r.resources->pods == 1 ? "" : "s", r.resources->source);
        }
        ctx.out.print("report: {} (JSON: {}){}", util::display_path(r.html),
                      util::display_path(r.path),
                      r.html_copy.empty() ? "" : ", written to " + util::display_path(r.html_copy));
        for (const auto& n : r.notes) {
            ctx.out.note("note: " + n);
        }
    }

    monitor::Options m_opts;
    bool m_no_alert = false;
    std::string m_watch;
    int m_count = 0;
    bool m_grafana = false;
};

}  // namespace

std::unique_ptr<Command> make_monitor() {
    return std::make_unique<MonitorCommand>();
}

}  // namespace mloop::cli
