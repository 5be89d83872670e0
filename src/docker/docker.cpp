#include "docker/docker.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::docker {

namespace {

// docker's own explanation: the last non-empty lines of its stderr (a build's last step), else
// its stdout.
std::string docker_message(const process::Result& r) {
    const auto lines = util::nonempty_lines(util::trim(r.err).empty() ? r.out : r.err);
    const size_t keep = 3;
    std::string out;
    for (size_t i = lines.size() > keep ? lines.size() - keep : 0; i < lines.size(); ++i) {
        out += (out.empty() ? "" : "\n") + lines[i];
    }
    return out.empty() ? r.describe() : out;
}

}  // namespace

Client::Client(process::ProcessRunner& runner, std::vector<std::string> secrets)
    : m_runner(runner), m_secrets(std::move(secrets)) {
    const char* program = std::getenv("MLOOP_DOCKER");
    m_program = program != nullptr && *program != '\0' ? program : "docker";
}

process::Result Client::try_run(const std::vector<std::string>& args) {
    process::Command c{m_program, args};
    process::RunOptions o;
    o.out.capture = true;
    o.err.capture = true;
    o.secrets = m_secrets;
    try {
        return m_runner.run(c, o);
    } catch (const error::ExternalError& e) {
        throw error::ExternalError(fmt::format("cannot run docker: {}", e.what()),
                                   "install docker (Debian: apt-get install docker.io), or set "
                                   "MLOOP_DOCKER to its path");
    }
}

process::Result Client::run(const std::vector<std::string>& args, const std::string& what) {
    auto r = try_run(args);
    if (!r.ok()) {
        if (r.interrupted_by) {
            throw error::Interrupted(*r.interrupted_by);
        }
        throw error::ExternalError(
            fmt::format("docker failed to {} ({}): {}", what, r.describe(), docker_message(r)));
    }
    return r;
}

process::Result Client::run_streaming(const std::vector<std::string>& args, const std::string& what,
                                      bool quiet) {
    process::Command c{m_program, args};
    process::RunOptions o;
    o.out.capture = true;
    o.err.capture = true;
    o.secrets = m_secrets;
    // docker's progress goes to mloop's stderr: stdout is for data (and --json).
    o.err.terminal = !quiet;
    process::Result r;
    try {
        r = m_runner.run(c, o);
    } catch (const error::ExternalError& e) {
        throw error::ExternalError(fmt::format("cannot run docker: {}", e.what()),
                                   "install docker (Debian: apt-get install docker.io), or set "
                                   "MLOOP_DOCKER to its path");
    }
    if (r.interrupted_by) {
        throw error::Interrupted(*r.interrupted_by);
    }
    if (!r.ok()) {
        throw error::ExternalError(
            fmt::format("docker failed to {} ({}): {}", what, r.describe(), docker_message(r)));
    }
    return r;
}

void Client::require_engine() {
    auto r = try_run({"version", "--format={{.Server.Version}}"});
    if (!r.ok()) {
        throw error::ExternalError(fmt::format("docker is not usable: {}", docker_message(r)),
                                   "start the docker engine (dockerd), or check DOCKER_HOST");
    }
}

std::vector<std::string> build_args(const BuildSpec& spec) {
    std::vector<std::string> a{"build", "--file=" + spec.dockerfile, "--tag=" + spec.tag};
    if (!spec.iidfile.empty()) {
        a.push_back("--iidfile=" + spec.iidfile);
    }
    if (spec.no_cache) {
        a.push_back("--no-cache");
    }
    for (const auto& [k, v] : spec.labels) {
        a.push_back("--label=" + k + "=" + v);
    }
    for (const auto& [k, v] : spec.build_args) {
        a.push_back("--build-arg=" + k + "=" + v);
    }
    a.push_back("--");
    a.push_back(spec.context);
    return a;
}

std::vector<std::string> run_args(const RunSpec& spec) {
    std::vector<std::string> a{"run", "--detach", "--name=" + spec.name, "--restart=no",
                               "--network=" + spec.network};
    if (spec.network != "host") {
        a.push_back(fmt::format("--publish=127.0.0.1:{}:{}", spec.port, spec.port));
    }
    for (const auto& [k, v] : spec.labels) {
        a.push_back("--label=" + k + "=" + v);
    }
    for (const auto& [k, v] : spec.env) {
        a.push_back("--env=" + k + "=" + v);
    }
    for (const auto& [host, inside] : spec.mounts) {
        a.push_back("--mount=type=bind,source=" + host + ",target=" + inside);
    }
    // The image is the first positional argument; what follows is the container's own argv,
    // which docker passes through without reading it.
    a.push_back("--");
    a.push_back(spec.image);
    for (const auto& arg : spec.command) {
        a.push_back(arg);
    }
    return a;
}

