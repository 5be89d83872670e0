// The server's Prometheus metrics, rendered in the text exposition format 0.0.4. One mutex:
// a scrape or an observation holds it for microseconds.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace mloop::serve {

class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    // Appends the _bucket, _sum and _count lines; `labels` is empty or `key="value",`.
    void render(std::string& out, const std::string& name, const std::string& labels) const;

  private:
    std::vector<double> m_bounds;
    std::vector<uint64_t> m_counts;  // per bucket, not cumulative; the last one is +Inf
    double m_sum = 0.0;
    uint64_t m_count = 0;
};

class Metrics {
  public:
    Metrics(std::string model, std::string version);
    // One answered request: `path` is a route or "other" (label values stay few).
    void record_request(const std::string& path, int status, double seconds);
    void record_scores(std::span<const double> scores);
    void record_log_error();
    std::string render() const;

  private:
    mutable std::mutex m_mutex;
    std::string m_model;
    std::string m_version;
    std::map<std::pair<std::string, int>, uint64_t> m_requests;
    std::map<std::string, Histogram> m_durations;
    Histogram m_scores;
    uint64_t m_errors = 0;
    uint64_t m_log_errors = 0;
};

// A label value with \, " and newline escaped as the exposition format requires.
std::string escape_label(const std::string& value);

}  // namespace mloop::serve
