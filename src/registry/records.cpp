#include "registry/records.hpp"

#include <unistd.h>

#include "registry/registry.hpp"
#include "util/proc.hpp"

namespace mloop::registry {

namespace {

constexpr const char* k_run_columns =
    "id, kind, parent_id, state, started_at, ended_at, host, pid, process, user, command, "
    "exit_code, signal, git_commit, git_branch, git_dirty, git_diff, wall_ms, cpu_ms, "
    "max_rss_kb, message, triggered_by";

Run run_from(const Stmt& s) {
    Run r;
    r.id = s.int64(0);
    r.kind = s.text(1);
    r.parent_id = s.opt_int64(2);
    r.state = s.text(3);
    r.started_at = s.int64(4);
    r.ended_at = s.opt_int64(5);
    r.host = s.text(6);
    r.pid = s.int64(7);
    r.process = s.opt_text(8);
    r.user = s.opt_text(9);
    r.command = s.text(10);
    r.exit_code = s.opt_int64(11);
    r.signal = s.opt_int64(12);
    r.git.commit = s.opt_text(13);
    r.git.branch = s.opt_text(14);
    r.git.dirty = s.opt_int64(15).value_or(0) != 0;
    r.git.diff_digest = s.opt_text(16);
    r.wall_ms = s.opt_int64(17);
    r.cpu_ms = s.opt_int64(18);
    r.max_rss_kb = s.opt_int64(19);
    r.message = s.opt_text(20);
    r.triggered_by = s.opt_text(21);
    return r;
}

Dataset dataset_from(const Stmt& s) {
    Dataset d;
    d.id = s.int64(0);
    d.digest = s.text(1);
    d.path = s.text(2);
    d.size = s.int64(3);
    d.rows = s.opt_int64(4);
    d.kind = s.text(5);
    d.snapshot = s.opt_text(6);
    d.first_seen = s.int64(7);
    return d;
}

constexpr const char* k_dataset_columns =
    "id, digest, path, size, rows, kind, snapshot, first_seen";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Runs

int64_t Runs::begin(const RunStart& start) {
    m_db.require_transaction("Runs::begin");
    const pid_t pid = ::getpid();
    m_db.prepare(
            "INSERT INTO runs (kind, parent_id, state, started_at, host, pid, process, user, "
            "command, git_commit, git_branch, git_dirty, git_diff, message, triggered_by) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(start.kind, start.parent_id, now_ms(), util::host_name(),
                  static_cast<int64_t>(pid), util::process_identity(pid), util::user_name(),
                  start.command, start.git.commit, start.git.branch,
                  static_cast<int64_t>(start.git.dirty), start.git.diff_digest, start.message,
                  start.triggered_by)
        .run();
    const int64_t id = m_db.last_insert_rowid();
    Stmt p = m_db.prepare("INSERT INTO params (run_id, name, value, type) VALUES (?, ?, ?, ?)");
    for (const auto& param : start.params) {
        p.bind_all(id, param.name, param.value, param.type).run();
    }
    Stmt in = m_db.prepare(
        "INSERT INTO run_inputs (run_id, name, kind, path, digest, dataset_id) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& input : start.inputs) {
        in.bind_all(id, input.name, input.kind, input.path, input.digest, input.dataset_id).run();
    }
    return id;
}

void Runs::finish(int64_t id, const RunEnd& end) {
    m_db.require_transaction("Runs::finish");
    m_db.prepare(
            "UPDATE runs SET state = ?, ended_at = ?, exit_code = ?, signal = ?, "
            "wall_ms = ?, cpu_ms = ?, max_rss_kb = ? WHERE id = ?")
        .bind_all(end.state, now_ms(), end.exit_code, end.signal, end.wall_ms, end.cpu_ms,
                  end.max_rss_kb, id)
        .run();
    Stmt m = m_db.prepare("INSERT OR REPLACE INTO metrics (run_id, name, value) VALUES (?, ?, ?)");
    for (const auto& metric : end.metrics) {
        m.bind_all(id, metric.name, metric.value).run();
    }
    Stmt a = m_db.prepare(
        "INSERT OR REPLACE INTO artifacts (run_id, path, digest, size) VALUES (?, ?, ?, ?)");
    for (const auto& artifact : end.artifacts) {
        a.bind_all(id, artifact.path, artifact.digest, artifact.size).run();
    }
}

std::optional<Run> Runs::get(int64_t id) {
    Stmt s = m_db.prepare(std::string("SELECT ") + k_run_columns + " FROM runs WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return run_from(s);
}

std::vector<Run> Runs::list(const RunQuery& q) {
    std::string sql = std::string("SELECT ") + k_run_columns + " FROM runs";
    std::vector<std::string> where;
    if (q.state) {
        where.emplace_back("state = ?1");
    }
    if (q.model) {
        where.emplace_back(
            "id IN (SELECT v.run_id FROM model_versions v JOIN models m ON m.id = v.model_id "
            "WHERE m.name = ?2)");
    }
    for (size_t i = 0; i < where.size(); ++i) {
        sql += (i == 0 ? " WHERE " : " AND ") + where[i];
    }
    sql += " ORDER BY id DESC LIMIT ?3";
    Stmt s = m_db.prepare(sql);
    if (q.state) {
        s.bind(1, *q.state);
    }
    if (q.model) {
        s.bind(2, *q.model);
    }
    s.bind(3, static_cast<int64_t>(q.limit));
    std::vector<Run> out;
    while (s.step()) {
        out.push_back(run_from(s));
    }
    return out;
}

std::vector<Param> Runs::params(int64_t id) {
    Stmt s = m_db.prepare("SELECT name, value, type FROM params WHERE run_id = ? ORDER BY name");
    s.bind(1, id);
    std::vector<Param> out;
    while (s.step()) {
        out.push_back({s.text(0), s.text(1), s.text(2)});
    }
    return out;
}

std::vector<Metric> Runs::metrics(int64_t id) {
    Stmt s = m_db.prepare("SELECT name, value FROM metrics WHERE run_id = ? ORDER BY name");
    s.bind(1, id);
    std::vector<Metric> out;
    while (s.step()) {
        out.push_back({s.text(0), s.real(1)});
    }
    return out;
}

std::vector<Input> Runs::inputs(int64_t id) {
    Stmt s = m_db.prepare(
        "SELECT name, kind, path, digest, dataset_id FROM run_inputs WHERE run_id = ? "
        "ORDER BY kind, name");
    s.bind(1, id);
    std::vector<Input> out;
    while (s.step()) {
        out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.opt_int64(4)});
    }
    return out;
}

std::vector<Artifact> Runs::artifacts(int64_t id) {
    Stmt s =
        m_db.prepare("SELECT path, digest, size FROM artifacts WHERE run_id = ? ORDER BY path");
    s.bind(1, id);
    std::vector<Artifact> out;
    while (s.step()) {
        out.push_back({s.text(0), s.text(1), s.int64(2)});
    }
    return out;
}

int Runs::mark_crashed() {
    const std::string host = util::host_name();
    std::vector<int64_t> dead;
    {
        Stmt s = m_db.prepare("SELECT id, host, pid, process FROM runs WHERE state = 'running'");
        while (s.step()) {
            // A run on another host cannot be judged from here; it stays 'running'.
            if (s.text(1) != host) {
                continue;
            }
            const auto identity = s.opt_text(3);
            if (!identity || !util::process_is(static_cast<pid_t>(s.int64(2)), *identity)) {
                dead.push_back(s.int64(0));
            }
        }
    }
    if (dead.empty()) {
        return 0;
    }
    int marked = 0;
    m_db.write([&] {
        Stmt u = m_db.prepare(
            "UPDATE runs SET state = 'crashed', ended_at = COALESCE(ended_at, ?) "
            "WHERE id = ? AND state = 'running'");
        for (int64_t id : dead) {
            u.bind_all(now_ms(), id).run();
            marked += m_db.changes();
        }
        if (marked > 0) {
            Events(m_db).append("runs-crashed", std::to_string(marked),
                                "{\"reason\": \"the recording mloop process no longer exists\"}");
        }
    });
    return marked;
}

// ---------------------------------------------------------------------------------------------
// Objects, datasets, events

void Objects::record(const std::string& digest, int64_t size, const std::string& kind) {
    m_db.require_transaction("Objects::record");
    m_db.prepare(
            "INSERT OR IGNORE INTO objects (digest, size, kind, stored_at) VALUES (?, ?, ?, ?)")
        .bind_all(digest, size, kind, now_ms())
        .run();
}

bool Objects::has(const std::string& digest) {
    Stmt s = m_db.prepare("SELECT 1 FROM objects WHERE digest = ?");
    s.bind(1, digest);
    return s.step();
}

int64_t Datasets::upsert(const Dataset& d) {
    m_db.require_transaction("Datasets::upsert");
    m_db.prepare(
            "INSERT INTO datasets (digest, path, size, rows, kind, snapshot, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (digest) DO UPDATE SET "
            "rows = COALESCE(excluded.rows, rows), "
            "snapshot = COALESCE(excluded.snapshot, snapshot)")
        .bind_all(d.digest, d.path, d.size, d.rows, d.kind, d.snapshot, now_ms())
        .run();
    Stmt s = m_db.prepare("SELECT id FROM datasets WHERE digest = ?");
    s.bind(1, d.digest);
    s.step();
    return s.int64(0);
}

std::optional<Dataset> Datasets::by_digest(const std::string& digest) {
    Stmt s = m_db.prepare(std::string("SELECT ") + k_dataset_columns +
                          " FROM datasets WHERE digest = ?");
    s.bind(1, digest);
    if (!s.step()) {
        return std::nullopt;
    }
    return dataset_from(s);
}

void Events::append(const std::string& kind, const std::string& subject,
                    const std::string& detail) {
    m_db.require_transaction("Events::append");
    m_db.prepare("INSERT INTO events (at, kind, subject, detail) VALUES (?, ?, ?, ?)")
        .bind_all(now_ms(), kind, subject, detail)
        .run();
}

// ---------------------------------------------------------------------------------------------
// Models

std::optional<int64_t> Models::model_id(const std::string& model) {
    Stmt s = m_db.prepare("SELECT id FROM models WHERE name = ?");
    s.bind(1, model);
    return s.step() ? std::optional<int64_t>(s.int64(0)) : std::nullopt;
}

int64_t Models::register_version(const std::string& model, int64_t run_id) {
    m_db.require_transaction("Models::register_version");
    m_db.prepare("INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)")
        .bind_all(model, now_ms())
        .run();
    const int64_t mid = *model_id(model);
    m_db.prepare(
            "INSERT INTO model_versions (model_id, version, run_id, created_at) "
            "SELECT ?1, COALESCE(MAX(version), 0) + 1, ?2, ?3 FROM model_versions "
            "WHERE model_id = ?1")
        .bind_all(mid, run_id, now_ms())
        .run();
    Stmt s = m_db.prepare("SELECT MAX(version) FROM model_versions WHERE model_id = ?");
    s.bind(1, mid);
    s.step();
    return s.int64(0);
}

std::optional<int64_t> Models::move_alias(const std::string& model, const std::string& alias,
                                          int64_t version, bool forced,
                                          const std::optional<std::string>& reason) {
    m_db.require_transaction("Models::move_alias");
    const auto mid = model_id(model);
    if (!mid) {
        throw std::logic_error("move_alias: unknown model " + model);
    }
    const auto from = resolve_alias(model, alias);
    m_db.prepare(
            "INSERT INTO aliases (model_id, alias, version, moved_at) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (model_id, alias) DO UPDATE SET version = ?3, moved_at = ?4")
        .bind_all(*mid, alias, version, now_ms())
        .run();
    m_db.prepare(
            "INSERT INTO alias_moves (model_id, alias, from_version, to_version, at, user, "
            "host, forced, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(*mid, alias, from, version, now_ms(), util::user_name(), util::host_name(),
                  static_cast<int64_t>(forced), reason)
        .run();
    return from;
}

std::optional<int64_t> Models::resolve_alias(const std::string& model, const std::string& alias) {
    Stmt s = m_db.prepare(
        "SELECT a.version FROM aliases a JOIN models m ON m.id = a.model_id "
        "WHERE m.name = ? AND a.alias = ?");
    s.bind_all(model, alias);
    return s.step() ? std::optional<int64_t>(s.int64(0)) : std::nullopt;
}

std::optional<int64_t> Models::latest_version(const std::string& model) {
    Stmt s = m_db.prepare(
        "SELECT MAX(v.version) FROM model_versions v JOIN models m ON m.id = v.model_id "
        "WHERE m.name = ?");
    s.bind(1, model);
    return s.step() ? s.opt_int64(0) : std::nullopt;
}

std::vector<ModelVersion> Models::versions(const std::string& model) {
    Stmt s = m_db.prepare(
        "SELECT m.name, v.version, v.run_id, v.created_at FROM model_versions v "
        "JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.version DESC");
    s.bind(1, model);
    std::vector<ModelVersion> out;
    while (s.step()) {
        out.push_back({s.text(0), s.int64(1), s.int64(2), s.int64(3)});
    }
    return out;
}

std::vector<ModelVersion> Models::versions_of_run(int64_t run_id) {
    Stmt s = m_db.prepare(
        "SELECT m.name, v.version, v.run_id, v.created_at FROM model_versions v "
        "JOIN models m ON m.id = v.model_id WHERE v.run_id = ? ORDER BY m.name, v.version");
    s.bind(1, run_id);
    std::vector<ModelVersion> out;
    while (s.step()) {
        out.push_back({s.text(0), s.int64(1), s.int64(2), s.int64(3)});
    }
    return out;
}

std::vector<std::pair<std::string, int64_t>> Models::aliases(const std::string& model) {
    Stmt s = m_db.prepare(
        "SELECT a.alias, a.version FROM aliases a JOIN models m ON m.id = a.model_id "
        "WHERE m.name = ? ORDER BY a.alias");
    s.bind(1, model);
    std::vector<std::pair<std::string, int64_t>> out;
    while (s.step()) {
        out.emplace_back(s.text(0), s.int64(1));
    }
    return out;
}

std::vector<AliasMove> Models::alias_moves(const std::string& model, const std::string& alias) {
    Stmt s = m_db.prepare(
        "SELECT h.alias, h.from_version, h.to_version, h.at, h.user, h.host, h.forced, h.reason "
        "FROM alias_moves h JOIN models m ON m.id = h.model_id "
        "WHERE m.name = ? AND h.alias = ? ORDER BY h.id");
    s.bind_all(model, alias);
    std::vector<AliasMove> out;
    while (s.step()) {
        out.push_back({s.text(0), s.opt_int64(1), s.int64(2), s.int64(3), s.opt_text(4),
                       s.opt_text(5), s.int64(6) != 0, s.opt_text(7)});
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Lineage

std::optional<RunLineage> lineage_of_run(Db& db, int64_t run_id) {
    return db.read([&]() -> std::optional<RunLineage> {
        Runs runs(db);
        auto run = runs.get(run_id);
        if (!run) {
            return std::nullopt;
        }
        RunLineage l;
        l.run = std::move(*run);
        l.params = runs.params(run_id);
        l.metrics = runs.metrics(run_id);
        l.inputs = runs.inputs(run_id);
        Stmt ds = db.prepare(std::string("SELECT ") + k_dataset_columns +
                             " FROM datasets WHERE id IN (SELECT dataset_id FROM run_inputs "
                             "WHERE run_id = ? AND dataset_id IS NOT NULL) ORDER BY id");
        ds.bind(1, run_id);
        while (ds.step()) {
            l.datasets.push_back(dataset_from(ds));
        }
        l.artifacts = runs.artifacts(run_id);
        l.versions = Models(db).versions_of_run(run_id);
        if (l.run.parent_id) {
            l.parent = runs.get(*l.run.parent_id);
        }
        return l;
    });
}

}  // namespace mloop::registry
