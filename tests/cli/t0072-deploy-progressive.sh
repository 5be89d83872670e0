#!/usr/bin/env bash
# mloop deploy with the canary and blue-green strategies: the real kubectl against the fake API
# server (tests/fixtures/k8s), analysis against the fake Prometheus (tests/fixtures/prometheus)
# and a command. Canary steps to success and their replica shares; a failing analysis and a bad
# image rolled back with the stable version at full size; blue-green to the idle colour, the
# preview Service, the switch, the old colour kept up for scale_down_delay and scaled down after
# it, an instant rollback that switches back; mloop killed after every journalled step.
. "$(dirname "$0")/lib.sh"

PROJECT=tprog$$
. "$(dirname "$0")/k8s.sh"
start_fake_k8s ml-prod,ml-bg
start_fake_prometheus

# error_rate V…: what the canary analysis's query answers, one value per question (the last repeats)
QUERY='sum(rate(mloop_errors_total{env="prod"}[1m]))'
error_rate() {
    post "$PROM/_fake/set" "$(/usr/bin/python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1], "values": [float(v) for v in sys.argv[2:]]}))' "$QUERY" "$@")"
}
prom_queries() {
    curl -sS "$PROM/_fake/requests" | /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)["requests"]))'
}
# obj NS KIND NAME EXPR: a Python expression over the live object (o), printed; "absent" when
# there is no such object.
obj() {
    local json
    json=$(k get "$2" "$3" -n "$1" -o json 2>/dev/null) || { echo absent; return 0; }
    printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
o = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$4"
}
image_of() { obj "$1" deploy "$2" 'o["spec"]["template"]["spec"]["containers"][0]["image"]'; }
replicas_of() { obj "$1" deploy "$2" 'o["spec"].get("replicas", 1)'; }
pods_of() { obj "$1" deploy "$2" 'o["spec"]["template"]["metadata"]["labels"]["io.mloop/deployment"]'; }
color_of() { obj ml-bg svc "$1" 'o["spec"]["selector"].get("io.mloop/color", "none")'; }
last_id() { sql "select max(id) from deployments"; }
last_state() { sql "select state from deployments order by id desc limit 1"; }
journal() { sql "select group_concat(step || \":\" || state, \" \") from (select step, state from deploy_steps where deployment_id = $1 order by seq)"; }
in_flight() { sql "select count(*) from deployments where state in (\"pending\", \"progressing\")"; }

# One project: churn trained three times; `production` canary on four replicas, `bg` blue-green on two.
P="$SCRATCH/project"
mkdir -p "$P"
(
    cd "$P" && copy_example . &&
    /usr/bin/python3 - "$PROJECT" "$PROM" "$QUERY" <<'PY'
import sys
project, prom, query = sys.argv[1:4]
text = open("mloop.yaml").read()
text = text.replace("project: churn", "project: " + project)
text = text.replace("image: 127.0.0.1:5000/mloop/churn", "image: 127.0.0.1:5000/mloop-test/" + project)
text = text.replace("health: {path: /healthz, timeout: 60s}", "health: {path: /healthz, timeout: 8s}")
start = text.index("  environments:")
end = text.index("\nmonitor:")
text = text[:start] + """  environments:
    production:
      target: kubernetes
      namespace: ml-prod
      replicas: 4
      strategy: canary
      canary: {steps: [25, 50, 100], pause: 0s}
      analysis:
        - {prometheus: {url: "%s", query: '%s', max: 0.01}}
        - {monitor: {current: canary.csv}}
    bg:
      target: kubernetes
      namespace: ml-bg
      replicas: 2
      strategy: bluegreen
      bluegreen: {scale_down_delay: 1h}
      analysis:
        - {command: [sh, -c, 'echo "$1" >> analysis.log; test ! -f fail-analysis', sh, "${deploy.url}"]}
        - {command: [sh, -c, 'echo "token $1" >&2; test "$1" = "$SMOKE_TOKEN" && test ! -f fail-token', sh, "${env.SMOKE_TOKEN}"]}
""" % (prom, query) + text[end:]
open("mloop.yaml", "w").write(text)
PY
    cp data/eval.csv canary.csv &&
    mloop -q validate config >/dev/null &&
    mloop -q train >/dev/null && mloop -q train --param C=0.5 >/dev/null &&
    mloop -q train --param C=2 >/dev/null &&
    mloop -q package churn@1 >/dev/null && mloop -q package churn@2 >/dev/null &&
    mloop -q package churn@3 >/dev/null
) || { echo "not ok - could not set up the project" >&2; mloop -C "$P" validate config >&2; exit 1; }
cd "$P" || exit 1
P_NAME=$PROJECT-production
B_NAME=$PROJECT-bg

