// The registry's schema, as numbered migrations. Never edit a migration that has shipped: add a
// new one. Every query a command runs is backed by an index (the registry stays fast at a
// million runs; bench/registry measures it).
#include "registry/registry.hpp"

namespace mloop::registry {

namespace {

constexpr Migration k_migrations[] = {
    {1, "runs, their parameters, metrics, inputs and artifacts; the store's objects; events",
     R"sql(
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL DEFAULT 'train',
    parent_id   INTEGER REFERENCES runs(id),
    state       TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'interrupted',
                                               'crashed', 'inputs-changed')),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    process     TEXT,
    user        TEXT,
    command     TEXT NOT NULL,
    exit_code   INTEGER,
    signal      INTEGER,
    git_commit  TEXT,
    git_branch  TEXT,
    git_dirty   INTEGER,
    git_diff    TEXT,
    wall_ms     INTEGER,
    cpu_ms      INTEGER,
    max_rss_kb  INTEGER,
    message     TEXT
);
CREATE INDEX runs_running ON runs(state) WHERE state = 'running';
CREATE INDEX runs_by_parent ON runs(parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX runs_by_commit ON runs(git_commit) WHERE git_commit IS NOT NULL;
CREATE TABLE params (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    type    TEXT NOT NULL CHECK (type IN ('string', 'integer', 'number', 'boolean')),
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE metrics (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    value   REAL NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE objects (
    digest    TEXT PRIMARY KEY,
    size      INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('file', 'tree')),
    stored_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY,
    digest      TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    rows        INTEGER,
    kind        TEXT NOT NULL CHECK (kind IN ('file', 'tree')),
    snapshot    TEXT REFERENCES objects(digest),
    first_seen  INTEGER NOT NULL
);
CREATE TABLE run_inputs (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('dataset', 'code', 'file')),
    path        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    dataset_id  INTEGER REFERENCES datasets(id),
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE INDEX run_inputs_by_digest ON run_inputs(digest);
CREATE INDEX run_inputs_by_dataset ON run_inputs(dataset_id) WHERE dataset_id IS NOT NULL;
CREATE TABLE artifacts (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    digest  TEXT NOT NULL REFERENCES objects(digest),
    size    INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
CREATE INDEX artifacts_by_digest ON artifacts(digest);
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    subject  TEXT,
    detail   TEXT
);
)sql"},
    {2, "models, their versions and aliases with the history of every move",
     R"sql(
CREATE TABLE models (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
CREATE TABLE model_versions (
    model_id    INTEGER NOT NULL REFERENCES models(id),
    version     INTEGER NOT NULL CHECK (version > 0),
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (model_id, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE TABLE aliases (
    model_id  INTEGER NOT NULL REFERENCES models(id),
    alias     TEXT NOT NULL,
    version   INTEGER NOT NULL,
    moved_at  INTEGER NOT NULL,
    PRIMARY KEY (model_id, alias),
    FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
) WITHOUT ROWID;
CREATE TABLE alias_moves (
    id            INTEGER PRIMARY KEY,
    model_id      INTEGER NOT NULL REFERENCES models(id),
    alias         TEXT NOT NULL,
    from_version  INTEGER,
    to_version    INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    user          TEXT,
    host          TEXT,
    forced        INTEGER NOT NULL DEFAULT 0,
    reason        TEXT
);
CREATE INDEX alias_moves_by_alias ON alias_moves(model_id, alias);
)sql"},
    {3, "data validation results, by dataset content and schema",
     R"sql(CREATE TABLE validations (id INTEGER PRIMARY KEY, digest TEXT NOT NULL, schema_digest TEXT NOT NULL, path TEXT NOT NULL, passed INTEGER NOT NULL, rows INTEGER, at INTEGER NOT NULL, report TEXT NOT NULL); CREATE INDEX validations_by_data ON validations(digest, schema_digest, id);)sql"},
    {4,
     "pipeline stages and their cached outputs, evaluations of model versions, the trigger "
     "of a run, collected objects",
     R"sql(
ALTER TABLE runs ADD COLUMN triggered_by TEXT;
ALTER TABLE objects ADD COLUMN collected_at INTEGER;
CREATE INDEX runs_by_kind ON runs(kind, id);
CREATE INDEX datasets_by_path ON datasets(path);
CREATE TABLE stage_runs (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    stage       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'cached',
                                               'interrupted')),
    cache_key   TEXT NOT NULL,
    source_run  INTEGER REFERENCES runs(id),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    exit_code   INTEGER,
    wall_ms     INTEGER,
    cpu_ms      INTEGER,
    max_rss_kb  INTEGER,
    PRIMARY KEY (run_id, stage)
) WITHOUT ROWID;
CREATE INDEX stage_runs_by_key ON stage_runs(stage, cache_key) WHERE state = 'succeeded';
CREATE TABLE stage_outputs (
    run_id  INTEGER NOT NULL,
    stage   TEXT NOT NULL,
    path    TEXT NOT NULL,
    digest  TEXT NOT NULL REFERENCES objects(digest),
    kind    TEXT NOT NULL CHECK (kind IN ('file', 'tree')),
    PRIMARY KEY (run_id, stage, path),
    FOREIGN KEY (run_id, stage) REFERENCES stage_runs(run_id, stage) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX stage_outputs_by_digest ON stage_outputs(digest);
CREATE TABLE evaluations (
    run_id    INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    model_id  INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
);
CREATE INDEX evaluations_by_version ON evaluations(model_id, version);
)sql"},
    {5,
     "images built by 'mloop package', deployments with the journal of their steps, runs by "
     "state",
     R"sql(
CREATE INDEX runs_by_state ON runs(state, id);
CREATE TABLE images (
    id          INTEGER PRIMARY KEY,
    model_id    INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    repository  TEXT NOT NULL,
    tag         TEXT NOT NULL,
    image_id    TEXT NOT NULL,
    repo_digest TEXT,
    size        INTEGER,
    context     TEXT NOT NULL,
    provenance  TEXT REFERENCES objects(digest),
    template    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    pushed_at   INTEGER,
    FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
);
CREATE INDEX images_by_version ON images(model_id, version, id);
CREATE INDEX images_by_image_id ON images(image_id);
CREATE TABLE deployments (
    id           INTEGER PRIMARY KEY,
    env          TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('deploy', 'rollback')),
    target       TEXT NOT NULL CHECK (target IN ('docker', 'kubernetes')),
    strategy     TEXT NOT NULL,
    model_id     INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    image        INTEGER NOT NULL REFERENCES images(id),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'progressing', 'succeeded', 'failed',
                                                'rolled-back')),
    previous     INTEGER REFERENCES deployments(id),
    rollback_to  INTEGER REFERENCES deployments(id),
    spec         TEXT NOT NULL,
    manifests    TEXT NOT NULL,
    forced       INTEGER NOT NULL DEFAULT 0,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    process      TEXT,
    user         TEXT,
    reason       TEXT,
    FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
);
CREATE INDEX deployments_by_env ON deployments(env, id);
CREATE INDEX deployments_by_version ON deployments(model_id, version);
CREATE INDEX deployments_by_image ON deployments(image);
CREATE TABLE deploy_steps (
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    seq           INTEGER NOT NULL,
    step          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('begun', 'done', 'failed')),
    detail        TEXT,
    at            INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, seq)
) WITHOUT ROWID;
)sql"},
    {6, "monitor reports, linked to the environment, deployment and model version",
     R"sql(
CREATE TABLE monitor_reports (
    id              INTEGER PRIMARY KEY,
    env             TEXT,
    deployment_id   INTEGER REFERENCES deployments(id),
    model_id        INTEGER REFERENCES models(id),
    version         INTEGER,
    created_at      INTEGER NOT NULL,
    reference       TEXT NOT NULL,
    reference_digest TEXT,
    rows_reference  INTEGER NOT NULL,
    rows_current    INTEGER NOT NULL,
    columns         INTEGER NOT NULL,
    drifted         INTEGER NOT NULL,
    dataset_drift   INTEGER NOT NULL,
    alerts          TEXT NOT NULL,
    report          TEXT NOT NULL,
    path            TEXT
);
CREATE INDEX monitor_reports_by_env ON monitor_reports(env, id);
)sql"},
};

}  // namespace

std::span<const Migration> migrations() {
    return k_migrations;
}

int latest_version() {
    return k_migrations[std::size(k_migrations) - 1].version;
}

}  // namespace mloop::registry
