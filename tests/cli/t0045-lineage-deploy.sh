#!/usr/bin/env bash
# Lineage reaches images and deployments (SPEC §2 deploy/N, §6 show and lineage): a registry that
# a real `mloop train` recorded, with images and deployments written into it as `mloop package`
# and `mloop deploy` record them (no docker here; t0070 drives the real ones), read back by show,
# lineage and models in every format, with their exit codes.
. "$(dirname "$0")/lib.sh"

export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t \
    GIT_COMMITTER_EMAIL=t@example.com
P=$SCRATCH/proj

# Times change from run to run; the rest of the output is compared exactly.
dates() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/DATE/g'; }
digest() { echo "sha256:$(sha256sum "$1" | cut -c1-64)"; }
short() { echo "${1:0:19}"; }
# has_line REGEX: some line of stdout matches it whole.
has_line() { printf '%s\n' "$OUT" | grep -Eq "^$1\$" || fail "no line matches: $1"; }
AGE='[0-9]+[smhd] ago'  # how long ago, as tables and "started" say it

IMG1=sha256:$(printf '%064d' 0 | tr 0 a)
IMG2=sha256:$(printf '%064d' 0 | tr 0 b)
PUSHED1=127.0.0.1:5000/tiny@sha256:$(printf '%064d' 0 | tr 0 c)

# sqlw SQL: one write to the registry, committed (the sqlite3 shell, else python3's module).
sqlw() {
    if command -v sqlite3 >/dev/null 2>&1; then
        sqlite3 -bail .mloop/registry.db "$1"
    else
        /usr/bin/python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(".mloop/registry.db")
db.executescript(sys.argv[1])
db.commit()
PY
    fi
}

