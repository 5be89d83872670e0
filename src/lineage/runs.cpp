#include "lineage/runs.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::lineage {

const std::vector<std::string>& run_states() {
    static const std::vector<std::string> states = {"running",     "succeeded", "failed",
                                                    "interrupted", "crashed",   "inputs-changed"};
    return states;
}

namespace {

// Runs that produced a version of `model`, newest first. The correlated EXISTS walks runs by id
// from the newest and stops at `limit`, instead of first collecting every version's run.
std::vector<registry::Run> runs_of_model(registry::Db& db, const RunsOptions& o) {
    std::string sql =
        "SELECT id FROM runs r WHERE EXISTS (SELECT 1 FROM model_versions v "
        "JOIN models m ON m.id = v.model_id WHERE v.run_id = r.id AND m.name = ?1)";
    if (o.state) {
        sql += " AND r.state = ?2";
    }
    sql += " ORDER BY r.id DESC LIMIT ?3";
    registry::Stmt s = db.prepare(sql);
    s.bind(1, *o.model);
    if (o.state) {
        s.bind(2, *o.state);
    }
    s.bind(3, static_cast<int64_t>(o.limit));
    std::vector<int64_t> ids;
    while (s.step()) {
        ids.push_back(s.int64(0));
    }
    std::vector<registry::Run> out;
    registry::Runs runs(db);
    for (int64_t id : ids) {
        if (auto r = runs.get(id)) {
            out.push_back(std::move(*r));
        }
    }
    return out;
}

}  // namespace

void check_state(const std::optional<std::string>& state) {
    if (state &&
        std::find(run_states().begin(), run_states().end(), *state) == run_states().end()) {
        std::string hint = util::did_you_mean(*state, run_states());
        throw error::UsageError(
            fmt::format("'{}' is not a run state", *state),
            hint.empty() ? fmt::format("the states are {}", util::join(run_states(), ", ")) : hint);
    }
}

RunsResult list_runs(registry::Db& db, const RunsOptions& o) {
    check_state(o.state);
    if (o.model) {
        const auto names = model_names(db);
        if (std::find(names.begin(), names.end(), *o.model) == names.end()) {
            std::string hint = util::did_you_mean(*o.model, names);
            if (hint.empty()) {
                hint = names.empty() ? "no model has a version yet"
                                     : fmt::format("the models are {}", util::join(names, ", "));
            }
            throw error::UsageError(fmt::format("no model '{}'", *o.model), hint);
        }
    }
    RunsResult r;
    return db.read([&] {
        std::vector<registry::Run> runs;
        if (o.model) {
            runs = runs_of_model(db, o);
        } else {
            registry::RunQuery q;
            q.limit = o.limit;
            q.state = o.state;
            runs = registry::Runs(db).list(q);
        }
        r.runs = summaries_of(db, std::move(runs));
        r.key_metrics = o.key_metrics;
        if (r.key_metrics.empty()) {
            std::set<std::string> names;
            for (const auto& s : r.runs) {
                for (const auto& m : s.metrics) {
                    names.insert(m.name);
                }
            }
            for (const auto& n : names) {
                if (r.key_metrics.size() == 3) {
                    break;
                }
                r.key_metrics.push_back(n);
            }
        }
        return r;
    });
}

}  // namespace mloop::lineage
