#include "lineage/graph.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "error/error.hpp"
#include "lineage/query.hpp"
#include "render/format.hpp"

namespace mloop::lineage {

using registry::Db;

const char* kind_name(NodeKind k) {
    switch (k) {
        case NodeKind::deployment:
            return "deployment";
        case NodeKind::image:
            return "image";
        case NodeKind::version:
            return "version";
        case NodeKind::run:
            return "run";
        case NodeKind::commit:
            return "commit";
        case NodeKind::params:
            return "params";
        case NodeKind::dataset:
            return "dataset";
        case NodeKind::file:
            return "file";
        case NodeKind::stage:
            return "stage";
        case NodeKind::artifact:
            return "artifact";
    }
    return "?";
}

const Node* Graph::find(const std::string& id) const {
    for (const auto& n : nodes) {
        if (n.id == id) {
            return &n;
        }
    }
    return nullptr;
}

namespace {

std::string run_id(int64_t id) {
    return fmt::format("run/{}", id);
}

std::string version_id(const std::string& model, int64_t version) {
    return fmt::format("{}@{}", model, version);
}

std::string deployment_id(int64_t id) {
    return fmt::format("deploy/{}", id);
}

// Images have no reference of their own: the registry's row id names the node.
std::string image_id(int64_t id) {
    return fmt::format("image/{}", id);
}

// Datasets before code and other files, each kind by name, as people read a run's inputs.
std::vector<registry::Input> datasets_first(std::vector<registry::Input> inputs) {
    std::stable_sort(inputs.begin(), inputs.end(), [](const auto& a, const auto& b) {
        return (a.kind == "dataset") > (b.kind == "dataset");
    });
    return inputs;
}

class Builder {
  public:
    Builder(Db& db, bool downstream)
        : m_db(db), m_runs(db), m_models(db), m_images(db), m_deployments(db), m_live(db) {
        m_graph.downstream = downstream;
    }

    Graph take() { return std::move(m_graph); }
    void set_root(std::string id) { m_graph.root = std::move(id); }
    std::string root() const { return m_graph.root; }

    bool has(const std::string& id) const { return m_index.count(id) != 0; }

    Node& add(Node n) {
        auto [it, fresh] = m_index.emplace(n.id, m_graph.nodes.size());
        if (fresh) {
            m_graph.nodes.push_back(std::move(n));
        }
        return m_graph.nodes[it->second];
    }

    void edge(const std::string& from, const std::string& to, const std::string& relation) {
        if (m_edges.emplace(from, to, relation).second) {
            m_graph.edges.push_back({from, to, relation});
        }
    }

    // --- nodes ---------------------------------------------------------------------------

    std::optional<registry::Run> run_node(int64_t id) {
        auto run = m_runs.get(id);
        if (!run) {
            return std::nullopt;
        }
        Node n;
        n.id = run_id(id);
        n.kind = NodeKind::run;
        n.label = fmt::format("run {}  {}  {}  {}", id, run->kind, run->state,
                              render::local_minute(run->started_at));
        n.attrs = {{"run", id},
                   {"run_kind", run->kind},
                   {"state", run->state},
                   {"started_at", render::iso8601(run->started_at)}};
        if (run->git.commit) {
            n.attrs["git_commit"] = *run->git.commit;
        }
        if (run->parent_id) {
            n.attrs["parent"] = *run->parent_id;
        }
        // The triggers that started it (train --if-triggered): "drift: monitor/5: …".
        if (run->triggered_by) {
            const auto fired = nlohmann::json::parse(*run->triggered_by, nullptr, false);
            if (fired.is_array()) {
                for (const auto& f : fired) {
                    if (f.is_object()) {
                        n.lines.push_back(fmt::format(
                            "triggered by {}: {}", f.value("trigger", "?"), f.value("reason", "")));
                    }
                }
                n.attrs["triggered_by"] = fired;
            }
        }
        add(std::move(n));
        return run;
    }