# What `mloop package` and `mloop deploy` would have recorded for tiny@1 and tiny@2, an hour ago:
# a provenance statement in the store, two images (the first pushed), deploy/1 to staging
# (live), deploy/2 of tiny@2 to staging (failed, undone, with its journal) and deploy/3 of
# tiny@2 to production (forced, live).
record_deployments() {
    printf '{"_type": "https://in-toto.io/Statement/v1"}\n' >prov.json
    local prov hex t m
    prov=$(digest prov.json) && hex=${prov#sha256:} &&
    mkdir -p ".mloop/objects/sha256/${hex:0:2}" &&
    cp prov.json ".mloop/objects/sha256/${hex:0:2}/${hex:2}" &&
    chmod 0444 ".mloop/objects/sha256/${hex:0:2}/${hex:2}" || return 1
    t=$(($(now_ms) - 3600000))
    m="(SELECT id FROM models WHERE name = 'tiny')"
    sqlw "
INSERT INTO objects (digest, size, kind, stored_at) VALUES ('$prov', $(wc -c <prov.json), 'file', $t);
INSERT INTO images (id, model_id, version, repository, tag, image_id, repo_digest, size, context,
                    provenance, template, created_at, pushed_at)
VALUES (1, $m, 1, '127.0.0.1:5000/tiny', 'v1', '$IMG1', '$PUSHED1', 1000, 'sha256:context1',
        '$prov', 'Dockerfile', $t, $t),
       (2, $m, 2, '127.0.0.1:5000/tiny', 'v2', '$IMG2', NULL, 1000, 'sha256:context2',
        NULL, 'Dockerfile', $((t + 1000)), NULL);
INSERT INTO deployments (id, env, kind, target, strategy, model_id, version, image, state,
                         previous, rollback_to, spec, manifests, forced, started_at, ended_at,
                         host, pid, process, user, reason)
VALUES (1, 'staging', 'deploy', 'docker', 'recreate', $m, 1, 1, 'succeeded', NULL, NULL,
        '{\"argv\": [\"docker\", \"run\"]}', '$P/.mloop/manifests/staging/1', 0,
        $((t + 60000)), $((t + 65000)), 'ci-host', 41, NULL, 'alice', NULL),
       (2, 'staging', 'deploy', 'docker', 'recreate', $m, 2, 2, 'failed', 1, NULL, '{}',
        '$P/.mloop/manifests/staging/2', 0, $((t + 120000)), $((t + 125000)), 'ci-host', 42,
        NULL, 'alice', 'health check failed: connection refused'),
       (3, 'production', 'deploy', 'docker', 'recreate', $m, 2, 2, 'succeeded', NULL, NULL,
        '{}', '$P/.mloop/manifests/production/3', 1, $((t + 180000)), $((t + 185000)),
        'ci-host', 43, NULL, 'bob', NULL);
INSERT INTO deploy_steps (deployment_id, seq, step, state, detail, at)
VALUES (2, 1, 'stop-previous', 'done', 'mloop-tiny-staging', $((t + 121000))),
       (2, 2, 'start', 'done', '0123456789ab', $((t + 122000))),
       (2, 3, 'health', 'failed', 'connection refused', $((t + 123000))),
       (2, 4, 'undo', 'done', NULL, $((t + 124000)));
"
}

test_expect_success 'a trained history with images and deployments recorded beside it' '
    mkdir "$P" && cd "$P" &&
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . &&
    git init -q -b main && git add -A && git commit -qm first &&
    mloop -q train >/dev/null &&                         # run 1 → tiny@1
    mloop -q train --param lr=0.9 >/dev/null &&          # run 2 → tiny@2
    mloop -q promote tiny@1 staging &&                   # as the deployments below moved them
    mloop -q promote tiny@2 production &&
    record_deployments &&
    [ "$(sql "select group_concat(x) from (select id || env || state as x from deployments order by id)")" = "1stagingsucceeded,2stagingfailed,3productionsucceeded" ] &&
    [ "$(sql "select count(*) from deploy_steps")" = 4 ]
'

test_expect_success 'show deploy/N: what it ran, what is live instead, why it failed, its journal' '
    cd "$P" &&
    run mloop show deploy/2 &&
    expect_code 0 && expect_stderr_empty &&
    [ "$(printf "%s\n" "$OUT" | head -1)" = "deploy/2  failed" ] &&
    has_line "env +staging" &&
    has_line "kind +deploy" &&
    has_line "version +tiny@2 \(production\), run 2" &&
    has_line "image +127\.0\.0\.1:5000/tiny:v2" &&
    has_line "image id +$IMG2" &&
    has_line "target +docker, strategy recreate" &&
    has_line "previous +deploy/1  tiny@1  succeeded" &&
    has_line "live now +deploy/1  tiny@1  succeeded" &&
    has_line "started +[0-9-]+ [0-9:]+ [-+][0-9]{4} \($AGE\)" &&
    has_line "duration +5\.0s" &&
    has_line "by +alice@ci-host \(pid 42\)" &&
    has_line "reason +health check failed: connection refused" &&
    has_line "manifests +\.mloop/manifests/staging/2" &&
    has_line "steps" &&
    has_line "  SEQ  STEP +STATE +AT +DETAIL" &&
    has_line "    1  stop-previous  done    [-0-9: +]+  mloop-tiny-staging" &&
    has_line "    3  health         failed  [-0-9: +]+  connection refused" &&
    has_line "    4  undo           done    [-0-9: +]+" &&
    run mloop show deploy/1 &&
    expect_code 0 &&
    [ "$(printf "%s\n" "$OUT" | head -1)" = "deploy/1  succeeded  (live in staging)" ] &&
    has_line "repo digest +$PUSHED1" &&
    has_line "provenance +$(digest prov.json)" &&
    case "$OUT" in *"live now"*|*steps*) false ;; esac &&
    run mloop show deploy/3 &&
    has_line "forced +yes: past failing checks"
'

test_expect_success 'show deploy/N --json is one document with the image, the journal, the links' '
    cd "$P" &&
    run mloop --json show deploy/2 &&
    expect_code 0 && expect_stderr_empty &&
    expect_json "j[\"kind\"] == \"deployment\" and j[\"deployment\"][\"ref\"] == \"deploy/2\"" &&
    expect_json "j[\"deployment\"][\"env\"] == \"staging\" and j[\"deployment\"][\"state\"] == \"failed\" and j[\"deployment\"][\"live\"] is False" &&
    expect_json "j[\"deployment\"][\"version\"] == {\"model\": \"tiny\", \"version\": 2, \"ref\": \"tiny@2\", \"run\": 2, \"aliases\": [\"production\"]}" &&
    expect_json "j[\"deployment\"][\"image\"][\"image_id\"] == \"$IMG2\" and j[\"deployment\"][\"image\"][\"repo_digest\"] is None" &&
    expect_json "j[\"deployment\"][\"previous\"][\"ref\"] == \"deploy/1\" and j[\"deployment\"][\"live_now\"][\"ref\"] == \"deploy/1\" and j[\"deployment\"][\"rollback_to\"] is None" &&
    expect_json "[(s[\"seq\"], s[\"step\"], s[\"state\"]) for s in j[\"deployment\"][\"steps\"]] == [(1, \"stop-previous\", \"done\"), (2, \"start\", \"done\"), (3, \"health\", \"failed\"), (4, \"undo\", \"done\")]" &&
    expect_json "j[\"deployment\"][\"manifests\"] == \"$P/.mloop/manifests/staging/2\" and j[\"deployment\"][\"user\"] == \"alice\" and j[\"deployment\"][\"reason\"].startswith(\"health check\")" &&
    run mloop show deploy/1 --json &&
    expect_json "j[\"deployment\"][\"live\"] is True and j[\"deployment\"][\"image\"][\"repo_digest\"] == \"$PUSHED1\" and j[\"deployment\"][\"image\"][\"provenance\"] == \"$(digest prov.json)\" and j[\"deployment\"][\"spec\"] == {\"argv\": [\"docker\", \"run\"]}"
