#include "lineage/json.hpp"

#include <fmt/format.h>

#include "render/format.hpp"

namespace mloop::lineage {

using json = nlohmann::ordered_json;

namespace {

template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json opt_time(const std::optional<int64_t>& ms) {
    return ms ? json(render::iso8601(*ms)) : json(nullptr);
}

json command_json(const std::string& command) {
    auto j = json::parse(command, nullptr, false);
    return j.is_discarded() ? json(command) : j;
}

json metrics_json(const std::vector<registry::Metric>& ms) {
    json j = json::object();
    for (const auto& m : ms) {
        j[m.name] = m.value;
    }
    return j;
}

json versions_json(const std::vector<registry::ModelVersion>& vs) {
    json j = json::array();
    for (const auto& v : vs) {
        j.push_back(fmt::format("{}@{}", v.model, v.version));
    }
    return j;
}

json summary_json(const RunSummary& s) {
    json j = run_json(s.run);
    j["metrics"] = metrics_json(s.metrics);
    j["versions"] = versions_json(s.versions);
    return j;
}

json validation_json(const std::optional<Validation>& v) {
    if (!v) {
        return nullptr;
    }
    return {{"passed", v->passed},
            {"at", render::iso8601(v->at)},
            {"rows", opt(v->rows)},
            {"schema_digest", v->schema_digest}};
}

json uses_json(const std::vector<UsedBy>& uses) {
    json j = json::array();
    for (const auto& u : uses) {
        j.push_back({{"run", u.run.id},
                     {"state", u.run.state},
                     {"kind", u.run.kind},
                     {"input", u.use.input},
                     {"path", u.use.path},
                     {"versions", versions_json(u.versions)}});
    }
    return j;
}

json productions_json(const std::vector<Production>& ps) {
    json j = json::array();
    for (const auto& p : ps) {
        j.push_back({{"run", p.run_id}, {"path", p.path}, {"stage", opt(p.stage)}});
    }
    return j;
}

json moves_json(const std::vector<registry::AliasMove>& moves) {
    json j = json::array();
    for (const auto& m : moves) {
        j.push_back({{"alias", m.alias},
                     {"from", opt(m.from_version)},
                     {"to", m.to_version},
                     {"at", render::iso8601(m.at)},
                     {"user", opt(m.user)},
                     {"host", opt(m.host)},
                     {"forced", m.forced},
                     {"reason", opt(m.reason)}});
    }
    return j;
}

std::string version_ref(const std::string& model, int64_t version) {
    return fmt::format("{}@{}", model, version);
}

json image_json(const registry::Image& i) {
    return {{"id", i.id},
            {"version", version_ref(i.model, i.version)},
            {"reference", i.reference()},
            {"repository", i.repository},
            {"tag", i.tag},
            {"image_id", i.image_id},
            {"repo_digest", opt(i.repo_digest)},
            {"size", opt(i.size)},
            {"context", i.context},
            {"provenance", opt(i.provenance)},
            {"template", i.template_name},
            {"created_at", render::iso8601(i.created_at)},
            {"pushed_at", opt_time(i.pushed_at)}};
}

// A deployment named beside another, or in a listing.
json deployment_brief_json(const registry::Deployment& d) {
    return {{"id", d.id},
            {"ref", fmt::format("deploy/{}", d.id)},
            {"env", d.env},
            {"kind", d.kind},
            {"state", d.state},
            {"version", version_ref(d.model, d.version)},
            {"image", d.image},
            {"started_at", render::iso8601(d.started_at)},
            {"ended_at", opt_time(d.ended_at)}};
}

json opt_deployment(const std::optional<registry::Deployment>& d) {
    return d ? deployment_brief_json(*d) : json(nullptr);
}

void add_serving(json& j, const Serving& sv) {
    json images = json::array();
    for (const auto& i : sv.images) {
        images.push_back(image_json(i));
    }
    json deployments = json::array();
    for (const auto& row : sv.deployments) {
        json d = deployment_brief_json(row.deployment);
        d["live"] = row.live;
        deployments.push_back(std::move(d));
    }
    j["images"] = images;
    j["deployment_count"] = sv.deployment_count;
    j["deployments"] = deployments;
    j["live_in"] = sv.live_in;
}

json deployment_detail_json(const DeploymentDetail& d) {
    const registry::Deployment& dep = d.deployment;
    json steps = json::array();
    for (const auto& st : d.steps) {
        steps.push_back({{"seq", st.seq},
                         {"step", st.step},
                         {"state", st.state},
                         {"detail", opt(st.detail)},
                         {"at", render::iso8601(st.at)}});
    }
    json spec = json::parse(dep.spec, nullptr, false);
    if (spec.is_discarded()) {
        spec = dep.spec;
    }
    return {{"id", dep.id},
            {"ref", fmt::format("deploy/{}", dep.id)},
            {"env", dep.env},
            {"kind", dep.kind},
            {"state", dep.state},
            {"live", d.live && d.live->id == dep.id},
            {"live_now", opt_deployment(d.live)},
            {"target", dep.target},
            {"strategy", dep.strategy},
            {"version",
             {{"model", dep.model},
              {"version", dep.version},
              {"ref", version_ref(dep.model, dep.version)},
              {"run", d.version.run_id == 0 ? json(nullptr) : json(d.version.run_id)},
              {"aliases", d.aliases}}},
            {"image", d.image ? image_json(*d.image) : json(nullptr)},
            {"previous", opt_deployment(d.previous)},
            {"rollback_to", opt_deployment(d.rollback_to)},
            {"forced", dep.forced},
            {"started_at", render::iso8601(dep.started_at)},
            {"ended_at", opt_time(dep.ended_at)},
            {"user", opt(dep.user)},
            {"host", dep.host},
            {"pid", dep.pid},
            {"reason", opt(dep.reason)},
            {"manifests", dep.manifests.empty() ? json(nullptr) : json(dep.manifests)},
            {"spec", spec},
            {"steps", steps}};
}

json run_detail_json(const RunDetail& d, const std::filesystem::path& runs_dir) {
    json j = run_json(d.lineage.run);
    json params = json::object();
    for (const auto& p : d.lineage.params) {
        params[p.name] = {{"value", p.value}, {"type", p.type}};
    }
    j["params"] = params;
    j["metrics"] = metrics_json(d.lineage.metrics);
    json inputs = json::array();
    for (const auto& in : d.lineage.inputs) {
        json i = {{"name", in.name}, {"kind", in.kind}, {"path", in.path}, {"digest", in.digest}};
        if (in.kind == "dataset") {
            auto v = d.validations.find(in.digest);
            i["validation"] = validation_json(
                v == d.validations.end() ? std::nullopt : std::optional<Validation>(v->second));
        }
        inputs.push_back(std::move(i));
    }
    j["inputs"] = inputs;
    json artifacts = json::array();
    for (const auto& a : d.lineage.artifacts) {
        artifacts.push_back({{"path", a.path}, {"digest", a.digest}, {"size", a.size}});
    }
    j["artifacts"] = artifacts;
    json stages = json::array();
    for (const auto& st : d.stages) {
        json outs = json::array();
        for (const auto& o : st.outputs) {
            outs.push_back({{"path", o.path}, {"digest", o.digest}, {"kind", o.kind}});
        }
        stages.push_back({{"name", st.name},
                          {"state", st.state},
                          {"ran", st.state != "cached"},
                          {"cache_key", st.cache_key},
                          {"source_run", opt(st.source_run)},
                          {"started_at", render::iso8601(st.started_at)},
                          {"ended_at", opt_time(st.ended_at)},
                          {"exit_code", opt(st.exit_code)},
                          {"wall_ms", opt(st.wall_ms)},
                          {"cpu_ms", opt(st.cpu_ms)},
                          {"max_rss_kb", opt(st.max_rss_kb)},
                          {"outputs", outs}});
    }
    j["stages"] = stages;
    json versions = json::array();
    for (const auto& v : d.lineage.versions) {
        const std::string name = fmt::format("{}@{}", v.model, v.version);
        versions.push_back({{"model", v.model},
                            {"version", v.version},
                            {"ref", name},
                            {"aliases", d.version_aliases.at(name)}});
    }
    j["versions"] = versions;
    json children = json::array();
    for (const auto& c : d.children) {
        children.push_back(c.id);
    }
    j["children"] = children;
    j["evaluates"] = d.evaluates
                         ? json(fmt::format("{}@{}", d.evaluates->model, d.evaluates->version))
                         : json(nullptr);
    const auto dir = runs_dir / std::to_string(d.lineage.run.id);
    j["logs"] = {{"stdout", (dir / "stdout.log").string()},
                 {"stderr", (dir / "stderr.log").string()}};
    add_serving(j, d.serving);
    return j;
}

}  // namespace

json run_json(const registry::Run& r) {
    return {{"id", r.id},
            {"kind", r.kind},
            {"parent", opt(r.parent_id)},
            {"state", r.state},
            {"started_at", render::iso8601(r.started_at)},
            {"ended_at", opt_time(r.ended_at)},
            {"host", r.host},
            {"pid", r.pid},
            {"user", opt(r.user)},
            {"command", command_json(r.command)},
            {"exit_code", opt(r.exit_code)},
            {"signal", opt(r.signal)},
            {"git",
             {{"commit", opt(r.git.commit)},
              {"branch", opt(r.git.branch)},
              {"dirty", r.git.dirty},
              {"diff", opt(r.git.diff_digest)}}},
            {"resources",
             {{"wall_ms", opt(r.wall_ms)},
              {"cpu_ms", opt(r.cpu_ms)},
              {"max_rss_kb", opt(r.max_rss_kb)}}},
            {"message", opt(r.message)},
            {"triggered_by", r.triggered_by ? command_json(*r.triggered_by) : json(nullptr)}};
}

json runs_json(const RunsResult& r) {
    json runs = json::array();
    for (const auto& s : r.runs) {
        runs.push_back(summary_json(s));
    }
    return {{"runs", runs}, {"key_metrics", r.key_metrics}};
}

json show_json(const Detail& d, const std::filesystem::path& runs_dir) {
    if (const auto* r = std::get_if<RunDetail>(&d)) {
        return {{"kind", "run"}, {"run", run_detail_json(*r, runs_dir)}};
    }
    if (const auto* v = std::get_if<VersionDetail>(&d)) {
        json evals = json::array();
        for (const auto& e : v->evaluations) {
            evals.push_back(summary_json(e));
        }
        json artifacts = json::array();
        for (const auto& a : v->artifacts) {
            artifacts.push_back({{"path", a.path}, {"digest", a.digest}, {"size", a.size}});
        }
        json version = {{"model", v->version.model},
                        {"version", v->version.version},
                        {"ref", fmt::format("{}@{}", v->version.model, v->version.version)},
                        {"created_at", render::iso8601(v->version.created_at)},
                        {"aliases", v->aliases},
                        {"run", run_json(v->run)},
                        {"metrics", metrics_json(v->metrics)},
                        {"files", artifacts},
                        {"alias_history", moves_json(v->history)},
                        {"evaluations", evals}};
        add_serving(version, v->serving);
        return {{"kind", "version"}, {"version", version}};
    }
    if (const auto* dep = std::get_if<DeploymentDetail>(&d)) {
        return {{"kind", "deployment"}, {"deployment", deployment_detail_json(*dep)}};
    }
    if (const auto* ds = std::get_if<DatasetDetail>(&d)) {
        json at_path = json::array();
        for (const auto& o : ds->at_path) {
            if (o.digest != ds->digest) {
                at_path.push_back({{"digest", o.digest},
                                   {"size", o.size},
                                   {"first_seen", render::iso8601(o.first_seen)}});
            }
        }
        json j = {
            {"digest", ds->digest}, {"path", ds->path}, {"recorded", ds->dataset.has_value()}};
        j["size"] = ds->dataset ? json(ds->dataset->size) : json(nullptr);
        j["rows"] = ds->dataset ? opt(ds->dataset->rows) : json(nullptr);
        j["kind"] = ds->dataset ? json(ds->dataset->kind) : json(nullptr);
        j["snapshot"] = ds->dataset ? opt(ds->dataset->snapshot) : json(nullptr);
        j["first_seen"] =
            ds->dataset ? json(render::iso8601(ds->dataset->first_seen)) : json(nullptr);
        j["validation"] = validation_json(ds->validation);
        j["produced_by"] = productions_json(ds->produced_by);
        j["use_count"] = ds->use_count;
        j["used_by"] = uses_json(ds->uses);
        j["other_contents"] = at_path;
        return {{"kind", "dataset"}, {"dataset", j}};
    }
    if (const auto* a = std::get_if<ArtifactDetail>(&d)) {
        return {{"kind", "artifact"},
                {"artifact",
                 {{"digest", a->digest},
                  {"size", opt(a->size)},
                  {"kind", opt(a->kind)},
                  {"stored_at", opt_time(a->stored_at)},
                  {"produced_by", productions_json(a->produced_by)},
                  {"versions", versions_json(a->versions)},
                  {"use_count", a->use_count},
                  {"used_by", uses_json(a->uses)}}}};
    }
    const auto& c = std::get<CommitDetail>(d);
    json runs = json::array();
    for (const auto& s : c.runs) {
        runs.push_back(summary_json(s));
    }
    return {{"kind", "commit"},
            {"commit", {{"commit", c.commit}, {"run_count", c.run_count}, {"runs", runs}}}};
}

json diff_json(const RunDiff& d) {
    auto side = [](const DiffSide& s) {
        return json{{"ref", s.label},
                    {"run", s.run.id},
                    {"state", s.run.state},
                    {"git",
                     {{"commit", opt(s.run.git.commit)},
                      {"branch", opt(s.run.git.branch)},
                      {"dirty", s.run.git.dirty}}},
                    {"versions", versions_json(s.versions)}};
    };
    json params = json::array();
    for (const auto& p : d.params) {
        params.push_back(
            {{"name", p.name}, {"a", opt(p.a)}, {"b", opt(p.b)}, {"status", p.status}});
    }
    json metrics = json::array();
    for (const auto& m : d.metrics) {
        metrics.push_back({{"name", m.name},
                           {"a", opt(m.a)},
                           {"b", opt(m.b)},
                           {"delta", opt(m.delta)},
                           {"delta_pct", opt(m.delta_pct)},
                           {"status", m.status}});
    }
    json data = json::array();
    for (const auto& c : d.data) {
        data.push_back({{"name", c.name},
                        {"kind", c.kind},
                        {"a", opt(c.a)},
                        {"b", opt(c.b)},
                        {"a_path", opt(c.a_path)},
                        {"b_path", opt(c.b_path)},
                        {"status", c.status}});
    }
    json stages = json::array();
    for (const auto& c : d.stages) {
        stages.push_back({{"name", c.name},
                          {"a", opt(c.a_state)},
                          {"b", opt(c.b_state)},
                          {"a_cache_key", opt(c.a_key)},
                          {"b_cache_key", opt(c.b_key)},
                          {"status", c.status}});
    }
    return {{"a", side(d.a)},     {"b", side(d.b)}, {"params", params},
            {"metrics", metrics}, {"data", data},   {"stages", stages}};
}

json models_json(const std::vector<ModelSummary>& models) {
    json out = json::array();
    for (const auto& m : models) {
        json aliases = json::object();
        for (const auto& [alias, version] : m.aliases) {
            aliases[alias] = version;
        }
        out.push_back({{"name", m.name},
                       {"versions", m.versions},
                       {"latest", opt(m.latest)},
                       {"latest_created_at", opt_time(m.latest_at)},
                       {"aliases", aliases}});
    }
    return {{"models", out}};
}

json model_json(const ModelDetail& d) {
    json aliases = json::object();
    for (const auto& [alias, version] : d.aliases) {
        aliases[alias] = version;
    }
    json versions = json::array();
    for (const auto& v : d.versions) {
        versions.push_back({{"version", v.version.version},
                            {"ref", fmt::format("{}@{}", d.name, v.version.version)},
                            {"run", v.version.run_id},
                            {"state", v.run.state},
                            {"created_at", render::iso8601(v.version.created_at)},
                            {"aliases", v.aliases},
                            {"live_in", v.live_in},
                            {"metrics", metrics_json(v.metrics)}});
    }
    return {{"model", d.name},      {"version_count", d.version_count},
            {"aliases", aliases},   {"key_metrics", d.key_metrics},
            {"versions", versions}, {"alias_history", moves_json(d.history)}};
}

}  // namespace mloop::lineage