    std::string version_node(const registry::ModelVersion& v) {
        Node n;
        n.id = version_id(v.model, v.version);
        n.kind = NodeKind::version;
        const auto aliases = aliases_of(m_db, v.model, v.version);
        n.label = n.id;
        if (!aliases.empty()) {
            n.label += " (" + fmt::format("{}", fmt::join(aliases, ", ")) + ")";
        }
        n.attrs = {{"model", v.model},
                   {"version", v.version},
                   {"run", v.run_id},
                   {"created_at", render::iso8601(v.created_at)},
                   {"aliases", aliases}};
        return add(std::move(n)).id;
    }

    std::string image_node(const registry::Image& i) {
        Node n;
        n.id = image_id(i.id);
        n.kind = NodeKind::image;
        n.label = fmt::format("image {}  {}", i.reference(), render::short_digest(i.image_id));
        if (i.repo_digest) {
            n.lines.push_back("pushed " + *i.repo_digest);
        }
        if (i.provenance) {
            n.lines.push_back("provenance " + render::short_digest(*i.provenance));
        }
        n.attrs = {{"image", i.id},
                   {"model", i.model},
                   {"version", i.version},
                   {"reference", i.reference()},
                   {"image_id", i.image_id},
                   {"repo_digest", i.repo_digest ? nlohmann::ordered_json(*i.repo_digest)
                                                 : nlohmann::ordered_json()},
                   {"provenance", i.provenance ? nlohmann::ordered_json(*i.provenance)
                                               : nlohmann::ordered_json()},
                   {"created_at", render::iso8601(i.created_at)}};
        return add(std::move(n)).id;
    }

    std::string deployment_node(const registry::Deployment& d) {
        Node n;
        n.id = deployment_id(d.id);
        n.kind = NodeKind::deployment;
        const bool live = m_live.is_live(d);
        n.label = fmt::format("{}  {}  {}  {}  {}", n.id, d.env, d.kind, d.state,
                              render::local_minute(d.started_at));
        if (live) {
            n.label += fmt::format("  (live in {})", d.env);
        }
        const auto opt_id = [](const std::optional<int64_t>& v) {
            return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
        };
        n.attrs = {{"deployment", d.id},
                   {"env", d.env},
                   {"deployment_kind", d.kind},
                   {"state", d.state},
                   {"live", live},
                   {"target", d.target},
                   {"strategy", d.strategy},
                   {"model", d.model},
                   {"version", d.version},
                   {"image", d.image},
                   {"previous", opt_id(d.previous)},
                   {"rollback_to", opt_id(d.rollback_to)},
                   {"started_at", render::iso8601(d.started_at)},
                   {"ended_at", d.ended_at ? nlohmann::ordered_json(render::iso8601(*d.ended_at))
                                           : nlohmann::ordered_json()}};
        return add(std::move(n)).id;
    }

    std::string commit_node(const registry::GitState& git) {
        Node n;
        n.id = "commit/" + *git.commit;
        n.kind = NodeKind::commit;
        n.label = "commit " + render::short_commit(*git.commit, git.dirty);
        if (git.branch) {
            n.label += " (" + *git.branch + ")";
        }
        n.attrs = {{"commit", *git.commit}, {"dirty", git.dirty}};
        if (git.branch) {
            n.attrs["branch"] = *git.branch;
        }
        if (git.diff_digest) {
            n.attrs["diff"] = *git.diff_digest;
        }
        return add(std::move(n)).id;
    }

