#include <sys/stat.h>
#include <algorithm>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "config/variables.hpp"
#include "error/error.hpp"
#include "git/git.hpp"
#include "process/mask.hpp"
#include "train/internal.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::train {

namespace fs = std::filesystem;
using namespace detail;

namespace {

registry::Param param_from(const config::NamedScalar& p) {
    static constexpr const char* k_types[] = {"string", "integer", "number", "boolean"};
    return {p.name, p.value.text, k_types[static_cast<int>(p.value.type)]};
}

std::string type_of(std::string_view v) {
    if (v.empty()) {
        return "string";
    }
    int64_t i;
    const char* b = v.data() + (v[0] == '+' || v[0] == '-');
    if (std::from_chars(b, v.data() + v.size(), i).ptr == v.data() + v.size() &&
        b != v.data() + v.size()) {
        return "integer";
    }
    double d;
    auto [p, ec] = std::from_chars(v.data() + (v[0] == '+'), v.data() + v.size(), d);
    if (ec == std::errc() && p == v.data() + v.size()) {
        return "number";
    }
    if (v == "true" || v == "false") {
        return "boolean";
    }
    return "string";
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parameters

std::string param_env_name(std::string_view name) {
    std::string out = "MLOOP_PARAM_";
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        out += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
    }
    return out;
}

registry::Param parse_param(const config::Project& project, std::string_view assignment) {
    const size_t eq = assignment.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw error::UsageError(fmt::format("--param {}: write NAME=VALUE", assignment));
    }
    const std::string name(assignment.substr(0, eq));
    const std::string value(assignment.substr(eq + 1));
    std::vector<std::string> known;
    if (project.train) {
        for (const auto& p : project.train->params) {
            known.push_back(p.name);
        }
        if (project.train->sweep) {
            for (const auto& p : project.train->sweep->params) {
                known.push_back(p.name);
            }
        }
    }
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
    if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string hint = util::did_you_mean(name, known);
        if (hint.empty()) {
            hint = known.empty() ? "mloop.yaml declares no train.params"
                                 : fmt::format("the parameters are {}", util::join(known, ", "));
        }
        throw error::UsageError(
            fmt::format("--param {}: no parameter '{}' in train.params", assignment, name), hint);
    }
    return {name, value, type_of(value)};
}