test_expect_success 'canary: the first version goes straight to stable, without steps' '
    cd "$P" && error_rate 0.001 &&
    run mloop deploy production churn@1 &&
    expect_code 0 &&
    expect_stderr_contains "no stable $P_NAME yet" &&
    [ "$(journal 1)" = "apply:done rollout:done finish:done" ] &&
    [ "$(image_of ml-prod "$P_NAME")" = "$REPO:v1" ] && [ "$(replicas_of ml-prod "$P_NAME")" = 4 ] &&
    [ "$(obj ml-prod deploy "$P_NAME-canary" o)" = absent ] &&
    [ "$(prom_queries)" = 0 ] &&
    [ "$(alias_version production)" = 1 ]
'

test_expect_success 'canary: each step sets the share of replicas and runs the analysis; then stable takes it' '
    cd "$P" &&
    run mloop --json deploy production churn@2 &&
    expect_code 0 &&
    id=$(last_id) &&
    expect_json "j[\"state\"] == \"succeeded\" and j[\"strategy\"] == \"canary\"" &&
    expect_json "[(c[\"kind\"], c[\"passed\"]) for c in j[\"analysis\"]] == [(\"prometheus\", True), (\"monitor\", True)] and j[\"analysis\"][0][\"value\"] == 0.001" &&
    expect_json "j[\"analysis\"][1][\"what\"] == \"canary.csv\" and j[\"analysis\"][1][\"reason\"].endswith(\"0 of 7 features drifted\")" &&
    [ "$(sql "select count(*) from monitor_reports where env is null and version = 2")" = 3 ] &&
    [ "$(journal "$id")" = "apply:done canary-25:done canary-50:done canary-100:done promote:done finish:done" ] &&
    [ "$(sql "select group_concat(detail, \"; \") from (select detail from deploy_steps where deployment_id = $id and step like \"canary-%\" order by seq)")" = "1 canary, 3 stable; 2 canary, 2 stable; 4 canary, 0 stable" ] &&
    [ "$(prom_queries)" = 3 ] &&
    [ "$(image_of ml-prod "$P_NAME")" = "$REPO:v2" ] && [ "$(replicas_of ml-prod "$P_NAME")" = 4 ] &&
    [ "$(pods_of ml-prod "$P_NAME")" = "$id" ] &&
    [ "$(obj ml-prod deploy "$P_NAME-canary" o)" = absent ] &&
    [ -f ".mloop/manifests/production/$id/canary/deployment.yaml" ] &&
    grep -q "io.mloop/track: \"canary\"" ".mloop/manifests/production/$id/canary/deployment.yaml" &&
    [ "$(alias_version production)" = 2 ] &&
    run mloop deploy production churn@3 &&
    expect_code 0 &&
    expect_stderr_contains "canary 25%: 1 canary pod, 3 stable" &&
    expect_stderr_contains "canary 50%: 2 canary pods, 2 stable" &&
    expect_stderr_contains "canary 100%: 4 canary pods, 0 stable" &&
    expect_stderr_contains "analysis prometheus $QUERY: passed" &&
    [ "$(image_of ml-prod "$P_NAME")" = "$REPO:v3" ]
'

# expect_canary_rolled_back V REASON: the last deployment was rolled back for REASON, the stable
# runs version V on all four replicas, the canary is at zero, the alias stayed.
expect_canary_rolled_back() {
    expect_code 1 &&
    expect_stderr_contains "rolled-back: " &&
    expect_stderr_contains "$2" &&
    [ "$(last_state)" = rolled-back ] &&
    [ "$(image_of ml-prod "$P_NAME")" = "$REPO:v$1" ] &&
    [ "$(replicas_of ml-prod "$P_NAME")" = 4 ] &&
    [ "$(obj ml-prod deploy "$P_NAME" "o[\"status\"].get(\"availableReplicas\")")" = 4 ] &&
    [ "$(replicas_of ml-prod "$P_NAME-canary")" = 0 ] &&
    [ "$(alias_version production)" = "$1" ] &&
    [ "$(in_flight)" = 0 ]
}

test_expect_success 'canary: an analysis that fails at the second step scales the canary to zero and restores stable' '
    cd "$P" && error_rate 0.001 0.5 &&
    run mloop deploy production churn@2 &&
    expect_canary_rolled_back 3 "analysis failed at canary 50%: prometheus" &&
    expect_stderr_contains "0.5 is outside max 0.01" &&
    id=$(last_id) &&
    [ "$(journal "$id")" = "apply:done canary-25:done canary-50:failed undo:done" ]
'

test_expect_success 'canary: traffic that drifted from the training data fails the monitor check' '
    cd "$P" && error_rate 0.001 && cp data/production.csv canary.csv &&
    run mloop deploy production churn@2 &&
    cp data/eval.csv canary.csv &&
    expect_canary_rolled_back 3 "analysis failed at canary 25%: monitor canary.csv: monitor/" &&
    expect_stderr_contains "dataset drift: 5 of 7 features drifted" &&
    [ "$(journal "$(last_id)")" = "apply:done canary-25:failed undo:done" ]
'

test_expect_success 'canary: an image that cannot be pulled is rolled back at the first step' '
    cd "$P" && error_rate 0.001 && fault "$REPO:v1" ImagePullBackOff &&
    run mloop deploy production churn@1 &&
    fault "$REPO:v1" none &&
    expect_canary_rolled_back 3 "ImagePullBackOff" &&
    [ "$(journal "$(last_id)")" = "apply:done canary-25:failed undo:done" ]
'

test_expect_success 'canary: mloop killed after every journalled step; the next status finishes or undoes it' '
    cd "$P" && error_rate 0.001 && next=2 &&
    for point in apply:begun apply:done canary-25:begun canary-25:done canary-50:begun canary-50:done canary-100:begun canary-100:done promote:begun promote:done finish:begun finish:done; do
        MLOOP_TEST_KILL_AT=$point mloop -q deploy production churn@$next >/dev/null 2>&1
        rc=$?
        [ "$rc" = 137 ] || { fail "$point: mloop exited $rc, not killed"; exit 1; }
        killed=$(last_id)
        run mloop --json status production &&
        expect_code 0 &&
        expect_json "j[0][\"recovered\"][0][\"deployment\"] == $killed" || exit 1
        state=$(sql "select state from deployments where id = $killed") &&
        cur=$(sql "select max(id) from deployments where env = \"production\" and state = \"succeeded\"") &&
        want=$(sql "select version from deployments where id = $cur") &&
        [ "$(image_of ml-prod "$P_NAME")" = "$REPO:v$want" ] &&
        [ "$(replicas_of ml-prod "$P_NAME")" = 4 ] &&
        case "$(replicas_of ml-prod "$P_NAME-canary")" in absent|0) ;; *) false ;; esac &&
        [ "$(alias_version production)" = "$want" ] && [ "$(in_flight)" = 0 ] &&
        run mloop --json status production &&
        expect_json "j[0][\"health\"] == \"ok\" and j[0][\"differences\"] == []" ||
            { fail "$point: did not converge (deploy/$killed $state)"; exit 1; }
        echo "# kill at $point: deploy/$killed $state, serving v$want"
        # The next kill deploys the version not serving now: no deployment only to go back.
        if [ "$want" = 2 ]; then next=3; else next=2; fi
    done &&
    { [ "$want" = 3 ] || mloop -q deploy production churn@3 >/dev/null 2>&1; }
