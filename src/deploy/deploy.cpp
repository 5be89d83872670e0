#include "deploy/deploy.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "deploy/target.hpp"
#include "error/error.hpp"
#include "package/package.hpp"
#include "registry/registry.hpp"
#include "registry/reports.hpp"
#include "registry/validations.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"
#include "workspace/workspace.hpp"

namespace mloop::deploy {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using util::ms_since;

namespace {

const config::Environment& environment(const train::Session& s, const std::string& name) {
    return s.project.require_environment(name);
}

bool is_kubernetes(const config::Environment& env) {
    return env.target == config::Target::kubernetes;
}

config::Strategy strategy_of(const config::Environment& env,
                             std::optional<config::Strategy> strategy) {
    return strategy ? *strategy : env.strategy;
}

// Fault injection for the tests of SPEC §6's resume.
void kill_point(const std::string& step, const char* state) {
    static const char* at = std::getenv("MLOOP_TEST_KILL_AT");
    if (at != nullptr && step + ":" + state == at) {
        ::raise(SIGKILL);
    }
}

// Records the outcome and, on success, moves the alias ENV, in one transaction.
void conclude(train::Session& s, int64_t id, const std::string& env, const std::string& model,
              int64_t version, bool forced, const std::string& state, const std::string& reason) {
    registry::Db& db = s.db();
    db.write([&] {
        registry::Deployments(db).set_state(
            id, state, reason.empty() ? std::nullopt : std::optional<std::string>(reason));
        if (state == "succeeded") {
            registry::Models(db).move_alias(model, env, version, forced,
                                            fmt::format("deploy/{}", id));
        }
        registry::Events(db).append(
            "deployment-" + state, fmt::format("deploy/{}", id),
            nlohmann::json({{"env", env}, {"version", version}, {"reason", reason}}).dump());
    });
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
        throw error::RegistryError(fmt::format("cannot write '{}'", util::display_path(path)));
    }
}

using Files = std::vector<std::pair<std::string, std::string>>;

// What a deployment applies, written into .mloop/manifests/<env>/<id>/.
fs::path write_manifests(train::Session& s, const std::string& env, int64_t id,
                         const Files& files) {
    const fs::path dir = fs::absolute(s.paths.state / "manifests" / env / std::to_string(id));
    for (const auto& [name, text] : files) {
        workspace::make_private_dir((dir / name).parent_path());
        write_file(dir / name, text);
    }
    return dir;
}

void write_rendered(const fs::path& dir, const Files& files) {
    for (const auto& [name, text] : files) {
        std::error_code ec;
        fs::create_directories((dir / name).parent_path(), ec);
        if (ec) {
            throw error::UsageError(fmt::format("cannot create '{}': {}",
                                                util::display_path((dir / name).parent_path()),
                                                ec.message()));
        }
        write_file(dir / name, text);
    }
}

// The row a deployment starts as ('pending'; spec and manifests follow once rendered).
registry::Deployment new_deployment(const std::string& env, const std::string& kind,
                                    const std::string& target, const std::string& strategy,
                                    const registry::Image& image,
                                    const std::optional<registry::Deployment>& current,
                                    const std::optional<int64_t>& rollback_to, bool forced) {
    registry::Deployment d;
    d.env = env;
    d.kind = kind;
    d.target = target;
    d.strategy = strategy;
    d.model = image.model;
    d.version = image.version;
    d.image = image.id;
    d.previous = current ? std::optional<int64_t>(current->id) : std::nullopt;
    d.rollback_to = rollback_to;
    d.forced = forced;
    d.spec = "{}";
    return d;
}

// How run_deployment goes about it.
struct Run {
    bool wait = true;
    bool quiet = false;
    bool forced = false;
    std::optional<int64_t> rollback_to;
    config::Strategy strategy = config::Strategy::rolling;
    std::function<void(const std::string&)> progress;
    Clock::time_point started;
};

Result run_kubernetes(train::Session& s, const config::Environment& env, Result r,
                      const registry::Image& image, const Run& run) {
    registry::Db& db = s.db();
    const bool forced = run.forced;
    const auto& rollback_to = run.rollback_to;
    const config::Strategy strategy = run.strategy;
    KubernetesTarget target(s, env, run.progress);
    registry::Deployments deps(db);
    const auto current = deps.current(env.name);
    const registry::Deployment d =
        new_deployment(env.name, r.kind, "kubernetes", config::strategy_name(strategy), image,
                       current, rollback_to, forced);
    r.deployment = db.write([&] { return deps.begin(d); });
    std::string ref = KubernetesTarget::image_reference(image);
    Layout layout = target.plan(r.deployment, strategy, current);
    if (rollback_to) {
        // What the deployment returned to ran, even if the image was pushed since.
        if (const auto to = deps.get(*rollback_to)) {
            const std::string was = KubernetesTarget::recorded_image(*to);
            ref = was.empty() ? ref : was;
            layout = target.plan_rollback(r.deployment, strategy, current, *to);
        }
    }
    const Files files = target.render(r.deployment, image, layout, ref);
    r.rendered = files;
    r.manifests = write_manifests(s, env.name, r.deployment, files);
    r.argv = target.apply_argv(r.manifests);
    nlohmann::json spec{{"image", ref},
                        {"argv", r.argv},
                        {"layout",
                         {{"strategy", layout.strategy},
                          {"serving", layout.serving},
                          {"color", layout.color},
                          {"pods_of", layout.pods_of}}},
                        {"manifests", nlohmann::json::object()}};
    for (const auto& [name, text] : files) {
        spec["manifests"][name] = text;
    }
    db.write([&] { deps.set_spec(r.deployment, spec.dump(), r.manifests.string()); });
    r.previous = d.previous;
    r.url = target.url();
    r.image = image;
    Outcome out;
    try {
        out = target.apply(r.deployment, r.manifests, ref, layout, current, run.wait,
                           rollback_to.has_value(), r.external_ms);
    } catch (const error::ExternalError& e) {
        // kubectl could not be run: the deployment is recorded failed, not left in flight.
        conclude(s, r.deployment, env.name, image.model, image.version, forced, "failed", e.what());
        throw;
    }
    r.state = out.state;
    r.reason = out.reason;
    r.analysis = out.analysis;
    if (out.state != "progressing") {
        conclude(s, r.deployment, env.name, image.model, image.version, forced, out.state,
                 out.reason);
    }
    r.strategy = layout.strategy;
    r.total_ms = ms_since(run.started);
    return r;
}

Result run_deployment(train::Session& s, const config::Environment& env, Result r,
                      const registry::Image& image, const Run& run) {
    if (is_kubernetes(env)) {
        return run_kubernetes(s, env, std::move(r), image, run);
    }
    const bool quiet = run.quiet;
    const bool forced = run.forced;
    const bool wait = run.wait;
    const auto& rollback_to = run.rollback_to;
    r.strategy = "recreate";
    registry::Db& db = s.db();
    DockerTarget target(s, env, quiet);
    registry::Deployments deps(db);
    const auto current = deps.current(env.name);
    const registry::Deployment d =
        new_deployment(env.name, r.kind, "docker", "recreate", image, current, rollback_to, forced);
    r.deployment = db.write([&] { return deps.begin(d); });
    const auto spec = target.spec_for(r.deployment, image);
    const auto spec_json = DockerTarget::spec_json(spec);
    r.manifests =
        write_manifests(s, env.name, r.deployment, {{"docker-run.json", spec_json.dump(2) + "\n"}});
    db.write([&] { deps.set_spec(r.deployment, spec_json.dump(), r.manifests.string()); });
    r.argv = docker::run_args(spec);
    r.argv.insert(r.argv.begin(), "docker");
    r.previous = d.previous;
    r.url = target.url();
    r.image = image;
    Outcome out;
    try {
        out = target.apply(r.deployment, spec, wait, r.external_ms);
    } catch (const error::ExternalError& e) {
        // docker failed mid-way: put back what can be put back and record how it ended, rather
        // than leave the deployment in flight for the next command.
        registry::Deployment row = *deps.get(r.deployment);
        Recovery rec = target.recover(row);
        conclude(s, r.deployment, env.name, image.model, image.version, forced, rec.state,
                 e.what());
        throw;
    }
    r.state = out.state;
    r.reason = out.reason;
    if (out.state != "progressing") {
        conclude(s, r.deployment, env.name, image.model, image.version, forced, out.state,
                 out.reason);
    }
    r.total_ms = ms_since(run.started);
    return r;
}

}  // namespace

