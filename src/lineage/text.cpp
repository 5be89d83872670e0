#include "lineage/text.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "render/format.hpp"
#include "render/table.hpp"
#include "util/text.hpp"

namespace mloop::lineage {

using render::Align;
using render::Cell;
using render::Table;

namespace {

std::string indent(const std::string& text, std::string_view by = "  ") {
    std::string out;
    size_t at = 0;
    while (at < text.size()) {
        const size_t nl = text.find('\n', at);
        const size_t end = nl == std::string::npos ? text.size() : nl + 1;
        out += by;
        out.append(text, at, end - at);
        at = end;
    }
    return out;
}

std::string versions_text(const std::vector<registry::ModelVersion>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) {
        out.push_back(fmt::format("{}@{}", v.model, v.version));
    }
    return util::join(out, ", ");
}

// The local time, and how long ago while that is easier to read than a date.
std::string when(int64_t ms, const TextStyle& s) {
    const std::string age = render::relative_age(ms, s.now_ms);
    if (age.find("ago") == std::string::npos && age != "just now") {
        return render::local_time(ms);
    }
    return fmt::format("{} ({})", render::local_time(ms), age);
}

// How long the run took: its recorded wall time, the time it has been running, or nothing (a
// crashed run's end is when the crash was noticed, not when it happened).
std::string run_duration(const registry::Run& r, int64_t now_ms) {
    if (r.wall_ms) {
        return render::duration(*r.wall_ms);
    }
    if (r.state == "running") {
        return render::duration(now_ms - r.started_at);
    }
    if (r.ended_at && r.state != "crashed") {
        return render::duration(*r.ended_at - r.started_at);
    }
    return "";
}

std::string git_text(const registry::GitState& g) {
    if (!g.commit) {
        return "";
    }
    std::string s = render::short_commit(*g.commit, g.dirty);
    if (g.branch) {
        s += " (" + *g.branch + ")";
    }
    return s;
}

std::optional<double> metric(const std::vector<registry::Metric>& ms, const std::string& name) {
    for (const auto& m : ms) {
        if (m.name == name) {
            return m.value;
        }
    }
    return std::nullopt;
}

std::string opt_number(const std::optional<double>& v) {
    return v ? render::number(*v) : "";
}

Table runs_table(const std::vector<RunSummary>& runs, const std::vector<std::string>& metrics,
                 const TextStyle& s) {
    std::vector<render::Column> cols = {
        {"ID", Align::right},       {"STATE"}, {"KIND"}, {"STARTED"},
        {"DURATION", Align::right}, {"COMMIT"}};
    for (const auto& m : metrics) {
        cols.push_back({m, Align::right});
    }
    cols.push_back({"MODEL"});
    Table t(cols);
    bool all_train = true;
    for (const auto& r : runs) {
        all_train = all_train && r.run.kind == "train";
        std::vector<Cell> row = {
            std::to_string(r.run.id),
            Cell(r.run.state, state_style(r.run.state, s.color)),
            r.run.kind,
            render::relative_age(r.run.started_at, s.now_ms),
            run_duration(r.run, s.now_ms),
            r.run.git.commit ? render::short_commit(*r.run.git.commit, r.run.git.dirty) : ""};
        for (const auto& m : metrics) {
            row.emplace_back(opt_number(metric(r.metrics, m)));
        }
        row.emplace_back(versions_text(r.versions));
        t.add(std::move(row));
    }
    if (all_train) {
        t.drop_column(2);
    }
    t.drop_empty_columns();
    return t;
}

std::string move_text(const registry::AliasMove& m) {
    return m.from_version ? fmt::format("{} → {}", *m.from_version, m.to_version)
                          : fmt::format("→ {}", m.to_version);
}

std::string history_text(const std::vector<registry::AliasMove>& moves, bool with_alias) {
    Table t({{"WHEN"}, {"ALIAS"}, {"MOVE"}, {"BY"}, {"FORCED"}, {"REASON"}});
    for (const auto& m : moves) {
        std::string by = m.user.value_or("");
        if (m.host) {
            by += "@" + *m.host;
        }
        t.add({render::local_time(m.at), m.alias, move_text(m), by, m.forced ? "forced" : "",
               m.reason.value_or("")});
    }
    if (!with_alias) {
        t.drop_column(1);
    }
    t.drop_empty_columns();
    return t.text();
}

std::string used_by_text(const std::vector<UsedBy>& uses, int64_t count, const TextStyle& s) {
    if (count == 0) {
        return "used by no run\n";
    }
    std::string out = fmt::format("used by {} run{}\n", count, count == 1 ? "" : "s");
    Table t({{"ID", Align::right}, {"STATE"}, {"KIND"}, {"STARTED"}, {"INPUT"}, {"MODEL"}});
    for (const auto& u : uses) {
        t.add({std::to_string(u.run.id), Cell(u.run.state, state_style(u.run.state, s.color)),
               u.run.kind, render::relative_age(u.run.started_at, s.now_ms), u.use.input,
               versions_text(u.versions)});
    }
    t.drop_empty_columns();
    out += indent(t.text());
    if (count > static_cast<int64_t>(uses.size())) {
        out += fmt::format("  … and {} older\n", count - static_cast<int64_t>(uses.size()));
    }
    return out;
}

std::string produced_by_text(const std::vector<Production>& ps) {
    Table t({{"RUN", Align::right}, {"PATH"}, {"STAGE"}});
    for (const auto& p : ps) {
        t.add({std::to_string(p.run_id), p.path, p.stage.value_or("")});
    }
    t.drop_empty_columns();
    return "produced by\n" + indent(t.text());
}

std::string deploy_ref(int64_t id) {
    return fmt::format("deploy/{}", id);
}

std::string by_text(const std::optional<std::string>& user, const std::string& host) {
    return user ? *user + "@" + host : host;
}

// The images and deployments of a version (or of a run's versions), newest deployment first.
std::string serving_text(const Serving& sv, const TextStyle& s) {
    std::string out;
    if (!sv.images.empty()) {
        Table t({{"VERSION"}, {"IMAGE"}, {"ID"}, {"PUSHED"}, {"BUILT"}});
        for (const auto& i : sv.images) {
            t.add({fmt::format("{}@{}", i.model, i.version), i.reference(),
                   render::short_digest(i.image_id), i.repo_digest.value_or(""),
                   render::relative_age(i.created_at, s.now_ms)});
        }
        if (!sv.several_versions) {
            t.drop_column(0);
        }
        t.drop_empty_columns();
        out += "\nimages\n" + indent(t.text());
    }
    if (!sv.deployments.empty()) {
        Table t({{"DEPLOYMENT"},
                 {"ENV"},
                 {"VERSION"},
                 {"KIND"},
                 {"STATE"},
                 {"IMAGE"},
                 {"STARTED"},
                 {"LIVE"}});
        bool all_deploy = true;
        for (const auto& row : sv.deployments) {
            const auto& d = row.deployment;
            all_deploy = all_deploy && d.kind == "deploy";
            std::string image;
            for (const auto& i : sv.images) {
                if (i.id == d.image) {
                    image = i.reference();
                }
            }
            t.add({deploy_ref(d.id), d.env, fmt::format("{}@{}", d.model, d.version), d.kind,
                   Cell(d.state, state_style(d.state, s.color)), image,
                   render::relative_age(d.started_at, s.now_ms), row.live ? "live" : ""});
        }
        // The image column says something only when there is more than one to tell apart.
        if (sv.images.size() < 2) {
            t.drop_column(5);
        }
        if (all_deploy) {
            t.drop_column(3);
        }
        if (!sv.several_versions) {
            t.drop_column(2);
        }
        t.drop_empty_columns();
        out += fmt::format("\ndeployments ({})\n", sv.deployment_count) + indent(t.text());
        if (sv.deployment_count > static_cast<int64_t>(sv.deployments.size())) {
            out += fmt::format("  … and {} older\n",
                               sv.deployment_count - static_cast<int64_t>(sv.deployments.size()));
        }
    }
    return out;
}

// --- show ------------------------------------------------------------------------------------

std::string run_text(const RunDetail& d, const TextStyle& s) {
    const registry::Run& r = d.lineage.run;
    std::string out = fmt::format("run {}  {}\n", r.id, r.state);
    std::vector<std::pair<std::string, std::string>> kv;
    kv.emplace_back("kind", r.kind);
    kv.emplace_back("started", when(r.started_at, s));
    if (r.ended_at) {
        kv.emplace_back(r.state == "crashed" ? "found dead" : "ended",
                        render::local_time(*r.ended_at));
    }
    if (const auto dur = run_duration(r, s.now_ms); !dur.empty()) {
        kv.emplace_back("duration", dur);
    }
    if (r.exit_code) {
        kv.emplace_back("exit code", std::to_string(*r.exit_code));
    }
    if (r.signal) {
        kv.emplace_back("signal", std::to_string(*r.signal));
    }
    std::string host = r.host + fmt::format(" (pid {}", r.pid);
    host += r.user ? ", user " + *r.user + ")" : ")";
    kv.emplace_back("host", host);
    kv.emplace_back("command", render::command_line(r.command));
    if (r.git.commit) {
        std::string g = *r.git.commit;
        if (r.git.branch) {
            g += " on " + *r.git.branch;
        }
        if (r.git.dirty) {
            g += ", dirty";
            if (r.git.diff_digest) {
                g += " (diff " + render::short_digest(*r.git.diff_digest) + ")";
            }
        }
        kv.emplace_back("git", g);
    } else {
        kv.emplace_back("git", "not in a git repository");
    }
    if (r.message) {
        kv.emplace_back("message", *r.message);
    }
    if (r.triggered_by) {
        kv.emplace_back("triggered by", *r.triggered_by);
    }
    if (d.lineage.parent) {
        kv.emplace_back("parent",
                        fmt::format("run {} ({})", d.lineage.parent->id, d.lineage.parent->kind));
    }
    if (!d.children.empty()) {
        std::vector<std::string> ids;
        for (size_t i = 0; i < d.children.size() && i < 10; ++i) {
            ids.push_back(std::to_string(d.children[i].id));
        }
        std::string list = util::join(ids, ", ");
        if (d.children.size() > 10) {
            list += fmt::format(" and {} more", d.children.size() - 10);
        }
        kv.emplace_back(r.kind == "sweep" ? "trials" : "children", list);
    }
    if (d.evaluates) {
        kv.emplace_back("evaluates",
                        fmt::format("{}@{}", d.evaluates->model, d.evaluates->version));
    }
    if (!d.lineage.versions.empty()) {
        std::vector<std::string> vs;
        for (const auto& v : d.lineage.versions) {
            const std::string name = fmt::format("{}@{}", v.model, v.version);
            const auto& aliases = d.version_aliases.at(name);
            vs.push_back(aliases.empty() ? name
                                         : fmt::format("{} ({})", name, util::join(aliases, ", ")));
        }
        kv.emplace_back("model", util::join(vs, ", "));
    }
    if (!d.serving.live_in.empty()) {
        kv.emplace_back("live in", util::join(d.serving.live_in, ", "));
    }
    std::vector<std::string> res;
    if (r.wall_ms) {
        res.push_back("wall " + render::duration(*r.wall_ms));
    }
    if (r.cpu_ms) {
        res.push_back("cpu " + render::duration(*r.cpu_ms));
    }
    if (r.max_rss_kb) {
        res.push_back("peak RSS " + util::format_bytes(static_cast<double>(*r.max_rss_kb) * 1024));
    }
    if (!res.empty()) {
        kv.emplace_back("resources", util::join(res, ", "));
    }
    const auto dir = s.runs_dir / std::to_string(r.id);
    kv.emplace_back("logs", (dir / "stdout.log").string() + ", " + (dir / "stderr.log").string());
    out += render::key_values(kv);

    if (!d.lineage.params.empty()) {
        std::vector<std::pair<std::string, std::string>> ps;
        for (const auto& p : d.lineage.params) {
            ps.emplace_back(p.name, p.value);
        }
        out += "\nparams\n" + render::key_values(ps, "  ");
    }
    if (!d.lineage.metrics.empty()) {
        std::vector<std::pair<std::string, std::string>> ms;
        for (const auto& m : d.lineage.metrics) {
            ms.emplace_back(m.name, render::number(m.value));
        }
        out += "\nmetrics\n" + render::key_values(ms, "  ");
    }
    if (!d.lineage.inputs.empty()) {
        Table t({{"KIND"}, {"NAME"}, {"PATH"}, {"DIGEST"}, {"VALIDATION"}});
        for (const auto& in : d.lineage.inputs) {
            std::string verdict;
            if (in.kind == "dataset") {
                auto v = d.validations.find(in.digest);
                verdict = v == d.validations.end() ? "not validated"
                          : v->second.passed       ? "validation passed"
                                                   : "validation FAILED";
            }
            t.add({in.kind, in.name, in.path == in.name ? "" : in.path,
                   render::short_digest(in.digest), verdict});
        }
        t.drop_empty_columns();
        out += "\ninputs\n" + indent(t.text(false));
    }
    if (!d.lineage.artifacts.empty()) {
        Table t({{"PATH"}, {"SIZE", Align::right}, {"DIGEST"}});
        for (const auto& a : d.lineage.artifacts) {
            t.add({a.path, util::format_bytes(static_cast<double>(a.size)),
                   render::short_digest(a.digest)});
        }
        out += "\nartifacts\n" + indent(t.text(false));
    }
    if (!d.stages.empty()) {
        Table t({{"STAGE"}, {"STATE"}, {"DETAIL"}});
        for (const auto& st : d.stages) {
            std::string detail;
            if (st.state == "cached") {
                detail = st.source_run ? fmt::format("outputs from run {}", *st.source_run)
                                       : "outputs restored";
            } else if (st.wall_ms) {
                detail = render::duration(*st.wall_ms);
                if (st.exit_code && *st.exit_code != 0) {
                    detail += fmt::format(", exit code {}", *st.exit_code);
                }
            }
            t.add({st.name, Cell(st.state == "succeeded" ? "ran" : st.state), detail});
        }
        t.drop_empty_columns();
        out += "\nstages\n" + indent(t.text(false));
    }
    out += serving_text(d.serving, s);
    return out;
}

std::string version_text(const VersionDetail& d, const TextStyle& s) {
    std::string out = fmt::format("{}@{}", d.version.model, d.version.version);
    if (!d.aliases.empty()) {
        out += "  (" + util::join(d.aliases, ", ") + ")";
    }
    out += "\n";
    std::vector<std::pair<std::string, std::string>> kv;
    kv.emplace_back("run", fmt::format("{}  {}  {}", d.run.id, d.run.state,
                                       render::local_time(d.run.started_at)));
    kv.emplace_back("created", when(d.version.created_at, s));
    if (d.run.git.commit) {
        kv.emplace_back("git", git_text(d.run.git));
    }
    if (!d.serving.live_in.empty()) {
        kv.emplace_back("live in", util::join(d.serving.live_in, ", "));
    }
    out += render::key_values(kv);
    if (!d.metrics.empty()) {
        std::vector<std::pair<std::string, std::string>> ms;
        for (const auto& m : d.metrics) {
            ms.emplace_back(m.name, render::number(m.value));
        }
        out += "\nmetrics\n" + render::key_values(ms, "  ");
    }
    if (!d.artifacts.empty()) {
        Table t({{"PATH"}, {"SIZE", Align::right}, {"DIGEST"}});
        for (const auto& a : d.artifacts) {
            t.add({a.path, util::format_bytes(static_cast<double>(a.size)),
                   render::short_digest(a.digest)});
        }
        out += "\nfiles\n" + indent(t.text(false));
    }
    out += serving_text(d.serving, s);
    if (!d.history.empty()) {
        out += "\nalias history\n" + indent(history_text(d.history, true));
    }
    if (!d.evaluations.empty()) {
        Table t({{"RUN", Align::right}, {"STATE"}, {"STARTED"}, {"METRICS"}});
        for (const auto& e : d.evaluations) {
            std::vector<std::string> ms;
            for (const auto& m : e.metrics) {
                ms.push_back(m.name + " " + render::number(m.value));
            }
            t.add({std::to_string(e.run.id), Cell(e.run.state, state_style(e.run.state, s.color)),
                   render::relative_age(e.run.started_at, s.now_ms), util::join(ms, ", ")});
        }
        t.drop_empty_columns();
        out += "\nevaluations\n" + indent(t.text());
    }
    return out;
}

// "deploy/2  churn@3  succeeded": a deployment named beside another.
std::string other_deployment(const registry::Deployment& d) {
    return fmt::format("{}  {}@{}  {}{}", deploy_ref(d.id), d.model, d.version, d.state,
                       d.kind == "rollback" ? "  (rollback)" : "");
}

std::string deployment_text(const DeploymentDetail& d, const TextStyle& s) {
    const registry::Deployment& dep = d.deployment;
    const bool live = d.live && d.live->id == dep.id;
    std::string out = fmt::format("{}  {}", deploy_ref(dep.id), dep.state);
    if (live) {
        out += fmt::format("  (live in {})", dep.env);
    }
    out += "\n";
    std::vector<std::pair<std::string, std::string>> kv;
    kv.emplace_back("env", dep.env);
    kv.emplace_back("kind", dep.kind);
    std::string version = fmt::format("{}@{}", dep.model, dep.version);
    if (!d.aliases.empty()) {
        version += " (" + util::join(d.aliases, ", ") + ")";
    }
    if (d.version.run_id != 0) {
        version += fmt::format(", run {}", d.version.run_id);
    }
    kv.emplace_back("version", version);
    if (d.image) {
        kv.emplace_back("image", d.image->reference());
        kv.emplace_back("image id", d.image->image_id);
        if (d.image->repo_digest) {
            kv.emplace_back("repo digest", *d.image->repo_digest);
        }
        if (d.image->provenance) {
            kv.emplace_back("provenance", *d.image->provenance);
        }
    } else {
        kv.emplace_back("image", fmt::format("image {} is not in the registry", dep.image));
    }
    kv.emplace_back("target", dep.target + ", strategy " + dep.strategy);
    if (dep.previous) {
        kv.emplace_back("previous",
                        d.previous ? other_deployment(*d.previous) : deploy_ref(*dep.previous));
    }
    if (dep.rollback_to) {
        kv.emplace_back("rollback to", d.rollback_to ? other_deployment(*d.rollback_to)
                                                     : deploy_ref(*dep.rollback_to));
    }
    if (!live) {
        kv.emplace_back("live now",
                        d.live ? other_deployment(*d.live) : fmt::format("nothing in {}", dep.env));
    }
    kv.emplace_back("started", when(dep.started_at, s));
    if (dep.ended_at) {
        kv.emplace_back("ended", render::local_time(*dep.ended_at));
        kv.emplace_back("duration", render::duration(*dep.ended_at - dep.started_at));
    }
    kv.emplace_back("by", by_text(dep.user, dep.host) + fmt::format(" (pid {})", dep.pid));
    if (dep.forced) {
        kv.emplace_back("forced", "yes: past failing checks");
    }
    if (dep.reason) {
        kv.emplace_back("reason", *dep.reason);
    }
    if (!dep.manifests.empty()) {
        kv.emplace_back("manifests", s.show_path ? s.show_path(dep.manifests) : dep.manifests);
    }
    out += render::key_values(kv);
    if (!d.steps.empty()) {
        Table t({{"SEQ", Align::right}, {"STEP"}, {"STATE"}, {"AT"}, {"DETAIL"}});
        for (const auto& st : d.steps) {
            const std::string_view style = st.state == "failed" ? state_style("failed", s.color)
                                           : st.state == "done" ? state_style("succeeded", s.color)
                                                                : state_style("running", s.color);
            t.add({std::to_string(st.seq), st.step, Cell(st.state, style),
                   render::local_time(st.at), st.detail ? render::command_line(*st.detail) : ""});
        }
        t.drop_empty_columns();
        out += "\nsteps\n" + indent(t.text());
    }
    return out;
}

std::string dataset_text(const DatasetDetail& d, const TextStyle& s) {
    // Content that no dataset row describes is some other input of a run (a code file).
    std::string out = (d.dataset || d.use_count == 0 ? "dataset " : "input ") + d.digest + "\n";
    std::vector<std::pair<std::string, std::string>> kv;
    kv.emplace_back("path", d.path);
    if (d.dataset) {
        kv.emplace_back("size", util::format_bytes(static_cast<double>(d.dataset->size)));
        if (d.dataset->rows) {
            kv.emplace_back("rows", std::to_string(*d.dataset->rows));
        }
        kv.emplace_back("kind", d.dataset->kind == "tree" ? "directory" : "file");
        kv.emplace_back("snapshot", d.dataset->snapshot ? "in the store" : "not stored");
        kv.emplace_back("first seen", when(d.dataset->first_seen, s));
    } else if (d.use_count == 0) {
        kv.emplace_back("recorded", "no: no run has used this content");
    }
    if (d.validation) {
        std::string v = fmt::format("{} {}", d.validation->passed ? "passed" : "failed",
                                    render::local_time(d.validation->at));
        if (d.validation->rows) {
            v += fmt::format(", {} rows", *d.validation->rows);
        }
        kv.emplace_back("validation", v);
    } else {
        kv.emplace_back("validation", "not validated");
    }
    out += render::key_values(kv);
    if (!d.produced_by.empty()) {
        out += "\n" + produced_by_text(d.produced_by);
    }
    out += "\n" + used_by_text(d.uses, d.use_count, s);
    std::vector<const registry::Dataset*> others;
    for (const auto& o : d.at_path) {
        if (o.digest != d.digest) {
            others.push_back(&o);
        }
    }
    if (!others.empty()) {
        out += fmt::format("\nother contents recorded at {}\n", d.path);
        Table t({{"DIGEST"}, {"SIZE", Align::right}, {"FIRST SEEN"}});
        for (const auto* o : others) {
            t.add({render::short_digest(o->digest),
                   util::format_bytes(static_cast<double>(o->size)),
                   render::relative_age(o->first_seen, s.now_ms)});
        }
        out += indent(t.text(false));
    }
    return out;
}

std::string artifact_text(const ArtifactDetail& d, const TextStyle& s) {
    std::string out = "artifact " + d.digest + "\n";
    std::vector<std::pair<std::string, std::string>> kv;
    if (d.size) {
        kv.emplace_back("size", util::format_bytes(static_cast<double>(*d.size)));
    }
    if (d.kind) {
        kv.emplace_back("kind", *d.kind == "tree" ? "directory" : "file");
    }
    if (d.stored_at) {
        kv.emplace_back("stored", when(*d.stored_at, s));
    }
    if (!d.versions.empty()) {
        kv.emplace_back("model", versions_text(d.versions));
    }
    out += render::key_values(kv);
    if (!d.produced_by.empty()) {
        out += "\n" + produced_by_text(d.produced_by);
    }
    out += "\n" + used_by_text(d.uses, d.use_count, s);
    return out;
}

std::string commit_text(const CommitDetail& d, const TextStyle& s) {
    std::string out = "commit " + d.commit + "\n";
    out += fmt::format("{} run{}\n", d.run_count, d.run_count == 1 ? "" : "s");
    if (!d.runs.empty()) {
        out += indent(runs_table(d.runs, {}, s).text());
    }
    if (d.run_count > static_cast<int64_t>(d.runs.size())) {
        out += fmt::format("  … and {} older\n", d.run_count - static_cast<int64_t>(d.runs.size()));
    }
    return out;
}

// --- diff ------------------------------------------------------------------------------------

std::string side_model(const DiffSide& s) {
    return versions_text(s.versions);
}

std::string param_summary(const RunDiff& d) {
    std::map<std::string, size_t> n;
    for (const auto& p : d.params) {
        ++n[p.status];
    }
    std::vector<std::string> parts;
    for (const char* k : {"changed", "added", "removed", "same"}) {
        if (n[k] > 0) {
            parts.push_back(fmt::format("{} {}", n[k], k));
        }
    }
    return parts.empty() ? "none" : util::join(parts, ", ");
}

std::string data_status(const DataChange& c) {
    return c.status == "same" ? "same" : c.status == "changed" ? "different" : c.status;
}

std::string stage_status(const StageChange& c) {
    return c.status == "same" ? "same inputs" : c.status == "changed" ? "inputs changed" : c.status;
}

std::string delta_pct(const MetricChange& m) {
    return m.delta_pct ? render::signed_percent(*m.delta_pct) : "";
}

}  // namespace

