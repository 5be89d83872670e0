// The docker target: one container per environment, named mloop-<project>-<env>, labelled with
// the deployment it belongs to. With host networking two versions cannot listen on one port at
// once, so a deployment stops the running container and keeps it (renamed …-previous) until the
// new one is healthy: then it is removed; if the new one fails, it is put back and started.
#include <thread>

#include <fmt/format.h>

#include "config/variables.hpp"
#include "deploy/target.hpp"
#include "error/error.hpp"
#include "registry/registry.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace mloop::deploy {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using util::ms_since;

namespace {

std::string label_of(const docker::Container& c, const std::string& key) {
    const auto it = c.labels.find(key);
    return it == c.labels.end() ? std::string() : it->second;
}

}  // namespace

DockerTarget::DockerTarget(train::Session& s, const config::Environment& env, bool quiet)
    : m_s(s), m_env(env), m_docker(*s.runner, s.secrets), m_quiet(quiet) {}

std::string DockerTarget::container() const {
    return fmt::format("mloop-{}-{}", m_s.project.name, m_env.name);
}

std::string DockerTarget::url() const {
    return fmt::format("http://127.0.0.1:{}", m_env.port);
}

docker::RunSpec DockerTarget::spec_for(int64_t deployment, const registry::Image& image) const {
    docker::RunSpec spec;
    spec.name = container();
    spec.image = image.image_id;
    spec.network = m_env.network;
    spec.port = m_env.port;
    spec.env = {{"PORT", std::to_string(m_env.port)},
                {"MLOOP_ENV", m_env.name},
                {"MLOOP_DEPLOYMENT", std::to_string(deployment)}};
    spec.labels = {{"io.mloop.project", m_s.project.name},
                   {"io.mloop.env", m_env.name},
                   {"io.mloop.deployment", std::to_string(deployment)},
                   {"io.mloop.model", image.model},
                   {"io.mloop.version", std::to_string(image.version)}};
    // The server's prediction log lands in the project's logs/, where monitor.current reads it.
    spec.mounts = {{(m_s.project.root / "logs").string(), "/logs"}};
    return spec;
}

nlohmann::json DockerTarget::spec_json(const docker::RunSpec& spec) {
    return {{"name", spec.name},     {"image", spec.image},     {"network", spec.network},
            {"port", spec.port},     {"env", spec.env},         {"labels", spec.labels},
            {"mounts", spec.mounts}, {"command", spec.command}, {"argv", docker::run_args(spec)}};
}

docker::RunSpec DockerTarget::spec_from_json(const nlohmann::json& j) {
    docker::RunSpec spec;
    spec.name = j.at("name").get<std::string>();
    spec.image = j.at("image").get<std::string>();
    spec.network = j.at("network").get<std::string>();
    spec.port = j.at("port").get<int>();
    spec.env = j.at("env").get<std::vector<std::pair<std::string, std::string>>>();
    spec.labels = j.at("labels").get<std::map<std::string, std::string>>();
    spec.mounts = j.at("mounts").get<std::vector<std::pair<std::string, std::string>>>();
    spec.command = j.at("command").get<std::vector<std::string>>();
    return spec;
}

