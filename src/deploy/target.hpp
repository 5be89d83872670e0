// Inside src/deploy: what deploy.cpp asks of a target, and the pieces both share.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "deploy/analysis.hpp"
#include "deploy/deploy.hpp"
#include "docker/docker.hpp"
#include "k8s/kubectl.hpp"

namespace mloop::deploy {

// An exclusive flock on .mloop/locks/deploy-<env>.lock, held for a whole deploy or rollback:
// two deployments of one environment never interleave, and a lock that can be taken means no
// live mloop is deploying there.
class EnvLock {
  public:
    // wait: block until it is free (deploy, rollback); else give up at once (status).
    EnvLock(const std::filesystem::path& state_dir, const std::string& env, bool wait);
    ~EnvLock();
    EnvLock(const EnvLock&) = delete;
    EnvLock& operator=(const EnvLock&) = delete;
    bool held() const { return m_fd >= 0; }

  private:
    int m_fd = -1;
};

// GET http://127.0.0.1:port/path once; "" when it answered 2xx, else what went wrong.
std::string probe_health(int port, const std::string& path, std::chrono::milliseconds timeout);

// The journal of a deployment's steps (deploy.cpp). A step is recorded as begun before it is
// done. MLOOP_TEST_KILL_AT=STEP:begun|done makes mloop SIGKILL itself right after journalling
// that, as a power cut or `kill -9` would (the tests of SPEC §6's resume).
int64_t begin_step(registry::Deployments& deps, int64_t id, const std::string& step,
                   const std::string& detail = {});
void end_step(registry::Deployments& deps, int64_t id, int64_t seq, const std::string& step,
              bool ok, const std::string& detail = {});

struct Outcome {
    std::string state;                  // succeeded | rolled-back | failed | progressing
    std::string reason;                 // for failures
    std::vector<CheckResult> analysis;  // the last analysis run, when one ran
};

// The docker target (docker_target.cpp).
class DockerTarget {
  public:
    DockerTarget(train::Session& s, const config::Environment& env, bool quiet);

    std::string container() const;  // mloop-<project>-<env>
    std::string url() const;        // http://127.0.0.1:<port>
    docker::RunSpec spec_for(int64_t deployment, const registry::Image& image) const;
    static nlohmann::json spec_json(const docker::RunSpec& spec);
    static docker::RunSpec spec_from_json(const nlohmann::json& j);

    // Journals and does each step: stop the previous container, start the new one, check its
    // health, then finish (remove the previous one) or undo (restore it). Times the external
    // work into `external_ms`.
    Outcome apply(int64_t deployment, const docker::RunSpec& spec, bool wait, int64_t& external_ms);
    // Finishes or undoes a deployment whose mloop died mid-way.
    Recovery recover(const registry::Deployment& d);
    // The live container, for status: what runs and whether it is healthy.
    void describe_live(EnvStatus& st);

  private:
    std::string previous_name() const { return container() + "-previous"; }
    std::string wait_healthy(const std::string& name, int64_t& external_ms);
    void restore_previous(int64_t& external_ms);

    train::Session& m_s;
    const config::Environment& m_env;
    docker::Client m_docker;
    bool m_quiet;
};

// Labels on the pods mloop starts.
inline constexpr const char* k_deployment_label = "io.mloop/deployment";
inline constexpr const char* k_track_label = "io.mloop/track";  // canary
inline constexpr const char* k_color_label = "io.mloop/color";  // blue | green

// The pod counts of a canary step at `percent`: {canary, stable}. The canary gets its share of
// the environment's replicas, rounded up, at least one; the stable keeps the rest and at least
// one pod until the 100% step.
std::pair<int, int> canary_split(const config::Environment& env, int percent);

// Where a kubernetes deployment lives in the cluster; recorded in its spec, so recovery,
// rollback and status read it back instead of guessing.
struct Layout {
    std::string strategy = "rolling";  // rolling | canary | bluegreen
    std::string serving;               // the Deployment that serves once it has succeeded
    std::string color;                 // bluegreen: blue | green
    int64_t pods_of = 0;  // the deployment whose id the serving pods are labelled with: its
                          // own, except for a blue-green rollback that switches back to pods
                          // still up from the deployment it returns to
};

// The kubernetes target (kubernetes_target.cpp: rendering, rolling, waiting, recovery, status;
// kubernetes_strategies.cpp: canary and blue-green). Objects are named <project>-<env>:
//   rolling    Deployment and Service <project>-<env>
//   canary     the stable Deployment <project>-<env> (the rolling one), the canary
//              <project>-<env>-canary (pods labelled io.mloop/track=canary), one Service over both
//   bluegreen  Deployments <project>-<env>-blue and -green (pods labelled io.mloop/color), the
//              Service <project>-<env> on the active colour, <project>-<env>-preview on the new one
// Every pod template carries io.mloop/deployment=<id>, which is how mloop tells its rollout from
// the one before. Manifests are applied server-side; an undo re-applies the previous
// deployment's recorded manifests.
class KubernetesTarget {
  public:
    using Progress = std::function<void(const std::string&)>;
    KubernetesTarget(train::Session& s, const config::Environment& env, Progress progress = {});

