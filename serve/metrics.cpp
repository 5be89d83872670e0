#include "metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace mloop::serve {

namespace {

const std::vector<double> k_duration_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
const std::vector<double> k_score_buckets = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};

// The shortest text that reads back as the same double: 0.1 → "0.1", 1.0 → "1"; bucket
// bounds in fixed notation ("0.0005", as client libraries write them).
std::string number(double v, std::chars_format format = std::chars_format::general) {
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v))
        return "NaN";
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

}  // namespace

std::string escape_label(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

Histogram::Histogram(std::vector<double> bounds)
    : m_bounds(std::move(bounds)), m_counts(m_bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
    // Buckets are upper-inclusive (le): the first bound >= value.
    auto it = std::lower_bound(m_bounds.begin(), m_bounds.end(), value);
    ++m_counts[static_cast<size_t>(it - m_bounds.begin())];
    m_sum += value;
    ++m_count;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < m_counts.size(); ++i) {
        cumulative += m_counts[i];
        std::string le =
            i < m_bounds.size() ? number(m_bounds[i], std::chars_format::fixed) : "+Inf";
        out +=
            name + "_bucket{" + labels + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    std::string plain = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
    out += name + "_sum" + plain + " " + number(m_sum) + "\n";
    out += name + "_count" + plain + " " + std::to_string(m_count) + "\n";
}

Metrics::Metrics(std::string model, std::string version)
    : m_model(std::move(model)), m_version(std::move(version)), m_scores(k_score_buckets) {}

void Metrics::record_request(const std::string& path, int status, double seconds) {
    std::lock_guard lock(m_mutex);
    ++m_requests[{path, status}];
    if (status >= 400)
        ++m_errors;
    m_durations.try_emplace(path, k_duration_buckets).first->second.observe(seconds);
}

void Metrics::record_scores(std::span<const double> scores) {
    std::lock_guard lock(m_mutex);
    for (double s : scores)
        m_scores.observe(s);
}

void Metrics::record_log_error() {
    std::lock_guard lock(m_mutex);
    ++m_log_errors;
}

std::string Metrics::render() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    header(out, "mloop_serve_model_info", "gauge", "The model being served.");
    out += "mloop_serve_model_info{model=\"" + escape_label(m_model) + "\",version=\"" +
           escape_label(m_version) + "\"} 1\n";
    header(out, "mloop_serve_requests_total", "counter",
           "HTTP requests answered, by path and status code.");
    for (const auto& [key, count] : m_requests) {
        out += "mloop_serve_requests_total{path=\"" + escape_label(key.first) + "\",code=\"" +
               std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
    header(out, "mloop_serve_errors_total", "counter",
           "HTTP requests answered with a 4xx or 5xx status.");
    out += "mloop_serve_errors_total " + std::to_string(m_errors) + "\n";
    header(out, "mloop_serve_request_duration_seconds", "histogram",
           "Time from a request's first byte to its response, by path.");
    for (const auto& [path, histogram] : m_durations) {
        histogram.render(out, "mloop_serve_request_duration_seconds",
                         "path=\"" + escape_label(path) + "\",");
    }
    header(out, "mloop_serve_prediction_score", "histogram", "Scores predicted, one per row.");
    m_scores.render(out, "mloop_serve_prediction_score", "");
    header(out, "mloop_serve_log_write_errors_total", "counter",
           "Predictions that could not be appended to the predictions log.");
    out += "mloop_serve_log_write_errors_total " + std::to_string(m_log_errors) + "\n";
    return out;
}

}  // namespace mloop::serve
