#include "train/gates.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "git/git.hpp"
#include "process/mask.hpp"
#include "registry/registry.hpp"
#include "train/internal.hpp"

namespace mloop::train {

namespace fs = std::filesystem;
using namespace detail;

namespace {

int64_t run_of(registry::Db& db, const std::string& model, int64_t version) {
    for (const auto& v : registry::Models(db).versions(model)) {
        if (v.version == version) {
            return v.run_id;
        }
    }
    throw error::UsageError(fmt::format("no version {}@{}", model, version));
}

std::map<std::string, double> as_map(const std::vector<registry::Metric>& metrics) {
    std::map<std::string, double> m;
    for (const auto& x : metrics) {
        m[x.name] = x.value;
    }
    return m;
}

// Restores the version's artifacts into `dir`, runs model.evaluate there and records the run as
// an evaluation of the version. Returns its metrics.
std::map<std::string, double> evaluate(Session& s, const registry::VersionRef& v, bool echo,
                                       std::vector<int64_t>& evaluations) {
    registry::Db& db = s.db();
    const int64_t train_run = run_of(db, v.model, v.version);
    const auto artifacts = registry::Runs(db).artifacts(train_run);
    const auto params = registry::Runs(db).params(train_run);
    const git::State& git = s.git.get();
    // The evaluation reads the datasets the evaluate command names, hashed as they are now, so
    // candidate and baseline see byte-identical data.
    const config::Command& command = s.project.model.evaluate;
    std::set<std::string> names;
    for (const auto& a : command) {
        auto pieces = config::split_variables(a.value);
        if (pieces) {
            for (const auto& piece : pieces.value()) {
                if (piece.variable && piece.text.rfind("data.", 0) == 0) {
                    names.insert(piece.text.substr(5));
                }
            }
        }
    }
    std::vector<fs::path> paths;
    std::vector<std::string> which;
    for (const auto& n : names) {
        if (const auto* d = s.project.dataset(n)) {
            paths.push_back(fs::path(d->path.value).is_absolute() ? fs::path(d->path.value)
                                                                  : s.project.root / d->path.value);
            which.push_back(n);
        }
    }
    const auto digests = hash_paths(s, paths);
    registry::RunStart start;
    start.kind = "evaluate";
    start.params = params;
    start.git.commit = git.commit;
    start.git.branch = git.branch;
    start.git.dirty = git.dirty;
    start.git.diff_digest = git.diff_digest;
    std::vector<std::string> argv_template;
    for (const auto& a : command) {
        argv_template.push_back(a.value);
    }
    start.command = process::mask(json_array(argv_template), s.secrets);
    start.message = fmt::format("evaluation of {}", v.text());
    const int64_t run = db.write([&] {
        registry::Datasets datasets(db);
        for (size_t i = 0; i < paths.size(); ++i) {
            registry::Dataset d;
            d.digest = digests[i].str();
            d.path = s.project.dataset(which[i])->path.value;
            std::error_code ec;
            d.kind = fs::is_directory(paths[i], ec) ? "tree" : "file";
            d.size = d.kind == "file" ? static_cast<int64_t>(fs::file_size(paths[i], ec)) : 0;
            start.inputs.push_back({which[i], "dataset", d.path, d.digest, datasets.upsert(d)});
        }
        const int64_t id = registry::Runs(db).begin(start);
        db.prepare(
              "INSERT INTO evaluations (run_id, model_id, version) "
              "SELECT ?, id, ? FROM models WHERE name = ?")
            .bind_all(id, v.version, v.model)
            .run();
        return id;
    });
    evaluations.push_back(run);
    const fs::path run_dir = fs::absolute(s.paths.runs / std::to_string(run));
    workspace::make_private_dir(run_dir);
    const fs::path model_dir = run_dir / "model";
    fs::create_directories(model_dir);
    registry::RunEnd end;
    try {
        for (const auto& a : artifacts) {
            const fs::path dest = model_dir / a.path;
            if (dest.has_parent_path()) {
                fs::create_directories(dest.parent_path());
            }
            s.objects->restore(*store::Digest::parse(a.digest), dest);
        }
        Variables vars = run_variables(s, params, run, run_dir, git.commit);
        vars.values["model.name"] = v.model;
        vars.values["model.version"] = std::to_string(v.version);
        vars.values["model.dir"] = model_dir.string();
        const auto argv = vars.expand_all(command, "model.evaluate");
        s.reporter->note(fmt::format("evaluating {} (run {})", v.text(), run));
        auto env = run_environment(s, vars, params);
        env.emplace_back("MLOOP_MODEL_DIR", model_dir.string());
        const process::Result r = run_process(s, argv, env, run_dir, "", echo);
        end.exit_code = r.exit_code;
        end.signal = r.signal;
        end.wall_ms = r.wall.count();
        end.cpu_ms = r.cpu.count();
        end.max_rss_kb = r.max_rss_kb;
        if (r.interrupted_by) {
            end.state = "interrupted";
            db.write([&] { registry::Runs(db).finish(run, end); });
            throw error::Interrupted(*r.interrupted_by);
        }
        if (!r.ok()) {
            throw error::ExternalError(
                fmt::format("the evaluation of {} (run {}) {}", v.text(), run, r.describe()),
                fmt::format("see {}", (run_dir / "stderr.log").string()));
        }
        end.metrics = read_metrics(inside(
            run_dir, s.project.train ? s.project.train->metrics.value : "metrics.json", "metrics"));
        end.state = "succeeded";
        db.write([&] { registry::Runs(db).finish(run, end); });
    } catch (const error::Interrupted&) {
        throw;
    } catch (...) {
        end.state = "failed";
        db.write([&] { registry::Runs(db).finish(run, end); });
        throw;
    }
    return as_map(end.metrics);
}

std::string number(double v) {
    return fmt::format("{:.6g}", v);
}

}  // namespace

bool GateReport::passed() const {
    return std::none_of(gates.begin(), gates.end(),
                        [](const GateResult& g) { return g.verdict == "fail"; });
}

GateReport check_gates(Session& s, const registry::VersionRef& candidate, bool echo) {
    GateReport report;
    report.candidate = candidate;
    registry::Db& db = s.db();
    const bool evaluating = !s.project.model.evaluate.empty();
    std::map<int64_t, std::map<std::string, double>> metrics_of;  // version → metrics
    auto metrics_for = [&](int64_t version) -> const std::map<std::string, double>& {
        auto it = metrics_of.find(version);
        if (it == metrics_of.end()) {
            registry::VersionRef v{candidate.model, version, std::nullopt};
            auto m = evaluating ? evaluate(s, v, echo, report.evaluations)
                                : as_map(registry::Runs(db).metrics(run_of(db, v.model, version)));
            it = metrics_of.emplace(version, std::move(m)).first;
        }
        return it->second;
    };
    const auto& cand = metrics_for(candidate.version);
    for (const auto& g : s.project.model.gates) {
        GateResult r;
        r.metric = g.metric.value;
        auto c = cand.find(r.metric);
        if (c != cand.end()) {
            r.candidate = c->second;
        }
        if (g.min || g.max) {
            std::vector<std::string> limits;
            bool ok = r.candidate.has_value();
            if (g.min) {
                limits.push_back("≥ " + number(*g.min));
                ok = ok && *r.candidate >= *g.min;
            }
            if (g.max) {
                limits.push_back("≤ " + number(*g.max));
                ok = ok && *r.candidate <= *g.max;
            }
            r.limit = fmt::format("{}", fmt::join(limits, ", "));
            r.verdict = ok ? "pass" : "fail";
            if (!r.candidate) {
                r.note = fmt::format("{} has no metric '{}'", candidate.text(), r.metric);
            }
            report.gates.push_back(r);
            continue;
        }
        // A relative gate: against the version the baseline alias points at now.
        const std::string alias = g.baseline->value;
        r.limit = g.max_drop ? fmt::format("drop ≤ {}", number(*g.max_drop))
                             : fmt::format("rise ≤ {}%", number(*g.max_increase_pct));
        const auto base = registry::Models(db).resolve_alias(candidate.model, alias);
        if (!base) {
            r.verdict = "skip";
            r.note = fmt::format("no version is aliased {} yet", alias);
            report.gates.push_back(r);
            continue;
        }
        r.baseline_version = fmt::format("{}@{} ({})", candidate.model, *base, alias);
        const auto& bm = metrics_for(*base);
        auto b = bm.find(r.metric);
        if (b != bm.end()) {
            r.baseline = b->second;
        }
        if (!r.candidate || !r.baseline) {
            r.verdict = "fail";
            r.note = !r.candidate ? fmt::format("{} has no metric '{}'", candidate.text(), r.metric)
                                  : fmt::format("the baseline has no metric '{}'", r.metric);
        } else if (g.max_drop) {
            r.verdict = *r.candidate >= *r.baseline - *g.max_drop - 1e-12 ? "pass" : "fail";
        } else {
            const double allowed = *r.baseline * (1.0 + *g.max_increase_pct / 100.0);
            r.verdict = *r.candidate <= allowed + 1e-12 * std::abs(allowed) ? "pass" : "fail";
        }
        report.gates.push_back(r);
    }
    return report;
}

}  // namespace mloop::train
