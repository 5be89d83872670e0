#!/usr/bin/env bash
# mloop deploy, rollback and status for a kubernetes environment with the rolling strategy: the
# real kubectl against the fake API server (tests/fixtures/k8s), images built by the real docker
# (packaging only: the fake cluster pulls nothing). Rollouts that succeed, that fail on a bad
# image, a crash loop or pods that never become ready (each rolled back to the previous
# manifests), an API server that goes away mid-rollout, mloop killed after every journalled step,
# rollback, and --render. Canary and blue-green: t0072.
. "$(dirname "$0")/lib.sh"

PROJECT=tk8s$$
NS=ml-staging
NAME=$PROJECT-staging
. "$(dirname "$0")/k8s.sh"
start_fake_k8s "$NS"

# live EXPR: a Python expression over the live Deployment (d), printed.
live() {
    k get deploy "$NAME" -n "$NS" -o json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}
live_image() { live 'd["spec"]["template"]["spec"]["containers"][0]["image"]'; }
live_deployment() { live 'd["spec"]["template"]["metadata"]["labels"]["io.mloop/deployment"]'; }
current() { sql "select max(id) from deployments where env = \"staging\" and state = \"succeeded\""; }

# One project: churn trained three times; staging on the fake cluster with two replicas.
P="$SCRATCH/project"
mkdir -p "$P"
(
    cd "$P" && copy_example . &&
    /usr/bin/python3 - "$PROJECT" <<'PY'
import sys
project = sys.argv[1]
text = open("mloop.yaml").read()
text = text.replace("project: churn", "project: " + project)
text = text.replace("image: 127.0.0.1:5000/mloop/churn", "image: 127.0.0.1:5000/mloop-test/" + project)
text = text.replace("health: {path: /healthz, timeout: 60s}", "health: {path: /healthz, timeout: 8s}")
text = text.replace("""    staging:
      target: kubernetes
      namespace: ml-staging
      replicas: 1""", """    staging:
      target: kubernetes
      context: staging
      namespace: ml-staging
      replicas: 2""")
open("mloop.yaml", "w").write(text)
PY
    grep -q "context: staging" mloop.yaml && grep -q "timeout: 8s" mloop.yaml &&
    mloop -q train >/dev/null && mloop -q train --param C=0.5 >/dev/null &&
    mloop -q train --param C=2 >/dev/null &&
    mloop -q package churn@1 >/dev/null && mloop -q package churn@2 >/dev/null &&
    mloop -q package churn@3 >/dev/null
) || { echo "not ok - could not set up the project" >&2; exit 1; }
cd "$P" || exit 1