    std::string input_node(const registry::Input& in) {
        Node n;
        n.id = in.digest;
        n.attrs = {{"name", in.name}, {"path", in.path}, {"digest", in.digest}};
        if (in.kind == "dataset") {
            n.kind = NodeKind::dataset;
            const auto v = latest_validation(m_db, in.digest);
            std::string verdict = "not validated";
            if (v) {
                verdict = v->passed ? "validation passed" : "validation FAILED";
                n.attrs["validation"] = {{"passed", v->passed}, {"at", render::iso8601(v->at)}};
            } else {
                n.attrs["validation"] = nullptr;
            }
            if (auto d = registry::Datasets(m_db).by_digest(in.digest)) {
                n.attrs["size"] = d->size;
                n.attrs["rows"] = d->rows ? nlohmann::ordered_json(*d->rows) : nullptr;
            }
            n.label = in.name == in.path ? fmt::format("dataset {}  {}  {}", in.path,
                                                       render::short_digest(in.digest), verdict)
                                         : fmt::format("dataset {}  {}  {}  {}", in.name, in.path,
                                                       render::short_digest(in.digest), verdict);
        } else {
            n.kind = NodeKind::file;
            n.attrs["input_kind"] = in.kind;
            n.label = fmt::format("{} {}  {}", in.kind, in.path, render::short_digest(in.digest));
        }
        return add(std::move(n)).id;
    }

    std::string content_node(const std::string& digest) {
        if (has(digest)) {
            return digest;
        }
        if (auto d = registry::Datasets(m_db).by_digest(digest)) {
            registry::Input in{d->path, "dataset", d->path, digest, d->id};
            return input_node(in);
        }
        Node n;
        n.id = digest;
        n.kind = NodeKind::artifact;
        n.label = "content " + render::short_digest(digest);
        n.attrs = {{"digest", digest}};
        return add(std::move(n)).id;
    }

    std::string artifact_node(const std::string& path, const std::string& digest) {
        if (has(digest)) {
            return digest;
        }
        Node n;
        n.id = digest;
        n.kind = NodeKind::artifact;
        n.label = fmt::format("artifact {}  {}", path, render::short_digest(digest));
        n.attrs = {{"path", path}, {"digest", digest}};
        return add(std::move(n)).id;
    }

    // --- upstream ------------------------------------------------------------------------

    // Everything a run was made from.
    void run_upstream(int64_t id) {
        auto l = registry::lineage_of_run(m_db, id);
        if (!l) {
            return;
        }
        run_node(id);
        const std::string me = run_id(id);
        const registry::Run& run = l->run;
        if (run.git.commit) {
            edge(commit_node(run.git), me, "commit");
        }
        if (!l->params.empty()) {
            Node p;
            p.id = me + "/params";
            p.kind = NodeKind::params;
            p.label = "params";
            for (const auto& param : l->params) {
                p.lines.push_back(param.name + " = " + param.value);
                p.attrs["params"][param.name] = param.value;
            }
            edge(add(std::move(p)).id, me, "params");
        }
        for (const auto& in : datasets_first(l->inputs)) {
            const std::string node = input_node(in);
            edge(node, me, "input");
            // Content another run made (a prepared dataset, a model evaluated as a file).
            for (const auto& p : productions_of(m_db, in.digest)) {
                if (p.run_id != id && run_node(p.run_id)) {
                    edge(run_id(p.run_id), node, "produced");
                }
            }
        }
        for (const auto& st : stages_of(m_db, id)) {
            Node s;
            s.id = me + "/stage/" + st.name;
            s.kind = NodeKind::stage;
            s.label = fmt::format("stage {}  {}", st.name, st.state);
            if (st.state != "cached" && st.wall_ms) {
                s.label += "  " + render::duration(*st.wall_ms);
            }
            s.attrs = {
                {"run", id}, {"stage", st.name}, {"state", st.state}, {"cache_key", st.cache_key}};
            s.attrs["source_run"] =
                st.source_run ? nlohmann::ordered_json(*st.source_run) : nullptr;
            const std::string sid = add(std::move(s)).id;
            edge(sid, me, "stage");
            if (st.source_run && run_node(*st.source_run)) {
                edge(run_id(*st.source_run), sid, "cached from");
            }
        }
        if (run.parent_id) {
            if (auto parent = run_node(*run.parent_id)) {
                edge(run_id(*run.parent_id), me, parent->kind == "sweep" ? "sweep" : "parent");
            }
        }
        if (auto v = evaluated_version(m_db, id)) {
            const std::string vid = version_node(*v);
            edge(vid, me, "evaluated by");
            if (run_node(v->run_id)) {
                edge(run_id(v->run_id), vid, "produced");
            }
        }
    }

