// The registry's entities as plain data, and one repository per entity. Repository methods that
// write must run inside a transaction the caller opened with Db::write(), so a caller can make
// several of them one atomic step (finish a run and register its model version together).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/sqlite.hpp"

namespace mloop::registry {

struct Param {
    std::string name;
    std::string value;
    std::string type = "string";  // string | integer | number | boolean
};

struct Metric {
    std::string name;
    double value = 0;
};

struct Input {
    std::string name;           // the dataset's name, or the file's path
    std::string kind = "file";  // dataset | code | file
    std::string path;
    std::string digest;  // sha256:…
    std::optional<int64_t> dataset_id;
};

struct Artifact {
    std::string path;  // relative to the run directory
    std::string digest;
    int64_t size = 0;
};

struct GitState {
    std::optional<std::string> commit;  // nullopt: not in a git repository
    std::optional<std::string> branch;
    bool dirty = false;
    std::optional<std::string> diff_digest;
};

struct Run {
    int64_t id = 0;
    std::string kind = "train";
    std::optional<int64_t> parent_id;
    std::string state;
    int64_t started_at = 0;
    std::optional<int64_t> ended_at;
    std::string host;
    int64_t pid = 0;
    std::optional<std::string> process;
    std::optional<std::string> user;
    std::string command;  // JSON array of the argv, secrets masked
    std::optional<int64_t> exit_code;
    std::optional<int64_t> signal;
    GitState git;
    std::optional<int64_t> wall_ms;
    std::optional<int64_t> cpu_ms;
    std::optional<int64_t> max_rss_kb;
    std::optional<std::string> message;
    std::optional<std::string> triggered_by;  // JSON: the triggers that started the run
};

struct RunStart {
    std::string kind = "train";
    std::optional<int64_t> parent_id;
    std::string command;  // JSON array
    GitState git;
    std::vector<Param> params;
    std::vector<Input> inputs;
    std::optional<std::string> message;
    std::optional<std::string> triggered_by;
};

struct RunEnd {
    std::string state;  // succeeded | failed | interrupted | inputs-changed
    std::optional<int64_t> exit_code;
    std::optional<int64_t> signal;
    std::optional<int64_t> wall_ms;
    std::optional<int64_t> cpu_ms;
    std::optional<int64_t> max_rss_kb;
    std::vector<Metric> metrics;
    std::vector<Artifact> artifacts;
};

struct RunQuery {
    size_t limit = 20;
    std::optional<std::string> state;
    std::optional<std::string> model;  // runs that produced a version of this model
};

class Runs {
  public:
    explicit Runs(Db& db) : m_db(db) {}

    // In a write transaction: a new run in state 'running' with its params and inputs, stamped
    // with this host, pid and process identity. Returns its id.
    int64_t begin(const RunStart& start);
    // In a write transaction: the run's outcome, metrics and artifacts. The artifacts' objects
    // must already be recorded (Objects::record) — their bytes are in the store by then.
    void finish(int64_t id, const RunEnd& end);

    std::optional<Run> get(int64_t id);
    std::vector<Run> list(const RunQuery& query);
    std::vector<Param> params(int64_t id);
    std::vector<Metric> metrics(int64_t id);
    std::vector<Input> inputs(int64_t id);
    std::vector<Artifact> artifacts(int64_t id);

    // Runs left 'running' by an mloop on this host that no longer exists become 'crashed'.
    // Opens its own write transaction only when there is something to mark. Returns how many.
    int mark_crashed();

  private:
    Db& m_db;
};

class Objects {
  public:
    explicit Objects(Db& db) : m_db(db) {}
    // In a write transaction, after the bytes are in the store.
    void record(const std::string& digest, int64_t size, const std::string& kind);
    bool has(const std::string& digest);

  private:
    Db& m_db;
};

struct Dataset {
    int64_t id = 0;
    std::string digest;
    std::string path;
    int64_t size = 0;
    std::optional<int64_t> rows;
    std::string kind = "file";
    std::optional<std::string> snapshot;  // the object that holds a copy, if stored
    int64_t first_seen = 0;
};

class Datasets {
  public:
    explicit Datasets(Db& db) : m_db(db) {}
    // In a write transaction: the dataset with this digest (created on first sight; a snapshot
    // or a row count learnt later is added). Returns its id.
    int64_t upsert(const Dataset& d);
    std::optional<Dataset> by_digest(const std::string& digest);

  private:
    Db& m_db;
};

struct ModelVersion {
    std::string model;
    int64_t version = 0;
    int64_t run_id = 0;
    int64_t created_at = 0;
};

struct AliasMove {
    std::string alias;
    std::optional<int64_t> from_version;
    int64_t to_version = 0;
    int64_t at = 0;
    std::optional<std::string> user;
    std::optional<std::string> host;
    bool forced = false;
    std::optional<std::string> reason;
};

class Models {
  public:
    explicit Models(Db& db) : m_db(db) {}
    // In a write transaction: the next version of `model` (created if new), produced by `run_id`.
    // The number is assigned inside the transaction, so concurrent writers get 1, 2, 3, ….
    int64_t register_version(const std::string& model, int64_t run_id);
    // In a write transaction: points `alias` at `version` and records the move. Returns the
    // version it pointed at before.
    std::optional<int64_t> move_alias(const std::string& model, const std::string& alias,
                                      int64_t version, bool forced,
                                      const std::optional<std::string>& reason);

    std::optional<int64_t> resolve_alias(const std::string& model, const std::string& alias);
    std::optional<int64_t> latest_version(const std::string& model);
    std::vector<ModelVersion> versions(const std::string& model);
    std::vector<ModelVersion> versions_of_run(int64_t run_id);
    std::vector<std::pair<std::string, int64_t>> aliases(const std::string& model);
    std::vector<AliasMove> alias_moves(const std::string& model, const std::string& alias);

  private:
    std::optional<int64_t> model_id(const std::string& model);
    Db& m_db;
};

class Events {
  public:
    explicit Events(Db& db) : m_db(db) {}
    // In a write transaction.
    void append(const std::string& kind, const std::string& subject, const std::string& detail);

  private:
    Db& m_db;
};

// Everything upstream of a run in one read: the run, its params, metrics, inputs with their
// datasets, artifacts, the model versions it produced, and its parent.
struct RunLineage {
    Run run;
    std::vector<Param> params;
    std::vector<Metric> metrics;
    std::vector<Input> inputs;
    std::vector<Dataset> datasets;
    std::vector<Artifact> artifacts;
    std::vector<ModelVersion> versions;
    std::optional<Run> parent;
};
std::optional<RunLineage> lineage_of_run(Db& db, int64_t run_id);

}  // namespace mloop::registry