std::vector<registry::Param> resolve_params(const config::Project& project,
                                            const std::vector<std::string>& overrides) {
    std::vector<registry::Param> out;
    if (project.train) {
        for (const auto& p : project.train->params) {
            out.push_back(param_from(p));
        }
    }
    for (const auto& o : overrides) {
        auto p = parse_param(project, o);
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const registry::Param& x) { return x.name == p.name; });
        if (it != out.end()) {
            *it = std::move(p);
        } else {
            out.push_back(std::move(p));
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with stages.cpp and sweep.cpp

namespace detail {

std::string json_array(const std::vector<std::string>& items) {
    return nlohmann::json(items).dump();
}

std::set<std::string> datasets_used(const config::Project& p) {
    std::set<std::string> out;
    if (!p.train) {
        return out;
    }
    auto scan = [&](const config::Text& t) {
        auto pieces = config::split_variables(t.value);
        if (!pieces) {
            return;
        }
        for (const auto& piece : pieces.value()) {
            if (piece.variable && util::starts_with(piece.text, "data.")) {
                out.insert(piece.text.substr(5));
            }
        }
    };
    const auto& t = *p.train;
    for (const auto& a : t.command) {
        scan(a);
    }
    for (const auto& [name, value] : t.env) {
        scan(value);
    }
    for (const auto& stage : t.stages) {
        for (const auto& a : stage.command) {
            scan(a);
        }
        for (const auto& i : stage.inputs) {
            scan(i);
        }
    }
    return out;
}

std::vector<InputFile> hash_inputs(Session& s, const std::vector<std::string>& extra_inputs) {
    const auto& p = s.project;
    std::vector<InputFile> files;
    for (const auto& name : datasets_used(p)) {
        const config::Dataset* d = p.dataset(name);
        if (d == nullptr) {
            continue;  // validate config reports it
        }
        Variables base;
        base.project = &p;
        base.values["project"] = p.name;
        const std::string shown = base.expand(d->path, fmt::format("data.{}", name));
        const fs::path path = fs::path(shown).is_absolute() ? fs::path(shown) : p.root / shown;
        std::error_code ec;
        if (!fs::exists(path, ec)) {
            throw error::UsageError(
                fmt::format("dataset '{}': cannot read '{}': no such file or "
                            "directory",
                            name, shown));
        }
        files.push_back(
            {name, "dataset", path, shown, d->snapshot, fs::is_directory(path, ec), {}});
    }
    std::vector<std::string> inputs;
    if (p.train) {
        for (const auto& i : p.train->inputs) {
            inputs.push_back(i.value);
        }
    }
    inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
    for (const auto& i : inputs) {
        const fs::path path = fs::path(i).is_absolute() ? fs::path(i) : p.root / i;
        std::error_code ec;
        if (!fs::exists(path, ec)) {
            throw error::UsageError(fmt::format("input '{}' does not exist", i));
        }
        if (std::any_of(files.begin(), files.end(),
                        [&](const InputFile& f) { return f.path == path; })) {
            continue;
        }
        files.push_back({i, "code", path, i, false, fs::is_directory(path, ec), {}});
    }
    std::vector<fs::path> paths;
    for (const auto& f : files) {
        paths.push_back(f.path);
    }
    const auto digests = hash_paths(s, paths);
    for (size_t i = 0; i < files.size(); ++i) {
        files[i].digest = digests[i];
    }
    return files;
}

std::string Variables::expand(const config::Text& t, const std::string& where) const {
    auto pieces = config::split_variables(t.value);
    const std::string file = project ? project->display_file : std::string("mloop.yaml");
    auto located = [&](const std::string& msg) {
        return t.mark.line > 0 ? fmt::format("{}:{}:{}: {}", file, t.mark.line, t.mark.column, msg)
                               : msg;
    };
    if (!pieces) {
        throw error::UsageError(located(fmt::format("'{}': {}", where, pieces.error())));
    }
    std::string out;
    for (const auto& piece : pieces.value()) {
        if (!piece.variable) {
            out += piece.text;
            continue;
        }
        if (util::starts_with(piece.text, "env.")) {
            const char* v = std::getenv(piece.text.c_str() + 4);
            if (v == nullptr) {
                throw error::UsageError(
                    located(fmt::format("'{}': environment variable {} is not set", where,
                                        piece.text.substr(4))),
                    fmt::format("export {}=… before running mloop", piece.text.substr(4)));
            }
            out += v;
            continue;
        }
        auto it = values.find(piece.text);
        if (it == values.end()) {
            throw error::UsageError(
                located(fmt::format("'${{{}}}' has no value in '{}'", piece.text, where)));
        }
        out += it->second;
    }
    return out;
}

std::vector<std::string> Variables::expand_all(const config::Command& c,
                                               const std::string& where) const {
    std::vector<std::string> out;
    for (const auto& t : c) {
        out.push_back(expand(t, where));
    }
    return out;
}

Variables run_variables(const Session& s, const std::vector<registry::Param>& params, int64_t run,
                        const fs::path& run_dir, const std::optional<std::string>& commit) {
    Variables v;
    v.project = &s.project;
    v.values["project"] = s.project.name;
    v.values["git.commit"] = commit.value_or("");
    v.values["run.id"] = std::to_string(run);
    v.values["run.dir"] = run_dir.string();
    v.values["model.name"] = s.project.model.name;
    for (const auto& p : params) {
        v.values["params." + p.name] = p.value;
    }
    Variables base;
    base.project = &s.project;
    base.values["project"] = s.project.name;
    for (const auto& d : s.project.data) {
        v.values["data." + d.name] = base.expand(d.path, "data." + d.name);
    }
    return v;
}

fs::path inside(const fs::path& dir, const std::string& rel, const std::string& what) {
    const fs::path p(rel);
    if (rel.empty() || p.is_absolute()) {
        throw error::UsageError(
            fmt::format("{} '{}' must be a path inside the run directory", what, rel));
    }
    for (const auto& part : p.lexically_normal()) {
        if (part == "..") {
            throw error::UsageError(fmt::format("{} '{}' leaves the run directory", what, rel));
        }
    }
    const fs::path full = dir / p;
    if (!util::resolves_beneath(dir, full)) {
        throw error::UsageError(
            fmt::format("{} '{}' leads outside the run directory (through a symlink)", what, rel));
    }
    return full;
}

std::vector<std::pair<std::string, std::optional<std::string>>> run_environment(
    const Session& s, const Variables& vars, const std::vector<registry::Param>& params) {
    std::vector<std::pair<std::string, std::optional<std::string>>> env;
    if (s.project.train) {
        for (const auto& [name, value] : s.project.train->env) {
            env.emplace_back(name, vars.expand(value, "train.env." + name));
        }
    }
    for (const auto& p : params) {
        env.emplace_back(param_env_name(p.name), p.value);
    }
    env.emplace_back("MLOOP_RUN_ID", vars.values.at("run.id"));
    env.emplace_back("MLOOP_RUN_DIR", vars.values.at("run.dir"));
    env.emplace_back("MLOOP_PROJECT", s.project.name);
    return env;
}

process::Result run_process(
    Session& s, const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& env,
    const fs::path& log_dir, const std::string& log_prefix, bool echo) {
    process::Command cmd;
    cmd.program = argv.front();
    cmd.args.assign(argv.begin() + 1, argv.end());
    cmd.env = env;
    cmd.cwd = s.project.root;
    if (s.project.train && s.project.train->timeout) {
        cmd.timeout =
            std::chrono::duration_cast<std::chrono::milliseconds>(*s.project.train->timeout);
    }
    process::RunOptions o;
    o.secrets = s.secrets;
    o.out.terminal = echo;
    o.err.terminal = echo;
    o.out.log = log_dir / (log_prefix + "stdout.log");
    o.err.log = log_dir / (log_prefix + "stderr.log");
    return s.runner->run(cmd, o);
}

std::vector<registry::Metric> read_metrics(const fs::path& file) {
    const std::string shown = util::display_path(file);
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        throw error::ExternalError(
            fmt::format("the training command wrote no metrics file '{}'", shown),
            "write a flat JSON object of numbers there, or set train.metrics");
    }
    auto text = util::read_file(file, 64 << 20);
    if (!text) {
        throw error::ExternalError(text.error());
    }
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.value());
    } catch (const nlohmann::json::parse_error& e) {
        throw error::ExternalError(
            fmt::format("metrics file '{}' is not valid JSON: {}", shown, e.what()));
    }
    if (!j.is_object()) {
        throw error::ExternalError(
            fmt::format("metrics file '{}' must hold a JSON object of "
                        "numbers, not {}",
                        shown, j.type_name()));
    }
    std::vector<registry::Metric> out;
    for (const auto& [k, v] : j.items()) {
        if (!v.is_number() || !std::isfinite(v.get<double>())) {
            throw error::ExternalError(
                fmt::format("metrics file '{}': '{}' is not a finite number "
                            "but {}",
                            shown, k, v.dump()));
        }
        out.push_back({k, v.get<double>()});
    }
    std::sort(out.begin(), out.end(),
              [](const registry::Metric& a, const registry::Metric& b) { return a.name < b.name; });
    return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// One run

