// The docker CLI as mloop drives it: argument vectors built one argument at a time, every
// option in its `--name=value` form so that no value (an environment variable's, a label's) can
// be read by docker as an option of its own (SPEC §8), and `--` before positional names.
// Docker missing or failing is error::ExternalError (exit 3) carrying docker's own message.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process/runner.hpp"

namespace mloop::docker {

class Client {
  public:
    // `secrets`: values masked in everything docker prints through mloop.
    Client(process::ProcessRunner& runner, std::vector<std::string> secrets);

    // Runs `docker ARGS…`, capturing both streams. Throws ExternalError naming the docker
    // command and quoting docker's stderr when it fails; `what` says what mloop was doing.
    process::Result run(const std::vector<std::string>& args, const std::string& what);
    // The same, but a failure is returned for the caller to judge.
    process::Result try_run(const std::vector<std::string>& args);
    // Streams docker's output to mloop's stderr as it comes (builds, pushes), unless quiet.
    process::Result run_streaming(const std::vector<std::string>& args, const std::string& what,
                                  bool quiet);

    // `docker version`: throws ExternalError with docker's message when no engine answers.
    void require_engine();

  private:
    process::ProcessRunner& m_runner;
    std::vector<std::string> m_secrets;
    std::string m_program;
};

struct BuildSpec {
    std::string context;     // directory
    std::string dockerfile;  // path
    std::string tag;         // repository:tag
    std::map<std::string, std::string> labels;
    std::vector<std::pair<std::string, std::string>> build_args;
    bool no_cache = false;
    std::string iidfile;
};
std::vector<std::string> build_args(const BuildSpec& spec);

struct RunSpec {
    std::string name;
    std::string image;
    std::string network = "host";  // host | bridge
    int port = 8080;               // published as port:port with the bridge network
    std::vector<std::pair<std::string, std::string>> env;
    std::map<std::string, std::string> labels;
    std::vector<std::pair<std::string, std::string>> mounts;  // host path, container path
    std::vector<std::string> command;                         // after the image; may be empty
};
// `run --detach …`: the exact argv a deployment records and a rollback re-applies.
std::vector<std::string> run_args(const RunSpec& spec);

struct Container {
    std::string id;
    std::string name;
    std::string image;   // the image ID it runs (sha256:…)
    std::string status;  // created | running | exited | …
    bool running = false;
    int exit_code = 0;
    int restarts = 0;
    std::string started_at;
    std::map<std::string, std::string> labels;
};
// Parses one element of `docker inspect`'s JSON array.
Container parse_container(const std::string& json_object);
std::optional<Container> inspect_container(Client& docker, const std::string& name);

struct ImageInfo {
    std::string id;
    int64_t size = 0;
    std::vector<std::string> repo_digests;
    std::map<std::string, std::string> labels;
};
std::optional<ImageInfo> inspect_image(Client& docker, const std::string& ref);

// Names of containers that carry the label (key=value), running or not.
std::vector<std::string> containers_with_label(Client& docker, const std::string& label);

// CPU share and memory of a running container, from one `docker stats --no-stream`.
struct Stats {
    double cpu_percent = 0;
    int64_t memory_bytes = 0;
};
std::optional<Stats> stats(Client& docker, const std::string& name);

}  // namespace mloop::docker