int64_t begin_step(registry::Deployments& deps, int64_t id, const std::string& step,
                   const std::string& detail) {
    const int64_t seq = deps.step_begun(id, step, detail);
    kill_point(step, "begun");
    return seq;
}

void end_step(registry::Deployments& deps, int64_t id, int64_t seq, const std::string& step,
              bool ok, const std::string& detail) {
    deps.step_ended(id, seq, ok, detail);
    kill_point(step, "done");
}

// ---------------------------------------------------------------------------------------------
// The environment lock

EnvLock::EnvLock(const fs::path& state_dir, const std::string& env, bool wait) {
    const fs::path dir = state_dir / "locks";
    workspace::make_private_dir(dir);
    const fs::path path = dir / ("deploy-" + env + ".lock");
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        throw error::RegistryError(fmt::format("cannot open '{}': {}", util::display_path(path),
                                               util::errno_message(errno)));
    }
    while (::flock(m_fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) {
            continue;
        }
        ::close(m_fd);
        m_fd = -1;
        return;
    }
}

EnvLock::~EnvLock() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

// ---------------------------------------------------------------------------------------------
// Recovery

namespace {

// recover() for a caller that holds the environment's lock already (deploy, rollback): a
// second flock on the file, through another descriptor, would fail even in this process. Then
// the housekeeping that is due: blue-green's old colour scaled down after scale_down_delay
// (what it did goes into `notes`).
std::vector<Recovery> recover_locked(train::Session& s, const std::string& env_name,
                                     std::vector<std::string>& notes) {
    std::vector<Recovery> out;
    registry::Deployments deps(s.db());
    const config::Environment* env = s.project.environment(env_name);
    if (env != nullptr && is_kubernetes(*env)) {
        if (const auto current = deps.current(env_name);
            current && current->target == "kubernetes") {
            const std::string done = KubernetesTarget(s, *env).scale_down_due(*current);
            if (!done.empty()) {
                notes.push_back(done);
            }
        }
    }
    for (const auto& d : deps.unfinished(env_name)) {
        if (registry::Deployments::owner_alive(d) || env == nullptr) {
            continue;
        }
        Recovery rec;
        if (d.target == "docker" && !is_kubernetes(*env)) {
            rec = DockerTarget(s, *env, true).recover(d);
        } else if (d.target == "kubernetes" && is_kubernetes(*env)) {
            rec = KubernetesTarget(s, *env).recover(d);
            if (rec.action.empty()) {
                continue;  // the cluster did not answer: left for the next command
            }
        } else {
            continue;  // the environment changed target since: nothing mloop can judge
        }
        conclude(s, d.id, env_name, d.model, d.version, d.forced, rec.state, rec.reason);
        out.push_back(rec);
    }
    return out;
}

}  // namespace

