#include "lineage/show.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "error/error.hpp"

namespace mloop::lineage {

using registry::Db;
using registry::Stmt;

namespace {

std::vector<registry::AliasMove> moves_of_version(Db& db, const std::string& model,
                                                  int64_t version) {
    Stmt s = db.prepare(
        "SELECT h.alias, h.from_version, h.to_version, h.at, h.user, h.host, h.forced, h.reason "
        "FROM alias_moves h JOIN models m ON m.id = h.model_id "
        "WHERE m.name = ?1 AND (h.to_version = ?2 OR h.from_version = ?2) ORDER BY h.id");
    s.bind_all(model, version);
    std::vector<registry::AliasMove> out;
    while (s.step()) {
        out.push_back({s.text(0), s.opt_int64(1), s.int64(2), s.int64(3), s.opt_text(4),
                       s.opt_text(5), s.int64(6) != 0, s.opt_text(7)});
    }
    return out;
}

// What was packaged and deployed of `versions`: each version's images (images_by_version) and
// their deployments (deployments_by_version), with the live one of each environment marked.
Serving serving_of(Db& db, const std::vector<registry::ModelVersion>& versions) {
    Serving out;
    out.several_versions = versions.size() > 1;
    registry::Images images(db);
    registry::Deployments deployments(db);
    LiveDeployments live(db);
    std::vector<registry::Deployment> all;
    for (const auto& v : versions) {
        auto is = images.for_version(v.model, v.version);
        out.images.insert(out.images.end(), is.rbegin(), is.rend());
        auto ds = deployments.of_version(v.model, v.version);
        all.insert(all.end(), ds.begin(), ds.end());
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    out.deployment_count = static_cast<int64_t>(all.size());
    std::set<std::string> live_in;
    for (auto& d : all) {
        const bool is_live = live.is_live(d);
        if (is_live) {
            live_in.insert(d.env);
        }
        if (out.deployments.size() < k_list_limit) {
            out.deployments.push_back({std::move(d), is_live});
        }
    }
    out.live_in.assign(live_in.begin(), live_in.end());
    return out;
}

DeploymentDetail show_deployment(Db& db, const registry::DeploymentRef& ref) {
    registry::Deployments deployments(db);
    auto d = deployments.get(ref.id);
    if (!d) {
        throw error::UsageError(fmt::format("no deployment {}", ref.id));
    }
    DeploymentDetail out;
    Stmt s = db.prepare(
        "SELECT v.run_id, v.created_at FROM model_versions v JOIN models m ON m.id = v.model_id "
        "WHERE m.name = ? AND v.version = ?");
    s.bind_all(d->model, d->version);
    out.version = {d->model, d->version, 0, 0};
    if (s.step()) {
        out.version.run_id = s.int64(0);
        out.version.created_at = s.int64(1);
    }
    out.aliases = aliases_of(db, d->model, d->version);
    out.image = registry::Images(db).get(d->image);
    if (d->previous) {
        out.previous = deployments.get(*d->previous);
    }
    if (d->rollback_to) {
        out.rollback_to = deployments.get(*d->rollback_to);
    }
    out.live = deployments.current(d->env);
    out.steps = deployments.steps(ref.id);
    out.deployment = std::move(*d);
    return out;
}

VersionDetail show_version(Db& db, const registry::VersionRef& ref) {
    VersionDetail d;
    Stmt s = db.prepare(
        "SELECT v.run_id, v.created_at FROM model_versions v JOIN models m ON m.id = v.model_id "
        "WHERE m.name = ? AND v.version = ?");
    s.bind_all(ref.model, ref.version);
    if (!s.step()) {
        throw error::UsageError(fmt::format("{} has no version {}", ref.model, ref.version));
    }
    d.version = {ref.model, ref.version, s.int64(0), s.int64(1)};
    registry::Runs runs(db);
    d.run = *runs.get(d.version.run_id);
    d.metrics = runs.metrics(d.version.run_id);
    d.artifacts = runs.artifacts(d.version.run_id);
    d.aliases = aliases_of(db, ref.model, ref.version);
    d.history = moves_of_version(db, ref.model, ref.version);
    for (int64_t id : evaluations_of(db, ref.model, ref.version)) {
        if (auto r = runs.get(id)) {
            d.evaluations.push_back(summary_of(db, std::move(*r)));
        }
    }
    d.serving = serving_of(db, {d.version});
    return d;
}

DatasetDetail show_dataset(Db& db, const registry::DatasetRef& ref) {
    DatasetDetail d;
    d.digest = ref.digest;
    d.path = ref.dataset ? ref.dataset->path : ref.path;
    d.dataset = ref.dataset;
    d.validation = latest_validation(db, ref.digest);
    d.uses = used_by(db, ref.digest, k_list_limit);
    d.use_count = count_uses(db, ref.digest);
    d.produced_by = productions_of(db, ref.digest);
    d.at_path = datasets_at(db, d.path);
    if (!ref.dataset && ref.path != d.path) {
        auto more = datasets_at(db, ref.path);
        d.at_path.insert(d.at_path.end(), more.begin(), more.end());
    }
    return d;
}

ArtifactDetail show_artifact(Db& db, const registry::ArtifactRef& ref) {
    ArtifactDetail d;
    d.digest = ref.digest;
    Stmt s = db.prepare("SELECT size, kind, stored_at FROM objects WHERE digest = ?");
    s.bind(1, ref.digest);
    if (s.step()) {
        d.size = s.int64(0);
        d.kind = s.text(1);
        d.stored_at = s.int64(2);
    }
    d.produced_by = productions_of(db, ref.digest);
    registry::Models models(db);
    for (const auto& p : d.produced_by) {
        if (!p.stage) {
            for (auto& v : models.versions_of_run(p.run_id)) {
                d.versions.push_back(std::move(v));
            }
        }
        if (!d.size) {
            Stmt a = db.prepare("SELECT size FROM artifacts WHERE run_id = ? AND path = ?");
            a.bind_all(p.run_id, p.path);
            if (a.step()) {
                d.size = a.int64(0);
            }
        }
    }
    d.uses = used_by(db, ref.digest, k_list_limit);
    d.use_count = count_uses(db, ref.digest);
    return d;
}

CommitDetail show_commit(Db& db, const registry::CommitRef& ref) {
    CommitDetail d;
    d.commit = ref.commit;
    const auto ids = runs_at_commit(db, ref.commit);
    d.run_count = static_cast<int64_t>(ids.size());
    registry::Runs runs(db);
    std::vector<registry::Run> listed;
    for (size_t i = 0; i < ids.size() && i < k_list_limit; ++i) {
        if (auto r = runs.get(ids[i])) {
            listed.push_back(std::move(*r));
        }
    }
    d.runs = summaries_of(db, std::move(listed));
    return d;
}

}  // namespace

RunDetail show_run(Db& db, int64_t run_id) {
    RunDetail d;
    auto l = registry::lineage_of_run(db, run_id);
    if (!l) {
        throw error::UsageError(fmt::format("no run {}", run_id));
    }
    d.lineage = std::move(*l);
    std::stable_sort(
        d.lineage.inputs.begin(), d.lineage.inputs.end(),
        [](const auto& a, const auto& b) { return (a.kind == "dataset") > (b.kind == "dataset"); });
    for (const auto& in : d.lineage.inputs) {
        if (in.kind == "dataset" && !d.validations.count(in.digest)) {
            if (auto v = latest_validation(db, in.digest)) {
                d.validations.emplace(in.digest, *v);
            }
        }
    }
    d.stages = stages_of(db, run_id);
    d.children = children_of(db, run_id);
    d.evaluates = evaluated_version(db, run_id);
    for (const auto& v : d.lineage.versions) {
        d.version_aliases[fmt::format("{}@{}", v.model, v.version)] =
            aliases_of(db, v.model, v.version);
    }
    d.serving = serving_of(db, d.lineage.versions);
    return d;
}

Detail show(Db& db, const registry::Ref& ref) {
    if (const auto* r = std::get_if<registry::RunRef>(&ref)) {
        return show_run(db, r->id);  // lineage_of_run takes its own snapshot
    }
    return db.read([&]() -> Detail {
        if (const auto* v = std::get_if<registry::VersionRef>(&ref)) {
            return show_version(db, *v);
        }
        if (const auto* ds = std::get_if<registry::DatasetRef>(&ref)) {
            // Content no dataset row describes but a run produced (an artifact a later run used
            // as an input) reads better as the artifact it is.
            if (!ds->dataset && !productions_of(db, ds->digest).empty()) {
                return show_artifact(db, registry::ArtifactRef{ds->digest});
            }
            return show_dataset(db, *ds);
        }
        if (const auto* a = std::get_if<registry::ArtifactRef>(&ref)) {
            return show_artifact(db, *a);
        }
        if (const auto* c = std::get_if<registry::CommitRef>(&ref)) {
            return show_commit(db, *c);
        }
        return show_deployment(db, std::get<registry::DeploymentRef>(ref));
    });
}

}  // namespace mloop::lineage