    // A model version and everything it was made from.
    std::string version_upstream(const std::string& model, int64_t version) {
        registry::Stmt s = m_db.prepare(
            "SELECT v.run_id, v.created_at FROM model_versions v JOIN models m "
            "ON m.id = v.model_id WHERE m.name = ? AND v.version = ?");
        s.bind_all(model, version);
        if (!s.step()) {
            throw error::UsageError(fmt::format("{} has no version {}", model, version));
        }
        const registry::ModelVersion mv{model, version, s.int64(0), s.int64(1)};
        const std::string vid = version_node(mv);
        run_upstream(mv.run_id);
        edge(run_id(mv.run_id), vid, "produced");
        return vid;
    }

    // A deployment: the image it ran, the version packaged in it, and upstream from there; a
    // rollback also names the deployment whose recorded spec it applied again.
    std::string deployment_upstream(int64_t id) {
        const auto d = m_deployments.get(id);
        if (!d) {
            throw error::UsageError(fmt::format("no deployment {}", id));
        }
        const std::string did = deployment_node(*d);
        const auto image = m_images.get(d->image);  // always there: a foreign key
        const std::string iid = image ? image_node(*image) : std::string();
        const std::string vid = version_upstream(d->model, d->version);
        if (image) {
            edge(iid, did, "deployed");
            edge(vid, iid, "packaged");
        } else {
            edge(vid, did, "deployed");
        }
        if (d->rollback_to) {
            if (auto to = m_deployments.get(*d->rollback_to)) {
                edge(deployment_node(*to), did, "rollback to");
            }
        }
        return did;
    }

    // --- downstream ----------------------------------------------------------------------

    void downstream_from(const std::string& start) {
        std::deque<std::string> queue{start};
        std::set<std::string> expanded;
        while (!queue.empty()) {
            const std::string id = queue.front();
            queue.pop_front();
            if (!expanded.insert(id).second) {
                continue;
            }
            // Copies: adding nodes below moves the vector this node lives in.
            const NodeKind kind = m_graph.nodes[m_index.at(id)].kind;
            const nlohmann::ordered_json attrs = m_graph.nodes[m_index.at(id)].attrs;
            switch (kind) {
                case NodeKind::run:
                    expand_run(attrs.at("run").get<int64_t>(), queue);
                    break;
                case NodeKind::version:
                    expand_version(attrs.at("model").get<std::string>(),
                                   attrs.at("version").get<int64_t>(), queue);
                    break;
                case NodeKind::commit:
                    for (int64_t r : runs_at_commit(m_db, attrs.at("commit").get<std::string>())) {
                        if (run_node(r)) {
                            edge(id, run_id(r), "commit");
                            queue.push_back(run_id(r));
                        }
                    }
                    break;
                case NodeKind::image:
                    for (const auto& d : m_deployments.of_image(attrs.at("image").get<int64_t>())) {
                        edge(id, deployment_node(d), "deployed");
                    }
                    break;
                case NodeKind::deployment:
                    // Only from the root: a rollback runs the same image, so from anywhere else
                    // it is already drawn beside the deployment it returned to.
                    if (id == m_graph.root) {
                        rollbacks_to(attrs.at("deployment").get<int64_t>(),
                                     attrs.at("env").get<std::string>());
                    }
                    break;
                case NodeKind::dataset:
                case NodeKind::file:
                case NodeKind::artifact:
                    for (const auto& use : uses_of(m_db, id)) {
                        if (run_node(use.run_id)) {
                            edge(id, run_id(use.run_id), "input");
                            queue.push_back(run_id(use.run_id));
                        }
                    }
                    break;
                default:
                    break;
            }
        }
    }

