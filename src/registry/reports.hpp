// Monitor reports (migration 6): one row per `mloop monitor` run, linked to the environment,
// the deployment serving there and its model version; the whole report as JSON beside the
// numbers that status and history read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/sqlite.hpp"

namespace mloop::registry {

struct MonitorReport {
    int64_t id = 0;
    std::optional<std::string> env;
    std::optional<int64_t> deployment;
    std::optional<std::string> model;
    std::optional<int64_t> version;
    int64_t created_at = 0;  // ms since the epoch
    std::string reference;   // as shown: "train (sha256:…)" or a path
    std::optional<std::string> reference_digest;
    int64_t rows_reference = 0;
    int64_t rows_current = 0;
    int64_t columns = 0;
    int64_t drifted = 0;
    bool dataset_drift = false;
    std::vector<std::string> alerts;  // what fired
    std::string report;               // the report as JSON
    std::optional<std::string> path;  // its JSON file
};

class Reports {
  public:
    explicit Reports(Db& db) : m_db(db) {}
    // In a write transaction; returns the new id.
    int64_t add(const MonitorReport& r);
    void set_path(int64_t id, const std::string& path);
    std::optional<MonitorReport> latest(const std::string& env);
    std::optional<MonitorReport> get(int64_t id);
    // Newest first.
    std::vector<MonitorReport> list(const std::optional<std::string>& env, int limit);

  private:
    Db& m_db;
};

}  // namespace mloop::registry
