// The kubernetes target: rendering, the rolling strategy, waiting for a rollout, undo, recovery
// and status (canary and blue-green: kubernetes_strategies.cpp). `kubectl apply --server-side`
// of the manifests, then polling the Deployment and the new pods until the rollout is complete
// or has clearly failed. The pod template carries io.mloop/deployment=<id>, so the pods of this
// deployment are told from the previous one's, and a live Deployment says which deployment
// made it. An API server that does not answer for a while is not a failure by itself: the
// rollout goes on in the cluster, and only the health timeout ends the wait.
#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "config/variables.hpp"
#include "deploy/target.hpp"
#include "error/error.hpp"
#include "package/package.hpp"
#include "registry/registry.hpp"
#include "render/template.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace mloop::deploy {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using util::ms_since;

namespace {

std::string label_of(const std::map<std::string, std::string>& labels, const std::string& key) {
    const auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
}

bool has_image(const std::vector<std::string>& images, const std::string& image) {
    return std::find(images.begin(), images.end(), image) != images.end();
}

// Failures kubectl reports when the API server cannot be reached, as opposed to a refusal.
bool unreachable(const process::Result& r) {
    const std::string& e = r.err;
    return r.timed_out || e.find("connection refused") != std::string::npos ||
           e.find("Unable to connect") != std::string::npos ||
           e.find("was refused") != std::string::npos ||
           e.find("i/o timeout") != std::string::npos ||
           e.find("Client.Timeout") != std::string::npos ||
           e.find("connection reset") != std::string::npos || e.find("EOF") != std::string::npos;
}

}  // namespace

KubernetesTarget::KubernetesTarget(train::Session& s, const config::Environment& env,
                                   Progress progress)
    : m_s(s), m_env(env), m_kubectl(*s.runner, s.secrets), m_progress(std::move(progress)) {}

void KubernetesTarget::say(const std::string& line) const {
    if (m_progress) {
        m_progress(line);
    }
}

std::string KubernetesTarget::name() const {
    return fmt::format("{}-{}", m_s.project.name, m_env.name);
}

std::string KubernetesTarget::url() const {
    return fmt::format("http://{}.{}.svc:{}", name(), m_env.namespace_name,
                       m_s.project.package ? m_s.project.package->port : 8080);
}

std::string KubernetesTarget::preview_url() const {
    return fmt::format("http://{}-preview.{}.svc:{}", name(), m_env.namespace_name,
                       m_s.project.package ? m_s.project.package->port : 8080);
}

Layout KubernetesTarget::layout_of(const registry::Deployment& d) const {
    Layout l;
    l.serving = name();
    l.pods_of = d.id;
    const auto j = nlohmann::json::parse(d.spec, nullptr, false);
    if (!j.is_object() || !j.contains("layout") || !j["layout"].is_object()) {
        return l;
    }
    const auto& o = j["layout"];
    l.strategy = o.value("strategy", l.strategy);
    l.serving = o.value("serving", l.serving);
    l.color = o.value("color", l.color);
    l.pods_of = o.value("pods_of", l.pods_of);
    return l;
}

Layout KubernetesTarget::plan(int64_t id, config::Strategy strategy,
                              const std::optional<registry::Deployment>& current) const {
    Layout l;
    l.strategy = config::strategy_name(strategy);
    l.serving = name();
    l.pods_of = id;
    if (strategy == config::Strategy::bluegreen) {
        // The colour the current deployment does not serve; blue to begin with.
        const bool blue_serves =
            current && current->target == "kubernetes" && layout_of(*current).color == "blue";
        l.color = blue_serves ? "green" : "blue";
        l.serving = name() + "-" + l.color;
    }
    return l;
}

k8s::Scope KubernetesTarget::scope() const {
    return {m_env.context ? m_env.context->value : std::string(), m_env.namespace_name};
}

