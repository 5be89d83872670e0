// Canary and blue-green on the kubernetes target (SPEC §6), and the analysis between their steps.
//
// canary: the new version starts as a second Deployment <project>-<env>-canary behind the same
// Service as the stable <project>-<env>; each step scales the canary to its share of the
// replicas and the stable to the rest, waits `pause`, and runs the analysis. Any failure scales
// the canary to zero and re-applies the previous deployment's manifests (the stable at full
// size). After the last step the stable Deployment takes the new version and the canary is
// deleted. An environment with nothing stable yet gets the first version straight, as Argo
// Rollouts does.
//
// bluegreen: the new version goes to the colour that does not serve, with a preview Service on
// it; the analysis runs against the preview; then the Service switches colour. The old colour
// stays up for scale_down_delay, so a rollback within it switches back without a rollout.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "config/variables.hpp"
#include "deploy/target.hpp"
#include "error/error.hpp"
#include "monitor/monitor.hpp"
#include "registry/registry.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace mloop::deploy {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using util::ms_since;

std::pair<int, int> canary_split(const config::Environment& env, int percent) {
    const int n = std::max(1, env.replicas);
    const int canary =
        std::clamp(static_cast<int>(std::ceil(n * static_cast<double>(percent) / 100.0)), 1, n);
    const int stable = percent >= 100 ? 0 : std::max(n - canary, 1);
    return {canary, stable};
}

std::string KubernetesTarget::analyse(int64_t id, const std::string& url, const std::string& image,
                                      const std::string& stage, Outcome& out,
                                      int64_t& external_ms) {
    if (m_env.analysis.empty()) {
        return "";
    }
    AnalysisContext ctx;
    ctx.runner = m_s.runner;
    ctx.secrets = m_s.secrets;
    ctx.cwd = m_s.paths.root;
    ctx.display_file = m_s.project.display_file;
    ctx.timeout = m_s.project.deploy->health_timeout;
    ctx.values = {{"deploy.url", url},
                  {"deploy.env", m_env.name},
                  {"deploy.id", std::to_string(id)},
                  {"deploy.image", image},
                  {"deploy.step", stage}};
    std::string version;
    if (const auto d = registry::Deployments(m_s.db()).get(id)) {
        ctx.values["model.name"] = d->model;
        ctx.values["model.version"] = std::to_string(d->version);
        version = fmt::format("{}@{}", d->model, d->version);
    }
    // The new version's traffic against the data that trained it.
    ctx.monitor = [&](const config::Analysis& check) {
        CheckResult c;
        c.kind = "monitor";
        monitor::Options mo;
        for (const auto& p : check.current) {
            mo.current.push_back(p.value);
        }
        mo.reference = version;
        c.what = util::join(mo.current, ", ");
        try {
            const auto report = monitor::monitor(m_s, mo);
            c.passed = report.alerts.empty();
            c.value = report.features.empty()
                          ? std::nullopt
                          : std::optional<double>(static_cast<double>(report.drifted));
            c.reason = fmt::format("monitor/{}: {}", report.id,
                                   c.passed ? fmt::format("{} of {} features drifted",
                                                          report.drifted, report.features.size())
                                            : util::join(report.alerts, "; "));
        } catch (const error::Interrupted&) {
            throw;
        } catch (const error::Error& e) {
            c.reason = e.what();
        }
        return c;
    };
    const auto started = Clock::now();
    try {
        out.analysis = run_analysis(m_env.analysis, ctx);
    } catch (const error::Interrupted&) {
        throw;
    } catch (const error::Error& e) {
        // A check that cannot even be run (a variable it names does not exist) fails the
        // analysis; the deployment is undone like any other failure, never left in flight.
        external_ms += ms_since(started);
        return fmt::format("analysis at {}: {}", stage, e.what());
    }
    external_ms += ms_since(started);
    for (const auto& c : out.analysis) {
        say(fmt::format("  analysis {} {}: {}{}", c.kind, c.what, c.passed ? "passed" : "FAILED",
                        c.reason.empty() ? "" : " (" + c.reason + ")"));
    }
    if (all_passed(out.analysis)) {
        return "";
    }
    return fmt::format("analysis failed at {}: {}", stage, failures(out.analysis));
}