std::vector<Recovery> recover(train::Session& s, const std::string& env_name,
                              std::vector<std::string>& notes) {
    registry::Deployments deps(s.db());
    const auto current = deps.current(env_name);
    bool scale_down_pending = false;
    if (current) {
        const auto spec = nlohmann::json::parse(current->spec, nullptr, false);
        scale_down_pending = spec.is_object() && spec.contains("scale_down") &&
                             spec["scale_down"].is_object() &&
                             !spec["scale_down"].value("done", true);
    }
    if (deps.unfinished(env_name).empty() && !scale_down_pending) {
        return {};
    }
    EnvLock lock(s.paths.state, env_name, false);
    if (!lock.held()) {
        return {};  // a live mloop is deploying there
    }
    return recover_locked(s, env_name, notes);
}

// ---------------------------------------------------------------------------------------------
// deploy

Result deploy(train::Session& s, const Options& o) {
    const auto started = Clock::now();
    Result r;
    r.env = o.env;
    const config::Environment& env = environment(s, o.env);
    registry::Db& db = s.db();
    const std::string model = s.project.model.name;
    // Default version: the one aliased ENV, else the newest.
    std::string ref = o.version;
    if (ref.empty()) {
        ref = registry::Models(db).resolve_alias(model, o.env) ? model + "@" + o.env
                                                               : model + "@latest";
    }
    r.version = registry::resolve_version(db, ref, model);
    const registry::VersionRef& v = r.version;
    if (!is_kubernetes(env) && o.strategy && *o.strategy != config::Strategy::rolling) {
        throw error::UsageError(
            fmt::format("--strategy {} needs a kubernetes environment; '{}' "
                        "is a docker one",
                        config::strategy_name(*o.strategy), o.env));
    }
    const config::Strategy strategy = strategy_of(env, o.strategy);
    if (is_kubernetes(env) && o.no_wait && strategy != config::Strategy::rolling) {
        throw error::UsageError(
            fmt::format("--no-wait cannot be used with the {} strategy: mloop drives its steps",
                        config::strategy_name(strategy)),
            "deploy with --strategy rolling to start a rollout and return");
    }

    // Checks: gates, `requires`, the training data's validation.
    r.gates = train::check_gates(s, v, o.echo);
    if (auto why = package::gate_refusal(*r.gates)) {
        r.refusals.push_back(std::move(*why));
    }
    if (env.requires_env) {
        bool ok = false;
        for (const auto& d : registry::Deployments(db).of_version(v.model, v.version)) {
            ok = ok || (d.env == env.requires_env->value && d.state == "succeeded");
        }
        if (!ok) {
            r.refusals.push_back(
                fmt::format("{} has no successful deployment to '{}', which "
                            "'{}' requires",
                            v.text(), env.requires_env->value, o.env));
        }
    }
    // Training data that failed validation refuses the version whether or not it was packaged
    // before the validation ran.
    for (auto& why : package::data_refusals(package::training_data(s, v))) {
        r.refusals.push_back(std::move(why));
    }
    if (!r.refusals.empty()) {
        if (!o.force) {
            r.refused = true;
            r.total_ms = ms_since(started);
            return r;
        }
        r.forced = true;
    }

    if (o.dry_run || !o.render_dir.empty()) {
        // What would run: the image that exists or would be built, and the docker argv.
        auto image = registry::Images(db).latest_for(v.model, v.version);
        registry::Image shown = image ? *image : registry::Image{};
        if (!image) {
            shown.model = v.model;
            shown.version = v.version;
            shown.image_id = package::repository(s.project) + ":v" + std::to_string(v.version);
        }
        r.image = image;
        if (is_kubernetes(env)) {
            KubernetesTarget target(s, env);
            const auto current = registry::Deployments(db).current(o.env);
            const Files files = target.render(0, shown, target.plan(0, strategy, current));
            r.strategy = config::strategy_name(strategy);
            r.url = target.url();
            r.rendered = files;
            if (!o.render_dir.empty()) {
                write_rendered(o.render_dir, files);
                r.manifests = o.render_dir;
                r.argv = target.apply_argv(o.render_dir);
                r.state = "rendered";
            } else {
                r.argv = target.apply_argv(s.paths.state / "manifests" / o.env / "<id>");
                r.state = "dry-run";
            }
            r.total_ms = ms_since(started);
            return r;
        }
        DockerTarget target(s, env, true);
        const auto spec = target.spec_for(0, shown);
        r.argv = docker::run_args(spec);
        r.argv.insert(r.argv.begin(), "docker");
        r.url = target.url();
        r.image = image;
        if (!o.render_dir.empty()) {
            std::error_code ec;
            fs::create_directories(o.render_dir, ec);
            if (ec) {
                throw error::UsageError(fmt::format(
                    "cannot create '{}': {}", util::display_path(o.render_dir), ec.message()));
            }
            write_file(o.render_dir / "docker-run.json",
                       DockerTarget::spec_json(spec).dump(2) + "\n");
            r.manifests = o.render_dir;
            r.state = "rendered";
        } else {
            r.state = "dry-run";
        }
        r.total_ms = ms_since(started);
        return r;
    }

    EnvLock lock(s.paths.state, o.env, true);
    r.recovered = recover_locked(s, o.env, r.notes);
    const registry::Image image = package::ensure_packaged(s, v, o.quiet, o.force);
    Run run;
    run.wait = !o.no_wait;
    run.quiet = o.quiet;
    run.forced = r.forced;
    run.strategy = strategy;
    run.progress = o.progress;
    run.started = started;
    return run_deployment(s, env, std::move(r), image, run);
}