'

test_expect_success 'blue-green: the first version goes to blue, the next to green through the preview' '
    cd "$P" &&
    run mloop deploy bg churn@1 &&
    expect_code 0 &&
    first=$(last_id) &&
    [ "$(color_of "$B_NAME")" = blue ] && [ "$(image_of ml-bg "$B_NAME-blue")" = "$REPO:v1" ] &&
    [ "$(tail -n 1 analysis.log)" = "http://$B_NAME-preview.ml-bg.svc:8080" ] &&
    run mloop --json deploy bg churn@2 &&
    expect_code 0 &&
    id=$(last_id) &&
    expect_json "j[\"strategy\"] == \"bluegreen\" and [(c[\"kind\"], c[\"passed\"]) for c in j[\"analysis\"]] == [(\"command\", True), (\"command\", True)]" &&
    [ "$(journal "$id")" = "apply:done rollout:done analysis:done switch:done finish:done" ] &&
    [ "$(color_of "$B_NAME")" = green ] && [ "$(color_of "$B_NAME-preview")" = green ] &&
    [ "$(image_of ml-bg "$B_NAME-green")" = "$REPO:v2" ] && [ "$(pods_of ml-bg "$B_NAME-green")" = "$id" ] &&
    [ "$(replicas_of ml-bg "$B_NAME-blue")" = 2 ] && [ "$(pods_of ml-bg "$B_NAME-blue")" = "$first" ] &&
    [ "$(alias_version bg)" = 2 ] &&
    run mloop --json status bg &&
    expect_json "j[0][\"health\"] == \"ok\" and j[0][\"differences\"] == [] and j[0][\"strategy\"] == \"bluegreen\"" &&
    expect_json "j[0][\"live\"].startswith(\"deploy/$id 2/2 ready\")"
