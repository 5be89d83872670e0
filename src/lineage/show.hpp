// `mloop show REF`: everything the registry knows about what a reference names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lineage/query.hpp"
#include "registry/refs.hpp"

namespace mloop::lineage {

struct RunDetail {
    registry::RunLineage lineage;  // run, params, metrics, inputs, datasets, artifacts, versions
    std::map<std::string, Validation> validations;  // by input digest
    std::vector<Stage> stages;
    std::vector<registry::Run> children;  // a sweep's trials
    std::optional<registry::ModelVersion> evaluates;
    std::map<std::string, std::vector<std::string>> version_aliases;  // "churn@3" → aliases
};

struct VersionDetail {
    registry::ModelVersion version;
    registry::Run run;
    std::vector<registry::Metric> metrics;
    std::vector<registry::Artifact> artifacts;
    std::vector<std::string> aliases;          // pointing at it now
    std::vector<registry::AliasMove> history;  // every move to or from it, oldest first
    std::vector<RunSummary> evaluations;
};

struct DatasetDetail {
    std::string digest;
    std::string path;                          // as given, or as recorded
    std::optional<registry::Dataset> dataset;  // nullopt: content no run has recorded
    std::optional<Validation> validation;
    std::vector<UsedBy> uses;  // newest first, at most k_list_limit
    int64_t use_count = 0;
    std::vector<Production> produced_by;
    std::vector<registry::Dataset> at_path;  // every content recorded at the same path
};

struct ArtifactDetail {
    std::string digest;
    std::optional<int64_t> size;
    std::optional<std::string> kind;
    std::optional<int64_t> stored_at;
    std::vector<Production> produced_by;
    std::vector<registry::ModelVersion> versions;  // of the runs that produced it
    std::vector<UsedBy> uses;
    int64_t use_count = 0;
};

struct CommitDetail {
    std::string commit;
    std::vector<RunSummary> runs;  // newest first, at most k_list_limit
    int64_t run_count = 0;
};

using Detail = std::variant<RunDetail, VersionDetail, DatasetDetail, ArtifactDetail, CommitDetail>;

// How many users of a dataset, artifact or commit are listed (the count is always given).
inline constexpr size_t k_list_limit = 50;

// One consistent read. A deployment reference is not recorded yet (UsageError).
Detail show(registry::Db& db, const registry::Ref& ref);

RunDetail show_run(registry::Db& db, int64_t run_id);

}  // namespace mloop::lineage
