#!/usr/bin/env bash
# mloop package, deploy, rollback and status against the real docker engine and a real local
# registry (scripts/test starts both): images built FROM scratch with lineage labels and
# provenance, health-checked deployments that undo themselves, rollback, resume after mloop is
# killed at every journalled step, argv passed byte for byte, secrets kept out of everything.
. "$(dirname "$0")/lib.sh"

if ! docker info >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        echo "not ok - no docker engine answers, and CI=true does not allow skipping" >&2
        exit 1
    fi
    echo "# skipped: no docker engine (scripts/test starts one)"
    exit 77
fi

PROJECT=tdeploy$$
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
cleanup_docker() {
    docker ps -aq --filter "label=io.mloop.project=$PROJECT" | xargs -r docker rm -f >/dev/null 2>&1
    docker images -q --filter "label=io.mloop.project=$PROJECT" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1
    true
}
trap 'cleanup_docker; rm -rf "$SCRATCH"' EXIT

# A static program that stands in for a broken model server: it exits at once, or never
# answers its health check.
cc_static() { printf '%s\n' "$2" | g++ -static -O1 -x c++ - -o "$1"; }
cc_static "$SCRATCH/crash-serve" '#include <cstdio>
int main() { std::fputs("model file is corrupt\n", stderr); return 3; }'
cc_static "$SCRATCH/mute-serve" '#include <unistd.h>
int main() { for (;;) pause(); }'

# One project for the whole suite: trained twice (churn@1, churn@2).
P="$SCRATCH/project"
mkdir -p "$P"
(
    cd "$P" && copy_example . &&
    /usr/bin/python3 - "$PROJECT" "$PORT" <<'PY'
import re, sys
project, port = sys.argv[1], sys.argv[2]
text = open("mloop.yaml").read()
text = text.replace("project: churn", "project: " + project)
text = text.replace("image: 127.0.0.1:5000/mloop/churn", "image: 127.0.0.1:5000/mloop-test/" + project)
text = text.replace("health: {path: /healthz, timeout: 60s}", "health: {path: /healthz, timeout: 4s}")
text = re.sub(r"(local:\n\s+target: docker\n\s+port: )8080", r"\g<1>" + port, text)
open("mloop.yaml", "w").write(text)
PY
    grep -q "port: $PORT" mloop.yaml && grep -q "timeout: 4s" mloop.yaml &&
    mloop -q train >/dev/null && mloop -q train --param C=0.5 >/dev/null
) || { echo "not ok - could not set up the project" >&2; exit 1; }
cd "$P" || exit 1

image_of() { docker inspect --format '{{.Image}}' "mloop-$PROJECT-local" 2>/dev/null; }
deployment_of() { docker inspect --format '{{index .Config.Labels "io.mloop.deployment"}}' "mloop-$PROJECT-local" 2>/dev/null; }
healthy() { curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; }

test_expect_success 'package builds a FROM scratch image with lineage labels, provenance and a record' '
    cd "$P" &&
    run mloop --json package churn@1 &&
    expect_code 0 &&
    expect_json "j[\"image\"][\"reference\"] == \"127.0.0.1:5000/mloop-test/$PROJECT:v1\"" &&
    expect_json "j[\"refused\"] is False and j[\"template\"] == \"Dockerfile.scratch\"" &&
    id=$(printf "%s" "$OUT" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"image\"][\"image_id\"])") &&
    [ "$(docker image inspect --format "{{.Id}}" "127.0.0.1:5000/mloop-test/$PROJECT:v1")" = "$id" ] &&
    labels=$(docker image inspect --format "{{json .Config.Labels}}" "$id") &&
    printf "%s" "$labels" | python3 -c "