std::string_view state_style(const std::string& state, bool color) {
    if (!color) {
        return {};
    }
    if (state == "succeeded") {
        return "\033[32m";
    }
    if (state == "failed" || state == "crashed") {
        return "\033[31m";
    }
    return "\033[33m";
}

std::string runs_text(const RunsResult& r, const TextStyle& s) {
    return runs_table(r.runs, r.key_metrics, s).text();
}

std::string show_text(const Detail& d, const TextStyle& s) {
    return std::visit(
        [&](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, RunDetail>) {
                return run_text(x, s);
            } else if constexpr (std::is_same_v<T, VersionDetail>) {
                return version_text(x, s);
            } else if constexpr (std::is_same_v<T, DatasetDetail>) {
                return dataset_text(x, s);
            } else if constexpr (std::is_same_v<T, ArtifactDetail>) {
                return artifact_text(x, s);
            } else if constexpr (std::is_same_v<T, DeploymentDetail>) {
                return deployment_text(x, s);
            } else {
                return commit_text(x, s);
            }
        },
        d);
}

std::string diff_text(const RunDiff& d) {
    const std::string a = d.a.label;
    const std::string b = d.b.label;
    std::string out = fmt::format("{} → {}\n", a, b);
    Table head({{""}, {a}, {b}});
    head.add({"run", std::to_string(d.a.run.id), std::to_string(d.b.run.id)});
    head.add({"state", d.a.run.state, d.b.run.state});
    head.add({"git", git_text(d.a.run.git), git_text(d.b.run.git)});
    head.add({"model", side_model(d.a), side_model(d.b)});
    out += head.text();

    out += fmt::format("\nparams ({})\n", param_summary(d));
    if (d.changed_params() > 0) {
        Table t({{"NAME"}, {a}, {b}, {""}});
        for (const auto& p : d.params) {
            if (p.status != "same") {
                t.add({p.name, p.a.value_or(""), p.b.value_or(""), p.status});
            }
        }
        out += indent(t.text());
    }
    if (!d.metrics.empty()) {
        out += "\nmetrics\n";
        Table t({{"NAME"},
                 {a, Align::right},
                 {b, Align::right},
                 {"Δ", Align::right},
                 {"Δ%", Align::right}});
        for (const auto& m : d.metrics) {
            t.add({m.name, opt_number(m.a), opt_number(m.b),
                   m.delta ? render::signed_number(*m.delta) : m.status, delta_pct(m)});
        }
        out += indent(t.text());
    }
    if (!d.data.empty()) {
        out += "\ndata\n";
        Table t({{"INPUT"}, {a}, {b}, {""}});
        for (const auto& c : d.data) {
            t.add({c.name, c.a ? render::short_digest(*c.a) : "",
                   c.b ? render::short_digest(*c.b) : "", data_status(c)});
        }
        out += indent(t.text());
    }
    if (!d.stages.empty()) {
        out += "\nstages\n";
        Table t({{"STAGE"}, {a}, {b}, {""}});
        for (const auto& c : d.stages) {
            t.add({c.name, c.a_state.value_or(""), c.b_state.value_or(""), stage_status(c)});
        }
        out += indent(t.text());
    }
    return out;
}