'

test_expect_success 'blue-green: a failing analysis leaves the Service on the old colour and scales the new one down' '
    cd "$P" && touch fail-analysis &&
    run mloop deploy bg churn@3 &&
    rm -f fail-analysis &&
    expect_code 1 &&
    expect_stderr_contains "analysis failed at preview: command" &&
    [ "$(last_state)" = rolled-back ] &&
    [ "$(journal "$(last_id)")" = "apply:done rollout:done analysis:failed undo:done" ] &&
    [ "$(color_of "$B_NAME")" = green ] && [ "$(image_of ml-bg "$B_NAME-green")" = "$REPO:v2" ] &&
    [ "$(replicas_of ml-bg "$B_NAME-blue")" = 0 ] &&
    [ "$(alias_version bg)" = 2 ]
'

test_expect_success 'blue-green: a crash-looping version never takes the Service; its colour goes to zero' '
    cd "$P" && fault "$REPO:v3" CrashLoopBackOff &&
    run mloop deploy bg churn@3 &&
    fault "$REPO:v3" none &&
    expect_code 1 &&
    expect_stderr_contains "CrashLoopBackOff" &&
    [ "$(last_state)" = rolled-back ] &&
    [ "$(journal "$(last_id)")" = "apply:done rollout:failed undo:done" ] &&
    [ "$(color_of "$B_NAME")" = green ] && [ "$(color_of "$B_NAME-preview")" = green ] &&
    [ "$(image_of ml-bg "$B_NAME-green")" = "$REPO:v2" ] &&
    [ "$(replicas_of ml-bg "$B_NAME-blue")" = 0 ] &&
    [ "$(alias_version bg)" = 2 ]
'

test_expect_success 'blue-green: rollback within scale_down_delay switches back to the pods still up' '
    cd "$P" &&
    mloop -q deploy bg churn@3 >/dev/null &&
    three=$(last_id) &&
    [ "$(color_of "$B_NAME")" = blue ] &&
    two=$(sql "select max(id) from deployments where env = \"bg\" and version = 2 and state = \"succeeded\"") &&
    run mloop --json rollback bg &&
    expect_code 0 &&
    expect_json "j[\"state\"] == \"succeeded\" and j[\"rollback_to\"] == $two and j[\"version\"] == \"churn@2\"" &&
    [ "$(color_of "$B_NAME")" = green ] &&
    [ "$(pods_of ml-bg "$B_NAME-green")" = "$two" ] &&
    [ "$(journal "$(last_id)")" = "apply:done rollout:done switch:done finish:done" ] &&
    [ "$(pods_of ml-bg "$B_NAME-blue")" = "$three" ] && [ "$(replicas_of ml-bg "$B_NAME-blue")" = 2 ] &&
    [ "$(alias_version bg)" = 2 ] &&
    run mloop --json status bg &&
    expect_json "j[0][\"health\"] == \"ok\" and j[0][\"differences\"] == []"
'

test_expect_success 'blue-green: the old colour is scaled down by the first command after scale_down_delay' '
    cd "$P" &&
    sed -i "s/scale_down_delay: 1h/scale_down_delay: 1s/" mloop.yaml &&
    mloop -q deploy bg churn@1 >/dev/null &&
    id=$(last_id) &&
    [ "$(color_of "$B_NAME")" = blue ] && [ "$(replicas_of ml-bg "$B_NAME-green")" = 2 ] &&
    sleep 1.5 &&
    run mloop status bg &&
    expect_code 0 &&
    expect_stderr_contains "scaled $B_NAME-green down to zero" &&
    [ "$(replicas_of ml-bg "$B_NAME-green")" = 0 ] &&
    [ "$(journal "$id")" = "apply:done rollout:done analysis:done switch:done finish:done scale-down:done" ] &&
    run mloop status bg &&
    expect_stderr_empty
'