std::string KubernetesTarget::recorded_image(const registry::Deployment& d) {
    const auto j = nlohmann::json::parse(d.spec, nullptr, false);
    if (j.is_object() && j.contains("image") && j["image"].is_string()) {
        return j["image"].get<std::string>();
    }
    return "";
}

std::string KubernetesTarget::image_reference(const registry::Image& image) {
    return image.repo_digest ? *image.repo_digest : image.reference();
}

Layout KubernetesTarget::plan_rollback(int64_t id, config::Strategy strategy,
                                       const std::optional<registry::Deployment>& current,
                                       const registry::Deployment& to) {
    const Layout planned = plan(id, strategy, current);
    const Layout was = layout_of(to);
    if (planned.strategy != "bluegreen" || was.strategy != "bluegreen" || !current ||
        layout_of(*current).serving == was.serving) {
        return planned;
    }
    try {
        const auto live = k8s::get_deployment(m_kubectl, scope(), was.serving);
        if (live &&
            label_of(live->template_labels, k_deployment_label) == std::to_string(was.pods_of) &&
            has_image(live->images, recorded_image(to))) {
            return was;  // its pods are still there: switch back to them
        }
    } catch (const error::ExternalError&) {
        // cannot tell: a fresh rollout to the idle colour is right either way
    }
    return planned;
}

std::vector<std::pair<std::string, std::string>> KubernetesTarget::render(
    int64_t deployment, const registry::Image& image, const Layout& layout,
    const std::string& reference) const {
    const config::Project& p = m_s.project;
    const int64_t pods_of = layout.pods_of != 0 ? layout.pods_of : deployment;
    const auto base = [&] {
        render::TemplateData data;
        data.set("namespace", m_env.namespace_name);
        data.set("project", p.name);
        data.set("env", m_env.name);
        data.set("model", image.model);
        data.set("version", std::to_string(image.version));
        data.set("deployment", std::to_string(pods_of));
        data.set("image", reference.empty() ? image_reference(image) : reference);
        data.set("port", std::to_string(p.package ? p.package->port : 8080));
        data.set("replicas", std::to_string(m_env.replicas));
        data.set("cpu", p.deploy ? p.deploy->cpu : std::string("500m"));
        data.set("memory", p.deploy ? p.deploy->memory : std::string("512Mi"));
        data.set("health_path", p.deploy ? p.deploy->health_path : std::string("/healthz"));
        const auto timeout = p.deploy ? p.deploy->health_timeout : config::Seconds{120};
        data.set("progress_deadline",
                 std::to_string(std::max<int64_t>(
                     1, std::chrono::duration_cast<std::chrono::seconds>(timeout).count())));
        data.set("selector", render::template_list());
        return data;
    };
    const auto with_label = [](render::TemplateData data, const std::string& key,
                               const std::string& value) {
        render::TemplateData item;
        item.set("key", key);
        item.set("value", value);
        render::TemplateData list = render::template_list();
        list.push_back(item);
        data.set("selector", list);
        return data;
    };
    const auto rendered = [&](const std::string& tmpl, render::TemplateData data,
                              const std::string& object) {
        data.set("name", object);
        return render::render_template(tmpl, package::template_text(p, tmpl), data);
    };
    std::vector<std::pair<std::string, std::string>> out;
    // kubectl applies a directory's files in name order: the Deployment, then its Service.
    if (layout.strategy == "bluegreen") {
        auto data = with_label(base(), k_color_label, layout.color);
        out.emplace_back("deployment.yaml", rendered("k8s/deployment.yaml", data, layout.serving));
        out.emplace_back("preview.yaml", rendered("k8s/service.yaml", data, name() + "-preview"));
        out.emplace_back("service.yaml", rendered("k8s/service.yaml", data, name()));
        return out;
    }
    out.emplace_back("deployment.yaml", rendered("k8s/deployment.yaml", base(), name()));
    out.emplace_back("service.yaml", rendered("k8s/service.yaml", base(), name()));
    if (layout.strategy == "canary") {
        auto data = with_label(base(), k_track_label, "canary");
        data.set("replicas", std::to_string(canary_split(m_env, m_env.canary_steps.front()).first));
        out.emplace_back("canary/deployment.yaml",
                         rendered("k8s/deployment.yaml", data, name() + "-canary"));
    }
    return out;
}

