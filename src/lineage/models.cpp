#include "lineage/models.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::lineage {

using registry::Db;
using registry::Stmt;

std::vector<ModelSummary> list_models(Db& db) {
    return db.read([&] {
        std::vector<ModelSummary> out;
        // Versions are numbered 1, 2, 3, … inside the registering transaction and never
        // deleted, so the newest number is also the count: one index probe per model instead of
        // counting every version of a model with a long history.
        Stmt s = db.prepare(
            "SELECT m.name, (SELECT MAX(version) FROM model_versions v WHERE v.model_id = m.id) "
            "FROM models m ORDER BY m.name");
        while (s.step()) {
            ModelSummary m;
            m.name = s.text(0);
            m.latest = s.opt_int64(1);
            m.versions = m.latest.value_or(0);
            out.push_back(std::move(m));
        }
        registry::Models models(db);
        for (auto& m : out) {
            m.aliases = models.aliases(m.name);
            if (m.latest) {
                Stmt t = db.prepare(
                    "SELECT v.created_at FROM model_versions v JOIN models m ON m.id = v.model_id "
                    "WHERE m.name = ? AND v.version = ?");
                t.bind_all(m.name, *m.latest);
                if (t.step()) {
                    m.latest_at = t.int64(0);
                }
            }
        }
        return out;
    });
}

ModelDetail model_detail(Db& db, const std::string& name, size_t limit,
                         std::vector<std::string> key_metrics) {
    return db.read([&] {
        const auto names = model_names(db);
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            std::string hint = util::did_you_mean(name, names);
            if (hint.empty()) {
                hint = names.empty() ? "no model has a version yet; 'mloop train' registers them"
                                     : fmt::format("the models are {}", util::join(names, ", "));
            }
            throw error::UsageError(fmt::format("no model '{}'", name), hint);
        }
        ModelDetail d;
        d.name = name;
        registry::Models models(db);
        d.aliases = models.aliases(name);
        d.version_count = models.latest_version(name).value_or(0);
        Stmt s = db.prepare(
            "SELECT v.version, v.run_id, v.created_at FROM model_versions v "
            "JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.version DESC "
            "LIMIT ?");
        s.bind(1, name);
        s.bind(2, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
        std::vector<registry::ModelVersion> versions;
        while (s.step()) {
            versions.push_back({name, s.int64(0), s.int64(1), s.int64(2)});
        }
        registry::Runs runs(db);
        std::set<std::string> metric_names;
        for (auto& v : versions) {
            VersionRow row;
            row.run = runs.get(v.run_id).value_or(registry::Run{});
            row.metrics = runs.metrics(v.run_id);
            for (const auto& m : row.metrics) {
                metric_names.insert(m.name);
            }
            for (const auto& [alias, version] : d.aliases) {
                if (version == v.version) {
                    row.aliases.push_back(alias);
                }
            }
            row.version = std::move(v);
            d.versions.push_back(std::move(row));
        }
        // Where each version is live: one lookup per environment (a handful), not per version.
        registry::Deployments deployments(db);
        for (const auto& env : deployments.environments()) {
            const auto current = deployments.current(env);
            for (auto& row : d.versions) {
                if (current && current->model == name && current->version == row.version.version) {
                    row.live_in.push_back(env);
                }
            }
        }
        Stmt h = db.prepare(
            "SELECT h.alias, h.from_version, h.to_version, h.at, h.user, h.host, h.forced, "
            "h.reason FROM alias_moves h JOIN models m ON m.id = h.model_id WHERE m.name = ? "
            "ORDER BY h.id");
        h.bind(1, name);
        while (h.step()) {
            d.history.push_back({h.text(0), h.opt_int64(1), h.int64(2), h.int64(3), h.opt_text(4),
                                 h.opt_text(5), h.int64(6) != 0, h.opt_text(7)});
        }
        d.key_metrics = std::move(key_metrics);
        if (d.key_metrics.empty()) {
            for (const auto& n : metric_names) {
                if (d.key_metrics.size() == 3) {
                    break;
                }
                d.key_metrics.push_back(n);
            }
        }
        return d;
    });
}

}  // namespace mloop::lineage