// ---------------------------------------------------------------------------------------------
// rollback

Result rollback(train::Session& s, const RollbackOptions& o) {
    const auto started = Clock::now();
    Result r;
    r.env = o.env;
    r.kind = "rollback";
    const config::Environment& env = environment(s, o.env);
    registry::Db& db = s.db();
    registry::Deployments deps(db);

    std::optional<EnvLock> lock;
    if (!o.dry_run) {
        lock.emplace(s.paths.state, o.env, true);
        r.recovered = recover_locked(s, o.env, r.notes);
    }
    const auto current = deps.current(o.env);
    std::optional<registry::Deployment> target;
    std::optional<registry::Image> image;
    if (o.to.empty()) {
        if (!current) {
            throw error::UsageError(
                fmt::format("nothing to roll back: '{}' has no successful "
                            "deployment",
                            o.env));
        }
        // The newest good deployment before the current one that the environment has not
        // already been rolled back away from, running another image.
        // Images the environment was rolled back away from: never the way back again.
        std::set<int64_t> left;
        for (const auto& d : deps.list(o.env, 1000)) {
            if (d.kind == "rollback" && d.previous && d.state == "succeeded") {
                if (const auto from = deps.get(*d.previous)) {
                    left.insert(from->image);
                }
            }
        }
        for (int64_t before = current->id;;) {
            auto c = deps.succeeded_before(o.env, before);
            if (!c) {
                break;
            }
            if (!left.count(c->image) && c->image != current->image) {
                target = c;
                break;
            }
            before = c->id;
        }
        if (!target) {
            throw error::UsageError(
                fmt::format("nothing to roll back to: '{}' has no earlier successful deployment "
                            "of another image",
                            o.env),
                "name one with --to deploy/N or --to MODEL@VER");
        }
    } else if (util::starts_with(o.to, "deploy/")) {
        const std::string num = o.to.substr(7);
        int64_t id = 0;
        if (num.empty() || num.size() > 18 ||
            num.find_first_not_of("0123456789") != std::string::npos) {
            throw error::UsageError(fmt::format("'{}' is not a deployment reference", o.to));
        }
        id = std::stoll(num);
        target = deps.get(id);
        if (!target || target->env != o.env) {
            throw error::UsageError(fmt::format("no deployment {} in '{}'", o.to, o.env));
        }
        if (target->state != "succeeded") {
            throw error::UsageError(
                fmt::format("{} did not succeed ({}); roll back to one that "
                            "did",
                            o.to, target->state));
        }
    } else {
        const auto v = registry::resolve_version(db, o.to, s.project.model.name);
        image = registry::Images(db).latest_for(v.model, v.version);
        if (!image) {
            throw error::UsageError(fmt::format("{} has never been packaged", v.text()),
                                    "deploy it with 'mloop deploy'");
        }
    }
    if (target) {
        image = registry::Images(db).get(target->image);
        r.rollback_to = target->id;
    }
    r.version = {image->model, image->version, std::nullopt};
    if (o.dry_run && is_kubernetes(env)) {
        KubernetesTarget t(s, env);
        const auto to = target ? deps.get(target->id) : std::nullopt;
        r.rendered = t.render(
            0, *image,
            to ? t.plan_rollback(0, env.strategy, current, *to) : t.plan(0, env.strategy, current));
        r.argv = t.apply_argv(s.paths.state / "manifests" / o.env / "<id>");
        r.image = image;
        r.previous = current ? std::optional<int64_t>(current->id) : std::nullopt;
        r.state = "dry-run";
        r.total_ms = ms_since(started);
        return r;
    }
    if (o.dry_run) {
        DockerTarget t(s, env, true);
        r.argv = docker::run_args(t.spec_for(0, *image));
        r.argv.insert(r.argv.begin(), "docker");
        r.image = image;
        r.previous = current ? std::optional<int64_t>(current->id) : std::nullopt;
        r.state = "dry-run";
        r.total_ms = ms_since(started);
        return r;
    }
    docker::Client docker(*s.runner, s.secrets);
    // A cluster pulls the image from its registry: only the docker target needs it locally.
    if (!is_kubernetes(env) && !docker::inspect_image(docker, image->image_id)) {
        throw error::ExternalError(fmt::format("docker no longer has image {} ({})",
                                               image->reference(), image->image_id.substr(0, 19)),
                                   "package the version again with 'mloop package'");
    }
    Run run;
    run.quiet = o.quiet;
    run.rollback_to = r.rollback_to;
    run.strategy = env.strategy;
    run.progress = o.progress;
    run.started = started;
    return run_deployment(s, env, std::move(r), *image, run);
}