    void expand_run(int64_t id, std::deque<std::string>& queue) {
        const std::string me = run_id(id);
        for (const auto& v : m_models.versions_of_run(id)) {
            const std::string vid = version_node(v);
            edge(me, vid, "produced");
            queue.push_back(vid);
        }
        for (const auto& child : children_of(m_db, id)) {
            if (run_node(child.id)) {
                edge(me, run_id(child.id), "sweep");
                queue.push_back(run_id(child.id));
            }
        }
        // Artifacts and stage outputs matter downstream only where a later run consumed them.
        for (const auto& a : m_runs.artifacts(id)) {
            if (count_uses(m_db, a.digest) > 0) {
                const std::string aid = artifact_node(a.path, a.digest);
                edge(me, aid, "produced");
                queue.push_back(aid);
            }
        }
        for (const auto& st : stages_of(m_db, id)) {
            for (const auto& out : st.outputs) {
                if (count_uses(m_db, out.digest) > 0) {
                    const std::string oid = artifact_node(out.path, out.digest);
                    edge(me, oid, "produced");
                    queue.push_back(oid);
                }
                // Later runs whose stage was cached from this one restored the same output.
                for (const auto& p : productions_of(m_db, out.digest)) {
                    if (p.run_id == id || !p.stage || !cached_from(p.run_id, *p.stage, id)) {
                        continue;
                    }
                    if (run_node(p.run_id)) {
                        edge(me, run_id(p.run_id), "cached stage " + *p.stage);
                        queue.push_back(run_id(p.run_id));
                    }
                }
            }
        }
    }

    void expand_version(const std::string& model, int64_t version, std::deque<std::string>& queue) {
        const std::string vid = version_id(model, version);
        for (int64_t e : evaluations_of(m_db, model, version)) {
            if (run_node(e)) {
                edge(vid, run_id(e), "evaluated by");
                queue.push_back(run_id(e));
            }
        }
        // Oldest image first, as its deployments are listed under it.
        const auto images = m_images.for_version(model, version);
        for (auto it = images.rbegin(); it != images.rend(); ++it) {
            const std::string iid = image_node(*it);
            edge(vid, iid, "packaged");
            queue.push_back(iid);
        }
    }

    // Later deployments of the same environment that returned to `id` (deployments_by_env).
    void rollbacks_to(int64_t id, const std::string& env) {
        std::vector<int64_t> ids;
        registry::Stmt s = m_db.prepare(
            "SELECT id FROM deployments WHERE env = ? AND id > ? AND rollback_to = ? ORDER BY id");
        s.bind_all(env, id, id);
        while (s.step()) {
            ids.push_back(s.int64(0));
        }
        for (int64_t r : ids) {
            if (auto d = m_deployments.get(r)) {
                edge(deployment_id(id), deployment_node(*d), "rollback to");
            }
        }
    }

    bool cached_from(int64_t run, const std::string& stage, int64_t source) {
        registry::Stmt s =
            m_db.prepare("SELECT source_run FROM stage_runs WHERE run_id = ? AND stage = ?");
        s.bind_all(run, stage);
        return s.step() && s.opt_int64(0) == source;
    }

