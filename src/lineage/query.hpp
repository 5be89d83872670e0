// Read-side queries the record commands share, beside the registry's repositories: stages,
// validations, evaluations, children, and who used or produced a piece of content. Each one is
// an indexed lookup (see the EXPLAIN QUERY PLAN test in tests/unit/test_lineage_query.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "registry/deployments.hpp"
#include "registry/records.hpp"

namespace mloop::lineage {

struct StageOutput {
    std::string path;
    std::string digest;
    std::string kind;
};

struct Stage {
    std::string name;
    std::string state;  // running | succeeded | failed | cached | interrupted
    std::string cache_key;
    std::optional<int64_t> source_run;  // cached: the run whose outputs were restored
    int64_t started_at = 0;
    std::optional<int64_t> ended_at;
    std::optional<int64_t> exit_code;
    std::optional<int64_t> wall_ms;
    std::optional<int64_t> cpu_ms;
    std::optional<int64_t> max_rss_kb;
    std::vector<StageOutput> outputs;
};

// The newest data validation recorded for a dataset's content.
struct Validation {
    bool passed = false;
    int64_t at = 0;
    std::optional<int64_t> rows;
    std::string schema_digest;
    std::string path;
};

// A run that used some content as one of its inputs.
struct Use {
    int64_t run_id = 0;
    std::string input;  // the input's name in that run
    std::string path;
};

// A run that used some content, with what a listing shows of it.
struct UsedBy {
    Use use;
    registry::Run run;
    std::vector<registry::ModelVersion> versions;
};

// A run that produced some content, as an artifact or as a stage's output.
struct Production {
    int64_t run_id = 0;
    std::string path;
    std::optional<std::string> stage;  // nullopt: an artifact of the run
};

// The run, its metrics and the model versions it produced: a row of `mloop runs`.
struct RunSummary {
    registry::Run run;
    std::vector<registry::Metric> metrics;
    std::vector<registry::ModelVersion> versions;
};

std::vector<Stage> stages_of(registry::Db& db, int64_t run_id);
std::optional<Validation> latest_validation(registry::Db& db, const std::string& digest);
std::vector<registry::Run> children_of(registry::Db& db, int64_t run_id);
// The model version an evaluation run evaluated.
std::optional<registry::ModelVersion> evaluated_version(registry::Db& db, int64_t run_id);
// The evaluation runs of a model version, oldest first.
std::vector<int64_t> evaluations_of(registry::Db& db, const std::string& model, int64_t version);

// Runs that used `digest` as an input, newest first, at most `limit` (0: all).
std::vector<Use> uses_of(registry::Db& db, const std::string& digest, size_t limit = 0);
int64_t count_uses(registry::Db& db, const std::string& digest);
std::vector<UsedBy> used_by(registry::Db& db, const std::string& digest, size_t limit);
// Runs that produced `digest`, as an artifact or a stage output, oldest first.
std::vector<Production> productions_of(registry::Db& db, const std::string& digest);
// Datasets recorded at `path` (every content it has had), newest first.
std::vector<registry::Dataset> datasets_at(registry::Db& db, const std::string& path);
// Runs recorded at a git commit, newest first.
std::vector<int64_t> runs_at_commit(registry::Db& db, const std::string& commit);

RunSummary summary_of(registry::Db& db, registry::Run run);
std::vector<RunSummary> summaries_of(registry::Db& db, std::vector<registry::Run> runs);
// The aliases that point at `version` of `model` now.
std::vector<std::string> aliases_of(registry::Db& db, const std::string& model, int64_t version);

// The model names in the registry, in order.
std::vector<std::string> model_names(registry::Db& db);

// Which deployment is live in each environment asked about: its newest that succeeded (what
// `mloop status` reports). Each environment is looked up once, through deployments_by_env.
class LiveDeployments {
  public:
    explicit LiveDeployments(registry::Db& db) : m_deployments(db) {}
    std::optional<int64_t> in(const std::string& env);
    bool is_live(const registry::Deployment& d) { return in(d.env) == d.id; }

  private:
    registry::Deployments m_deployments;
    std::map<std::string, std::optional<int64_t>> m_current;
};

}  // namespace mloop::lineage