// ---------------------------------------------------------------------------------------------
// status

std::vector<EnvStatus> status(train::Session& s, const std::string& env_name, bool probe_live) {
    std::vector<std::string> names;
    registry::Deployments deps(s.db());
    if (!env_name.empty()) {
        if (s.project.environment(env_name) == nullptr && deps.list(env_name, 1).empty()) {
            environment(s, env_name);  // throws, naming the environments
        }
        names.push_back(env_name);
    } else {
        if (s.project.deploy) {
            for (const auto& e : s.project.deploy->environments) {
                names.push_back(e.name);
            }
        }
        for (const auto& e : deps.environments()) {
            if (std::find(names.begin(), names.end(), e) == names.end()) {
                names.push_back(e);
            }
        }
    }
    std::vector<EnvStatus> out;
    for (const auto& name : names) {
        EnvStatus st;
        st.env = name;
        const config::Environment* env = s.project.environment(name);
        st.target =
            env ? (env->target == config::Target::docker ? "docker" : "kubernetes") : "unknown";
        st.strategy =
            env ? (env->target == config::Target::docker ? "recreate"
                                                         : config::strategy_name(env->strategy))
                : "—";
        if (probe_live && env) {
            st.recovered = recover(s, name, st.notes);
        }
        st.current = deps.current(name);
        if (st.current && st.current->target == "kubernetes") {
            st.strategy = st.current->strategy;  // what it was deployed with (--strategy)
        }
        if (st.current) {
            st.image = registry::Images(s.db()).get(st.current->image);
        }
        for (const auto& d : deps.unfinished(name)) {
            st.in_flight = d;
        }
        if (const auto rep = registry::Reports(s.db()).latest(name)) {
            st.monitor = fmt::format("monitor/{}: {}", rep->id,
                                     rep->alerts.empty() ? std::string("ok")
                                     : rep->dataset_drift
                                         ? fmt::format("drift {}/{}", rep->drifted, rep->columns)
                                         : std::string("alert"));
        }
        if (!probe_live || env == nullptr) {
            st.live = "—";
            st.health = "—";
        } else if (env->target == config::Target::docker) {
            DockerTarget(s, *env, true).describe_live(st);
        } else {
            KubernetesTarget(s, *env).describe_live(st);
        }
        out.push_back(std::move(st));
    }
    return out;
}

}  // namespace mloop::deploy
