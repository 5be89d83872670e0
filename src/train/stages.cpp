// A pipeline of stages (train.stages): run in dependency order; a stage whose command, params
// and input digests match its last successful execution is not run again — its outputs are
// restored from the store.
#include <algorithm>
#include <map>
#include <queue>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "process/mask.hpp"
#include "registry/registry.hpp"
#include "store/sha256.hpp"
#include "train/internal.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::train::detail {

namespace fs = std::filesystem;

namespace {

// Stages in dependency order; ties keep the order of the file.
std::vector<const config::Stage*> ordered(const std::vector<config::Stage>& stages) {
    std::map<std::string, int> pending;
    std::map<std::string, std::vector<const config::Stage*>> dependents;
    for (const auto& st : stages) {
        pending[st.name.value] = static_cast<int>(st.after.size());
        for (const auto& a : st.after) {
            dependents[a.value].push_back(&st);
        }
    }
    std::vector<const config::Stage*> out;
    std::vector<const config::Stage*> ready;
    for (const auto& st : stages) {
        if (pending[st.name.value] == 0) {
            ready.push_back(&st);
        }
    }
    while (!ready.empty()) {
        const config::Stage* st = ready.front();
        ready.erase(ready.begin());
        out.push_back(st);
        for (const config::Stage* d : dependents[st->name.value]) {
            if (--pending[d->name.value] == 0) {
                ready.push_back(d);
            }
        }
        std::stable_sort(ready.begin(), ready.end(), [&](const auto* a, const auto* b) {
            return a - stages.data() < b - stages.data();
        });
    }
    if (out.size() != stages.size()) {
        throw error::UsageError("the stages form a cycle", "run 'mloop validate config'");
    }
    return out;
}

// The stage named by --stage and every stage it needs.
std::set<std::string> needed(const std::vector<config::Stage>& stages, const std::string& target) {
    std::map<std::string, const config::Stage*> by_name;
    std::vector<std::string> names;
    for (const auto& st : stages) {
        by_name[st.name.value] = &st;
        names.push_back(st.name.value);
    }
    if (!by_name.count(target)) {
        throw error::UsageError(fmt::format("--stage {}: no such stage", target),
                                util::did_you_mean(target, names));
    }
    std::set<std::string> out;
    std::vector<std::string> todo{target};
    while (!todo.empty()) {
        const std::string name = todo.back();
        todo.pop_back();
        if (!out.insert(name).second) {
            continue;
        }
        for (const auto& a : by_name[name]->after) {
            todo.push_back(a.value);
        }
    }
    return out;
}

}  // namespace

std::vector<const config::Stage*> stages_to_run(const std::vector<config::Stage>& stages,
                                                const std::optional<std::string>& target) {
    std::vector<const config::Stage*> out = ordered(stages);
    if (target) {
        const auto selected = needed(stages, *target);
        std::erase_if(out,
                      [&](const config::Stage* st) { return !selected.count(st->name.value); });
    }
    return out;
}

namespace {

fs::path project_path(const Session& s, const std::string& p) {
    return fs::path(p).is_absolute() ? fs::path(p) : s.project.root / p;
}

// Where a stage's output is written and read (SPEC §8): beneath the project or the run
// directory (${run.dir}); nothing for `..`, an absolute path elsewhere or a symlink out.
std::optional<fs::path> output_path(const Session& s, const fs::path& run_dir,
                                    const std::string& expanded) {
    const fs::path p = project_path(s, expanded);
    if (util::resolves_beneath(s.project.root, p) || util::resolves_beneath(run_dir, p)) {
        return p;
    }
    return std::nullopt;
}

std::string outside_message(const std::string& stage, const std::string& output) {
    return fmt::format("stage '{}': output '{}' leads outside the project", stage, output);
}

struct CachedOutput {
    std::string path;  // as written in mloop.yaml (may hold ${run.dir})
    std::string digest;
    std::string kind;
};

// The outputs of the latest successful execution with this key, if all are still stored.
std::optional<std::pair<int64_t, std::vector<CachedOutput>>> find_cached(Session& s,
                                                                         const std::string& stage,
                                                                         const std::string& key) {
    registry::Stmt q = s.db().prepare(
        "SELECT run_id FROM stage_runs WHERE stage = ? AND cache_key = ? AND state = 'succeeded' "
        "ORDER BY run_id DESC LIMIT 5");
    q.bind_all(stage, key);
    std::vector<int64_t> candidates;
    while (q.step()) {
        candidates.push_back(q.int64(0));
    }
    for (int64_t run : candidates) {
        registry::Stmt o = s.db().prepare(
            "SELECT so.path, so.digest, so.kind, o.collected_at FROM stage_outputs so "
            "JOIN objects o ON o.digest = so.digest WHERE so.run_id = ? AND so.stage = ?");
        o.bind_all(run, stage);
        std::vector<CachedOutput> outputs;
        bool usable = true;
        while (o.step()) {
            auto d = store::Digest::parse(o.text(1));
            if (!o.is_null(3) || !d || !s.objects->has(*d)) {
                usable = false;
            }
            outputs.push_back({o.text(0), o.text(1), o.text(2)});
        }
        if (usable) {
            return std::pair{run, std::move(outputs)};
        }
    }
    return std::nullopt;
}

void remove_existing(const fs::path& p) {
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(p, ec))) {
        fs::remove_all(p, ec);
    } else {
        fs::remove(p, ec);
    }
    if (ec) {
        throw error::UsageError(
            fmt::format("cannot replace stage output '{}': {}", p.string(), ec.message()));
    }
}

}  // namespace