  private:
    Db& m_db;
    registry::Runs m_runs;
    registry::Models m_models;
    registry::Images m_images;
    registry::Deployments m_deployments;
    LiveDeployments m_live;
    Graph m_graph;
    std::map<std::string, size_t> m_index;
    std::set<std::tuple<std::string, std::string, std::string>> m_edges;
};

}  // namespace

Graph upstream(Db& db, const registry::Ref& ref) {
    // No enclosing read transaction: lineage_of_run takes its own snapshot of each run.
    {
        Builder b(db, false);
        if (const auto* r = std::get_if<registry::RunRef>(&ref)) {
            b.set_root(run_id(r->id));
            b.run_upstream(r->id);
        } else if (const auto* v = std::get_if<registry::VersionRef>(&ref)) {
            b.set_root(b.version_upstream(v->model, v->version));
        } else if (const auto* d = std::get_if<registry::DatasetRef>(&ref)) {
            registry::Input in{d->dataset ? d->dataset->path : d->path, "dataset",
                               d->dataset ? d->dataset->path : d->path, d->digest, std::nullopt};
            b.set_root(b.input_node(in));
            for (const auto& p : productions_of(db, d->digest)) {
                b.run_upstream(p.run_id);
                b.edge(run_id(p.run_id), d->digest, "produced");
            }
        } else if (const auto* a = std::get_if<registry::ArtifactRef>(&ref)) {
            const auto producers = productions_of(db, a->digest);
            b.set_root(producers.empty() ? b.content_node(a->digest)
                                         : b.artifact_node(producers.front().path, a->digest));
            for (const auto& p : producers) {
                b.run_upstream(p.run_id);
                b.edge(run_id(p.run_id), a->digest, "produced");
            }
        } else if (const auto* c = std::get_if<registry::CommitRef>(&ref)) {
            registry::GitState git;
            git.commit = c->commit;
            b.set_root(b.commit_node(git));
        } else {
            b.set_root(b.deployment_upstream(std::get<registry::DeploymentRef>(ref).id));
        }
        return b.take();
    }
}

Graph downstream(Db& db, const registry::Ref& ref) {
    return db.read([&] {
        Builder b(db, true);
        if (const auto* r = std::get_if<registry::RunRef>(&ref)) {
            b.run_node(r->id);
            b.set_root(run_id(r->id));
        } else if (const auto* v = std::get_if<registry::VersionRef>(&ref)) {
            registry::Stmt s = db.prepare(
                "SELECT v.run_id, v.created_at FROM model_versions v JOIN models m "
                "ON m.id = v.model_id WHERE m.name = ? AND v.version = ?");
            s.bind_all(v->model, v->version);
            if (!s.step()) {
                throw error::UsageError(fmt::format("{} has no version {}", v->model, v->version));
            }
            b.set_root(b.version_node({v->model, v->version, s.int64(0), s.int64(1)}));
        } else if (const auto* d = std::get_if<registry::DatasetRef>(&ref)) {
            registry::Input in{d->dataset ? d->dataset->path : d->path, "dataset",
                               d->dataset ? d->dataset->path : d->path, d->digest, std::nullopt};
            b.set_root(b.input_node(in));
        } else if (const auto* a = std::get_if<registry::ArtifactRef>(&ref)) {
            const auto producers = productions_of(db, a->digest);
            b.set_root(producers.empty() ? b.content_node(a->digest)
                                         : b.artifact_node(producers.front().path, a->digest));
        } else if (const auto* c = std::get_if<registry::CommitRef>(&ref)) {
            // The branch and dirty state are the runs'; the commit itself is just the hash.
            registry::GitState git;
            git.commit = c->commit;
            b.set_root(b.commit_node(git));
        } else {
            const int64_t id = std::get<registry::DeploymentRef>(ref).id;
            const auto dep = registry::Deployments(db).get(id);
            if (!dep) {
                throw error::UsageError(fmt::format("no deployment {}", id));
            }
            b.set_root(b.deployment_node(*dep));
        }
        b.downstream_from(b.root());
        Graph g = b.take();
        return g;
    });
}

namespace {

// How a relation reads before the node it leads to, looking up or down the graph.
std::string prefix(const std::string& relation, bool downstream) {
    static const std::map<std::string, std::string> up = {
        {"produced", "produced by "},  {"cached from", "cached from "}, {"sweep", "trial of "},
        {"parent", "child of "},       {"evaluated by", "evaluates "},  {"packaged", "built from "},
        {"rollback to", "returns to "}};
    static const std::map<std::string, std::string> down = {{"input", "used by "},
                                                            {"sweep", "trial "},
                                                            {"evaluated by", "evaluated by "},
                                                            {"commit", "recorded by "},
                                                            {"rollback to", "returned to by "}};
    if (!downstream && relation.rfind("cached stage ", 0) == 0) {
        return "";
    }
    if (downstream && relation.rfind("cached stage ", 0) == 0) {
        return relation.substr(7) + " cached by ";  // "stage fit cached by run 15"
    }
    const auto& table = downstream ? down : up;
    auto it = table.find(relation);
    return it == table.end() ? "" : it->second;
}

struct Adjacency {
    std::map<std::string, const Node*> nodes;
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> next;
};

render::TreeNode draw(const Graph& g, const Adjacency& adj, const std::string& id,
                      const std::string& relation, std::set<std::string>& drawn) {
    render::TreeNode t;
    const auto found = adj.nodes.find(id);
    const Node* n = found == adj.nodes.end() ? nullptr : found->second;
    t.text = prefix(relation, g.downstream) + (n ? n->label : id);
    static const std::vector<std::pair<std::string, std::string>> none;
    const auto it = adj.next.find(id);
    const auto& next = it == adj.next.end() ? none : it->second;
    // Every repeat is marked, a leaf too: in impact analysis "run 5" twice must read as one run.
    if (!drawn.insert(id).second) {
        t.text += " (see above)";
        return t;
    }
    if (n) {
        for (const auto& line : n->lines) {
            t.children.push_back({line, {}});
        }
    }
    for (const auto& [child, rel] : next) {
        t.children.push_back(draw(g, adj, child, rel, drawn));
    }
    return t;
}

const char* shape_of(NodeKind k) {
    switch (k) {
        case NodeKind::dataset:
            return "cylinder";
        case NodeKind::commit:
            return "hexagon";
        case NodeKind::params:
        case NodeKind::file:
            return "note";
        case NodeKind::version:
            return "box3d";
        case NodeKind::stage:
            return "component";
        case NodeKind::artifact:
            return "folder";
        case NodeKind::image:
            return "tab";
        case NodeKind::deployment:
            return "house";
        case NodeKind::run:
            return "box";
    }
    return "box";
}

}  // namespace

render::TreeNode tree_of(const Graph& g) {
    Adjacency adj;
    for (const auto& n : g.nodes) {
        adj.nodes.emplace(n.id, &n);
    }
    for (const auto& e : g.edges) {
        if (g.downstream) {
            adj.next[e.from].emplace_back(e.to, e.relation);
        } else {
            adj.next[e.to].emplace_back(e.from, e.relation);
        }
    }
    std::set<std::string> drawn;
    return draw(g, adj, g.root, "", drawn);
}

render::DotGraph dot_of(const Graph& g) {
    render::DotGraph d;
    d.name = "lineage";
    d.graph_attrs = {{"rankdir", "LR"}};
    d.node_defaults = {{"shape", "box"}, {"fontname", "Helvetica"}, {"fontsize", "10"}};
    d.edge_defaults = {{"fontname", "Helvetica"}, {"fontsize", "9"}};
    for (const auto& n : g.nodes) {
        render::DotNode dn;
        dn.id = n.id;
        dn.label = n.label;
        for (const auto& line : n.lines) {
            dn.label += "\n" + line;
        }
        dn.attrs = {{"shape", shape_of(n.kind)}};
        if (n.kind == NodeKind::run) {
            dn.attrs.emplace_back("style", "rounded");
        }
        if (n.kind == NodeKind::deployment && n.attrs.value("live", false)) {
            dn.attrs.emplace_back("peripheries", "2");  // what is serving now
        }
        if (n.id == g.root) {
            dn.attrs.emplace_back("penwidth", "2");
        }
        d.nodes.push_back(std::move(dn));
    }
    for (const auto& e : g.edges) {
        d.edges.push_back({e.from, e.to, e.relation});
    }
    return d;
}

nlohmann::ordered_json json_of(const Graph& g) {
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const auto& n : g.nodes) {
        nlohmann::ordered_json j = {{"id", n.id}, {"kind", kind_name(n.kind)}, {"label", n.label}};
        for (const auto& [k, v] : n.attrs.items()) {
            j[k] = v;
        }
        nodes.push_back(std::move(j));
    }
    nlohmann::ordered_json edges = nlohmann::ordered_json::array();
    for (const auto& e : g.edges) {
        edges.push_back({{"from", e.from}, {"to", e.to}, {"relation", e.relation}});
    }
    return {{"root", g.root},
            {"direction", g.downstream ? "downstream" : "upstream"},
            {"nodes", nodes},
            {"edges", edges}};
}

}  // namespace mloop::lineage
