#include "k8s/kubectl.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::k8s {

namespace {

using Json = nlohmann::json;

int int_at(const Json& j, const char* key) {
    if (j.is_object() && j.contains(key) && j[key].is_number_integer()) {
        return j[key].get<int>();
    }
    return 0;
}

std::string string_at(const Json& j, const char* key) {
    if (j.is_object() && j.contains(key) && j[key].is_string()) {
        return j[key].get<std::string>();
    }
    return "";
}

const Json& object_at(const Json& j, const char* key) {
    static const Json empty = Json::object();
    if (j.is_object() && j.contains(key) && j[key].is_object()) {
        return j[key];
    }
    return empty;
}

const Json& array_at(const Json& j, const char* key) {
    static const Json empty = Json::array();
    if (j.is_object() && j.contains(key) && j[key].is_array()) {
        return j[key];
    }
    return empty;
}

std::map<std::string, std::string> labels_of(const Json& metadata) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : object_at(metadata, "labels").items()) {
        if (v.is_string()) {
            out[k] = v.get<std::string>();
        }
    }
    return out;
}

Json parse_json(const std::string& text, const char* what) {
    Json j = Json::parse(text, nullptr, false);
    if (!j.is_object()) {
        throw error::ExternalError(fmt::format("kubectl printed no JSON {}", what));
    }
    return j;
}

bool not_found(const process::Result& r) {
    return r.err.find("(NotFound)") != std::string::npos;
}

}  // namespace

