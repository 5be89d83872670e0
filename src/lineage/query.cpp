#include "lineage/query.hpp"

namespace mloop::lineage {

using registry::Db;
using registry::Stmt;

std::vector<Stage> stages_of(Db& db, int64_t run_id) {
    std::vector<Stage> out;
    // In the order they ran. A cached stage takes no time, so the stage after it may start in
    // the same millisecond: the one that ended first came first (a stage still running, last).
    Stmt s = db.prepare(
        "SELECT stage, state, cache_key, source_run, started_at, ended_at, exit_code, wall_ms, "
        "cpu_ms, max_rss_kb FROM stage_runs WHERE run_id = ? "
        "ORDER BY started_at, ended_at IS NULL, ended_at, stage");
    s.bind(1, run_id);
    while (s.step()) {
        Stage st;
        st.name = s.text(0);
        st.state = s.text(1);
        st.cache_key = s.text(2);
        st.source_run = s.opt_int64(3);
        st.started_at = s.int64(4);
        st.ended_at = s.opt_int64(5);
        st.exit_code = s.opt_int64(6);
        st.wall_ms = s.opt_int64(7);
        st.cpu_ms = s.opt_int64(8);
        st.max_rss_kb = s.opt_int64(9);
        out.push_back(std::move(st));
    }
    Stmt o = db.prepare(
        "SELECT stage, path, digest, kind FROM stage_outputs WHERE run_id = ? ORDER BY stage, "
        "path");
    o.bind(1, run_id);
    while (o.step()) {
        const std::string stage = o.text(0);
        for (auto& st : out) {
            if (st.name == stage) {
                st.outputs.push_back({o.text(1), o.text(2), o.text(3)});
            }
        }
    }
    return out;
}

std::optional<Validation> latest_validation(Db& db, const std::string& digest) {
    Stmt s = db.prepare(
        "SELECT passed, at, rows, schema_digest, path FROM validations WHERE digest = ? "
        "ORDER BY id DESC LIMIT 1");
    s.bind(1, digest);
    if (!s.step()) {
        return std::nullopt;
    }
    return Validation{s.int64(0) != 0, s.int64(1), s.opt_int64(2), s.text(3), s.text(4)};
}

std::vector<registry::Run> children_of(Db& db, int64_t run_id) {
    std::vector<registry::Run> out;
    Stmt s = db.prepare("SELECT id FROM runs WHERE parent_id = ? ORDER BY id");
    s.bind(1, run_id);
    std::vector<int64_t> ids;
    while (s.step()) {
        ids.push_back(s.int64(0));
    }
    registry::Runs runs(db);
    for (int64_t id : ids) {
        if (auto r = runs.get(id)) {
            out.push_back(std::move(*r));
        }
    }
    return out;
}

std::optional<registry::ModelVersion> evaluated_version(Db& db, int64_t run_id) {
    Stmt s = db.prepare(
        "SELECT m.name, v.version, v.run_id, v.created_at FROM evaluations e "
        "JOIN model_versions v ON v.model_id = e.model_id AND v.version = e.version "
        "JOIN models m ON m.id = e.model_id WHERE e.run_id = ?");
    s.bind(1, run_id);
    if (!s.step()) {
        return std::nullopt;
    }
    return registry::ModelVersion{s.text(0), s.int64(1), s.int64(2), s.int64(3)};
}

std::vector<int64_t> evaluations_of(Db& db, const std::string& model, int64_t version) {
    Stmt s = db.prepare(
        "SELECT e.run_id FROM evaluations e JOIN models m ON m.id = e.model_id "
        "WHERE m.name = ? AND e.version = ? ORDER BY e.run_id");
    s.bind_all(model, version);
    std::vector<int64_t> out;
    while (s.step()) {
        out.push_back(s.int64(0));
    }
    return out;
}

std::vector<Use> uses_of(Db& db, const std::string& digest, size_t limit) {
    Stmt s = db.prepare(
        "SELECT run_id, name, path FROM run_inputs WHERE digest = ? ORDER BY run_id DESC "
        "LIMIT ?");
    s.bind(1, digest);
    s.bind(2, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
    std::vector<Use> out;
    while (s.step()) {
        out.push_back({s.int64(0), s.text(1), s.text(2)});
    }
    return out;
}

int64_t count_uses(Db& db, const std::string& digest) {
    Stmt s = db.prepare("SELECT COUNT(*) FROM run_inputs WHERE digest = ?");
    s.bind(1, digest);
    s.step();
    return s.int64(0);
}

std::vector<UsedBy> used_by(Db& db, const std::string& digest, size_t limit) {
    std::vector<UsedBy> out;
    registry::Runs runs(db);
    registry::Models models(db);
    for (auto& u : uses_of(db, digest, limit)) {
        const int64_t id = u.run_id;
        if (auto r = runs.get(id)) {
            out.push_back({std::move(u), std::move(*r), models.versions_of_run(id)});
        }
    }
    return out;
}

std::vector<Production> productions_of(Db& db, const std::string& digest) {
    std::vector<Production> out;
    Stmt a = db.prepare("SELECT run_id, path FROM artifacts WHERE digest = ? ORDER BY run_id");
    a.bind(1, digest);
    while (a.step()) {
        out.push_back({a.int64(0), a.text(1), std::nullopt});
    }
    Stmt s = db.prepare(
        "SELECT run_id, path, stage FROM stage_outputs WHERE digest = ? ORDER BY run_id");
    s.bind(1, digest);
    while (s.step()) {
        out.push_back({s.int64(0), s.text(1), s.text(2)});
    }
    return out;
}

std::vector<registry::Dataset> datasets_at(Db& db, const std::string& path) {
    Stmt s =
        db.prepare("SELECT digest FROM datasets WHERE path = ? ORDER BY first_seen DESC, id DESC");
    s.bind(1, path);
    std::vector<std::string> digests;
    while (s.step()) {
        digests.push_back(s.text(0));
    }
    std::vector<registry::Dataset> out;
    registry::Datasets datasets(db);
    for (const auto& d : digests) {
        if (auto ds = datasets.by_digest(d)) {
            out.push_back(std::move(*ds));
        }
    }
    return out;
}

std::vector<int64_t> runs_at_commit(Db& db, const std::string& commit) {
    Stmt s = db.prepare("SELECT id FROM runs WHERE git_commit = ? ORDER BY id DESC");
    s.bind(1, commit);
    std::vector<int64_t> out;
    while (s.step()) {
        out.push_back(s.int64(0));
    }
    return out;
}

std::vector<RunSummary> summaries_of(Db& db, std::vector<registry::Run> runs) {
    // Two statements prepared once for every run: parsing SQL, not reading rows, is most of
    // what a listing of 20 runs costs.
    Stmt metrics = db.prepare("SELECT name, value FROM metrics WHERE run_id = ? ORDER BY name");
    Stmt versions = db.prepare(
        "SELECT m.name, v.version, v.run_id, v.created_at FROM model_versions v "
        "JOIN models m ON m.id = v.model_id WHERE v.run_id = ? ORDER BY m.name, v.version");
    std::vector<RunSummary> out;
    out.reserve(runs.size());
    for (auto& run : runs) {
        RunSummary s;
        metrics.reset();
        metrics.bind(1, run.id);
        while (metrics.step()) {
            s.metrics.push_back({metrics.text(0), metrics.real(1)});
        }
        versions.reset();
        versions.bind(1, run.id);
        while (versions.step()) {
            s.versions.push_back(
                {versions.text(0), versions.int64(1), versions.int64(2), versions.int64(3)});
        }
        s.run = std::move(run);
        out.push_back(std::move(s));
    }
    return out;
}

RunSummary summary_of(Db& db, registry::Run run) {
    std::vector<registry::Run> one;
    one.push_back(std::move(run));
    return std::move(summaries_of(db, std::move(one)).front());
}

std::vector<std::string> aliases_of(Db& db, const std::string& model, int64_t version) {
    Stmt s = db.prepare(
        "SELECT a.alias FROM aliases a JOIN models m ON m.id = a.model_id "
        "WHERE m.name = ? AND a.version = ? ORDER BY a.alias");
    s.bind_all(model, version);
    std::vector<std::string> out;
    while (s.step()) {
        out.push_back(s.text(0));
    }
    return out;
}

std::vector<std::string> model_names(Db& db) {
    Stmt s = db.prepare("SELECT name FROM models ORDER BY name");
    std::vector<std::string> out;
    while (s.step()) {
        out.push_back(s.text(0));
    }
    return out;
}

std::optional<int64_t> LiveDeployments::in(const std::string& env) {
    auto it = m_current.find(env);
    if (it == m_current.end()) {
        const auto d = m_deployments.current(env);
        it = m_current.emplace(env, d ? std::optional<int64_t>(d->id) : std::nullopt).first;
    }
    return it->second;
}

}  // namespace mloop::lineage