    std::string name() const;  // <project>-<env>
    std::string url() const;   // http://<name>.<namespace>.svc:<port>
    std::string preview_url() const;
    k8s::Scope scope() const;
    // The reference the cluster pulls: repository@sha256:… once pushed, else repository:tag.
    static std::string image_reference(const registry::Image& image);
    // The image a deployment applied, as its spec recorded it ("" when unknown).
    static std::string recorded_image(const registry::Deployment& d);
    // The layout a deployment recorded (older rows: rolling).
    Layout layout_of(const registry::Deployment& d) const;
    // The layout a new deployment `id` with `strategy` takes after `current` (blue-green: the
    // colour `current` does not serve).
    Layout plan(int64_t id, config::Strategy strategy,
                const std::optional<registry::Deployment>& current) const;
    // The layout of a rollback `id` to `to`: blue-green switches back to `to`'s colour when its
    // pods are still up there (within scale_down_delay); otherwise as plan() says.
    Layout plan_rollback(int64_t id, config::Strategy strategy,
                         const std::optional<registry::Deployment>& current,
                         const registry::Deployment& to);
    // The manifests, by file name, rendered from the templates: deployment.yaml and
    // service.yaml; canary adds canary/deployment.yaml (a subdirectory: `apply -f DIR` of an
    // undo leaves it out), blue-green preview.yaml. `reference`: the image to run, when not
    // image_reference(image) (a rollback runs what the deployment it returns to ran).
    std::vector<std::pair<std::string, std::string>> render(
        int64_t deployment, const registry::Image& image, const Layout& layout,
        const std::string& reference = {}) const;
    // kubectl apply … -f DIR, as run.
    std::vector<std::string> apply_argv(const std::filesystem::path& dir) const;

    // Journals and does each step of the layout's strategy, then finishes, or undoes by
    // re-applying `previous`'s manifests. The environment's analysis runs after each canary
    // step and before the blue-green switch. A `rollback` has no canary steps and no analysis.
    Outcome apply(int64_t deployment, const std::filesystem::path& dir, const std::string& image,
                  const Layout& layout, const std::optional<registry::Deployment>& previous,
                  bool wait, bool rollback, int64_t& external_ms);
    // Finishes or undoes a deployment whose mloop died mid-way; an empty `action` when the
    // cluster cannot be read, and the deployment stays as it is.
    Recovery recover(const registry::Deployment& d);
    // Blue-green: scales the colour the current deployment switched away from to zero once its
    // scale_down_delay has passed (mloop is not a controller: the next deploy, rollback or
    // status of the environment does it). Returns what it did, or "".
    std::string scale_down_due(const registry::Deployment& current);
    // The live Deployment that serves, for status.
    void describe_live(EnvStatus& st);

  private:
    // "" once Deployment `deployment` runs `image` on every replica, its pods labelled with
    // deployment id `pods_of` (and matching `extra`, a label selector), else why not.
    std::string wait_rollout(const std::string& deployment, int64_t pods_of,
                             const std::string& image, const std::string& extra,
                             int64_t& external_ms);
    std::string wait_layout(const Layout& layout, const std::string& image, int64_t& external_ms);
    // Re-applies `previous`'s manifests and waits for them (best effort); false when there is
    // nothing to restore.
    bool restore(const std::optional<registry::Deployment>& previous, int64_t& external_ms);
    process::Result apply_paths(const std::vector<std::string>& paths, int64_t& external_ms);
    // apply_paths(); "" when kubectl applied them, else its failure.
    std::string apply_files(const std::vector<std::string>& paths, int64_t& external_ms);
    bool scale(const std::string& deployment, int replicas, int64_t& external_ms);
    // Runs the analysis; fills out.analysis; "" when every check passed, else the failures.
    std::string analyse(int64_t id, const std::string& url, const std::string& image,
                        const std::string& stage, Outcome& out, int64_t& external_ms);
    // Puts the cluster back after a failed step: the canary or the new colour to zero, then
    // `previous`'s manifests.
    bool undo(int64_t id, const Layout& layout, const std::optional<registry::Deployment>& previous,
              int64_t& external_ms);
    // Ends step `seq` failed with `why`, undoes it, and returns `out` rolled back (failed when
    // there was nothing to restore).
    Outcome abandon(int64_t id, int64_t seq, const std::string& step, const std::string& why,
                    const Layout& layout, const std::optional<registry::Deployment>& previous,
                    Outcome out, int64_t& external_ms);
    // The first step of every strategy: journals `apply` with the kubectl argv, marks the
    // deployment progressing and applies `paths`. Returns the step's seq and "" or why it failed.
    std::pair<int64_t, std::string> apply_step(int64_t id, const std::vector<std::string>& paths,
                                               int64_t& external_ms);
    // After success: the canary removed; blue-green's scale-down of the old colour scheduled.
    void finish(int64_t id, const Layout& layout,
                const std::optional<registry::Deployment>& previous, int64_t& external_ms);
    Outcome apply_rolling(int64_t id, const std::filesystem::path& dir, const std::string& image,
                          const Layout& layout, const std::optional<registry::Deployment>& previous,
                          bool wait, int64_t& external_ms);
    Outcome apply_canary(int64_t id, const std::filesystem::path& dir, const std::string& image,
                         const Layout& layout, const std::optional<registry::Deployment>& previous,
                         bool rollback, int64_t& external_ms);
    Outcome apply_bluegreen(int64_t id, const std::filesystem::path& dir, const std::string& image,
                            const Layout& layout,
                            const std::optional<registry::Deployment>& previous, bool rollback,
                            int64_t& external_ms);
    void say(const std::string& line) const;

    train::Session& m_s;
    const config::Environment& m_env;
    k8s::Client m_kubectl;
    Progress m_progress;
};

}  // namespace mloop::deploy