test_expect_success 'deploy staging applies the manifests, waits for the rollout, moves the alias' '
    cd "$P" &&
    run mloop --json deploy staging churn@1 &&
    expect_code 0 &&
    expect_json "j[\"state\"] == \"succeeded\" and j[\"deployment\"] == 1 and j[\"previous\"] is None" &&
    expect_json "j[\"argv\"][1:4] == [\"--context=staging\", \"--namespace=ml-staging\", \"--request-timeout=5s\"]" &&
    [ "$(live_image)" = "$REPO:v1" ] &&
    [ "$(live_deployment)" = 1 ] &&
    [ "$(live "d[\"status\"].get(\"availableReplicas\")")" = 2 ] &&
    [ "$(live "d[\"spec\"][\"progressDeadlineSeconds\"]")" = 8 ] &&
    [ "$(live "d[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"readinessProbe\"][\"httpGet\"][\"path\"]")" = /healthz ] &&
    [ "$(live "d[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"resources\"][\"limits\"][\"memory\"]")" = 64Mi ] &&
    k get svc "$NAME" -n "$NS" >/dev/null &&
    [ -f .mloop/manifests/staging/1/deployment.yaml ] && [ -f .mloop/manifests/staging/1/service.yaml ] &&
    [ "$(sql "select state || \" \" || target || \" \" || strategy from deployments where id = 1")" = "succeeded kubernetes rolling" ] &&
    [ "$(sql "select group_concat(step || \":\" || state, \" \") from (select step, state from deploy_steps where deployment_id = 1 order by seq)")" = "apply:done rollout:done finish:done" ] &&
    [ "$(alias_version staging)" = 1 ] &&
    run mloop status staging &&
    expect_code 0 &&
    expect_stdout_contains " ok " &&
    run mloop --json status staging &&
    expect_json "j[0][\"health\"] == \"ok\" and j[0][\"differences\"] == [] and j[0][\"live\"].startswith(\"deploy/1 2/2 ready\")"
'

test_expect_success 'a second version rolls out over the first' '
    cd "$P" &&
    run mloop deploy staging churn@2 &&
    expect_code 0 &&
    expect_stdout_contains "deploy/2: churn@2 → staging succeeded" &&
    [ "$(live_image)" = "$REPO:v2" ] && [ "$(live_deployment)" = 2 ] && [ "$(alias_version staging)" = 2 ]
'

# expect_rolled_back REASON: the last deployment failed with REASON and the cluster is back on
# deploy/2.
expect_rolled_back() {
    expect_code 1 &&
    expect_stderr_contains "rolled-back: " &&
    expect_stderr_contains "$1" &&
    expect_stderr_contains "hint: staging still serves deploy/2" &&
    [ "$(sql "select state from deployments order by id desc limit 1")" = rolled-back ] &&
    [ "$(live_image)" = "$REPO:v2" ] && [ "$(live_deployment)" = 2 ] &&
    [ "$(live "d[\"status\"].get(\"availableReplicas\")")" = 2 ] &&
    [ "$(alias_version staging)" = 2 ]
}

test_expect_success 'an image that cannot be pulled is rolled back at once' '
    cd "$P" && fault "$REPO:v3" ImagePullBackOff &&
    start=$(now_ms) &&
    run mloop deploy staging churn@3 &&
    took=$(( $(now_ms) - start )) &&
    expect_rolled_back "ImagePullBackOff" &&
    [ "$took" -lt 8000 ]
'

test_expect_success 'a crash loop is rolled back' '
    cd "$P" && fault "$REPO:v3" CrashLoopBackOff &&
    run mloop deploy staging churn@3 &&
    expect_rolled_back "CrashLoopBackOff"
'

test_expect_success 'a pod restarted more than max_restarts times is rolled back' '
    cd "$P" && fault "$REPO:v3" Restarts &&
    run mloop deploy staging churn@3 &&
    fault "$REPO:v3" none &&
    expect_rolled_back "times (max_restarts: 3)" &&
    expect_stderr_contains "restarted "
'

test_expect_success 'pods that never become ready are rolled back at the health timeout' '
    cd "$P" && fault "$REPO:v3" NeverReady &&
    start=$(now_ms) &&
    run mloop deploy staging churn@3 &&
    took=$(( $(now_ms) - start )) &&
    fault "$REPO:v3" none &&
    expect_rolled_back "deployment $NAME" &&
    [ "$took" -ge 7000 ] && [ "$took" -lt 30000 ]
'

test_expect_success 'an API server away for 2 s mid-rollout is waited for, not a failure' '
    cd "$P" &&
    mloop -q deploy staging churn@2 >/dev/null || exit 1
    post "$API/_fake/pause" "{\"paused\": true}" || exit 1
    start=$(now_ms)
    # (a job of its own: "a && b &" would put the whole list in the background)
    { mloop deploy staging churn@1 >"$SCRATCH/down.out" 2>"$SCRATCH/down.err"; echo $? >"$SCRATCH/down.rc"; } &
    for _ in $(seq 100); do [ "$(live_image)" = "$REPO:v1" ] && break; sleep 0.1; done &&
    [ "$(live_image)" = "$REPO:v1" ] &&
    [ "$(live "d[\"status\"][\"observedGeneration\"] < d[\"metadata\"][\"generation\"]")" = True ] &&
    post "$API/_fake/down" "{\"seconds\": 2, \"resume\": true}" &&
    wait &&
    took=$(( $(now_ms) - start )) &&
    [ "$(cat "$SCRATCH/down.rc")" = 0 ] || { cat "$SCRATCH/down.err" >&2; exit 1; }
    grep -q "succeeded" "$SCRATCH/down.out" &&
    [ "$took" -ge 2000 ] &&
    [ "$(live_deployment)" = "$(current)" ] && [ "$(alias_version staging)" = 1 ] &&
    echo "# deployed across 2 s of API server downtime in $took ms"
'

test_expect_success 'mloop killed after every journalled step: the next status finishes or undoes it' '
    cd "$P" &&
    for point in apply:begun apply:done rollout:begun rollout:done finish:begun finish:done; do
        mloop -q deploy staging churn@1 >/dev/null 2>&1 &&
        MLOOP_TEST_KILL_AT=$point mloop -q deploy staging churn@2 >/dev/null 2>&1
        rc=$?
        [ "$rc" = 137 ] || { fail "$point: mloop exited $rc, not killed"; exit 1; }
        killed=$(sql "select max(id) from deployments") &&
        case "$(sql "select state from deployments where id = $killed")" in
            pending|progressing) ;;
            *) fail "$point: state before recovery"; exit 1 ;;
        esac
        run mloop --json status staging &&
        expect_code 0 &&
        expect_json "j[0][\"recovered\"][0][\"deployment\"] == $killed" || exit 1
        state=$(sql "select state from deployments where id = $killed") &&
        cur=$(current) &&
        [ "$(live_deployment)" = "$cur" ] || { fail "$point: live deploy/$(live_deployment), registry deploy/$cur"; exit 1; }
        want=$(sql "select version from deployments where id = $cur") &&
        [ "$(live_image)" = "$REPO:v$want" ] &&
        [ "$(alias_version staging)" = "$want" ] &&
        [ "$(sql "select count(*) from deployments where state in (\"pending\", \"progressing\")")" = 0 ] &&
        run mloop --json status staging &&
        expect_json "j[0][\"health\"] == \"ok\" and j[0][\"differences\"] == []" ||
            { fail "$point: did not converge"; exit 1; }
        echo "# kill at $point: deploy/$killed $state"
    done
'

test_expect_success 'the next deploy finishes an interrupted one first, under the same lock' '
    cd "$P" &&
    MLOOP_TEST_KILL_AT=rollout:begun mloop -q deploy staging churn@2 >/dev/null 2>&1
    [ $? = 137 ] || exit 1
    killed=$(sql "select max(id) from deployments") &&
    run mloop --json deploy staging churn@1 &&
    expect_code 0 &&
    expect_json "j[\"recovered\"] == [{\"deployment\": $killed, \"last_step\": \"rollout begun\", \"action\": \"finished\", \"state\": \"succeeded\"}]" &&
    [ "$(sql "select count(*) from deployments where state in (\"pending\", \"progressing\")")" = 0 ] &&
    [ "$(live_image)" = "$REPO:v1" ] && [ "$(live_deployment)" = "$(current)" ]
'

test_expect_success 'rollback staging re-applies the previous version under a new deployment' '
    cd "$P" &&
    mloop -q deploy staging churn@1 >/dev/null && mloop -q deploy staging churn@2 >/dev/null &&
    good=$(sql "select max(id) from deployments where version = 1 and state = \"succeeded\"") &&
    run mloop --json rollback staging &&
    expect_code 0 &&
    expect_json "j[\"kind\"] == \"rollback\" and j[\"state\"] == \"succeeded\" and j[\"version\"] == \"churn@1\"" &&
    expect_json "j[\"rollback_to\"] == $good" &&
    id=$(sql "select max(id) from deployments") &&
    [ "$(live_image)" = "$REPO:v1" ] && [ "$(live_deployment)" = "$id" ] &&
    [ "$(alias_version staging)" = 1 ]
'

test_expect_success 'status reports a live Deployment changed behind mloop'"'"'s back' '
    cd "$P" &&
    k set image -n "$NS" "deployment/$NAME" model=elsewhere:v9 >/dev/null &&
    run mloop --json status staging &&
    expect_code 0 &&
    expect_json "any(\"runs image elsewhere:v9\" in d for d in j[0][\"differences\"])" &&
    mloop -q rollback staging --to "deploy/$(current)" >/dev/null &&
    [ "$(live_image)" = "$REPO:v1" ]
'

test_expect_success 'deploy --render writes the manifests and stops; --dry-run changes nothing' '
    cd "$P" &&
    n=$(sql "select count(*) from deployments") &&
    run mloop deploy staging churn@2 --render out &&
    expect_code 0 &&
    grep -q "image: \"$REPO:v2\"" out/deployment.yaml &&
    grep -q "io.mloop/version: \"2\"" out/deployment.yaml &&
    grep -q "kind: Service" out/service.yaml &&
    k apply --server-side --force-conflicts --dry-run=server --validate=false -f out >/dev/null &&
    run mloop deploy staging churn@2 --dry-run &&
    expect_code 0 &&
    expect_stdout_contains "would deploy churn@2 to staging" &&
    expect_stdout_contains "apply --server-side" &&
    [ "$(sql "select count(*) from deployments")" = "$n" ] &&
    [ "$(live_image)" = "$REPO:v1" ]
'

test_expect_success 'kubectl missing is exit 3, and the deployment is recorded failed' '
    cd "$P" &&
    MLOOP_KUBECTL=/nonexistent/kubectl run mloop deploy staging churn@2 &&
    expect_code 3 &&
    expect_stderr_contains "cannot run kubectl" &&
    [ "$(sql "select state from deployments order by id desc limit 1")" = failed ] &&
    [ "$(live_image)" = "$REPO:v1" ]
'

test_expect_success 'paths with shell metacharacters, quotes and commas reach kubectl intact' '
    hostile="$SCRATCH/x \$(touch pwned); \`touch pwned2\` it'"'"'s \"q\", | & *" &&
    cp -a "$P" "$hostile" &&
    cd "$hostile" &&
    run mloop --json deploy staging churn@2 &&
    expect_code 0 &&
    expect_json "j[\"state\"] == \"succeeded\"" &&
    expect_json "j[\"argv\"][-1] == \"--filename=\\\"\" + j[\"manifests\"].replace(\"\\\"\", \"\\\"\\\"\") + \"\\\"\"" &&
    expect_json "j[\"manifests\"].startswith(\"$SCRATCH/x \$(touch pwned); \")" &&
    [ "$(live_image)" = "$REPO:v2" ] &&
    for d in "$SCRATCH" "$hostile" "$P" "$SCRATCH"/t*; do
        [ ! -e "$d/pwned" ] && [ ! -e "$d/pwned2" ] || { fail "a shell ran in $d"; exit 1; }
    done
'

test_done