void KubernetesTarget::finish(int64_t id, const Layout& layout,
                              const std::optional<registry::Deployment>& previous,
                              int64_t& external_ms) {
    if (layout.strategy == "canary") {
        const auto started = Clock::now();
        try {
            k8s::delete_deployment(m_kubectl, scope(), name() + "-canary");
        } catch (const error::ExternalError& e) {
            say(fmt::format("the canary {}-canary could not be deleted: {}", name(), e.what()));
        }
        external_ms += ms_since(started);
        return;
    }
    if (layout.strategy != "bluegreen" || !previous || previous->target != "kubernetes") {
        return;
    }
    const std::string old = layout_of(*previous).serving;
    if (old == layout.serving) {
        return;
    }
    const auto delay = m_env.scale_down_delay;
    if (delay.count() == 0) {
        try {
            scale(old, 0, external_ms);
        } catch (const error::ExternalError& e) {
            say(fmt::format("{} could not be scaled down: {}", old, e.what()));
        }
        return;
    }
    // mloop is not a controller: the first deploy, rollback or status of the environment after
    // the delay scales the old colour down (scale_down_due).
    registry::Deployments deps(m_s.db());
    const auto d = deps.get(id);
    auto spec = nlohmann::json::parse(d->spec, nullptr, false);
    if (!spec.is_object()) {
        spec = nlohmann::json::object();
    }
    const auto after = static_cast<int64_t>(std::time(nullptr)) +
                       std::chrono::duration_cast<std::chrono::seconds>(delay).count();
    spec["scale_down"] = {{"deployment", old}, {"after", after}, {"done", false}};
    m_s.db().write([&] { deps.set_spec(id, spec.dump(), d->manifests); });
    say(fmt::format("{} stays up for {} (scale_down_delay), so a rollback is instant", old,
                    config::format_duration(delay)));
}

std::string KubernetesTarget::scale_down_due(const registry::Deployment& current) {
    auto spec = nlohmann::json::parse(current.spec, nullptr, false);
    if (!spec.is_object() || !spec.contains("scale_down") || !spec["scale_down"].is_object()) {
        return "";
    }
    auto& sd = spec["scale_down"];
    if (sd.value("done", true) || sd.value("after", int64_t{0}) > std::time(nullptr)) {
        return "";
    }
    const std::string old = sd.value("deployment", "");
    if (old.empty() || old == layout_of(current).serving) {
        return "";
    }
    int64_t external_ms = 0;
    registry::Deployments deps(m_s.db());
    const int64_t seq = deps.step_begun(current.id, "scale-down", old);
    try {
        scale(old, 0, external_ms);
    } catch (const error::ExternalError& e) {
        deps.step_ended(current.id, seq, false, e.what());
        return "";  // the next command tries again
    }
    deps.step_ended(current.id, seq, true);
    sd["done"] = true;
    m_s.db().write([&] { deps.set_spec(current.id, spec.dump(), current.manifests); });
    return fmt::format("scaled {} down to zero: deploy/{}'s scale_down_delay has passed", old,
                       current.id);
}

