#include "monitor/retrain.hpp"

#include <fmt/format.h>

#include "process/runner.hpp"

namespace mloop::monitor {

Retrain retrain(train::Session& s, const Report& r, const std::filesystem::path& self, bool echo) {
    process::Command cmd;
    cmd.program = self.string();
    cmd.args = {"-f",         s.project.file.string(),
                "--registry", s.paths.registry.string(),
                "--no-color", "--json",
                "train",      "--if-triggered"};
    cmd.env = {{"MLOOP_MONITOR_REPORT", fmt::format("monitor/{}", r.id)}};
    cmd.cwd = s.paths.root;
    cmd.grace = std::chrono::seconds(10);  // the run records its interruption first
    process::RunOptions ro;
    ro.out.capture = true;
    ro.err.terminal = echo;
    ro.err.capture = !echo;
    ro.secrets = s.secrets;
    const process::Result res = s.runner->run(cmd, ro);

    Retrain out;
    out.exit_code = res.exit_code.value_or(res.signal ? 128 + *res.signal : 1);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(res.out);
    } catch (const nlohmann::json::parse_error&) {
    }
    if (j.is_object() && j.contains("trained") && !j["trained"].get<bool>()) {
        out.outcome = "not-triggered";
    } else if (j.is_object() && j.contains("run") && j["run"].is_number_integer()) {
        out.outcome = "trained";
        out.run = j["run"].get<int64_t>();
        out.state = j.value("state", "");
        if (j.contains("version") && j["version"].is_string()) {
            out.version = j["version"].get<std::string>();
        }
        out.detail = j.value("reason", "");
    } else {
        out.outcome = "error";
        if (j.is_object() && j.contains("error") && j["error"].is_object()) {
            out.detail = j["error"].value("message", res.describe());
        } else {
            out.detail = fmt::format("mloop train --if-triggered {}", res.describe());
        }
    }
    if (res.interrupted_by) {
        out.exit_code = 128 + *res.interrupted_by;
    }
    return out;
}

nlohmann::ordered_json retrain_json(const Retrain& r) {
    using J = nlohmann::ordered_json;
    J j = {{"outcome", r.outcome},
           {"run", r.run ? J(*r.run) : J()},
           {"state", r.state.empty() ? J() : J(r.state)},
           {"version", r.version ? J(*r.version) : J()},
           {"exit_code", r.exit_code}};
    if (!r.detail.empty()) {
        j["detail"] = r.detail;
    }
    return j;
}

std::string retrain_summary(const nlohmann::ordered_json& j) {
    const std::string outcome = j.value("outcome", "");
    const std::string detail = j.contains("detail") ? j["detail"].get<std::string>() : "";
    if (outcome == "not-triggered") {
        return "retrain: no trigger fired (train.triggers drift and performance read this "
               "report): not training";
    }
    if (outcome != "trained") {
        return "retrain failed: " + detail;
    }
    std::string s = fmt::format("retrain: run {} {}", j["run"].get<int64_t>(),
                                j["state"].is_string() ? j["state"].get<std::string>() : "?");
    if (j["version"].is_string()) {
        s += ", registered " + j["version"].get<std::string>();
    }
    if (!detail.empty()) {
        s += ": " + detail;
    }
    return s;
}

}  // namespace mloop::monitor
