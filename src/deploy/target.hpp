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

}  // namespace mloop::deploy
