#include "monitor/alerts.hpp"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "config/variables.hpp"
#include "error/error.hpp"
#include "net/http.hpp"
#include "process/command.hpp"
#include "process/mask.hpp"
#include "registry/registry.hpp"
#include "registry/reports.hpp"
#include "util/text.hpp"

namespace mloop::monitor {

namespace {

std::string summary(const train::Session& s, const Report& r) {
    return fmt::format(
        "mloop monitor: {}{}{}: {} (monitor/{})", s.project.name, r.env.empty() ? "" : " " + r.env,
        r.version ? " " + r.version->text() : std::string(), util::join(r.alerts, "; "), r.id);
}

Sent webhook(const train::Session& s, const config::Alert& a, const std::string& body) {
    Sent out;
    out.kind = "webhook";
    const std::string url = expand_env(a.url, s.project.display_file, "monitor.alerts");
    out.target = process::mask(url, s.secrets);
    auto parsed = net::parse_url(url);
    if (!parsed) {
        out.error = parsed.error();
        return out;
    }
    net::Request req;
    req.method = "POST";
    req.url = parsed.value();
    req.headers["Content-Type"] = "application/json";
    req.body = body;
    req.timeout = std::chrono::milliseconds(5000);
    auto res = net::send(req);
    if (!res) {
        out.error = res.error();
    } else if (res->status < 200 || res->status >= 300) {
        out.error = fmt::format("HTTP {}", res->status);
    } else {
        out.ok = true;
    }
    return out;
}

Sent command(train::Session& s, const config::Alert& a, const std::string& report) {
    Sent out;
    out.kind = "command";
    std::vector<std::string> argv;
    for (const auto& t : a.command) {
        argv.push_back(expand_env(t, s.project.display_file, "monitor.alerts"));
    }
    if (argv.empty()) {
        out.error = "empty command";
        return out;
    }
    process::Command cmd{argv.front(), {argv.begin() + 1, argv.end()}};
    cmd.cwd = s.paths.root;
    cmd.timeout = std::chrono::seconds(30);
    out.target = process::mask(process::describe(cmd), s.secrets);
    process::RunOptions o;
    o.out.capture = true;
    o.err.capture = true;
    o.secrets = s.secrets;
    o.stdin_data = report;
    try {
        const auto res = s.runner->run(cmd, o);
        if (res.interrupted_by) {
            throw error::Interrupted(*res.interrupted_by);
        }
        out.ok = res.ok();
        if (!out.ok) {
            const auto lines = util::nonempty_lines(res.err.empty() ? res.out : res.err);
            out.error = res.describe() + (lines.empty() ? "" : ": " + lines.back());
        }
    } catch (const error::ExternalError& e) {
        out.error = e.what();
    }
    return out;
}

}  // namespace

bool opens_incident(train::Session& s, const Report& r) {
    if (r.alerts.empty()) {
        return false;
    }
    registry::Db& db = s.db();
    registry::Stmt q = db.prepare(fmt::format(
        "SELECT alerts FROM monitor_reports WHERE id < ? AND {} ORDER BY id DESC LIMIT 1",
        r.env.empty() ? "env IS NULL" : "env = ?"));
    q.bind(1, r.id);
    if (!r.env.empty()) {
        q.bind(2, r.env);
    }
    if (!q.step()) {
        return true;
    }
    return q.text(0) == "[]";
}

std::vector<Sent> send_alerts(train::Session& s, Report& r) {
    std::vector<Sent> out;
    const auto& m = *s.project.monitor;
    if (m.alerts.empty() || r.alerts.empty()) {
        return out;
    }
    const auto report = report_json(r);
    const std::string body =
        nlohmann::ordered_json{{"text", summary(s, r)}, {"report", report}}.dump();
    for (const auto& a : m.alerts) {
        out.push_back(a.kind == config::Alert::Kind::webhook ? webhook(s, a, body)
                                                             : command(s, a, report.dump()));
    }
    r.sent = out;
    rewrite(s, r);
    return out;
}

}  // namespace mloop::monitor
