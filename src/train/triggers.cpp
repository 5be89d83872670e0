#include "train/triggers.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "config/variables.hpp"
#include "error/error.hpp"
#include "git/git.hpp"
#include "registry/registry.hpp"
#include "registry/reports.hpp"
#include "train/internal.hpp"

namespace mloop::train {

namespace {

std::string short_digest(const std::string& d) {
    return d.size() > 19 ? d.substr(0, 19) + "…" : d;
}

// The report the drift and performance triggers read: the one MLOOP_MONITOR_REPORT names
// ("monitor/N" or "N"; set by `mloop monitor` when on_alert: retrain starts the training), else
// the last one of production.
std::optional<registry::MonitorReport> monitor_report(registry::Db& db) {
    const char* named = std::getenv("MLOOP_MONITOR_REPORT");
    if (named == nullptr || *named == '\0') {
        return registry::Reports(db).latest("production");
    }
    std::string_view v(named);
    if (v.rfind("monitor/", 0) == 0) {
        v.remove_prefix(8);
    }
    int64_t id = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
    if (ec != std::errc() || end != v.data() + v.size() || id <= 0) {
        throw error::UsageError(
            fmt::format("MLOOP_MONITOR_REPORT '{}' is not a monitor report", named),
            "monitor/N or N, as mloop monitor prints it");
    }
    auto r = registry::Reports(db).get(id);
    if (!r) {
        throw error::UsageError(fmt::format("MLOOP_MONITOR_REPORT: there is no monitor/{}", id),
                                "see the report ids mloop status and mloop monitor print");
    }
    return r;
}

}  // namespace

bool TriggerReport::fired() const {
    return std::any_of(checks.begin(), checks.end(), [](const TriggerCheck& c) { return c.fired; });
}

std::string TriggerReport::json() const {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& c : checks) {
        if (c.fired) {
            j.push_back({{"trigger", c.name}, {"reason", c.reason}});
        }
    }
    return j.dump();
}

TriggerReport evaluate_triggers(Session& s) {
    TriggerReport report;
    const auto& t = s.project.train->triggers;
    registry::Db& db = s.db();
    std::optional<int64_t> last;
    {
        registry::Stmt q = db.prepare(
            "SELECT id FROM runs WHERE state = 'succeeded' AND kind IN ('train', 'trial') "
            "ORDER BY id DESC LIMIT 1");
        if (q.step()) {
            last = q.int64(0);
        }
    }
    if (!last) {
        report.checks.push_back({"first_run", true, "no successful training run is recorded yet"});
        return report;
    }
    registry::Runs runs(db);
    const auto previous = runs.inputs(*last);
    const auto run = runs.get(*last);
    const auto now = detail::hash_inputs(s);
    auto previous_digest = [&](const detail::InputFile& f) -> std::optional<std::string> {
        for (const auto& in : previous) {
            if (in.kind == f.kind && in.name == f.name) {
                return in.digest;
            }
        }
        return std::nullopt;
    };
    if (t.data_changed) {
        TriggerCheck c{"data_changed", false, ""};
        std::vector<std::string> changes;
        for (const auto& f : now) {
            if (f.kind != "dataset") {
                continue;
            }
            const auto before = previous_digest(f);
            if (!before) {
                changes.push_back(fmt::format("{}: new since run {}", f.name, *last));
            } else if (*before != f.digest.str()) {
                changes.push_back(fmt::format("{} ({}): {} → {}", f.name, f.shown,
                                              short_digest(*before), short_digest(f.digest.str())));
            }
        }
        c.fired = !changes.empty();
        c.reason = c.fired ? fmt::format("{}", fmt::join(changes, "; "))
                           : fmt::format("every dataset is as run {} saw it", *last);
        report.checks.push_back(std::move(c));
    }
    if (t.code_changed) {
        TriggerCheck c{"code_changed", false, ""};
        std::vector<std::string> changes;
        const git::State& git = s.git.get();
        if (git.commit && run->git.commit && *git.commit != *run->git.commit) {
            changes.push_back(fmt::format("commit {} → {}", run->git.commit->substr(0, 12),
                                          git.commit->substr(0, 12)));
        } else if (git.diff_digest != run->git.diff_digest) {
            changes.push_back(git.dirty ? "uncommitted changes differ from the last run's"
                                        : "the work tree is clean again");
        }
        for (const auto& f : now) {
            if (f.kind != "code") {
                continue;
            }
            const auto before = previous_digest(f);
            if (!before || *before != f.digest.str()) {
                changes.push_back(fmt::format("{}: {} → {}", f.name,
                                              before ? short_digest(*before) : "new",
                                              short_digest(f.digest.str())));
            }
        }
        c.fired = !changes.empty();
        c.reason = c.fired ? fmt::format("{}", fmt::join(changes, "; "))
                           : fmt::format("code and inputs are as run {} saw them", *last);
        report.checks.push_back(std::move(c));
    }
    if (t.max_age) {
        TriggerCheck c{"max_age", false, ""};
        registry::Models models(db);
        const auto v = models.resolve_alias(s.project.model.name, "production");
        if (!v) {
            c.reason = "no version is aliased production";
        } else {
            int64_t created = 0;
            for (const auto& mv : models.versions(s.project.model.name)) {
                if (mv.version == *v) {
                    created = mv.created_at;
                }
            }
            const auto age = std::chrono::seconds((registry::now_ms() - created) / 1000);
            c.fired = age > *t.max_age;
            c.reason =
                fmt::format("production ({}@{}) is {} old; the limit is {}", s.project.model.name,
                            *v, config::format_duration(age), config::format_duration(*t.max_age));
        }
        report.checks.push_back(std::move(c));
    }
    // The last monitor report of production, if it came after the last training run: a report
    // that already led to a retraining does not fire again.
    if (t.drift || t.performance) {
        const auto latest = monitor_report(db);
        const int64_t trained_at = run ? run->ended_at.value_or(run->started_at) : 0;
        for (const auto& [enabled, name] :
             {std::pair{t.drift, "drift"}, std::pair{t.performance, "performance"}}) {
            if (!enabled) {
                continue;
            }
            TriggerCheck c{name, false, ""};
            if (!latest) {
                c.reason = "no monitor report of production yet";
            } else if (latest->created_at <= trained_at) {
                c.reason = fmt::format("monitor/{} came before the last training run (run {})",
                                       latest->id, *last);
            } else if (std::string(name) == "drift") {
                c.fired = latest->dataset_drift;
                c.reason = fmt::format("monitor/{}: {} of {} features drifted{}", latest->id,
                                       latest->drifted, latest->columns,
                                       c.fired ? "" : ", no dataset drift");
            } else {
                for (const auto& a : latest->alerts) {
                    if (a.rfind("performance:", 0) == 0) {
                        c.fired = true;
                        c.reason = fmt::format("monitor/{}: {}", latest->id, a);
                    }
                }
                if (!c.fired) {
                    c.reason = fmt::format("monitor/{}: performance within its limits", latest->id);
                }
            }
            report.checks.push_back(std::move(c));
        }
    }
    return report;
}

}  // namespace mloop::train
