// The kubernetes target, rolling strategy: `kubectl apply --server-side` of a Deployment and a
// Service, then polling the Deployment and the new pods until the rollout is complete or has
// clearly failed. The pod template carries io.mloop/deployment=<id>, so the pods of this
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

constexpr const char* k_deployment_label = "io.mloop/deployment";

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

KubernetesTarget::KubernetesTarget(train::Session& s, const config::Environment& env)
    : m_s(s), m_env(env), m_kubectl(*s.runner, s.secrets) {}

std::string KubernetesTarget::name() const {
    return fmt::format("{}-{}", m_s.project.name, m_env.name);
}

std::string KubernetesTarget::url() const {
    return fmt::format("http://{}.{}.svc:{}", name(), m_env.namespace_name,
                       m_s.project.package ? m_s.project.package->port : 8080);
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

std::vector<std::pair<std::string, std::string>> KubernetesTarget::render(
    int64_t deployment, const registry::Image& image, const std::string& reference) const {
    const config::Project& p = m_s.project;
    render::TemplateData data;
    data.set("name", name());
    data.set("namespace", m_env.namespace_name);
    data.set("project", p.name);
    data.set("env", m_env.name);
    data.set("model", image.model);
    data.set("version", std::to_string(image.version));
    data.set("deployment", std::to_string(deployment));
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
    std::vector<std::pair<std::string, std::string>> out;
    // kubectl applies a directory's files in name order: the Deployment, then its Service.
    for (const char* file : {"deployment.yaml", "service.yaml"}) {
        const std::string tmpl = std::string("k8s/") + file;
        out.emplace_back(file,
                         render::render_template(tmpl, package::template_text(p, tmpl), data));
    }
    return out;
}

std::vector<std::string> KubernetesTarget::apply_argv(const fs::path& dir) const {
    auto a = k8s::apply_args(scope(), dir.string());
    a.insert(a.begin(), m_kubectl.program());
    return a;
}

process::Result KubernetesTarget::apply_dir(const fs::path& dir, int64_t& external_ms) {
    const auto started = Clock::now();
    const auto deadline = started + m_s.project.deploy->health_timeout;
    process::Result r;
    // An API server that is away is waited for, within the health timeout; a refusal is final.
    for (;;) {
        r = m_kubectl.try_run(k8s::apply_args(scope(), dir.string()));
        if (r.ok() || !unreachable(r) || Clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    external_ms += ms_since(started);
    return r;
}

std::string KubernetesTarget::wait_rollout(int64_t id, const std::string& image,
                                           int64_t& external_ms) {
    const auto started = Clock::now();
    const auto timeout = m_s.project.deploy->health_timeout;
    const auto deadline = started + timeout;
    const std::string selector =
        fmt::format("app={},env={},{}={}", m_s.project.name, m_env.name, k_deployment_label, id);
    std::string last = "no answer yet";
    auto fail = [&](std::string why) {
        external_ms += ms_since(started);
        return why;
    };
    for (;;) {
        try {
            const auto d = k8s::get_deployment(m_kubectl, scope(), name());
            if (!d) {
                last = fmt::format("deployment {} does not exist", name());
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
                    return fail(fmt::format("deployment {}: ProgressDeadlineExceeded{}{}", name(),
                                            progressing->message.empty() ? "" : ": ",
                                            progressing->message));
                }
                const bool ours =
                    label_of(d->template_labels, k_deployment_label) == std::to_string(id) &&
                    has_image(d->images, image);
                if (!ours) {
                    return fail(
                        fmt::format("deployment {} was changed by someone else: its pods "
                                    "are now deploy/{}'s",
                                    name(), label_of(d->template_labels, k_deployment_label)));
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
            return fail(fmt::format("deployment {} did not become available within {}: {}", name(),
                                    config::format_duration(timeout), last));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
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
    const auto r = apply_dir(dir, external_ms);
    if (r.ok()) {
        wait_rollout(previous->id, recorded_image(*previous), external_ms);  // best effort
    }
    return true;
}

Outcome KubernetesTarget::apply(int64_t id, const fs::path& dir, const std::string& image,
                                const std::optional<registry::Deployment>& previous, bool wait,
                                int64_t& external_ms) {
    registry::Db& db = m_s.db();
    registry::Deployments deps(db);

    // 1. Apply.
    const auto argv = apply_argv(dir);
    int64_t seq = begin_step(deps, id, "apply", nlohmann::json(argv).dump());
    db.write([&] { deps.set_state(id, "progressing"); });
    const auto r = apply_dir(dir, external_ms);
    if (!r.ok()) {
        const std::string why =
            fmt::format("kubectl apply failed ({}): {}", r.describe(), k8s::kubectl_message(r));
        end_step(deps, id, seq, "apply", false, why);
        const int64_t undo = begin_step(deps, id, "undo");
        const bool restored = restore(previous, external_ms);
        end_step(deps, id, undo, "undo", true);
        return {restored ? "rolled-back" : "failed", why};
    }
    end_step(deps, id, seq, "apply", true);
    if (!wait) {
        return {"progressing", ""};
    }

    // 2. The rollout.
    seq = begin_step(deps, id, "rollout", image);
    const std::string why = wait_rollout(id, image, external_ms);
    end_step(deps, id, seq, "rollout", why.empty(), why);
    if (!why.empty()) {
        const int64_t undo =
            begin_step(deps, id, "undo", previous ? fmt::format("deploy/{}", previous->id) : "");
        const bool restored = restore(previous, external_ms);
        end_step(deps, id, undo, "undo", true);
        return {restored ? "rolled-back" : "failed", why};
    }

    // 3. Finish: nothing left to remove; the old ReplicaSet stays for kubectl rollout undo.
    seq = begin_step(deps, id, "finish");
    end_step(deps, id, seq, "finish", true);
    return {"succeeded", ""};
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
    std::optional<k8s::DeploymentState> live;
    try {
        live = k8s::get_deployment(m_kubectl, scope(), name());
    } catch (const error::ExternalError& e) {
        // The cluster cannot be read: judge nothing now, the next command looks again.
        rec.reason = e.what();
        return rec;
    }
    const bool ours = live && !image.empty() &&
                      label_of(live->template_labels, k_deployment_label) == std::to_string(d.id) &&
                      has_image(live->images, image);
    // Success only when the live Deployment is this deployment's and its rollout completes.
    if (ours && wait_rollout(d.id, image, external_ms).empty()) {
        const int64_t seq = deps.step_begun(d.id, "finish", "recovered");
        deps.step_ended(d.id, seq, true);
        rec.action = "finished";
        rec.state = "succeeded";
        return rec;
    }
    const int64_t seq = deps.step_begun(d.id, "undo", "recovered");
    std::optional<registry::Deployment> previous;
    if (d.previous) {
        previous = deps.get(*d.previous);
    }
    const bool restored = restore(previous, external_ms);
    deps.step_ended(d.id, seq, true);
    rec.action = "undone";
    rec.state = restored ? "rolled-back" : "failed";
    rec.reason = fmt::format("mloop stopped during step '{}'; undone", rec.last_step);
    return rec;
}

void KubernetesTarget::describe_live(EnvStatus& st) {
    std::optional<k8s::DeploymentState> d;
    try {
        d = k8s::get_deployment(m_kubectl, scope(), name());
    } catch (const error::Error& e) {
        st.live = fmt::format("unknown: {}", e.what());
        st.health = "unknown";
        return;
    }
    if (!d) {
        st.live = fmt::format("no deployment {}", name());
        st.health = "—";
        if (st.current) {
            st.differences.push_back(fmt::format(
                "the registry says deploy/{} runs, but there is no deployment {} in namespace {}",
                st.current->id, name(), m_env.namespace_name));
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
    if (st.current && dep != std::to_string(st.current->id)) {
        st.differences.push_back(
            fmt::format("the registry says deploy/{} runs, but the deployment's pods "
                        "belong to deploy/{}",
                        st.current->id, dep.empty() ? "?" : dep));
    }
    if (st.current) {
        const std::string want = recorded_image(*st.current);
        if (!want.empty() && !has_image(d->images, want)) {
            st.differences.push_back(
                fmt::format("the deployment runs image {}, not {}", image, want));
        }
    }
}

}  // namespace mloop::deploy
