#include "deploy_result.hpp"

#include "gates_table.hpp"
#include "process/command.hpp"
#include "render/format.hpp"
#include "util/text.hpp"

namespace mloop::cli {

void print_recoveries(Context& ctx, const std::vector<deploy::Recovery>& recovered) {
    for (const auto& rec : recovered) {
        ctx.out.note(fmt::format("deploy/{} was left unfinished (last step: {}); {} it: {}",
                                 rec.deployment, rec.last_step,
                                 rec.action == "finished" ? "finished" : "undid", rec.state));
    }
}

nlohmann::ordered_json recoveries_json(const std::vector<deploy::Recovery>& recovered) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& rec : recovered) {
        a.push_back({{"deployment", rec.deployment},
                     {"last_step", rec.last_step},
                     {"action", rec.action},
                     {"state", rec.state}});
    }
    return a;
}

void print_notes(Context& ctx, const std::vector<std::string>& notes) {
    for (const auto& n : notes) {
        ctx.out.note(n);
    }
}

nlohmann::ordered_json analysis_json(const std::vector<deploy::CheckResult>& checks) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& c : checks) {
        a.push_back(
            {{"kind", c.kind},
             {"what", c.what},
             {"passed", c.passed},
             {"value", c.value ? nlohmann::ordered_json(*c.value) : nlohmann::ordered_json()},
             {"reason", c.reason}});
    }
    return a;
}

void print_deployment(Context& ctx, const deploy::Result& r) {
    print_recoveries(ctx, r.recovered);
    print_notes(ctx, r.notes);
    if (r.gates) {
        print_gates(ctx.out, *r.gates);
    }
    if (r.refused) {
        return;
    }
    const std::string argv =
        r.argv.empty() ? ""
                       : process::describe({r.argv.front(), {r.argv.begin() + 1, r.argv.end()}});
    if (r.state == "dry-run" || r.state == "rendered") {
        const std::string image =
            r.image ? " (image " + r.image->reference() + ")" : " (packaging it first)";
        if (r.kind == "rollback") {
            ctx.out.print("would roll back {} to {}{}", r.env, r.version.text(), image);
        } else {
            ctx.out.print("would deploy {} to {}{}", r.version.text(), r.env, image);
        }
        ctx.out.print("  {}", argv);
        if (r.state == "dry-run") {
            for (const auto& [name, text] : r.rendered) {
                ctx.out.print("--- {}", name);
                ctx.out.raw(text);
            }
        }
        if (r.state == "rendered") {
            ctx.out.print("rendered into {}", r.manifests.string());
        }
        return;
    }
    const std::string what = r.kind == "rollback"
                                 ? fmt::format("rollback of {} to {}", r.env, r.version.text())
                                 : fmt::format("{} → {}", r.version.text(), r.env);
    if (r.state == "succeeded") {
        ctx.out.print("deploy/{}: {} succeeded, serving at {} ({} in {}, {} in all)", r.deployment,
                      what, r.url, render::duration(r.external_ms),
                      r.rendered.empty() ? "docker and health checks" : "kubectl and the rollout",
                      render::duration(r.total_ms));
    } else if (r.state == "progressing") {
        ctx.out.print("deploy/{}: {} started at {}; not waiting for its health check", r.deployment,
                      what, r.url);
    } else {
        ctx.out.print("deploy/{}: {} {}", r.deployment, what, r.state);
    }
    if (r.forced) {
        ctx.out.note(fmt::format("forced past: {}", util::join(r.refusals, "; ")));
    }
}

nlohmann::ordered_json deployment_json(const deploy::Result& r) {
    nlohmann::ordered_json j{
        {"deployment",
         r.deployment == 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(r.deployment)},
        {"kind", r.kind},
        {"env", r.env},
        {"version", r.version.text()},
        {"state", r.state.empty() && r.refused ? "refused" : r.state},
        {"reason", r.reason},
        {"refusals", r.refusals},
        {"forced", r.forced},
        {"previous", r.previous ? nlohmann::ordered_json(*r.previous) : nlohmann::ordered_json()},
        {"rollback_to",
         r.rollback_to ? nlohmann::ordered_json(*r.rollback_to) : nlohmann::ordered_json()},
        {"image", r.image ? nlohmann::ordered_json({{"reference", r.image->reference()},
                                                    {"image_id", r.image->image_id}})
                          : nlohmann::ordered_json()},
        {"url", r.url},
        {"argv", r.argv},
        {"manifests", r.manifests.string()},
        {"rendered",
         [&] {
             nlohmann::ordered_json m = nlohmann::ordered_json::object();
             for (const auto& [name, text] : r.rendered) {
                 m[name] = text;
             }
             return m;
         }()},
        {"strategy", r.strategy},
        {"analysis", analysis_json(r.analysis)},
        {"recovered", recoveries_json(r.recovered)},
        {"notes", r.notes},
        {"timing", {{"total_ms", r.total_ms}, {"external_ms", r.external_ms}}}};
    if (r.gates) {
        j["gates"] = gates_json(*r.gates);
    }
    return j;
}

int deployment_exit_code(Context& ctx, const deploy::Result& r) {
    if (r.refused) {
        error::Diagnostic d;
        d.message = fmt::format("{} was not deployed to {}: {}", r.version.text(), r.env,
                                util::join(r.refusals, "; "));
        d.hint = "fix it, or deploy with --force (recorded as forced)";
        ctx.out.diagnostic(d);
        return static_cast<int>(error::ExitCode::check_failed);
    }
    if (r.state == "rolled-back" || r.state == "failed") {
        error::Diagnostic d;
        d.message = fmt::format("deploy/{} {}: {}", r.deployment, r.state, r.reason);
        if (r.state == "rolled-back") {
            d.hint = fmt::format("{} still serves deploy/{}", r.env,
                                 r.previous ? std::to_string(*r.previous) : "?");
        }
        ctx.out.diagnostic(d);
        return static_cast<int>(error::ExitCode::check_failed);
    }
    return 0;
}

}  // namespace mloop::cli