std::string diff_markdown(const RunDiff& d) {
    const std::string a = d.a.label;
    const std::string b = d.b.label;
    auto code = [](const std::string& s) {
        return s.empty() ? s : "`" + s + "`";
    };
    std::string out = fmt::format("### mloop diff: {} → {}\n\n", a, b);
    Table head({{""}, {a}, {b}});
    head.add({"run", std::to_string(d.a.run.id), std::to_string(d.b.run.id)});
    head.add({"state", d.a.run.state, d.b.run.state});
    head.add({"git", code(git_text(d.a.run.git)), code(git_text(d.b.run.git))});
    head.add({"model", side_model(d.a), side_model(d.b)});
    out += head.markdown();

    out += fmt::format("\n**Params** ({})\n", param_summary(d));
    if (d.changed_params() > 0) {
        Table t({{"param"}, {a}, {b}, {""}});
        for (const auto& p : d.params) {
            if (p.status != "same") {
                t.add({p.name, code(p.a.value_or("")), code(p.b.value_or("")), p.status});
            }
        }
        out += "\n" + t.markdown();
    }
    if (!d.metrics.empty()) {
        out += "\n**Metrics**\n\n";
        Table t({{"metric"},
                 {a, Align::right},
                 {b, Align::right},
                 {"Δ", Align::right},
                 {"Δ%", Align::right}});
        for (const auto& m : d.metrics) {
            t.add({m.name, opt_number(m.a), opt_number(m.b),
                   m.delta ? render::signed_number(*m.delta) : m.status, delta_pct(m)});
        }
        out += t.markdown();
    }
    if (!d.data.empty()) {
        out += "\n**Data**\n\n";
        Table t({{"input"}, {a}, {b}, {""}});
        for (const auto& c : d.data) {
            t.add({c.name, code(c.a ? render::short_digest(*c.a) : ""),
                   code(c.b ? render::short_digest(*c.b) : ""), data_status(c)});
        }
        out += t.markdown();
    }
    if (!d.stages.empty()) {
        out += "\n**Stages**\n\n";
        Table t({{"stage"}, {a}, {b}, {""}});
        for (const auto& c : d.stages) {
            t.add({c.name, c.a_state.value_or(""), c.b_state.value_or(""), stage_status(c)});
        }
        out += t.markdown();
    }
    return out;
}