Container parse_container(const std::string& json_object) {
    const auto j = nlohmann::json::parse(json_object);
    Container c;
    c.id = j.value("Id", "");
    c.name = j.value("Name", "");
    if (!c.name.empty() && c.name[0] == '/') {
        c.name.erase(0, 1);
    }
    c.image = j.value("Image", "");
    c.restarts = j.value("RestartCount", 0);
    if (j.contains("State") && j["State"].is_object()) {
        const auto& s = j["State"];
        c.status = s.value("Status", "");
        c.running = s.value("Running", false);
        c.exit_code = s.value("ExitCode", 0);
        c.started_at = s.value("StartedAt", "");
    }
    if (j.contains("Config") && j["Config"].is_object() && j["Config"].contains("Labels") &&
        j["Config"]["Labels"].is_object()) {
        for (const auto& [k, v] : j["Config"]["Labels"].items()) {
            if (v.is_string()) {
                c.labels[k] = v.get<std::string>();
            }
        }
    }
    return c;
}

std::optional<Container> inspect_container(Client& docker, const std::string& name) {
    auto r = docker.try_run({"container", "inspect", "--", name});
    if (!r.ok()) {
        if (r.err.find("No such") != std::string::npos ||
            r.err.find("no such") != std::string::npos) {
            return std::nullopt;
        }
        throw error::ExternalError(
            fmt::format("docker failed to inspect container '{}': {}", name, docker_message(r)));
    }
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_array() || j.empty()) {
        return std::nullopt;
    }
    return parse_container(j[0].dump());
}

std::optional<ImageInfo> inspect_image(Client& docker, const std::string& ref) {
    auto r = docker.try_run({"image", "inspect", "--", ref});
    if (!r.ok()) {
        if (r.err.find("No such") != std::string::npos ||
            r.err.find("no such") != std::string::npos) {
            return std::nullopt;
        }
        throw error::ExternalError(
            fmt::format("docker failed to inspect image '{}': {}", ref, docker_message(r)));
    }
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_array() || j.empty() || !j[0].is_object()) {
        return std::nullopt;
    }
    ImageInfo info;
    info.id = j[0].value("Id", "");
    info.size = j[0].value("Size", int64_t{0});
    if (j[0].contains("RepoDigests") && j[0]["RepoDigests"].is_array()) {
        for (const auto& d : j[0]["RepoDigests"]) {
            if (d.is_string()) {
                info.repo_digests.push_back(d.get<std::string>());
            }
        }
    }
    const auto& cfg = j[0].contains("Config") ? j[0]["Config"] : nlohmann::json();
    if (cfg.is_object() && cfg.contains("Labels") && cfg["Labels"].is_object()) {
        for (const auto& [k, v] : cfg["Labels"].items()) {
            if (v.is_string()) {
                info.labels[k] = v.get<std::string>();
            }
        }
    }
    return info;
}

std::vector<std::string> containers_with_label(Client& docker, const std::string& label) {
    auto r = docker.run({"ps", "--all", "--filter=label=" + label, "--format={{.Names}}"},
                        "list containers");
    return util::nonempty_lines(r.out);
}

std::optional<Stats> stats(Client& docker, const std::string& name) {
    auto r = docker.try_run({"stats", "--no-stream", "--format={{json .}}", "--", name});
    if (!r.ok()) {
        return std::nullopt;
    }
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_object()) {
        return std::nullopt;
    }
    Stats s;
    const std::string cpu = j.value("CPUPerc", "0%");
    s.cpu_percent = std::strtod(cpu.c_str(), nullptr);
    // "12.5MiB / 1.9GiB"
    const std::string mem = j.value("MemUsage", "0B");
    char* end = nullptr;
    const double value = std::strtod(mem.c_str(), &end);
    const std::string unit = end != nullptr ? std::string(end).substr(0, 3) : "";
    double scale = 1;
    if (unit.rfind("KiB", 0) == 0 || unit.rfind("kB", 0) == 0) {
        scale = 1024;
    } else if (unit.rfind("MiB", 0) == 0 || unit.rfind("MB", 0) == 0) {
        scale = 1024.0 * 1024;
    } else if (unit.rfind("GiB", 0) == 0 || unit.rfind("GB", 0) == 0) {
        scale = 1024.0 * 1024 * 1024;
    }
    s.memory_bytes = static_cast<int64_t>(value * scale);
    return s;
}

}  // namespace mloop::docker
