#include "registry/reports.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mloop::registry {

namespace {

constexpr const char* k_columns =
    "r.id, r.env, r.deployment_id, m.name, r.version, r.created_at, r.reference, "
    "r.reference_digest, r.rows_reference, r.rows_current, r.columns, r.drifted, "
    "r.dataset_drift, r.alerts, r.report, r.path";

MonitorReport report_from(Stmt& s) {
    MonitorReport r;
    r.id = s.int64(0);
    r.env = s.opt_text(1);
    r.deployment = s.opt_int64(2);
    r.model = s.opt_text(3);
    r.version = s.opt_int64(4);
    r.created_at = s.int64(5);
    r.reference = s.text(6);
    r.reference_digest = s.opt_text(7);
    r.rows_reference = s.int64(8);
    r.rows_current = s.int64(9);
    r.columns = s.int64(10);
    r.drifted = s.int64(11);
    r.dataset_drift = s.int64(12) != 0;
    const auto alerts = nlohmann::json::parse(s.text(13), nullptr, false);
    if (alerts.is_array()) {
        for (const auto& a : alerts) {
            if (a.is_string()) {
                r.alerts.push_back(a.get<std::string>());
            }
        }
    }
    r.report = s.text(14);
    r.path = s.opt_text(15);
    return r;
}

}  // namespace

int64_t Reports::add(const MonitorReport& r) {
    m_db.require_transaction("Reports::add");
    std::optional<int64_t> model_id;
    if (r.model) {
        Stmt m = m_db.prepare("SELECT id FROM models WHERE name = ?");
        m.bind(1, *r.model);
        if (m.step()) {
            model_id = m.int64(0);
        }
    }
    m_db.prepare(
            "INSERT INTO monitor_reports (env, deployment_id, model_id, version, created_at, "
            "reference, reference_digest, rows_reference, rows_current, columns, drifted, "
            "dataset_drift, alerts, report, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)")
        .bind_all(r.env, r.deployment, model_id, r.version, r.created_at, r.reference,
                  r.reference_digest, r.rows_reference, r.rows_current, r.columns, r.drifted,
                  int64_t{r.dataset_drift ? 1 : 0}, nlohmann::json(r.alerts).dump(), r.report,
                  r.path)
        .run();
    return m_db.last_insert_rowid();
}

void Reports::set_path(int64_t id, const std::string& path) {
    m_db.require_transaction("Reports::set_path");
    m_db.prepare("UPDATE monitor_reports SET path = ? WHERE id = ?").bind_all(path, id).run();
}

std::optional<MonitorReport> Reports::latest(const std::string& env) {
    const auto all = list(env, 1);
    if (all.empty()) {
        return std::nullopt;
    }
    return all.front();
}

std::optional<MonitorReport> Reports::get(int64_t id) {
    Stmt s = m_db.prepare(fmt::format(
        "SELECT {} FROM monitor_reports r LEFT JOIN models m ON m.id = r.model_id WHERE r.id = ?",
        k_columns));
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return report_from(s);
}

std::vector<MonitorReport> Reports::list(const std::optional<std::string>& env, int limit) {
    Stmt s = m_db.prepare(fmt::format(
        "SELECT {} FROM monitor_reports r LEFT JOIN models m ON m.id = r.model_id {} ORDER BY "
        "r.id DESC LIMIT ?",
        k_columns, env ? "WHERE r.env = ?" : ""));
    int i = 1;
    if (env) {
        s.bind(i++, *env);
    }
    s.bind(i, static_cast<int64_t>(limit));
    std::vector<MonitorReport> out;
    while (s.step()) {
        out.push_back(report_from(s));
    }
    return out;
}

}  // namespace mloop::registry
