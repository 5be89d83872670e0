#include "deploy/analysis.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/variables.hpp"
#include "error/error.hpp"
#include "net/http.hpp"
#include "process/command.hpp"
#include "process/mask.hpp"
#include "render/format.hpp"
#include "util/text.hpp"

namespace mloop::deploy {

namespace {

std::string limits(const config::Analysis& c) {
    std::vector<std::string> parts;
    if (c.min) {
        parts.push_back("min " + render::number(*c.min));
    }
    if (c.max) {
        parts.push_back("max " + render::number(*c.max));
    }
    return util::join(parts, ", ");
}

CheckResult check_command(const config::Analysis& c, const AnalysisContext& ctx) {
    CheckResult r;
    r.kind = "command";
    std::vector<std::string> argv;
    for (const auto& a : c.command) {
        auto v = config::expand(a.value, [&](std::string_view name) -> std::optional<std::string> {
            const auto it = ctx.values.find(std::string(name));
            if (it != ctx.values.end()) {
                return it->second;
            }
            if (util::starts_with(name, "env.")) {
                const char* e = std::getenv(std::string(name.substr(4)).c_str());
                return std::string(e != nullptr ? e : "");
            }
            return std::nullopt;
        });
        if (!v) {
            throw error::UsageError(fmt::format("{}:{}:{}: analysis command: {}", ctx.display_file,
                                                a.mark.line, a.mark.column, v.error()));
        }
        argv.push_back(v.value());
    }
    if (argv.empty()) {
        r.reason = "empty command";
        return r;
    }
    process::Command cmd{argv.front(), {argv.begin() + 1, argv.end()}};
    cmd.cwd = ctx.cwd;
    cmd.timeout = ctx.timeout;
    r.what = process::mask(process::describe(cmd), ctx.secrets);
    process::RunOptions o;
    o.out.capture = true;
    o.err.capture = true;
    o.secrets = ctx.secrets;
    process::Result res;
    try {
        res = ctx.runner->run(cmd, o);
    } catch (const error::ExternalError& e) {
        r.reason = e.what();
        return r;
    }
    if (res.interrupted_by) {
        throw error::Interrupted(*res.interrupted_by);
    }
    r.passed = res.ok();
    if (!r.passed) {
        const auto lines = util::nonempty_lines(res.err.empty() ? res.out : res.err);
        r.reason = res.describe() + (lines.empty() ? "" : ": " + lines.back());
    }
    return r;
}

}  // namespace

CheckResult check_prometheus(const config::Analysis& c, std::chrono::milliseconds timeout) {
    CheckResult r;
    r.kind = "prometheus";
    r.what = c.query.value;
    auto url = net::parse_url(c.url.value);
    if (!url) {
        r.reason = fmt::format("prometheus url: {}", url.error());
        return r;
    }
    std::string base = url->target;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    net::Request req;
    req.url = url.value();
    req.url.target = base + "/api/v1/query?query=" + net::url_encode(c.query.value);
    req.timeout = timeout;
    auto res = net::send(req);
    if (!res) {
        r.reason = fmt::format("prometheus at {}: {}", c.url.value, res.error());
        return r;
    }
    const auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (!j.is_object()) {
        r.reason = fmt::format("prometheus answered HTTP {} without JSON", res->status);
        return r;
    }
    if (j.value("status", "") != "success") {
        r.reason = fmt::format("prometheus: {} ({})", j.value("error", "query failed"),
                               j.value("errorType", fmt::format("HTTP {}", res->status)));
        return r;
    }
    std::vector<double> samples;
    const auto& data = j.contains("data") ? j["data"] : nlohmann::json();
    const std::string type = data.is_object() ? data.value("resultType", "") : "";
    const auto value_of = [](const nlohmann::json& pair) -> std::optional<double> {
        if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) {
            return std::nullopt;
        }
        const std::string text = pair[1].get<std::string>();
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str()) {
            return std::nullopt;
        }
        return v;
    };
    if (type == "vector" && data["result"].is_array()) {
        for (const auto& s : data["result"]) {
            if (auto v =
                    s.is_object() && s.contains("value") ? value_of(s["value"]) : std::nullopt) {
                samples.push_back(*v);
            }
        }
    } else if (type == "scalar") {
        if (auto v = value_of(data["result"])) {
            samples.push_back(*v);
        }
    }
    if (samples.empty()) {
        r.reason = "the query returned no data";
        return r;
    }
    r.passed = true;
    for (double v : samples) {
        const bool low = c.min && !(v >= *c.min);
        const bool high = c.max && !(v <= *c.max);
        if (low || high || std::isnan(v)) {
            r.passed = false;
            r.value = v;
            r.reason = fmt::format("{} is outside {}", render::number(v), limits(c));
            return r;
        }
        r.value = r.value ? std::max(*r.value, v) : v;
    }
    r.reason = fmt::format("{} within {}", render::number(*r.value), limits(c));
    return r;
}

std::vector<CheckResult> run_analysis(const std::vector<config::Analysis>& checks,
                                      const AnalysisContext& ctx) {
    std::vector<CheckResult> out;
    for (const auto& c : checks) {
        switch (c.kind) {
            case config::Analysis::Kind::prometheus:
                out.push_back(check_prometheus(c, ctx.timeout));
                break;
            case config::Analysis::Kind::command:
                out.push_back(check_command(c, ctx));
                break;
            case config::Analysis::Kind::monitor: {
                if (ctx.monitor) {
                    out.push_back(ctx.monitor(c));
                    break;
                }
                CheckResult r;
                r.kind = "monitor";
                r.what = "drift and performance of the new version's traffic";
                r.reason = "no monitor to run it with";
                out.push_back(r);
                break;
            }
        }
    }
    return out;
}

bool all_passed(const std::vector<CheckResult>& results) {
    for (const auto& r : results) {
        if (!r.passed) {
            return false;
        }
    }
    return true;
}

std::string failures(const std::vector<CheckResult>& results) {
    std::vector<std::string> parts;
    for (const auto& r : results) {
        if (!r.passed) {
            parts.push_back(fmt::format("{} {}: {}", r.kind, r.what, r.reason));
        }
    }
    return util::join(parts, "; ");
}

}  // namespace mloop::deploy
