#include "monitor/export.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/variables.hpp"
#include "error/error.hpp"
#include "net/http.hpp"
#include "process/mask.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::monitor {

namespace fs = std::filesystem;

namespace {

// A label value as the exposition format escapes it.
std::string escape(const std::string& v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", v);
}

class Writer {
  public:
    Writer(std::string project, std::string env)
        : m_base(fmt::format("project=\"{}\",env=\"{}\"", escape(project), escape(env))) {}
    // Starts a metric family.
    void family(const std::string& name, const std::string& help) {
        m_out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
    }
    void sample(const std::string& name, double v,
                const std::vector<std::pair<std::string, std::string>>& labels = {}) {
        std::string l = m_base;
        for (const auto& [k, lv] : labels) {
            l += fmt::format(",{}=\"{}\"", k, escape(lv));
        }
        m_out += fmt::format("{}{{{}}} {}\n", name, l, value(v));
    }
    const std::string& text() const { return m_out; }

  private:
    std::string m_base;
    std::string m_out;
};

// Path segments of a Pushgateway grouping key: a value that is empty or holds a '/' is given in
// base64url, as its API asks.
std::string segment(const std::string& key, const std::string& v) {
    if (!v.empty() && v.find('/') == std::string::npos) {
        return fmt::format("/{}/{}", key, net::url_encode(v));
    }
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string b;
    size_t i = 0;
    for (; i + 2 < v.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(v[i]) << 16) |
                           (static_cast<unsigned char>(v[i + 1]) << 8) |
                           static_cast<unsigned char>(v[i + 2]);
        b += {k[(n >> 18) & 63], k[(n >> 12) & 63], k[(n >> 6) & 63], k[n & 63]};
    }
    if (i + 1 == v.size()) {
        const unsigned n = static_cast<unsigned char>(v[i]) << 16;
        b += {k[(n >> 18) & 63], k[(n >> 12) & 63], '=', '='};
    } else if (i + 2 == v.size()) {
        const unsigned n =
            (static_cast<unsigned char>(v[i]) << 16) | (static_cast<unsigned char>(v[i + 1]) << 8);
        b += {k[(n >> 18) & 63], k[(n >> 12) & 63], k[(n >> 6) & 63], '='};
    }
    return fmt::format("/{}@base64/{}", key, b.empty() ? "=" : b);
}

}  // namespace

std::string exposition(const std::string& project, const Report& r) {
    Writer w(project, r.env);
    w.family("mloop_monitor_report", "the number of the monitor report (monitor/N)");
    w.sample("mloop_monitor_report", static_cast<double>(r.id));
    w.family("mloop_monitor_timestamp_seconds", "when the report was made");
    w.sample("mloop_monitor_timestamp_seconds", static_cast<double>(r.created_at) / 1000.0);
    if (r.version) {
        w.family("mloop_model_version", "the model version judged");
        w.sample("mloop_model_version", static_cast<double>(r.version->version),
                 {{"model", r.version->model}});
    }
    w.family("mloop_rows", "rows of the reference and of the current data");
    w.sample("mloop_rows", static_cast<double>(r.rows_reference), {{"data", "reference"}});
    w.sample("mloop_rows", static_cast<double>(r.rows_current), {{"data", "current"}});
    w.family("mloop_dataset_drift", "1 when at least monitor.drift.share of the features drifted");
    w.sample("mloop_dataset_drift", r.dataset_drift ? 1 : 0);
    w.family("mloop_drifted_features", "features that drifted");
    w.sample("mloop_drifted_features", static_cast<double>(r.drifted));
    w.family("mloop_feature_drift_score", "p-value (ks, chisquare) or distance of a feature");
    for (const auto& f : r.features) {
        if (f.drift) {
            w.sample("mloop_feature_drift_score", f.drift->score,
                     {{"feature", f.column},
                      {"method", std::string(stats::method_name(f.drift->method))}});
        }
    }
    w.family("mloop_feature_drift_threshold", "the threshold the score is compared with");
    for (const auto& f : r.features) {
        if (f.drift) {
            w.sample("mloop_feature_drift_threshold", f.drift->threshold,
                     {{"feature", f.column},
                      {"method", std::string(stats::method_name(f.drift->method))}});
        }
    }
    w.family("mloop_feature_drifted", "1 when the feature drifted");
    for (const auto& f : r.features) {
        if (f.drift) {
            w.sample("mloop_feature_drifted", f.drift->drifted ? 1 : 0, {{"feature", f.column}});
        }
    }
    if (r.performance && r.performance->value) {
        w.family("mloop_performance", "the performance metric on the labelled rows");
        w.sample("mloop_performance", *r.performance->value, {{"metric", r.performance->name}});
    }
    bool kpis = false;
    for (const auto& k : r.kpis) {
        if (k.value) {
            if (!kpis) {
                w.family("mloop_kpi", "a KPI of the current data");
                kpis = true;
            }
            w.sample("mloop_kpi", *k.value, {{"kpi", k.name}});
        }
    }
    w.family("mloop_alerts", "alerts that fired");
    w.sample("mloop_alerts", static_cast<double>(r.alerts.size()));
    if (r.resources) {
        w.family("mloop_cpu_cores", "CPU of the serving container or pods");
        w.sample("mloop_cpu_cores", r.resources->cpu_cores);
        w.family("mloop_memory_bytes", "memory of the serving container or pods");
        w.sample("mloop_memory_bytes", static_cast<double>(r.resources->memory_bytes));
    }
    return w.text();
}

