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

// A deployment as a listing shows it.
struct DeploymentRow {
    registry::Deployment deployment;
    bool live = false;  // its environment's newest that succeeded
};

// The images built for some model versions and their deployments: what of them is serving.
struct Serving {
    std::vector<registry::Image> images;     // oldest first
    std::vector<DeploymentRow> deployments;  // newest first, at most k_list_limit
    int64_t deployment_count = 0;
    std::vector<std::string> live_in;  // environments where one of them is live now, by name
    bool several_versions = false;     // the images belong to more than one version
};

struct RunDetail {
    registry::RunLineage lineage;  // run, params, metrics, inputs, datasets, artifacts, versions
    std::map<std::string, Validation> validations;  // by input digest
    std::vector<Stage> stages;
    std::vector<registry::Run> children;  // a sweep's trials
    std::optional<registry::ModelVersion> evaluates;
    std::map<std::string, std::vector<std::string>> version_aliases;  // "churn@3" → aliases
    Serving serving;                                                  // of the versions it produced
};

struct VersionDetail {
    registry::ModelVersion version;
    registry::Run run;
    std::vector<registry::Metric> metrics;
    std::vector<registry::Artifact> artifacts;
    std::vector<std::string> aliases;          // pointing at it now
    std::vector<registry::AliasMove> history;  // every move to or from it, oldest first
    std::vector<RunSummary> evaluations;
    Serving serving;
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

struct DeploymentDetail {
    registry::Deployment deployment;
    registry::ModelVersion version;    // with the run that produced it
    std::vector<std::string> aliases;  // of the version, now
    std::optional<registry::Image> image;
    std::optional<registry::Deployment> previous;     // the deployment it replaced
    std::optional<registry::Deployment> rollback_to;  // a rollback: the one it returned to
    std::optional<registry::Deployment> live;  // its environment's live deployment (maybe it)
    std::vector<registry::DeployStep> steps;   // the journal, in order
};

using Detail = std::variant<RunDetail, VersionDetail, DatasetDetail, ArtifactDetail, CommitDetail,
                            DeploymentDetail>;

// How many users of a dataset, artifact or commit are listed (the count is always given).
inline constexpr size_t k_list_limit = 50;

// One consistent read.
Detail show(registry::Db& db, const registry::Ref& ref);

RunDetail show_run(registry::Db& db, int64_t run_id);

}  // namespace mloop::lineage