std::vector<std::string> KubernetesTarget::apply_argv(const fs::path& dir) const {
    auto a = k8s::apply_args(scope(), dir.string());
    a.insert(a.begin(), m_kubectl.program());
    return a;
}

process::Result KubernetesTarget::apply_paths(const std::vector<std::string>& paths,
                                              int64_t& external_ms) {
    const auto started = Clock::now();
    const auto deadline = started + m_s.project.deploy->health_timeout;
    process::Result r;
    // An API server that is away is waited for, within the health timeout; a refusal is final.
    for (;;) {
        r = m_kubectl.try_run(k8s::apply_args(scope(), paths));
        if (r.ok() || !unreachable(r) || Clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    external_ms += ms_since(started);
    return r;
}

bool KubernetesTarget::scale(const std::string& deployment, int replicas, int64_t& external_ms) {
    const auto started = Clock::now();
    const auto deadline = started + m_s.project.deploy->health_timeout;
    for (;;) {
        try {
            const bool found = k8s::scale(m_kubectl, scope(), deployment, replicas);
            external_ms += ms_since(started);
            return found;
        } catch (const error::ExternalError&) {
            if (Clock::now() >= deadline) {
                external_ms += ms_since(started);
                throw;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

std::string KubernetesTarget::wait_rollout(const std::string& deployment, int64_t pods_of,
                                           const std::string& image, const std::string& extra,
                                           int64_t& external_ms) {
    const auto started = Clock::now();
    const auto timeout = m_s.project.deploy->health_timeout;
    const auto deadline = started + timeout;
    const std::string selector =
        fmt::format("app={},env={},{}={}{}{}", m_s.project.name, m_env.name, k_deployment_label,
                    pods_of, extra.empty() ? "" : ",", extra);
    std::string last = "no answer yet";
    auto fail = [&](std::string why) {
        external_ms += ms_since(started);
        return why;
    };
    for (;;) {
        try {
            const auto d = k8s::get_deployment(m_kubectl, scope(), deployment);
            if (!d) {
                last = fmt::format("deployment {} does not exist", deployment);
            } else {
                const auto pods = k8s::get_pods(m_kubectl, scope(), selector);
                for (const auto& p : pods) {
                    const std::string& w = p.waiting_reason;
                    // ErrImagePull alone may be a registry's hiccup: the kubelet retries, and
                    // only the back-off says the image will not come.
                    if (w == "ImagePullBackOff" || w == "CrashLoopBackOff" ||
                        w == "InvalidImageName" || w == "CreateContainerConfigError") {
                        return fail(fmt::format("pod {}: {}{}{}", p.name, w,
                                                p.waiting_message.empty() ? "" : ": ",
                                                p.waiting_message));
                    }
                    if (p.restarts > m_env.max_restarts) {
                        return fail(fmt::format("pod {} restarted {} times (max_restarts: {})",
                                                p.name, p.restarts, m_env.max_restarts));
                    }
                }
                const bool observed = d->observed_generation >= d->generation;
                const auto* progressing = d->condition("Progressing");
                if (observed && progressing != nullptr && progressing->status == "False" &&
                    progressing->reason == "ProgressDeadlineExceeded") {
                    return fail(fmt::format("deployment {}: ProgressDeadlineExceeded{}{}",
                                            deployment, progressing->message.empty() ? "" : ": ",
                                            progressing->message));
                }
                const bool ours =
                    label_of(d->template_labels, k_deployment_label) == std::to_string(pods_of) &&
                    has_image(d->images, image);
                if (!ours) {
                    return fail(
                        fmt::format("deployment {} was changed by someone else: its pods "
                                    "are now deploy/{}'s",
                                    deployment, label_of(d->template_labels, k_deployment_label)));
                }
                int ready = 0;
                for (const auto& p : pods) {
                    ready += p.ready && has_image(p.images, image) ? 1 : 0;
                }
                const int want = d->spec_replicas;
                if (observed && d->updated == want && d->available == want && d->replicas == want &&
                    ready >= want) {
                    external_ms += ms_since(started);
                    return "";
                }
                last = fmt::format("{} of {} new pods available, {} pods in all", d->available,
                                   want, d->replicas);
            }
        } catch (const error::ExternalError& e) {
            last = e.what();  // the API server away for a moment: the rollout goes on
        }
        if (Clock::now() >= deadline) {
            return fail(fmt::format("deployment {} did not become available within {}: {}",
                                    deployment, config::format_duration(timeout), last));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
}

std::string KubernetesTarget::wait_layout(const Layout& layout, const std::string& image,
                                          int64_t& external_ms) {
    const std::string extra = layout.strategy == "bluegreen"
                                  ? fmt::format("{}={}", k_color_label, layout.color)
                                  : fmt::format("!{}", k_track_label);
    return wait_rollout(layout.serving, layout.pods_of, image, extra, external_ms);
}

bool KubernetesTarget::restore(const std::optional<registry::Deployment>& previous,
                               int64_t& external_ms) {
    if (!previous || previous->target != "kubernetes" || previous->manifests.empty()) {
        return false;
    }
    const fs::path dir = previous->manifests;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return false;
    }
    const auto r = apply_paths({dir.string()}, external_ms);
    if (r.ok()) {
        wait_layout(layout_of(*previous), recorded_image(*previous), external_ms);  // best effort
    }
    return true;
}

bool KubernetesTarget::undo(int64_t id, const Layout& layout,
                            const std::optional<registry::Deployment>& previous,
                            int64_t& external_ms) {
    // What this deployment started and nothing else serves: the canary, or the new colour
    // (only while its pods are this deployment's: a colour serving another is left alone).
    try {
        if (layout.strategy == "canary") {
            scale(name() + "-canary", 0, external_ms);
        } else if (layout.strategy == "bluegreen") {
            const auto live = k8s::get_deployment(m_kubectl, scope(), layout.serving);
            if (live &&
                label_of(live->template_labels, k_deployment_label) ==
                    std::to_string(layout.pods_of) &&
                layout.pods_of == id) {
                scale(layout.serving, 0, external_ms);
            }
        }
    } catch (const error::ExternalError& e) {
        say(fmt::format("could not scale down what deploy/{} started: {}", id, e.what()));
    }
    return restore(previous, external_ms);
}

Outcome KubernetesTarget::abandon(int64_t id, int64_t seq, const std::string& step,
                                  const std::string& why, const Layout& layout,
                                  const std::optional<registry::Deployment>& previous, Outcome out,
                                  int64_t& external_ms) {
    registry::Deployments deps(m_s.db());
    end_step(deps, id, seq, step, false, why);
    const int64_t undo_seq =
        begin_step(deps, id, "undo", previous ? fmt::format("deploy/{}", previous->id) : "");
    const bool restored = undo(id, layout, previous, external_ms);
    end_step(deps, id, undo_seq, "undo", true);
    out.state = restored ? "rolled-back" : "failed";
    out.reason = why;
    return out;
}

std::pair<int64_t, std::string> KubernetesTarget::apply_step(int64_t id,
                                                             const std::vector<std::string>& paths,
                                                             int64_t& external_ms) {
    registry::Db& db = m_s.db();
    registry::Deployments deps(db);
    auto argv = k8s::apply_args(scope(), paths);
    argv.insert(argv.begin(), m_kubectl.program());
    const int64_t seq = begin_step(deps, id, "apply", nlohmann::json(argv).dump());
    db.write([&] { deps.set_state(id, "progressing"); });
    std::string why = apply_files(paths, external_ms);
    if (why.empty()) {
        end_step(deps, id, seq, "apply", true);
    }
    return {seq, why};
}

std::string KubernetesTarget::apply_files(const std::vector<std::string>& paths,
                                          int64_t& external_ms) {
    const auto r = apply_paths(paths, external_ms);
    return r.ok() ? std::string()
                  : fmt::format("kubectl apply failed ({}): {}", r.describe(),
                                k8s::kubectl_message(r));
}

Outcome KubernetesTarget::apply(int64_t id, const fs::path& dir, const std::string& image,
                                const Layout& layout,
                                const std::optional<registry::Deployment>& previous, bool wait,
                                bool rollback, int64_t& external_ms) {
    if (layout.strategy == "canary") {
        return apply_canary(id, dir, image, layout, previous, rollback, external_ms);
    }
    if (layout.strategy == "bluegreen") {
        return apply_bluegreen(id, dir, image, layout, previous, rollback, external_ms);
    }
    return apply_rolling(id, dir, image, layout, previous, wait, external_ms);
}

Outcome KubernetesTarget::apply_rolling(int64_t id, const fs::path& dir, const std::string& image,
                                        const Layout& layout,
                                        const std::optional<registry::Deployment>& previous,
                                        bool wait, int64_t& external_ms) {
    registry::Deployments deps(m_s.db());

    // 1. Apply.
    auto [seq, why] = apply_step(id, {dir.string()}, external_ms);
    if (!why.empty()) {
        return abandon(id, seq, "apply", why, layout, previous, {}, external_ms);
    }
    if (!wait) {
        return {"progressing", "", {}};
    }

    // 2. The rollout.
    seq = begin_step(deps, id, "rollout", image);
    why = wait_layout(layout, image, external_ms);
    if (!why.empty()) {
        return abandon(id, seq, "rollout", why, layout, previous, {}, external_ms);
    }
    end_step(deps, id, seq, "rollout", true);

    // 3. Finish: the old ReplicaSet stays for kubectl rollout undo; a canary left from a
    // canary deployment before (a rollback of a canary environment) goes.
    seq = begin_step(deps, id, "finish");
    finish(id, layout, previous, external_ms);
    end_step(deps, id, seq, "finish", true);
    return {"succeeded", "", {}};
}

Recovery KubernetesTarget::recover(const registry::Deployment& d) {
    registry::Deployments deps(m_s.db());
    Recovery rec;
    rec.deployment = d.id;
    const auto steps = deps.steps(d.id);
    rec.last_step = steps.empty() ? "none" : steps.back().step + " " + steps.back().state;
    int64_t external_ms = 0;
    const auto current = deps.current(m_env.name);
    if (current && current->id > d.id) {
        // A later deployment succeeded since: the cluster is its, not this one's to undo.
        const int64_t seq = deps.step_begun(d.id, "undo", "recovered");
        deps.step_ended(d.id, seq, true, fmt::format("superseded by deploy/{}", current->id));
        rec.action = "undone";
        rec.state = "failed";
        rec.reason = fmt::format("mloop stopped during step '{}'; deploy/{} replaced it",
                                 rec.last_step, current->id);
        return rec;
    }
    const std::string image = recorded_image(d);
    const Layout layout = layout_of(d);
    std::optional<k8s::DeploymentState> live;
    bool switched = true;
    try {
        live = k8s::get_deployment(m_kubectl, scope(), layout.serving);
        if (layout.strategy == "bluegreen") {
            // Blue-green serves only once the Service has switched to the new colour.
            const auto selector = k8s::get_service_selector(m_kubectl, scope(), name());
            switched = selector && label_of(*selector, k_color_label) == layout.color;
        }
    } catch (const error::ExternalError& e) {
        // The cluster cannot be read: judge nothing now, the next command looks again.
        rec.reason = e.what();
        return rec;
    }
    const bool ours =
        live && !image.empty() && switched &&
        label_of(live->template_labels, k_deployment_label) == std::to_string(layout.pods_of) &&
        has_image(live->images, image);
    std::optional<registry::Deployment> previous;
    if (d.previous) {
        previous = deps.get(*d.previous);
    }
    // Success only when the live Deployment that serves is this deployment's and its rollout
    // completes.
    if (ours && wait_layout(layout, image, external_ms).empty()) {
        const int64_t seq = deps.step_begun(d.id, "finish", "recovered");
        finish(d.id, layout, previous, external_ms);
        deps.step_ended(d.id, seq, true);
        rec.action = "finished";
        rec.state = "succeeded";
        return rec;
    }
    const int64_t seq = deps.step_begun(d.id, "undo", "recovered");
    const bool restored = undo(d.id, layout, previous, external_ms);
    deps.step_ended(d.id, seq, true);
    rec.action = "undone";
    rec.state = restored ? "rolled-back" : "failed";
    rec.reason = fmt::format("mloop stopped during step '{}'; undone", rec.last_step);
    return rec;
}

void KubernetesTarget::describe_live(EnvStatus& st) {
    const std::string serving = st.current ? layout_of(*st.current).serving : name();
    std::optional<k8s::DeploymentState> d;
    try {
        d = k8s::get_deployment(m_kubectl, scope(), serving);
    } catch (const error::Error& e) {
        st.live = fmt::format("unknown: {}", e.what());
        st.health = "unknown";
        return;
    }
    if (!d) {
        st.live = fmt::format("no deployment {}", serving);
        st.health = "—";
        if (st.current) {
            st.differences.push_back(fmt::format(
                "the registry says deploy/{} runs, but there is no deployment {} in namespace {}",
                st.current->id, serving, m_env.namespace_name));
        }
        return;
    }
    const std::string dep = label_of(d->template_labels, k_deployment_label);
    const std::string image = d->images.empty() ? "?" : d->images.front();
    st.live = fmt::format("deploy/{} {}/{} ready ({})", dep.empty() ? "?" : dep, d->available,
                          d->spec_replicas, image);
    if (d->observed_generation >= d->generation && d->available >= d->spec_replicas &&
        d->updated >= d->spec_replicas) {
        st.health = "ok";
    } else {
        const auto* p = d->condition("Progressing");
        st.health =
            fmt::format("failing: {} of {} replicas available{}", d->available, d->spec_replicas,
                        p != nullptr && p->status == "False" ? " (" + p->reason + ")" : "");
    }
    if (st.current) {
        const Layout layout = layout_of(*st.current);
        if (dep != std::to_string(layout.pods_of)) {
            st.differences.push_back(
                fmt::format("the registry says deploy/{} runs, but the deployment's pods "
                            "belong to deploy/{}",
                            layout.pods_of, dep.empty() ? "?" : dep));
        }
        const std::string want = recorded_image(*st.current);
        if (!want.empty() && !has_image(d->images, want)) {
            st.differences.push_back(
                fmt::format("the deployment runs image {}, not {}", image, want));
        }
        if (layout.strategy == "bluegreen") {
            try {
                const auto selector = k8s::get_service_selector(m_kubectl, scope(), name());
                const std::string color = selector ? label_of(*selector, k_color_label) : "";
                if (color != layout.color) {
                    st.differences.push_back(
                        fmt::format("service {} selects colour '{}', not {}'s '{}'", name(),
                                    color.empty() ? "none" : color, serving, layout.color));
                }
            } catch (const error::Error&) {
                // the Deployment answered; the Service's read failing says nothing new
            }
        }
    }
}

}  // namespace mloop::deploy