Outcome KubernetesTarget::apply_canary(int64_t id, const fs::path& dir, const std::string& image,
                                       const Layout& layout,
                                       const std::optional<registry::Deployment>& previous,
                                       bool rollback, int64_t& external_ms) {
    registry::Deployments deps(m_s.db());
    // A rollback returns at once, without steps; so does the first version, with nothing stable
    // to compare it with.
    bool stable = false;
    if (!rollback && previous && previous->target == "kubernetes") {
        try {
            stable = k8s::get_deployment(m_kubectl, scope(), name()).has_value();
        } catch (const error::ExternalError&) {
            stable = true;  // it cannot be read now; the steps' own waits will tell
        }
    }
    if (!stable) {
        if (!rollback) {
            say(
                fmt::format("no stable {} yet: the version goes straight to stable, without "
                            "canary steps",
                            name()));
        }
        return apply_rolling(id, dir, image, layout, previous, true, external_ms);
    }

    Outcome out;
    const std::string canary = name() + "-canary";

    // 1. The Service and the canary at the first step's size.
    auto [seq, failed] = apply_step(
        id, {(dir / "service.yaml").string(), (dir / "canary" / "deployment.yaml").string()},
        external_ms);
    if (!failed.empty()) {
        return abandon(id, seq, "apply", failed, layout, previous, out, external_ms);
    }

    // 2. The steps.
    for (size_t i = 0; i < m_env.canary_steps.size(); ++i) {
        const int percent = m_env.canary_steps[i];
        const auto [canary_pods, stable_pods] = canary_split(m_env, percent);
        const std::string step = fmt::format("canary-{}", percent);
        seq = begin_step(deps, id, step,
                         fmt::format("{} canary, {} stable", canary_pods, stable_pods));
        say(fmt::format("canary {}%: {} canary pod{}, {} stable", percent, canary_pods,
                        canary_pods == 1 ? "" : "s", stable_pods));
        std::string why;
        try {
            if (i > 0 && !scale(canary, canary_pods, external_ms)) {
                why = fmt::format("deployment {} is gone", canary);
            }
            if (why.empty()) {
                why = wait_rollout(canary, id, image, fmt::format("{}=canary", k_track_label),
                                   external_ms);
            }
            if (why.empty()) {
                scale(name(), stable_pods, external_ms);
                const auto pause = m_env.canary_pause;
                if (pause.count() > 0) {
                    const auto started = Clock::now();
                    std::this_thread::sleep_for(pause);
                    external_ms += ms_since(started);
                }
                why =
                    analyse(id, url(), image, fmt::format("canary {}%", percent), out, external_ms);
            }
        } catch (const error::ExternalError& e) {
            why = e.what();
        }
        if (!why.empty()) {
            return abandon(id, seq, step, why, layout, previous, out, external_ms);
        }
        end_step(deps, id, seq, step, true);
    }

    // 3. Promote: the stable Deployment takes the new version at full size.
    seq = begin_step(deps, id, "promote", image);
    say(fmt::format("promoting: {} takes the new version", name()));
    std::string why = apply_files({(dir / "deployment.yaml").string()}, external_ms);
    if (why.empty()) {
        why = wait_layout(layout, image, external_ms);
    }
    if (!why.empty()) {
        return abandon(id, seq, "promote", why, layout, previous, out, external_ms);
    }
    end_step(deps, id, seq, "promote", true);

    // 4. Finish: the canary goes.
    seq = begin_step(deps, id, "finish");
    finish(id, layout, previous, external_ms);
    end_step(deps, id, seq, "finish", true);
    out.state = "succeeded";
    return out;
}

Outcome KubernetesTarget::apply_bluegreen(int64_t id, const fs::path& dir, const std::string& image,
                                          const Layout& layout,
                                          const std::optional<registry::Deployment>& previous,
                                          bool rollback, int64_t& external_ms) {
    registry::Deployments deps(m_s.db());
    Outcome out;

    // 1. The idle colour and the preview Service on it.
    say(fmt::format("{}: {} (preview at {})",
                    layout.pods_of == id ? "new colour" : "switching back to", layout.serving,
                    preview_url()));
    auto [seq, why] = apply_step(
        id, {(dir / "deployment.yaml").string(), (dir / "preview.yaml").string()}, external_ms);
    if (!why.empty()) {
        return abandon(id, seq, "apply", why, layout, previous, out, external_ms);
    }

    // 2. Its rollout.
    seq = begin_step(deps, id, "rollout", image);
    why = wait_layout(layout, image, external_ms);
    if (!why.empty()) {
        return abandon(id, seq, "rollout", why, layout, previous, out, external_ms);
    }
    end_step(deps, id, seq, "rollout", true);

    // 3. The analysis, through the preview Service.
    if (!rollback && !m_env.analysis.empty()) {
        seq = begin_step(deps, id, "analysis");
        why = analyse(id, preview_url(), image, "preview", out, external_ms);
        if (!why.empty()) {
            return abandon(id, seq, "analysis", why, layout, previous, out, external_ms);
        }
        end_step(deps, id, seq, "analysis", true);
    }

    // 4. The switch.
    seq = begin_step(deps, id, "switch", layout.color);
    why = apply_files({(dir / "service.yaml").string()}, external_ms);
    if (!why.empty()) {
        return abandon(id, seq, "switch", why, layout, previous, out, external_ms);
    }
    end_step(deps, id, seq, "switch", true);
    say(fmt::format("service {} now selects {}", name(), layout.color));

    // 5. Finish: the old colour's scale-down scheduled.
    seq = begin_step(deps, id, "finish");
    finish(id, layout, previous, external_ms);
    end_step(deps, id, seq, "finish", true);
    out.state = "succeeded";
    return out;
}

}  // namespace mloop::deploy
