// `mloop models [NAME]`: every model with its versions and aliases, or one model's versions
// with their key metrics and the history of every alias move.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lineage/query.hpp"

namespace mloop::lineage {

struct ModelSummary {
    std::string name;
    int64_t versions = 0;
    std::optional<int64_t> latest;
    std::optional<int64_t> latest_at;
    std::vector<std::pair<std::string, int64_t>> aliases;  // alias → version, by alias
};

struct VersionRow {
    registry::ModelVersion version;
    registry::Run run;
    std::vector<registry::Metric> metrics;
    std::vector<std::string> aliases;
    std::vector<std::string> live_in;  // environments whose live deployment is of this version
};

struct ModelDetail {
    std::string name;
    std::vector<VersionRow> versions;  // newest first, at most `limit`
    int64_t version_count = 0;
    std::vector<std::pair<std::string, int64_t>> aliases;
    std::vector<registry::AliasMove> history;  // every alias, oldest first
    std::vector<std::string> key_metrics;
};

std::vector<ModelSummary> list_models(registry::Db& db);

// `limit` 0 lists every version. `key_metrics` empty: the first three metric names the listed
// versions' runs have. An unknown model is a UsageError naming the nearest.
ModelDetail model_detail(registry::Db& db, const std::string& name, size_t limit,
                         std::vector<std::string> key_metrics);

}  // namespace mloop::lineage
