// kubectl as mloop drives it: argument vectors built one argument at a time, every option in its
// `--name=value` form and `--` before positional names (SPEC §8), output captured. kubectl
// missing or failing is error::ExternalError (exit 3) carrying kubectl's own message. The
// cluster is the one KUBECONFIG (inherited) names; `context:` of the environment becomes
// `--context=`, its namespace `--namespace=`. MLOOP_KUBECTL names another program.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process/runner.hpp"

namespace mloop::k8s {

// Where kubectl talks to: the kubeconfig context (empty: the current one) and the namespace.
struct Scope {
    std::string context;
    std::string namespace_name = "default";
};

// The options every kubectl call starts with: --context, --namespace, --request-timeout.
std::vector<std::string> scope_args(const Scope& scope);
// PATH as kubectl's --filename takes it: its value is a CSV list, so a path with a comma, a
// quote or a line break is quoted, its quotes doubled.
std::string filename_value(const std::string& path);
// apply --server-side --field-manager=mloop --force-conflicts --validate=false --filename=PATH
std::vector<std::string> apply_args(const Scope& scope, const std::string& path);
// The same with several --filename= options, applied in the order given.
std::vector<std::string> apply_args(const Scope& scope, const std::vector<std::string>& paths);
// scale deployment --replicas=N -- NAME
std::vector<std::string> scale_args(const Scope& scope, const std::string& name, int replicas);
// delete deployment --ignore-not-found=true --wait=false -- NAME
std::vector<std::string> delete_deployment_args(const Scope& scope, const std::string& name);
// get service --output=json -- NAME
std::vector<std::string> get_service_args(const Scope& scope, const std::string& name);
// get deployment --output=json -- NAME
std::vector<std::string> get_deployment_args(const Scope& scope, const std::string& name);
// get pods --selector=SELECTOR --output=json
std::vector<std::string> get_pods_args(const Scope& scope, const std::string& selector);

class Client {
  public:
    // `secrets`: values masked in everything kubectl prints through mloop.
    Client(process::ProcessRunner& runner, std::vector<std::string> secrets);

    // Runs `kubectl ARGS…`, capturing both streams; a failure is returned for the caller to
    // judge. Throws ExternalError only when kubectl cannot be started.
    process::Result try_run(const std::vector<std::string>& args);
    // The same, but a failure throws ExternalError quoting kubectl; `what` says what mloop
    // was doing.
    process::Result run(const std::vector<std::string>& args, const std::string& what);

    const std::string& program() const { return m_program; }

  private:
    process::ProcessRunner& m_runner;
    std::vector<std::string> m_secrets;
    std::string m_program;
};

// kubectl's own explanation of a failure: the last lines of its stderr, else its stdout.
std::string kubectl_message(const process::Result& r);

struct Condition {
    std::string type;
    std::string status;  // True | False | Unknown
    std::string reason;
    std::string message;
};

struct DeploymentState {
    std::string name;
    int64_t generation = 0;
    int64_t observed_generation = 0;
    int spec_replicas = 1;
    int replicas = 0;
    int updated = 0;
    int ready = 0;
    int available = 0;
    std::map<std::string, std::string> template_labels;
    std::vector<std::string> images;  // of the pod template's containers
    std::vector<Condition> conditions;

    const Condition* condition(const std::string& type) const;
};
// Parses `kubectl get deployment NAME -o json`. Throws ExternalError on JSON that is not one.
DeploymentState parse_deployment(const std::string& json);

struct PodState {
    std::string name;
    std::map<std::string, std::string> labels;
    std::string phase;
    bool ready = false;
    std::vector<std::string> images;
    int restarts = 0;             // the largest restartCount of its containers
    std::string waiting_reason;   // of the first waiting container
    std::string waiting_message;  // its message
};
// Parses `kubectl get pods -o json` (a List).
std::vector<PodState> parse_pods(const std::string& json);

// The live Deployment, or nullopt when it does not exist. Throws ExternalError when kubectl
// fails otherwise (the API server unreachable, …).
std::optional<DeploymentState> get_deployment(Client& kubectl, const Scope& scope,
                                              const std::string& name);
std::vector<PodState> get_pods(Client& kubectl, const Scope& scope, const std::string& selector);
// The live Service's selector, or nullopt when there is no such Service. Throws ExternalError
// when kubectl fails otherwise.
std::optional<std::map<std::string, std::string>> get_service_selector(Client& kubectl,
                                                                       const Scope& scope,
                                                                       const std::string& name);
// Deletes a Deployment if it exists. Throws ExternalError when kubectl fails.
void delete_deployment(Client& kubectl, const Scope& scope, const std::string& name);
// Scales a Deployment; false when it does not exist. Throws ExternalError on other failures.
bool scale(Client& kubectl, const Scope& scope, const std::string& name, int replicas);

}  // namespace mloop::k8s