import json, sys
l = json.load(sys.stdin)
assert l[\"io.mloop.model\"] == \"churn\" and l[\"io.mloop.version\"] == \"1\", l
assert l[\"io.mloop.run\"] == \"1\", l
assert \"train=sha256:\" in l[\"io.mloop.data\"] and \"eval=sha256:\" in l[\"io.mloop.data\"], l
assert l[\"org.opencontainers.image.created\"].endswith(\"Z\"), l
assert l[\"org.opencontainers.image.source\"].startswith(\"file://\"), l
" &&
    size=$(docker image inspect --format "{{.Size}}" "$id") &&
    [ "$size" -lt 20000000 ] &&
    [ "$(docker image inspect --format "{{json .Config.Entrypoint}}" "$id")" = "[\"/mloop-serve\",\"--log\",\"/logs/predictions.jsonl\"]" ] &&
    python3 -c "
import json, sys
s = json.load(open(\".mloop/provenance/churn-v1.intoto.json\"))
assert s[\"_type\"] == \"https://in-toto.io/Statement/v1\"
assert s[\"predicateType\"] == \"https://slsa.dev/provenance/v1\"
assert s[\"subject\"][0][\"digest\"][\"sha256\"] == sys.argv[1][7:], s[\"subject\"]
uris = [d[\"uri\"] for d in s[\"predicate\"][\"buildDefinition\"][\"resolvedDependencies\"]]
assert \"model/model.json\" in uris and \"data/train.csv\" in uris, uris
" "$id" &&
    [ "$(sql "select image_id from images where version = 1")" = "$id" ] &&
    [ ! -e .mloop/build/churn-v1 ]
'

test_expect_success 'package --push sends the image to the local registry and records its digest' '
    cd "$P" &&
    curl -sf http://127.0.0.1:5000/v2/ >/dev/null &&
    run mloop --json package churn@2 --push &&
    expect_code 0 &&
    expect_json "j[\"image\"][\"repo_digest\"].startswith(\"127.0.0.1:5000/mloop-test/$PROJECT@sha256:\")" &&
    digest=$(sql "select repo_digest from images where version = 2 and repo_digest is not null") &&
    tags=$(curl -sf "http://127.0.0.1:5000/v2/mloop-test/$PROJECT/tags/list") &&
    case "$tags" in *\"v2\"*) ;; *) fail "registry lacks v2: $tags" ;; esac
'

test_expect_success 'package refuses a version whose gates fail (exit 1) unless --force, which is recorded' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    sed -i "s/{metric: auc, min: 0.75}/{metric: auc, min: 0.99}/" mloop.yaml &&
    run mloop package churn@1 &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 1 &&
    expect_stderr_contains "churn@1 was not packaged: churn@1 fails its gates (auc)" &&
    sed -i "s/{metric: auc, min: 0.75}/{metric: auc, min: 0.99}/" mloop.yaml &&
    run mloop --json package churn@1 --force &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 0 &&
    expect_json "j[\"forced\"] is True and j[\"refusals\"] == [\"churn@1 fails its gates (auc)\"]"
'

test_expect_success 'package refuses a version trained on data that failed validation' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    sed -i "s/age:           {type: int, min: 18, max: 90}/age:           {type: int, min: 18, max: 30}/" mloop.yaml &&
    run mloop validate data train &&
    expect_code 1 &&
    run mloop package churn@1 &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 1 &&
    expect_stderr_contains "its training data train (sha256:" &&
    expect_stderr_contains "failed validation" &&
    mloop -q validate data train >/dev/null
'

test_expect_success 'docker missing or failing is exit 3 with its message' '
    cd "$P" &&
    MLOOP_DOCKER=/nonexistent/docker run mloop package churn@1 &&
    expect_code 3 &&
    expect_stderr_contains "cannot run docker" &&
    DOCKER_HOST=tcp://127.0.0.1:1 run mloop package churn@1 &&
    expect_code 3 &&
    expect_stderr_contains "docker failed to build" &&
    expect_stderr_contains "127.0.0.1:1"
'

test_expect_success 'deploy local starts the container, checks health, moves the alias; it serves and logs predictions' '
    cd "$P" &&
    run mloop deploy local churn@1 &&
    expect_code 0 &&
    expect_stdout_contains "deploy/1: churn@1 → local succeeded, serving at http://127.0.0.1:$PORT" &&
    healthy &&
    [ "$(deployment_of)" = 1 ] &&
    [ "$(sql "select state from deployments where id = 1")" = succeeded ] &&
    [ "$(sql "select a.version from aliases a where a.alias = \"local\"")" = 1 ] &&
    score=$(curl -sf -X POST "http://127.0.0.1:$PORT/predict" -d "{\"request_id\": \"r-1\", \"age\": 44, \"tenure_months\": 8, \"monthly_fee\": 67.42, \"support_calls\": 4, \"plan\": \"pro\", \"region\": \"south\", \"autopay\": false}") &&
    case "$score" in *\"r-1\"*score*) ;; *) fail "predict answered: $score" ;; esac &&
    grep -q "\"request_id\":\"r-1\"" logs/predictions.jsonl &&
    [ -f .mloop/manifests/local/1/docker-run.json ] &&
    run mloop status local &&
    expect_code 0 &&
    expect_stdout_contains "local  churn@1  deploy/1" &&
    expect_stdout_contains " ok " &&
    run mloop --json status local &&
    expect_json "j[0][\"version\"] == \"churn@1\" and j[0][\"health\"] == \"ok\" and j[0][\"differences\"] == []"
'

test_expect_success 'a second version replaces the first; rollback restores the previous image' '
    cd "$P" &&
    v1=$(image_of) &&
    run mloop deploy local churn@2 &&
    expect_code 0 &&
    [ "$(image_of)" != "$v1" ] &&
    run mloop --json rollback local &&
    expect_code 0 &&
    expect_json "j[\"kind\"] == \"rollback\" and j[\"state\"] == \"succeeded\" and j[\"version\"] == \"churn@1\"" &&
    expect_json "j[\"rollback_to\"] == 1" &&
    [ "$(image_of)" = "$v1" ] && healthy &&
    [ "$(sql "select a.version from aliases a where a.alias = \"local\"")" = 1 ] &&
    run mloop rollback local &&
    expect_code 2 &&
    expect_stderr_contains "nothing to roll back to"
'

test_expect_success 'a crashing image is rolled back: exit 1, the previous container serves again' '
    cd "$P" &&
    before=$(deployment_of) && v1=$(image_of) &&
    mloop -q train --param C=2 >/dev/null &&
    MLOOP_SERVE="$SCRATCH/crash-serve" mloop -q package churn@3 >/dev/null &&
    run mloop deploy local churn@3 &&
    expect_code 1 &&
    expect_stderr_contains "rolled-back: container mloop-$PROJECT-local exited with code 3: model file is corrupt" &&
    expect_stderr_contains "hint: local still serves deploy/$before" &&
    [ "$(deployment_of)" = "$before" ] && [ "$(image_of)" = "$v1" ] && healthy &&
    [ "$(sql "select state from deployments order by id desc limit 1")" = rolled-back ] &&
    [ "$(sql "select a.version from aliases a where a.alias = \"local\"")" = 1 ]
'

test_expect_success 'an image that never becomes healthy is rolled back after the health timeout' '
    cd "$P" &&
    before=$(deployment_of) &&
    mloop -q train --param C=3 >/dev/null &&
    MLOOP_SERVE="$SCRATCH/mute-serve" mloop -q package churn@4 >/dev/null &&
    start=$(now_ms) &&
    run mloop deploy local churn@4 &&
    took=$(( $(now_ms) - start )) &&
    expect_code 1 &&
    expect_stderr_contains "did not answer healthy within 4s" &&
    [ "$took" -lt 20000 ] &&
    [ "$(deployment_of)" = "$before" ] && healthy
'

test_expect_success 'mloop killed after every journalled step: the next status finishes or undoes it' '
    cd "$P" &&
    for point in stop-previous:begun stop-previous:done start:begun start:done health:begun health:done finish:begun finish:done; do
        mloop -q deploy local churn@1 >/dev/null 2>&1 &&
        MLOOP_TEST_KILL_AT=$point mloop -q deploy local churn@2 >/dev/null 2>&1
        rc=$?
        [ "$rc" = 137 ] || { fail "$point: mloop exited $rc, not killed"; exit 1; }
        killed=$(sql "select max(id) from deployments") &&
        [ "$(sql "select state from deployments where id = $killed")" = progressing ] ||
            [ "$(sql "select state from deployments where id = $killed")" = pending ] ||
            { fail "$point: state before recovery"; exit 1; }
        run mloop --json status local &&
        expect_code 0 &&
        expect_json "j[0][\"recovered\"][0][\"deployment\"] == $killed" || exit 1
        state=$(sql "select state from deployments where id = $killed") &&
        live=$(deployment_of) &&
        current=$(sql "select max(id) from deployments where env = \"local\" and state = \"succeeded\"") &&
        [ "$live" = "$current" ] || { fail "$point: live deploy/$live, registry deploy/$current"; exit 1; }
        [ "$(image_of)" = "$(sql "select i.image_id from deployments d join images i on i.id = d.image where d.id = $current")" ] &&
        [ "$(sql "select a.version from aliases a where a.alias = \"local\"")" = "$(sql "select version from deployments where id = $current")" ] &&
        [ "$(sql "select count(*) from deployments where state in (\"pending\", \"progressing\")")" = 0 ] &&
        ! docker inspect "mloop-$PROJECT-local-previous" >/dev/null 2>&1 &&
        healthy || { fail "$point: did not converge"; exit 1; }
        echo "# kill at $point: deploy/$killed $state"
    done
'

test_expect_success 'rollback --to MODEL@VER finishes or undoes a killed deployment first; status lists every environment' '
    cd "$P" &&
    mloop -q deploy local churn@1 >/dev/null 2>&1 &&
    MLOOP_TEST_KILL_AT=start:done mloop -q deploy local churn@2 >/dev/null 2>&1
    rc=$?
    [ "$rc" = 137 ] || { fail "mloop exited $rc, not killed"; exit 1; }
    killed=$(sql "select max(id) from deployments") &&
    run mloop --json rollback local --to churn@1 &&
    expect_code 0 &&
    expect_json "j[\"kind\"] == \"rollback\" and j[\"version\"] == \"churn@1\" and j[\"state\"] == \"succeeded\"" &&
    [ "$(sql "select state in (\"succeeded\", \"rolled-back\", \"failed\") from deployments where id = $killed")" = 1 ] &&
    [ "$(sql "select count(*) from deployments where state in (\"pending\", \"progressing\")")" = 0 ] &&
    [ "$(deployment_of)" = "$(sql "select max(id) from deployments")" ] && healthy &&
    [ "$(sql "select a.version from aliases a where a.alias = \"local\"")" = 1 ] &&
    printf "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"http://127.0.0.1:1\"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n" >"$SCRATCH/closed.kubeconfig" &&
    KUBECONFIG="$SCRATCH/closed.kubeconfig" run mloop --json status &&
    expect_code 0 &&
    expect_json "sorted(e[\"env\"] for e in j) == sorted([\"local\", \"production\", \"staging\"])" &&
    expect_json "[e[\"health\"] for e in j if e[\"target\"] == \"kubernetes\"] == [\"unknown\", \"unknown\"]" &&
    expect_json "[e[\"health\"] for e in j if e[\"env\"] == \"local\"] == [\"ok\"]"
'

# The hostile argument, written once to a file so that no shell quoting stands in between.
cat >"$SCRATCH/hostile-arg" <<'ARG'
/logs/p $(touch pwned); `id` it's "x" | & *.jsonl
ARG

test_expect_success 'argv with shell metacharacters reaches docker byte for byte' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    python3 - "$SCRATCH/hostile-arg" <<PY &&
import json, sys
arg = open(sys.argv[1]).read().rstrip("\n")
text = open("mloop.yaml").read()
text = text.replace("serve: [/mloop-serve, --log, /logs/predictions.jsonl]",
                    "serve: [/mloop-serve, --log, " + json.dumps(arg) + "]")
open("mloop.yaml", "w").write(text)
PY
    run mloop --json package churn@2 --no-cache &&
    expect_code 0 &&
    docker image inspect --format "{{json .Config.Entrypoint}}" "127.0.0.1:5000/mloop-test/$PROJECT:v2" >entry.json &&
    python3 -c "
import json, sys
arg = open(sys.argv[1]).read().rstrip(\"\\n\")
got = json.load(open(\"entry.json\"))
assert got == [\"/mloop-serve\", \"--log\", arg], got
" "$SCRATCH/hostile-arg" &&
    run mloop deploy local churn@2 &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 0 &&
    curl -sf -X POST "http://127.0.0.1:$PORT/predict" -d "{\"age\": 30, \"tenure_months\": 2, \"monthly_fee\": 10, \"support_calls\": 0, \"plan\": \"basic\", \"region\": \"north\", \"autopay\": true}" >/dev/null &&
    python3 -c "
import os, sys
arg = open(sys.argv[1]).read().rstrip(\"\\n\")
assert os.path.isfile(\"logs/\" + arg[len(\"/logs/\"):]), os.listdir(\"logs\")
assert not os.path.exists(\"pwned\") and not os.path.exists(\"logs/pwned\")
" "$SCRATCH/hostile-arg"
'

test_expect_success 'the default template is a Python server; a project'"'"'s templates/ overrides it' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    sed -i "/^  template: Dockerfile.scratch/d; /^  serve: /d" mloop.yaml &&
    run mloop package churn@2 --force --dry-run &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 0 &&
    expect_stdout_contains "COPY model/ /model/" &&
    expect_stdout_contains "CMD [\"python3\", \"serve.py\"]" &&
    expect_stdout_contains "MLOOP_MODEL_VERSION=2" &&
    case "$OUT" in *"{{"* | *"(, )"*) fail "unrendered or empty template text" ;; esac &&
    mkdir -p templates &&
    printf "FROM scratch\n# mine: {{model}}@{{version}}\n" >templates/Dockerfile.scratch &&
    run mloop package churn@2 --force --dry-run &&
    rm -r templates &&
    expect_code 0 &&
    expect_stdout_contains "# mine: churn@2" &&
    case "$OUT" in *mloop-serve*) fail "the built-in template was used" ;; esac
'

test_expect_success 'a secret in the environment never reaches manifests, logs, labels or the registry' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    sed -i "s|^  port: 8080|  port: 8080\n  build_args: {API_HINT: \"\${env.DEPLOY_TOKEN}\"}|" mloop.yaml &&
    grep -q "build_args" mloop.yaml &&
    export DEPLOY_TOKEN=tok-5up3r-s3cr3t-v4lue &&
    run mloop package churn@3 --force --no-cache &&
    expect_code 2 &&
    expect_stderr_contains "package.build_args.API_HINT carries a secret" &&
    ! printf "%s%s" "$OUT" "$ERR" | grep -q "tok-5up3r" || { fail "the secret is in the refusal"; exit 1; }
    sed -i "s|\${env.DEPLOY_TOKEN}|\${env.DEPLOY_HINT}|" mloop.yaml &&
    export DEPLOY_HINT=not-secret &&
    run mloop --json package churn@3 --force &&
    expect_code 0 &&
    PACKAGED=$OUT &&
    run mloop deploy local churn@1 --force &&
    expect_code 0 &&
    cp mloop.yaml.orig mloop.yaml &&
    found=$(grep -r -a -l "tok-5up3r-s3cr3t-v4lue" .mloop logs) ; [ -z "$found" ] ||
        { fail "the secret is in: $found"; exit 1; }
    ! docker ps -a --no-trunc --format "{{.Labels}} {{.Command}}" | grep -q "tok-5up3r" &&
    ! docker image inspect --format "{{json .Config.Labels}}" "127.0.0.1:5000/mloop-test/$PROJECT:v3" | grep -q "tok-5up3r" &&
    ! printf "%s" "$OUT" | grep -q "tok-5up3r" || { fail "the secret is in a label or output"; exit 1; }
    printf "%s" "$PACKAGED" | grep -q "API_HINT=not-secret" || { fail "no build arg: $PACKAGED"; exit 1; }
'

test_expect_success 'deploy --dry-run and --render change nothing; unknown environments are exit 2' '
    cd "$P" &&
    n=$(sql "select count(*) from deployments") &&
    run mloop deploy local churn@2 --dry-run &&
    expect_code 0 &&
    expect_stdout_contains "would deploy churn@2 to local" &&
    expect_stdout_contains "docker run --detach --name=mloop-$PROJECT-local" &&
    run mloop deploy local churn@2 --render out &&
    expect_code 0 &&
    python3 -c "import json; j = json.load(open(\"out/docker-run.json\")); assert j[\"network\"] == \"host\"" &&
    [ "$(sql "select count(*) from deployments")" = "$n" ] &&
    run mloop deploy locl &&
    expect_code 2 &&
    expect_stderr_contains "no environment '"'"'locl'"'"'" &&
    expect_stderr_contains "did you mean" &&
    run mloop deploy local churn@1 --strategy canary &&
    expect_code 2 &&
    expect_stderr_contains "--strategy canary needs a kubernetes environment; '"'"'local'"'"' is a docker one" &&
    [ "$(sql "select count(*) from deployments")" = "$n" ]
'

test_done