std::vector<std::string> export_metrics(train::Session& s, const Report& r,
                                        std::vector<std::string>& failed) {
    std::vector<std::string> done;
    const auto& m = *s.project.monitor;
    if (!m.prometheus_textfile && !m.prometheus_pushgateway) {
        return done;
    }
    const std::string text = exposition(s.project.name, r);
    if (m.prometheus_textfile) {
        fs::path path = m.prometheus_textfile->value;
        if (path.is_relative()) {
            path = s.paths.root / path;
        }
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        // node_exporter must never read half a file.
        try {
            write_atomically(path, text);
            done.push_back(fmt::format("metrics written to {}", util::display_path(path)));
        } catch (const error::Error& e) {
            failed.push_back(e.what());
        }
    }
    if (m.prometheus_pushgateway) {
        std::string base =
            expand_env(*m.prometheus_pushgateway, s.project.display_file, "monitor.prometheus");
        while (!base.empty() && base.back() == '/') {
            base.pop_back();
        }
        const std::string shown = process::mask(base, s.secrets);
        const std::string url = base + "/metrics/job/mloop" + segment("project", s.project.name) +
                                segment("env", r.env);
        auto parsed = net::parse_url(url);
        if (!parsed) {
            failed.push_back(fmt::format("pushgateway {}: {}", shown, parsed.error()));
            return done;
        }
        net::Request req;
        req.method = "PUT";
        req.url = parsed.value();
        req.headers["Content-Type"] = "text/plain; version=0.0.4";
        req.body = text;
        auto res = net::send(req);
        if (!res) {
            failed.push_back(fmt::format("pushgateway {}: {}", shown, res.error()));
        } else if (res->status < 200 || res->status >= 300) {
            failed.push_back(fmt::format("pushgateway {}: HTTP {}: {}", shown, res->status,
                                         util::trim(res->body)));
        } else {
            done.push_back(fmt::format("metrics pushed to {}", shown));
        }
    }
    return done;
}

std::string grafana_dashboard(const std::string& project) {
    using J = nlohmann::ordered_json;
    const std::string sel = fmt::format("project=\"{}\",env=~\"$env\"", escape(project));
    int id = 0;
    auto panel = [&](const std::string& title, const std::string& type, const std::string& expr,
                     const std::string& legend, int x, int y, int w, int h) {
        return J{
            {"id", ++id},
            {"title", title},
            {"type", type},
            {"datasource", {{"type", "prometheus"}, {"uid", "${datasource}"}}},
            {"gridPos", {{"x", x}, {"y", y}, {"w", w}, {"h", h}}},
            {"targets", J::array({J{{"refId", "A"}, {"expr", expr}, {"legendFormat", legend}}})}};
    };
    J panels = J::array();
    panels.push_back(panel("Dataset drift", "stat", fmt::format("mloop_dataset_drift{{{}}}", sel),
                           "{{env}}", 0, 0, 6, 4));
    panels.push_back(panel("Drifted features", "stat",
                           fmt::format("mloop_drifted_features{{{}}}", sel), "{{env}}", 6, 0, 6,
                           4));
    panels.push_back(
        panel("Alerts", "stat", fmt::format("mloop_alerts{{{}}}", sel), "{{env}}", 12, 0, 6, 4));
    panels.push_back(panel("Model version", "stat", fmt::format("mloop_model_version{{{}}}", sel),
                           "{{model}}", 18, 0, 6, 4));
    panels.push_back(panel("Feature drift score", "timeseries",
                           fmt::format("mloop_feature_drift_score{{{}}}", sel),
                           "{{feature}} ({{method}})", 0, 4, 24, 8));
    panels.push_back(panel("Performance", "timeseries", fmt::format("mloop_performance{{{}}}", sel),
                           "{{metric}}", 0, 12, 12, 8));
    panels.push_back(
        panel("KPIs", "timeseries", fmt::format("mloop_kpi{{{}}}", sel), "{{kpi}}", 12, 12, 12, 8));
    panels.push_back(panel("CPU (cores)", "timeseries", fmt::format("mloop_cpu_cores{{{}}}", sel),
                           "{{env}}", 0, 20, 12, 8));
    panels.push_back(panel("Memory (bytes)", "timeseries",
                           fmt::format("mloop_memory_bytes{{{}}}", sel), "{{env}}", 12, 20, 12, 8));
    J dashboard{
        {"title", fmt::format("mloop: {}", project)},
        {"uid", fmt::format("mloop-{}", project).substr(0, 40)},
        {"tags", {"mloop"}},
        {"schemaVersion", 38},
        {"time", {{"from", "now-7d"}, {"to", "now"}}},
        {"templating",
         {{"list",
           J::array(
               {J{{"name", "datasource"}, {"type", "datasource"}, {"query", "prometheus"}},
                J{{"name", "env"},
                  {"type", "query"},
                  {"datasource", {{"type", "prometheus"}, {"uid", "${datasource}"}}},
                  {"query", fmt::format("label_values(mloop_monitor_report{{project=\"{}\"}}, env)",
                                        escape(project))},
                  {"includeAll", true},
                  {"multi", true}}})}}},
        {"panels", panels}};
    return dashboard.dump(2) + "\n";
}

}  // namespace mloop::monitor