namespace {

struct Recording {
    Session& s;
    int64_t run = 0;
    bool finished = false;

    void finish(registry::RunEnd end, const std::function<void()>& also = {}) {
        s.db().write([&] {
            registry::Runs(s.db()).finish(run, end);
            if (also) {
                also();
            }
        });
        finished = true;
    }
    // Whatever goes wrong after the run began, it is recorded as failed rather than left
    // 'running' for the crash detector.
    ~Recording() {
        if (run != 0 && !finished) {
            try {
                registry::RunEnd end;
                end.state = "failed";
                s.db().write([&] { registry::Runs(s.db()).finish(run, end); });
            } catch (...) {
                spdlog::warn("run {}: could not record its failure", run);
            }
        }
    }
};

std::string describe_argv(const std::vector<std::string>& argv) {
    process::Command c;
    c.program = argv.empty() ? "" : argv.front();
    if (!argv.empty()) {
        c.args.assign(argv.begin() + 1, argv.end());
    }
    return process::describe(c);
}

}  // namespace

Outcome run_training(Session& s, const Options& o) {
    const auto& p = s.project;
    if (!p.train) {
        throw error::UsageError(fmt::format("{} has no 'train' section", p.display_file),
                                "add train.command (see 'mloop help mloop.yaml')");
    }
    if (o.stage && p.train->stages.empty()) {
        throw error::UsageError("--stage needs train.stages; this project has a single command");
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto params = resolve_params(p, o.params);
    spdlog::debug("train: params resolved after {} ms", since(t0).count());
    s.reporter->note("hashing inputs");
    auto inputs = hash_inputs(s);
    spdlog::debug("train: inputs hashed after {} ms", since(t0).count());

    // Datasets are stored before the run is recorded: a row that names a stored file is only
    // written once its bytes are in the store.
    std::map<std::string, std::string> snapshots;
    for (const auto& f : inputs) {
        if (f.kind == "dataset" && f.snapshot) {
            snapshots[f.name] = snapshot(s, f.path, f.digest, f.is_tree).str();
        }
    }
    const git::State& git = s.git.get();
    registry::RunStart start;
    start.kind = o.kind;
    start.parent_id = o.parent;
    start.params = params;
    start.message = o.message;
    start.triggered_by = o.triggered_by;
    start.git.commit = git.commit;
    start.git.branch = git.branch;
    start.git.dirty = git.dirty;
    start.git.diff_digest = git.diff_digest;
    if (!p.train->stages.empty()) {
        nlohmann::json stages = nlohmann::json::array();
        for (const auto& st : p.train->stages) {
            std::vector<std::string> argv;
            for (const auto& a : st.command) {
                argv.push_back(a.value);
            }
            stages.push_back({{"stage", st.name.value}, {"command", argv}});
        }
        start.command = process::mask(stages.dump(), s.secrets);
    } else {
        std::vector<std::string> argv;
        for (const auto& a : p.train->command) {
            argv.push_back(a.value);
        }
        start.command = process::mask(json_array(argv), s.secrets);
    }
    Recording rec{s};
    rec.run = s.db().write([&] {
        registry::Datasets datasets(s.db());
        for (const auto& f : inputs) {
            registry::Input in{f.name, f.kind, f.shown, f.digest.str(), std::nullopt};
            if (f.kind == "dataset") {
                registry::Dataset d;
                d.digest = f.digest.str();
                d.path = f.shown;
                std::error_code ec;
                d.size = f.is_tree ? 0 : static_cast<int64_t>(fs::file_size(f.path, ec));
                d.kind = f.is_tree ? "tree" : "file";
                if (auto it = snapshots.find(f.name); it != snapshots.end()) {
                    d.snapshot = it->second;
                }
                in.dataset_id = datasets.upsert(d);
            }
            start.inputs.push_back(std::move(in));
        }
        return registry::Runs(s.db()).begin(start);
    });

    Outcome out;
    out.run = rec.run;
    out.run_dir = s.paths.runs / std::to_string(rec.run);
    workspace::make_private_dir(out.run_dir);
    const fs::path run_dir = fs::absolute(out.run_dir);
    {
        nlohmann::ordered_json pj = nlohmann::ordered_json::object();
        for (const auto& param : params) {
            if (param.type == "integer") {
                pj[param.name] = std::stoll(param.value);
            } else if (param.type == "number") {
                pj[param.name] = std::stod(param.value);
            } else if (param.type == "boolean") {
                pj[param.name] = param.value == "true";
            } else {
                pj[param.name] = param.value;
            }
        }
        std::ofstream(run_dir / "params.json") << pj.dump(2) << "\n";
    }
    const Variables vars = run_variables(s, params, rec.run, run_dir, git.commit);
    spdlog::debug("train: run {} recorded after {} ms", rec.run, since(t0).count());
    s.reporter->note(fmt::format("run {} started", rec.run));

    registry::RunEnd end;
    if (!p.train->stages.empty()) {
        const bool ok = run_stages(s, o, rec.run, vars, params, run_dir, out);
        if (out.interrupted_by) {
            end.state = "interrupted";
            end.wall_ms = since(t0).count();
            rec.finish(end);
            out.state = "interrupted";
            throw error::Interrupted(*out.interrupted_by);
        }
        if (!ok) {
            end.state = "failed";
            end.exit_code = out.exit_code;
            end.wall_ms = since(t0).count();
            end.cpu_ms = out.cpu.count();
            end.max_rss_kb = out.max_rss_kb;
            rec.finish(end);
            out.state = "failed";
            return out;
        }
    } else {
        const auto argv = vars.expand_all(p.train->command, "train.command");
        s.reporter->note(fmt::format("$ {}", process::mask(describe_argv(argv), s.secrets)));
        const process::Result r =
            run_process(s, argv, run_environment(s, vars, params), run_dir, "", o.echo);
        spdlog::debug("train: command ended after {} ms", since(t0).count());
        out.wall = r.wall;
        out.cpu = r.cpu;
        out.max_rss_kb = r.max_rss_kb;
        out.exit_code = r.exit_code;
        end.exit_code = r.exit_code;
        end.signal = r.signal;
        end.wall_ms = r.wall.count();
        end.cpu_ms = r.cpu.count();
        end.max_rss_kb = r.max_rss_kb;
        if (r.interrupted_by) {
            end.state = "interrupted";
            rec.finish(end);
            out.state = "interrupted";
            out.interrupted_by = r.interrupted_by;
            throw error::Interrupted(*r.interrupted_by);
        }
        if (!r.ok()) {
            end.state = "failed";
            rec.finish(end);
            out.state = "failed";
            out.reason = fmt::format("the training command {}", r.describe());
            return out;
        }
    }

    // What the command wrote: metrics, then artifacts into the store.
    try {
        end.metrics = read_metrics(inside(run_dir, p.train->metrics.value, "train.metrics"));
        for (const auto& a : p.train->artifacts) {
            const fs::path file = inside(run_dir, a.value, "artifact");
            std::error_code ec;
            if (!fs::exists(file, ec)) {
                throw error::ExternalError(
                    fmt::format("the training command wrote no artifact "
                                "'{}' in {}",
                                a.value, util::display_path(out.run_dir)));
            }
            const bool tree = fs::is_directory(file, ec);
            const auto digest = tree ? s.objects->put_tree(file) : s.objects->put_file(file);
            const int64_t size = tree ? 0 : static_cast<int64_t>(fs::file_size(file, ec));
            end.artifacts.push_back({a.value, digest.str(), size});
            s.db().write([&] {
                registry::Objects(s.db()).record(digest.str(), size, tree ? "tree" : "file");
            });
        }
    } catch (const error::Error& e) {
        end.state = "failed";
        rec.finish(end);
        out.state = "failed";
        out.reason = e.what();
        if (!e.hint().empty()) {
            out.reason += fmt::format(" ({})", e.hint());
        }
        return out;
    }

    // A dataset that changed while the command ran makes the run's record untrustworthy: it
    // is kept, marked, and does not become a model version.
    {
        std::vector<fs::path> datasets;
        std::vector<const InputFile*> which;
        for (const auto& f : inputs) {
            if (f.kind == "dataset") {
                datasets.push_back(f.path);
                which.push_back(&f);
            }
        }
        const auto now = hash_paths(s, datasets);
        for (size_t i = 0; i < now.size(); ++i) {
            if (now[i] != which[i]->digest) {
                out.changed_inputs.push_back(which[i]->name);
            }
        }
    }
    spdlog::debug("train: outputs stored and inputs re-hashed after {} ms", since(t0).count());
    end.state = out.changed_inputs.empty() ? "succeeded" : "inputs-changed";
    out.state = end.state;
    out.metrics = end.metrics;
    out.artifacts = end.artifacts;
    std::optional<int64_t> version;
    rec.finish(end, [&] {
        if (end.state == "succeeded" && !end.artifacts.empty()) {
            version = registry::Models(s.db()).register_version(p.model.name, rec.run);
        }
    });
    if (version) {
        out.version = registry::VersionRef{p.model.name, *version, std::nullopt};
    }
    if (out.wall.count() == 0) {
        out.wall = since(t0);
    }
    return out;
}

}  // namespace mloop::train
