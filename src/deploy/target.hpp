// Inside src/deploy: what deploy.cpp asks of a target, and the pieces both share.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

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
    std::string state;   // succeeded | rolled-back | failed | progressing
    std::string reason;  // for failures
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

// The kubernetes target with the rolling strategy (kubernetes_target.cpp): one Deployment and
// one Service named <project>-<env>, applied server-side with kubectl; the pod template carries
// the deployment's id as the label io.mloop/deployment, which is how mloop tells its rollout
// from the one before. A failed rollout is undone by re-applying the previous deployment's
// recorded manifests.
class KubernetesTarget {
  public:
    KubernetesTarget(train::Session& s, const config::Environment& env);

    std::string name() const;  // <project>-<env>
    std::string url() const;   // http://<name>.<namespace>.svc:<port>
    k8s::Scope scope() const;
    // The reference the cluster pulls: repository@sha256:… once pushed, else repository:tag.
    static std::string image_reference(const registry::Image& image);
    // The image a deployment applied, as its spec recorded it ("" when unknown).
    static std::string recorded_image(const registry::Deployment& d);
    // The manifests, by file name (deployment.yaml, service.yaml), rendered from the templates.
    // `reference`: the image to run, when not image_reference(image) (a rollback runs what the
    // deployment it returns to ran).
    std::vector<std::pair<std::string, std::string>> render(
        int64_t deployment, const registry::Image& image, const std::string& reference = {}) const;
    // kubectl apply … -f DIR, as run.
    std::vector<std::string> apply_argv(const std::filesystem::path& dir) const;

    // Journals and does each step: apply the manifests in `dir`, wait for the rollout, then
    // finish, or undo by re-applying `previous`'s manifests.
    Outcome apply(int64_t deployment, const std::filesystem::path& dir, const std::string& image,
                  const std::optional<registry::Deployment>& previous, bool wait,
                  int64_t& external_ms);
    // Finishes or undoes a deployment whose mloop died mid-way; an empty `action` when the
    // cluster cannot be read, and the deployment stays as it is.
    Recovery recover(const registry::Deployment& d);
    // The live Deployment, for status.
    void describe_live(EnvStatus& st);

  private:
    // "" once the Deployment runs `image` from deployment `id` on every replica, else why not.
    std::string wait_rollout(int64_t id, const std::string& image, int64_t& external_ms);
    // Re-applies `previous`'s manifests and waits for them (best effort); false when there is
    // nothing to restore.
    bool restore(const std::optional<registry::Deployment>& previous, int64_t& external_ms);
    process::Result apply_dir(const std::filesystem::path& dir, int64_t& external_ms);

    train::Session& m_s;
    const config::Environment& m_env;
    k8s::Client m_kubectl;
};

}  // namespace mloop::deploy