std::string filename_value(const std::string& path) {
    // kubectl reads --filename as a list in CSV (Go's encoding/csv): a comma splits the path, a
    // quote in it is an error, unless the whole value is quoted with its quotes doubled.
    if (path.find_first_of("\",\r\n") == std::string::npos) {
        return path;
    }
    std::string out = "\"";
    for (const char c : path) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::vector<std::string> scope_args(const Scope& scope) {
    std::vector<std::string> a;
    if (!scope.context.empty()) {
        a.push_back("--context=" + scope.context);
    }
    a.push_back("--namespace=" + scope.namespace_name);
    a.push_back("--request-timeout=5s");
    return a;
}

std::vector<std::string> apply_args(const Scope& scope, const std::string& path) {
    return apply_args(scope, std::vector<std::string>{path});
}

std::vector<std::string> apply_args(const Scope& scope, const std::vector<std::string>& paths) {
    auto a = scope_args(scope);
    for (const char* arg : {"apply", "--server-side", "--field-manager=mloop", "--force-conflicts",
                            "--validate=false"}) {
        a.emplace_back(arg);
    }
    for (const auto& path : paths) {
        a.push_back("--filename=" + filename_value(path));
    }
    return a;
}

std::vector<std::string> scale_args(const Scope& scope, const std::string& name, int replicas) {
    auto a = scope_args(scope);
    a.emplace_back("scale");
    a.emplace_back("deployment");
    a.push_back(fmt::format("--replicas={}", replicas));
    a.emplace_back("--");
    a.push_back(name);
    return a;
}

std::vector<std::string> delete_deployment_args(const Scope& scope, const std::string& name) {
    auto a = scope_args(scope);
    for (const char* arg :
         {"delete", "deployment", "--ignore-not-found=true", "--wait=false", "--"}) {
        a.emplace_back(arg);
    }
    a.push_back(name);
    return a;
}

std::vector<std::string> get_service_args(const Scope& scope, const std::string& name) {
    auto a = scope_args(scope);
    for (const char* arg : {"get", "service", "--output=json", "--"}) {
        a.emplace_back(arg);
    }
    a.push_back(name);
    return a;
}

std::vector<std::string> get_deployment_args(const Scope& scope, const std::string& name) {
    auto a = scope_args(scope);
    for (const char* arg : {"get", "deployment", "--output=json", "--"}) {
        a.emplace_back(arg);
    }
    a.push_back(name);
    return a;
}

std::vector<std::string> get_pods_args(const Scope& scope, const std::string& selector) {
    auto a = scope_args(scope);
    for (const char* arg : {"get", "pods", "--output=json"}) {
        a.emplace_back(arg);
    }
    a.push_back("--selector=" + selector);
    return a;
}

Client::Client(process::ProcessRunner& runner, std::vector<std::string> secrets)
    : m_runner(runner), m_secrets(std::move(secrets)) {
    const char* program = std::getenv("MLOOP_KUBECTL");
    m_program = program != nullptr && *program != '\0' ? program : "kubectl";
}

process::Result Client::try_run(const std::vector<std::string>& args) {
    process::Command c{m_program, args};
    // kubectl waits on the API server for at most --request-timeout per request; this bounds
    // the whole call (the dispatcher's /version probe, discovery, retries).
    c.timeout = std::chrono::milliseconds(30000);
    process::RunOptions o;
    o.out.capture = true;
    o.err.capture = true;
    o.secrets = m_secrets;
    process::Result r;
    try {
        r = m_runner.run(c, o);
    } catch (const error::ExternalError& e) {
        throw error::ExternalError(fmt::format("cannot run kubectl: {}", e.what()),
                                   "install kubectl, or set MLOOP_KUBECTL to its path");
    }
    if (r.interrupted_by) {
        throw error::Interrupted(*r.interrupted_by);
    }
    return r;
}

process::Result Client::run(const std::vector<std::string>& args, const std::string& what) {
    auto r = try_run(args);
    if (!r.ok()) {
        throw error::ExternalError(
            fmt::format("kubectl failed to {} ({}): {}", what, r.describe(), kubectl_message(r)));
    }
    return r;
}

std::string kubectl_message(const process::Result& r) {
    const auto lines = util::nonempty_lines(util::trim(r.err).empty() ? r.out : r.err);
    const size_t keep = 3;
    std::string out;
    for (size_t i = lines.size() > keep ? lines.size() - keep : 0; i < lines.size(); ++i) {
        out += (out.empty() ? "" : "\n") + lines[i];
    }
    return out.empty() ? r.describe() : out;
}

const Condition* DeploymentState::condition(const std::string& type) const {
    for (const auto& c : conditions) {
        if (c.type == type) {
            return &c;
        }
    }
    return nullptr;
}

DeploymentState parse_deployment(const std::string& json) {
    const Json j = parse_json(json, "for a deployment");
    DeploymentState d;
    const Json& meta = object_at(j, "metadata");
    d.name = string_at(meta, "name");
    d.generation = int_at(meta, "generation");
    const Json& spec = object_at(j, "spec");
    d.spec_replicas = spec.contains("replicas") ? int_at(spec, "replicas") : 1;
    const Json& tmpl = object_at(spec, "template");
    d.template_labels = labels_of(object_at(tmpl, "metadata"));
    for (const auto& c : array_at(object_at(tmpl, "spec"), "containers")) {
        d.images.push_back(string_at(c, "image"));
    }
    const Json& st = object_at(j, "status");
    d.observed_generation = int_at(st, "observedGeneration");
    d.replicas = int_at(st, "replicas");  // zero counts are omitted by the API
    d.updated = int_at(st, "updatedReplicas");
    d.ready = int_at(st, "readyReplicas");
    d.available = int_at(st, "availableReplicas");
    for (const auto& c : array_at(st, "conditions")) {
        d.conditions.push_back({string_at(c, "type"), string_at(c, "status"),
                                string_at(c, "reason"), string_at(c, "message")});
    }
    return d;
}

std::vector<PodState> parse_pods(const std::string& json) {
    const Json j = parse_json(json, "for pods");
    std::vector<PodState> out;
    for (const auto& item : array_at(j, "items")) {
        PodState p;
        const Json& meta = object_at(item, "metadata");
        p.name = string_at(meta, "name");
        p.labels = labels_of(meta);
        for (const auto& c : array_at(object_at(item, "spec"), "containers")) {
            p.images.push_back(string_at(c, "image"));
        }
        const Json& st = object_at(item, "status");
        p.phase = string_at(st, "phase");
        for (const auto& c : array_at(st, "conditions")) {
            if (string_at(c, "type") == "Ready") {
                p.ready = string_at(c, "status") == "True";
            }
        }
        for (const auto& cs : array_at(st, "containerStatuses")) {
            p.restarts = std::max(p.restarts, int_at(cs, "restartCount"));
            const Json& waiting = object_at(object_at(cs, "state"), "waiting");
            if (p.waiting_reason.empty() && !string_at(waiting, "reason").empty()) {
                p.waiting_reason = string_at(waiting, "reason");
                p.waiting_message = string_at(waiting, "message");
            }
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::optional<DeploymentState> get_deployment(Client& kubectl, const Scope& scope,
                                              const std::string& name) {
    auto r = kubectl.try_run(get_deployment_args(scope, name));
    if (!r.ok()) {
        if (r.exit_code && not_found(r)) {
            return std::nullopt;
        }
        throw error::ExternalError(fmt::format("kubectl failed to get deployment {} ({}): {}", name,
                                               r.describe(), kubectl_message(r)));
    }
    return parse_deployment(r.out);
}

std::vector<PodState> get_pods(Client& kubectl, const Scope& scope, const std::string& selector) {
    auto r = kubectl.run(get_pods_args(scope, selector), "list pods " + selector);
    return parse_pods(r.out);
}

std::optional<std::map<std::string, std::string>> get_service_selector(Client& kubectl,
                                                                       const Scope& scope,
                                                                       const std::string& name) {
    auto r = kubectl.try_run(get_service_args(scope, name));
    if (!r.ok()) {
        if (r.exit_code && not_found(r)) {
            return std::nullopt;
        }
        throw error::ExternalError(fmt::format("kubectl failed to get service {} ({}): {}", name,
                                               r.describe(), kubectl_message(r)));
    }
    const Json j = parse_json(r.out, "for a service");
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : object_at(object_at(j, "spec"), "selector").items()) {
        if (v.is_string()) {
            out[k] = v.get<std::string>();
        }
    }
    return out;
}

void delete_deployment(Client& kubectl, const Scope& scope, const std::string& name) {
    kubectl.run(delete_deployment_args(scope, name), "delete deployment " + name);
}

bool scale(Client& kubectl, const Scope& scope, const std::string& name, int replicas) {
    auto r = kubectl.try_run(scale_args(scope, name, replicas));
    if (!r.ok()) {
        if (r.exit_code && not_found(r)) {
            return false;
        }
        throw error::ExternalError(
            fmt::format("kubectl failed to scale deployment {} to {} ({}): {}", name, replicas,
                        r.describe(), kubectl_message(r)));
    }
    return true;
}

}  // namespace mloop::k8s