std::string stage_cache_key(const config::Stage& stage, const std::vector<registry::Param>& params,
                            const std::vector<std::pair<std::string, std::string>>& input_digests) {
    nlohmann::json j;
    std::vector<std::string> argv;
    for (const auto& a : stage.command) {
        argv.push_back(a.value);
    }
    j["command"] = argv;
    nlohmann::json ps = nlohmann::json::object();
    for (const auto& p : params) {
        ps[p.name] = {p.type, p.value};
    }
    j["params"] = ps;
    nlohmann::json ins = nlohmann::json::array();
    for (const auto& [path, digest] : input_digests) {
        ins.push_back({path, digest});
    }
    j["inputs"] = ins;
    std::vector<std::string> outs;
    for (const auto& o : stage.outputs) {
        outs.push_back(o.value);
    }
    j["outputs"] = outs;
    return store::sha256(j.dump()).str();
}

bool run_stages(Session& s, const Options& o, int64_t run, const Variables& vars,
                const std::vector<registry::Param>& params, const fs::path& run_dir,
                Outcome& outcome) {
    int64_t cpu_ms = 0;
    for (const config::Stage* st : stages_to_run(s.project.train->stages, o.stage)) {
        const std::string& name = st->name.value;
        const std::string where = fmt::format("train.stages[{}]", name);
        // Inputs are hashed now: an upstream stage has just written (or restored) them.
        std::vector<std::pair<std::string, std::string>> input_digests;
        std::vector<fs::path> input_paths;
        for (const auto& in : st->inputs) {
            const std::string expanded = vars.expand(in, where + ".inputs");
            const fs::path path = project_path(s, expanded);
            std::error_code ec;
            if (!fs::exists(path, ec)) {
                throw error::UsageError(
                    fmt::format("stage '{}': input '{}' does not exist", name, expanded),
                    "is it the output of a stage that has not run?");
            }
            input_paths.push_back(path);
            input_digests.emplace_back(in.value, "");
        }
        const auto digests = hash_paths(s, input_paths);
        for (size_t i = 0; i < digests.size(); ++i) {
            input_digests[i].second = digests[i].str();
        }
        const std::string key = stage_cache_key(*st, params, input_digests);
        const auto t0 = std::chrono::steady_clock::now();

        // A stage that declares no outputs has nothing to restore: its work (metrics, a model
        // in ${run.dir}) would be missing, so it always runs.
        if (auto cached = st->outputs.empty() ? std::nullopt : find_cached(s, name, key)) {
            for (const auto& out : cached->second) {
                const std::string expanded = vars.expand({out.path, st->mark}, where);
                const auto at = output_path(s, run_dir, expanded);
                if (!at) {
                    throw error::UsageError(outside_message(name, expanded));
                }
                const fs::path& dest = *at;
                remove_existing(dest);
                if (dest.has_parent_path()) {
                    fs::create_directories(dest.parent_path());
                }
                s.objects->restore(*store::Digest::parse(out.digest), dest,
                                   out.kind == "tree" ? store::ObjectStore::Kind::tree
                                                      : store::ObjectStore::Kind::file);
            }
            s.db().write([&] {
                s.db()
                    .prepare(
                        "INSERT INTO stage_runs (run_id, stage, state, cache_key, "
                        "source_run, started_at, ended_at, wall_ms) "
                        "VALUES (?, ?, 'cached', ?, ?, ?, ?, 0)")
                    .bind_all(run, name, key, cached->first, registry::now_ms(), registry::now_ms())
                    .run();
                registry::Stmt ins = s.db().prepare(
                    "INSERT INTO stage_outputs (run_id, stage, path, digest, kind) "
                    "VALUES (?, ?, ?, ?, ?)");
                for (const auto& out : cached->second) {
                    ins.bind_all(run, name, out.path, out.digest, out.kind).run();
                }
            });
            outcome.stages.push_back({name, "cached", cached->first, {}});
            s.reporter->note(
                fmt::format("stage {}: cached (outputs of run {})", name, cached->first));
            continue;
        }

        s.db().write([&] {
            s.db()
                .prepare(
                    "INSERT INTO stage_runs (run_id, stage, state, cache_key, started_at) "
                    "VALUES (?, ?, 'running', ?, ?)")
                .bind_all(run, name, key, registry::now_ms())
                .run();
        });
        const auto argv = vars.expand_all(st->command, where + ".command");
        auto env = run_environment(s, vars, params);
        env.emplace_back("MLOOP_STAGE", name);
        s.reporter->note(fmt::format("stage {}: running", name));
        const process::Result r = run_process(s, argv, env, run_dir, name + ".", o.echo);
        cpu_ms += r.cpu.count();
        outcome.max_rss_kb = std::max(outcome.max_rss_kb, r.max_rss_kb);
        const std::string state = r.interrupted_by ? "interrupted"
                                  : r.ok()         ? "succeeded"
                                                   : "failed";
        std::vector<CachedOutput> outputs;
        std::string failure;
        if (state == "succeeded") {
            for (const auto& out : st->outputs) {
                const std::string expanded = vars.expand(out, where + ".outputs");
                const auto at = output_path(s, run_dir, expanded);
                if (!at) {
                    failure = outside_message(name, expanded);
                    break;
                }
                const fs::path& path = *at;
                std::error_code ec;
                if (!fs::exists(path, ec)) {
                    failure =
                        fmt::format("stage '{}' did not write its output '{}'", name, out.value);
                    break;
                }
                const bool tree = fs::is_directory(path, ec);
                const auto d = tree ? s.objects->put_tree(path) : s.objects->put_file(path);
                outputs.push_back({out.value, d.str(), tree ? "tree" : "file"});
            }
        }
        const std::string final_state = failure.empty() ? state : "failed";
        s.db().write([&] {
            s.db()
                .prepare(
                    "UPDATE stage_runs SET state = ?, ended_at = ?, exit_code = ?, "
                    "wall_ms = ?, cpu_ms = ?, max_rss_kb = ? WHERE run_id = ? AND stage = ?")
                .bind_all(final_state, registry::now_ms(),
                          r.exit_code ? std::optional<int64_t>(*r.exit_code) : std::nullopt,
                          static_cast<int64_t>(r.wall.count()), static_cast<int64_t>(r.cpu.count()),
                          r.max_rss_kb, run, name)
                .run();
            registry::Objects objects(s.db());
            registry::Stmt ins = s.db().prepare(
                "INSERT INTO stage_outputs (run_id, stage, path, digest, kind) VALUES (?, ?, ?, ?, "
                "?)");
            for (const auto& out : outputs) {
                objects.record(out.digest, 0, out.kind);
                ins.bind_all(run, name, out.path, out.digest, out.kind).run();
            }
        });
        const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - t0);
        outcome.stages.push_back({name, final_state, std::nullopt, wall});
        outcome.cpu = std::chrono::milliseconds(cpu_ms);
        if (r.interrupted_by) {
            outcome.interrupted_by = r.interrupted_by;
            return false;
        }
        if (final_state != "succeeded") {
            outcome.exit_code = r.exit_code;
            outcome.reason =
                failure.empty() ? fmt::format("stage '{}' {}", name, r.describe()) : failure;
            s.reporter->note(fmt::format("stage {}: failed", name));
            return false;
        }
        s.reporter->note(fmt::format("stage {}: ran in {:.1f} s", name,
                                     static_cast<double>(wall.count()) / 1000.0));
    }
    outcome.cpu = std::chrono::milliseconds(cpu_ms);
    return true;
}

}  // namespace mloop::train::detail
