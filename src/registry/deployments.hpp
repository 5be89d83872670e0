// Images built by `mloop package` and deployments made by `mloop deploy` and `mloop rollback`,
// with the journal of each deployment's steps. A step is journalled ('begun') before it is
// done and marked 'done' or 'failed' after, each in its own transaction, so a deployment whose
// mloop died can be finished or undone by the next command that looks (SPEC §6 deploy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/sqlite.hpp"

namespace mloop::registry {

struct Image {
    int64_t id = 0;
    std::string model;
    int64_t version = 0;
    std::string repository;
    std::string tag;
    std::string image_id;                    // sha256:… as docker names it
    std::optional<std::string> repo_digest;  // repository@sha256:… after a push
    std::optional<int64_t> size;
    std::string context;                    // the build context's tree digest
    std::optional<std::string> provenance;  // the stored provenance statement
    std::string template_name;
    int64_t created_at = 0;
    std::optional<int64_t> pushed_at;

    std::string reference() const { return repository + ":" + tag; }
};

class Images {
  public:
    explicit Images(Db& db) : m_db(db) {}
    // In a write transaction. Returns the new row's id.
    int64_t add(const Image& image);
    void set_pushed(int64_t id, const std::string& repo_digest);
    std::optional<Image> get(int64_t id);
    // The newest image built for the version.
    std::optional<Image> latest_for(const std::string& model, int64_t version);
    std::vector<Image> for_version(const std::string& model, int64_t version);

  private:
    Db& m_db;
};

struct DeployStep {
    int64_t seq = 0;
    std::string step;
    std::string state;  // begun | done | failed
    std::optional<std::string> detail;
    int64_t at = 0;
};

struct Deployment {
    int64_t id = 0;
    std::string env;
    std::string kind = "deploy";  // deploy | rollback
    std::string target;           // docker | kubernetes
    std::string strategy;
    std::string model;
    int64_t version = 0;
    int64_t image = 0;
    std::string state;                   // pending | progressing | succeeded | failed | rolled-back
    std::optional<int64_t> previous;     // the deployment it replaces
    std::optional<int64_t> rollback_to;  // for kind rollback: the deployment it returns to
    std::string spec;                    // JSON: what was applied (docker argv, manifests)
    std::string manifests;               // the directory it was rendered into
    bool forced = false;
    int64_t started_at = 0;
    std::optional<int64_t> ended_at;
    std::string host;
    int64_t pid = 0;
    std::optional<std::string> process;
    std::optional<std::string> user;
    std::optional<std::string> reason;  // why it failed or was rolled back
};

class Deployments {
  public:
    explicit Deployments(Db& db) : m_db(db) {}
    // In a write transaction: a new deployment in state 'pending', stamped with this host,
    // pid and process identity. Returns its id.
    int64_t begin(Deployment d);
    // In a write transaction.
    void set_state(int64_t id, const std::string& state,
                   const std::optional<std::string>& reason = std::nullopt);
    void set_spec(int64_t id, const std::string& spec, const std::string& manifests);
    // Journal: each its own transaction when called outside one.
    int64_t step_begun(int64_t id, const std::string& step, const std::string& detail = {});
    void step_ended(int64_t id, int64_t seq, bool ok, const std::string& detail = {});
    std::vector<DeployStep> steps(int64_t id);

    std::optional<Deployment> get(int64_t id);
    // Newest first; env empty: every environment.
    std::vector<Deployment> list(const std::string& env, size_t limit);
    // The environment's live deployment: its newest that succeeded.
    std::optional<Deployment> current(const std::string& env);
    // The newest deployment of `env` that succeeded before `before` (exclusive).
    std::optional<Deployment> succeeded_before(const std::string& env, int64_t before);
    // Deployments of `env` still pending or progressing.
    std::vector<Deployment> unfinished(const std::string& env);
    std::vector<std::string> environments();
    std::vector<Deployment> of_version(const std::string& model, int64_t version);
    std::vector<Deployment> of_image(int64_t image);
    // True when the mloop that made `d` is still running on this host (another host's is
    // presumed alive).
    static bool owner_alive(const Deployment& d);

  private:
    Db& m_db;
};

}  // namespace mloop::registry