std::string models_text(const std::vector<ModelSummary>& models, const TextStyle& s) {
    Table t({{"MODEL"},
             {"VERSIONS", Align::right},
             {"LATEST", Align::right},
             {"CREATED"},
             {"ALIASES"}});
    for (const auto& m : models) {
        std::vector<std::string> aliases;
        for (const auto& [alias, version] : m.aliases) {
            aliases.push_back(fmt::format("{}={}", alias, version));
        }
        t.add({m.name, std::to_string(m.versions), m.latest ? std::to_string(*m.latest) : "",
               m.latest_at ? render::relative_age(*m.latest_at, s.now_ms) : "",
               util::join(aliases, ", ")});
    }
    return t.text();
}

std::string model_text(const ModelDetail& d, const TextStyle& s) {
    std::string out =
        fmt::format("{}  {} version{}", d.name, d.version_count, d.version_count == 1 ? "" : "s");
    std::vector<std::string> aliases;
    for (const auto& [alias, version] : d.aliases) {
        aliases.push_back(fmt::format("{}={}", alias, version));
    }
    if (!aliases.empty()) {
        out += "  (" + util::join(aliases, ", ") + ")";
    }
    out += "\n\n";
    std::vector<render::Column> cols = {
        {"VERSION", Align::right}, {"RUN", Align::right}, {"STATE"}, {"CREATED"}};
    for (const auto& m : d.key_metrics) {
        cols.push_back({m, Align::right});
    }
    cols.push_back({"ALIASES"});
    cols.push_back({"LIVE IN"});
    Table t(cols);
    for (const auto& v : d.versions) {
        std::vector<Cell> row = {std::to_string(v.version.version), std::to_string(v.run.id),
                                 Cell(v.run.state, state_style(v.run.state, s.color)),
                                 render::relative_age(v.version.created_at, s.now_ms)};
        for (const auto& m : d.key_metrics) {
            row.emplace_back(opt_number(metric(v.metrics, m)));
        }
        row.emplace_back(util::join(v.aliases, ", "));
        row.emplace_back(util::join(v.live_in, ", "));
        t.add(std::move(row));
    }
    t.drop_empty_columns();
    out += t.text();
    const int64_t more = d.version_count - static_cast<int64_t>(d.versions.size());
    if (more > 0) {
        out += fmt::format("… and {} older version{} (--limit 0 lists every one)\n", more,
                           more == 1 ? "" : "s");
    }
    if (!d.history.empty()) {
        out += "\nalias history\n" + indent(history_text(d.history, true));
    }
    return out;
}

}  // namespace mloop::lineage