'

test_expect_success 'an unknown deployment is exit 2 naming the nearest; a malformed one too' '
    cd "$P" &&
    run mloop show deploy/99 &&
    expect_code 2 && expect_stdout_empty &&
    expect_stderr "mloop: error: no deployment 99
hint: the nearest deployments are deploy/3 (production), deploy/2 (staging), deploy/1 (staging)" &&
    run mloop lineage deploy/99 &&
    expect_code 2 && expect_stdout_empty &&
    expect_stderr_contains "mloop: error: no deployment 99" &&
    run mloop lineage deploy/99 --downstream --json &&
    expect_code 2 &&
    expect_json "j[\"error\"][\"code\"] == 2 and j[\"error\"][\"message\"] == \"no deployment 99\"" &&
    run mloop show deploy/x &&
    expect_code 2 &&
    expect_stderr "mloop: error: '"'"'deploy/x'"'"' is not a deployment reference
hint: write deploy/N"
'

test_expect_success 'lineage deploy/N: image, version, run, commit, params, data' '
    cd "$P" &&
    run mloop lineage deploy/1 &&
    expect_code 0 && expect_stderr_empty &&
    c1=$(git rev-parse HEAD) &&
    [ "$(printf "%s\n" "$OUT" | dates)" = "deploy/1  staging  deploy  succeeded  DATE  (live in staging)
└── image 127.0.0.1:5000/tiny:v1  $(short "$IMG1")
    ├── pushed $PUSHED1
    ├── provenance $(short "$(digest prov.json)")
    └── built from tiny@1 (staging)
        └── produced by run 1  train  succeeded  DATE
            ├── commit ${c1:0:12} (main)
            ├── params
            │   ├── lr = 0.7
            │   ├── mode = ok
            │   └── seconds = 30
            ├── dataset train  data.csv  $(short "$(digest data.csv)")  not validated
            └── code train.sh  $(short "$(digest train.sh)")" ] ||
        fail "tree differs"
'

test_expect_success 'lineage deploy/N --format json and dot' '
    cd "$P" &&
    run mloop lineage deploy/2 --format json &&
    expect_code 0 && expect_stderr_empty &&
    expect_json "j[\"root\"] == \"deploy/2\" and j[\"direction\"] == \"upstream\"" &&
    expect_json "[n[\"kind\"] for n in j[\"nodes\"]][:4] == [\"deployment\", \"image\", \"version\", \"run\"]" &&
    expect_json "j[\"nodes\"][0][\"state\"] == \"failed\" and j[\"nodes\"][0][\"live\"] is False and j[\"nodes\"][1][\"image_id\"] == \"$IMG2\"" &&
    expect_json "{\"from\": \"image/2\", \"to\": \"deploy/2\", \"relation\": \"deployed\"} in j[\"edges\"] and {\"from\": \"tiny@2\", \"to\": \"image/2\", \"relation\": \"packaged\"} in j[\"edges\"]" &&
    run mloop --json lineage deploy/2 &&
    expect_json "j[\"root\"] == \"deploy/2\"" &&
    run mloop lineage deploy/1 --format dot &&
    expect_code 0 &&
    printf "%s\n" "$OUT" | grep -q "^  \"deploy/1\" \[label=\"deploy/1  staging  deploy  succeeded  [-0-9: ]*  (live in staging)\", shape=\"house\", peripheries=\"2\", penwidth=\"2\"\];$" &&
    printf "%s\n" "$OUT" | grep -qF "  \"tiny@1\" -> \"image/1\" [label=\"packaged\"];" &&
    printf "%s\n" "$OUT" | grep -qF "  \"image/1\" -> \"deploy/1\" [label=\"deployed\"];" &&
    { ! command -v dot >/dev/null || printf "%s\n" "$OUT" | dot -Tsvg >/dev/null; }
'

test_expect_success 'downstream of the data: what is serving that trained on it' '
    cd "$P" &&
    run mloop lineage data.csv --downstream &&
    expect_code 0 && expect_stderr_empty &&
    [ "$(printf "%s\n" "$OUT" | dates)" = "dataset data.csv  $(short "$(digest data.csv)")  not validated
├── used by run 2  train  succeeded  DATE
│   └── tiny@2 (production)
│       └── image 127.0.0.1:5000/tiny:v2  $(short "$IMG2")
│           ├── deploy/2  staging  deploy  failed  DATE
│           └── deploy/3  production  deploy  succeeded  DATE  (live in production)
└── used by run 1  train  succeeded  DATE
    └── tiny@1 (staging)
        └── image 127.0.0.1:5000/tiny:v1  $(short "$IMG1")
            ├── pushed $PUSHED1
            ├── provenance $(short "$(digest prov.json)")
            └── deploy/1  staging  deploy  succeeded  DATE  (live in staging)" ] ||
        fail "tree differs" &&
    run mloop lineage data.csv --downstream --json &&
    expect_code 0 && expect_stderr_empty &&
    expect_json "sorted((n[\"id\"], n[\"env\"], n[\"live\"]) for n in j[\"nodes\"] if n[\"kind\"] == \"deployment\") == [(\"deploy/1\", \"staging\", True), (\"deploy/2\", \"staging\", False), (\"deploy/3\", \"production\", True)]" &&
    run mloop lineage data.csv --downstream --format dot &&
    printf "%s\n" "$OUT" | grep -qF "  \"image/2\" -> \"deploy/3\" [label=\"deployed\"];" &&
    [ "$(printf "%s\n" "$OUT" | grep -c "peripheries=\"2\"")" = 2 ]
'

test_expect_success 'downstream of a commit and of a run reach the same deployments' '
    cd "$P" &&
    c=$(git rev-parse HEAD) &&
    run mloop lineage "commit/${c:0:8}" --downstream --json &&
    expect_code 0 &&
    expect_json "sorted(n[\"id\"] for n in j[\"nodes\"] if n[\"kind\"] == \"deployment\") == [\"deploy/1\", \"deploy/2\", \"deploy/3\"]" &&
    run mloop lineage 1 --downstream &&
    expect_code 0 &&
    [ "$(printf "%s\n" "$OUT" | dates)" = "run 1  train  succeeded  DATE
└── tiny@1 (staging)
    └── image 127.0.0.1:5000/tiny:v1  $(short "$IMG1")
        ├── pushed $PUSHED1
        ├── provenance $(short "$(digest prov.json)")
        └── deploy/1  staging  deploy  succeeded  DATE  (live in staging)" ] ||
        fail "tree differs" &&
    run mloop lineage deploy/1 --downstream &&
    expect_code 0 &&
    [ "$(printf "%s\n" "$OUT" | dates)" = "deploy/1  staging  deploy  succeeded  DATE  (live in staging)" ]
'

test_expect_success 'show a version and a run: their images, deployments and where they are live' '
    cd "$P" &&
    run mloop show tiny@2 &&
    expect_code 0 &&
    has_line "live in +production" &&
    has_line "images" &&
    has_line "  IMAGE +ID +BUILT" &&
    has_line "  127\.0\.0\.1:5000/tiny:v2  $(short "$IMG2")  $AGE" &&
    has_line "deployments \(2\)" &&
    has_line "  DEPLOYMENT  ENV +STATE +STARTED +LIVE" &&
    has_line "  deploy/3    production  succeeded  $AGE +live" &&
    has_line "  deploy/2    staging     failed     $AGE" &&
    run mloop show tiny@2 --json &&
    expect_json "j[\"version\"][\"live_in\"] == [\"production\"] and [d[\"ref\"] for d in j[\"version\"][\"deployments\"]] == [\"deploy/3\", \"deploy/2\"] and j[\"version\"][\"images\"][0][\"reference\"] == \"127.0.0.1:5000/tiny:v2\"" &&
    run mloop show 1 &&
    expect_code 0 &&
    has_line "live in +staging" &&
    has_line "  deploy/1    staging  succeeded  $AGE +live" &&
    run mloop show run/1 --json &&
    expect_json "j[\"run\"][\"live_in\"] == [\"staging\"] and j[\"run\"][\"deployment_count\"] == 1"
'

test_expect_success 'models NAME: the environments each version is live in' '
    cd "$P" &&
    run mloop models tiny &&
    expect_code 0 && expect_stderr_empty &&
    has_line "VERSION +RUN +STATE +CREATED +score +ALIASES +LIVE IN" &&
    has_line " +2 +2 +succeeded .* production +production" &&
    has_line " +1 +1 +succeeded .* staging +staging" &&
    run mloop models tiny --json &&
    expect_json "[v[\"live_in\"] for v in j[\"versions\"]] == [[\"production\"], [\"staging\"]]"
'

test_done