test_expect_success 'blue-green: mloop killed after every journalled step; the next status finishes or undoes it' '
    cd "$P" && next=2 &&
    for point in apply:begun apply:done rollout:begun rollout:done analysis:begun analysis:done switch:begun switch:done finish:begun finish:done; do
        MLOOP_TEST_KILL_AT=$point mloop -q deploy bg churn@$next >/dev/null 2>&1
        rc=$?
        [ "$rc" = 137 ] || { fail "$point: mloop exited $rc, not killed"; exit 1; }
        killed=$(last_id)
        run mloop --json status bg &&
        expect_code 0 &&
        expect_json "j[0][\"recovered\"][0][\"deployment\"] == $killed" || exit 1
        state=$(sql "select state from deployments where id = $killed") &&
        cur=$(sql "select max(id) from deployments where env = \"bg\" and state = \"succeeded\"") &&
        want=$(sql "select version from deployments where id = $cur") &&
        color=$(color_of "$B_NAME") &&
        [ "$(image_of ml-bg "$B_NAME-$color")" = "$REPO:v$want" ] &&
        [ "$(alias_version bg)" = "$want" ] && [ "$(in_flight)" = 0 ] &&
        run mloop --json status bg &&
        expect_json "j[0][\"health\"] == \"ok\" and j[0][\"differences\"] == []" ||
            { fail "$point: did not converge (deploy/$killed $state)"; exit 1; }
        echo "# kill at $point: deploy/$killed $state, serving v$want on $color"
        if [ "$want" = 2 ]; then next=1; else next=2; fi
    done &&
    { [ "$want" = 1 ] || mloop -q deploy bg churn@1 >/dev/null 2>&1; }
'

test_expect_success 'a secret reaches the analysis command, and no manifest, journal, log or output' '
    cd "$P" &&
    export SMOKE_TOKEN=tok-9s3cr3t-k8s-v4lue &&
    touch fail-token &&
    run mloop --json deploy bg churn@3 &&
    rm -f fail-token &&
    expect_code 1 &&
    expect_json "j[\"state\"] == \"rolled-back\" and \"token ***\" in j[\"reason\"]" &&
    all="$OUT$ERR" &&
    run mloop --json deploy bg churn@3 &&
    expect_code 0 &&
    expect_json "[c[\"passed\"] for c in j[\"analysis\"]] == [True, True]" &&
    all="$all$OUT$ERR" &&
    ! printf "%s" "$all" | grep -q "9s3cr3t" || { fail "the secret is in the output"; exit 1; }
    found=$(grep -r -a -l "9s3cr3t" .mloop) ; [ -z "$found" ] || { fail "the secret is in: $found"; exit 1; }
    ! k get deploy,svc,pods -A -o json | grep -q "9s3cr3t" || { fail "the secret is in the cluster"; exit 1; }
'

test_expect_success 'monitor of a kubernetes environment reads its pods'"'"' use with kubectl top' '
    cd "$P" &&
    post "$API/_fake/metrics" "{\"image\": \"$REPO:*\", \"cpu\": \"25m\", \"memory\": \"10Mi\"}" &&
    cur=$(sql "select max(id) from deployments where env = \"production\" and state = \"succeeded\"") &&
    run mloop --json monitor production --current canary.csv &&
    expect_code 0 &&
    expect_json "j[\"deployment\"] == $cur and j[\"resources\"][\"source\"] == \"kubectl top pod --selector=app=$PROJECT,env=production\"" &&
    expect_json "j[\"resources\"][\"pods\"] == 4 and abs(j[\"resources\"][\"cpu_cores\"] - 0.1) < 1e-9 and j[\"resources\"][\"memory_bytes\"] == 4 * 10 * 1024 * 1024"
'

test_expect_success '--render writes each strategy'"'"'s manifests; --no-wait is refused with them' '
    cd "$P" &&
    run mloop deploy production churn@2 --render out-canary &&
    expect_code 0 &&
    [ -f out-canary/deployment.yaml ] && [ -f out-canary/service.yaml ] &&
    grep -q "name: \"$P_NAME-canary\"" out-canary/canary/deployment.yaml &&
    grep -q "replicas: 1$" out-canary/canary/deployment.yaml &&
    case "$(color_of "$B_NAME")" in blue) idle=green ;; *) idle=blue ;; esac &&
    run mloop deploy bg churn@2 --render out-bg &&
    expect_code 0 &&
    grep -q "name: \"$B_NAME-preview\"" out-bg/preview.yaml &&
    grep -q "name: \"$B_NAME-$idle\"" out-bg/deployment.yaml &&
    grep -q "io.mloop/color: \"$idle\"" out-bg/deployment.yaml &&
    grep -q "io.mloop/color: \"$idle\"" out-bg/service.yaml &&
    k apply --server-side --force-conflicts --dry-run=server --validate=false -f out-bg >/dev/null &&
    k apply --server-side --force-conflicts --dry-run=server --validate=false -f out-canary/canary >/dev/null &&
    n=$(sql "select count(*) from deployments") &&
    run mloop deploy production churn@2 --no-wait &&
    expect_code 2 &&
    expect_stderr_contains "--no-wait cannot be used with the canary strategy" &&
    [ "$(sql "select count(*) from deployments")" = "$n" ]
'

test_done