std::string DockerTarget::wait_healthy(const std::string& name, int64_t& external_ms) {
    const auto started = Clock::now();
    const auto deadline = started + m_s.project.deploy->health_timeout;
    std::string last = "no answer yet";
    for (;;) {
        last = probe_health(m_env.port, m_s.project.deploy->health_path,
                            std::chrono::milliseconds(1000));
        const auto c = docker::inspect_container(m_docker, name);
        // An answer counts only while the container runs: another process on the port (the
        // container died with "address in use") must not pass for the new version.
        if (last.empty() && c && c->running) {
            external_ms += ms_since(started);
            return "";
        }
        if (!c) {
            external_ms += ms_since(started);
            return fmt::format("container {} is gone", name);
        }
        if (!c->running) {
            auto logs = m_docker.try_run({"logs", "--tail=5", "--", name});
            const auto lines = util::nonempty_lines(logs.err + logs.out);
            external_ms += ms_since(started);
            return fmt::format("container {} exited with code {}{}{}", name, c->exit_code,
                               lines.empty() ? "" : ": ", util::join(lines, " | "));
        }
        if (Clock::now() >= deadline) {
            external_ms += ms_since(started);
            return fmt::format("{}{} did not answer healthy within {}: {}", url(),
                               m_s.project.deploy->health_path,
                               config::format_duration(m_s.project.deploy->health_timeout), last);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void DockerTarget::restore_previous(int64_t& external_ms) {
    const auto started = Clock::now();
    const auto prev = docker::inspect_container(m_docker, previous_name());
    if (prev) {
        m_docker.try_run({"rm", "--force", "--", container()});
        m_docker.run({"rename", "--", previous_name(), container()},
                     "restore the previous container");
    }
    const auto live = docker::inspect_container(m_docker, container());
    if (live && !live->running) {
        m_docker.run({"start", "--", container()}, "restart the previous container");
    }
    external_ms += ms_since(started);
    if (live) {
        wait_healthy(container(), external_ms);  // best effort: it was healthy before
    }
}

Outcome DockerTarget::apply(int64_t id, const docker::RunSpec& spec, bool wait,
                            int64_t& external_ms) {
    registry::Db& db = m_s.db();
    registry::Deployments deps(db);
    std::error_code ec;
    fs::create_directories(m_s.project.root / "logs", ec);

    // 1. Stop the running container and keep it aside.
    int64_t seq = begin_step(deps, id, "stop-previous", container());
    auto started = Clock::now();
    m_docker.try_run({"rm", "--force", "--", previous_name()});  // a leftover of long ago
    const auto live = docker::inspect_container(m_docker, container());
    if (live) {
        if (live->running) {
            m_docker.run({"stop", "--time=10", "--", container()}, "stop " + container());
        }
        m_docker.run({"rename", "--", container(), previous_name()},
                     "set the previous container aside");
    }
    external_ms += ms_since(started);
    end_step(deps, id, seq, "stop-previous", true,
             live ? fmt::format("deploy/{}", label_of(*live, "io.mloop.deployment"))
                  : std::string("none"));
    db.write([&] { deps.set_state(id, "progressing"); });

    // 2. Start the new one.
    seq = begin_step(deps, id, "start", nlohmann::json(docker::run_args(spec)).dump());
    started = Clock::now();
    auto r = m_docker.try_run(docker::run_args(spec));
    external_ms += ms_since(started);
    if (!r.ok()) {
        const auto lines = util::nonempty_lines(r.err);
        const std::string why =
            fmt::format("docker run failed ({}): {}", r.describe(),
                        lines.empty() ? std::string("no message") : lines.back());
        end_step(deps, id, seq, "start", false, why);
        const int64_t undo = begin_step(deps, id, "undo");
        restore_previous(external_ms);
        end_step(deps, id, undo, "undo", true);
        return {live ? "rolled-back" : "failed", why, {}};
    }
    end_step(deps, id, seq, "start", true, std::string(util::trim(r.out)).substr(0, 12));
    if (!wait) {
        return {"progressing", "", {}};
    }

    // 3. Health.
    seq = begin_step(deps, id, "health", url() + m_s.project.deploy->health_path);
    const std::string why = wait_healthy(container(), external_ms);
    end_step(deps, id, seq, "health", why.empty(), why);
    if (!why.empty()) {
        const int64_t undo = begin_step(deps, id, "undo");
        started = Clock::now();
        m_docker.try_run({"rm", "--force", "--", container()});
        external_ms += ms_since(started);
        restore_previous(external_ms);
        end_step(deps, id, undo, "undo", true);
        return {live ? "rolled-back" : "failed", why, {}};
    }

    // 4. Finish: the previous container goes.
    seq = begin_step(deps, id, "finish");
    started = Clock::now();
    m_docker.try_run({"rm", "--force", "--", previous_name()});
    external_ms += ms_since(started);
    end_step(deps, id, seq, "finish", true);
    return {"succeeded", "", {}};
}

Recovery DockerTarget::recover(const registry::Deployment& d) {
    registry::Deployments deps(m_s.db());
    Recovery rec;
    rec.deployment = d.id;
    const auto steps = deps.steps(d.id);
    rec.last_step = steps.empty() ? "none" : steps.back().step + " " + steps.back().state;
    int64_t external_ms = 0;
    const auto image = registry::Images(m_s.db()).get(d.image);
    const auto live = docker::inspect_container(m_docker, container());
    const bool ours = live && label_of(*live, "io.mloop.deployment") == std::to_string(d.id);
    // Success only when the live container is this deployment's, runs its image and is healthy.
    if (ours && live->running && image && live->image == image->image_id &&
        wait_healthy(container(), external_ms).empty()) {
        const int64_t seq = deps.step_begun(d.id, "finish", "recovered");
        m_docker.try_run({"rm", "--force", "--", previous_name()});
        deps.step_ended(d.id, seq, true);
        rec.action = "finished";
        rec.state = "succeeded";
        return rec;
    }
    const int64_t seq = deps.step_begun(d.id, "undo", "recovered");
    if (ours) {
        m_docker.try_run({"rm", "--force", "--", container()});
    }
    const bool had_previous =
        docker::inspect_container(m_docker, previous_name()).has_value() || (live && !ours);
    restore_previous(external_ms);
    deps.step_ended(d.id, seq, true);
    rec.action = "undone";
    rec.state = had_previous ? "rolled-back" : "failed";
    rec.reason = fmt::format("mloop stopped during step '{}'; undone", rec.last_step);
    return rec;
}

void DockerTarget::describe_live(EnvStatus& st) {
    std::optional<docker::Container> c;
    try {
        c = docker::inspect_container(m_docker, container());
    } catch (const error::Error& e) {
        st.live = fmt::format("unknown: {}", e.what());
        st.health = "unknown";
        return;
    }
    if (!c) {
        st.live = "no container";
        st.health = "—";
        if (st.current) {
            st.differences.push_back(
                fmt::format("the registry says deploy/{} runs, but there is "
                            "no container {}",
                            st.current->id, container()));
        }
        return;
    }
    const std::string dep = label_of(*c, "io.mloop.deployment");
    st.live = fmt::format("{} deploy/{} ({})", c->running ? "running" : c->status,
                          dep.empty() ? "?" : dep, container());
    if (!c->running) {
        st.health = fmt::format("failing: container {}", c->status);
    } else {
        const std::string why = probe_health(m_env.port, m_s.project.deploy->health_path,
                                             std::chrono::milliseconds(2000));
        st.health = why.empty() ? "ok" : "failing: " + why;
    }
    if (st.current && dep != std::to_string(st.current->id)) {
        st.differences.push_back(
            fmt::format("the registry says deploy/{} runs, but the container "
                        "belongs to deploy/{}",
                        st.current->id, dep.empty() ? "?" : dep));
    }
    if (st.image && c->image != st.image->image_id) {
        st.differences.push_back(fmt::format("the container runs image {}, not {}",
                                             c->image.substr(0, 19),
                                             st.image->image_id.substr(0, 19)));
    }
}

}  // namespace mloop::deploy
