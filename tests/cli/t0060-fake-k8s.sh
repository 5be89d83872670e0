#!/usr/bin/env bash
# The fixtures that the deploy, rollback, status and monitor suites drive: the real kubectl against
# the fake Kubernetes API server (tests/fixtures/k8s) and curl against the fake Prometheus
# (tests/fixtures/prometheus). No mloop here: this proves the fixtures behave as a cluster would.
. "$(dirname "$0")/lib.sh"

FIX="$MLOOP_SOURCE_DIR/tests/fixtures"
KC="$SCRATCH/kubeconfig"
export KUBECONFIG="$KC"

if ! command -v kubectl >/dev/null; then
    if [ "${CI:-}" = true ]; then
        echo "not ok 1 - kubectl is installed"
        tests=1 failed=1 && test_done
        exit 1
    fi
    echo "# $SUITE: skipped, no kubectl on PATH"
    test_done
    exit 0
fi

# --- fixtures ----------------------------------------------------------------------------------
PIDS=()
stop_fixtures() {
    local p
    # servers a test started itself list their pid in $SCRATCH/pids
    [ -f "$SCRATCH/pids" ] && for p in $(cat "$SCRATCH/pids"); do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'stop_fixtures; rm -rf "$SCRATCH"' EXIT

# wait_file FILE: up to 10 s for FILE to be written.
wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

/usr/bin/python3 "$FIX/k8s/fake_apiserver.py" --port 0 --port-file "$SCRATCH/k8s.port" \
    --kubeconfig "$KC" --log "$SCRATCH/k8s.log" --step 0.1 --namespaces ml-staging \
    2>"$SCRATCH/k8s.err" &
PIDS+=($!)
/usr/bin/python3 "$FIX/prometheus/fake_prometheus.py" --port 0 --port-file "$SCRATCH/prom.port" \
    2>"$SCRATCH/prom.err" &
PIDS+=($!)
wait_file "$SCRATCH/k8s.port" && wait_file "$SCRATCH/prom.port" || {
    echo "fixtures did not start:" >&2
    cat "$SCRATCH/k8s.err" "$SCRATCH/prom.err" >&2
    exit 1
}
API="http://127.0.0.1:$(cat "$SCRATCH/k8s.port")"
PROM="http://127.0.0.1:$(cat "$SCRATCH/prom.port")"

# --- helpers -----------------------------------------------------------------------------------
# k ARGS: kubectl as mloop runs it, against the fixture.
k() { kubectl --kubeconfig "$KC" --request-timeout=5s "$@"; }
# apply FILE|DIR [ARGS]: server-side apply as mloop does it.
apply() { local f=$1; shift; k apply --server-side --field-manager=mloop --validate=false -f "$f" "$@"; }
# ctl PATH JSON: POST to a control endpoint of the fake API server.
ctl() { curl -sS --fail-with-body -X POST -H "Content-Type: application/json" "$API/_fake/$1" -d "$2"; }
# py EXPR: a Python expression over the JSON on stdin (j), printed (lists and dicts as JSON).
py() {
    /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list)) else r)' "$1"
}
# until_true SECONDS CMD: polls CMD every 0.1 s until it succeeds.
until_true() {
    local end=$(($(now_ms) + $1 * 1000))
    shift
    while ! eval "$1"; do
        [ "$(now_ms)" -lt "$end" ] || { echo "    timed out waiting for: $1" >&2; return 1; }
        sleep 0.1
    done
}
# status NAME [NS] EXPR: a field of the Deployment's status (EXPR over the status object s).
dstatus() {
    k get deploy "$1" -n "$2" -o json | py "(lambda s, d: $3)(j.get(\"status\", {}), j)"
}
# progressing NAME NS: the reason of the Progressing condition.
progressing() {
    dstatus "$1" "$2" '[c["reason"] for c in s.get("conditions", []) if c["type"] == "Progressing"][0]' 2>/dev/null
}
# rolled_out NAME NS N: N replicas, all updated and available, generation observed.
rolled_out() {
    [ "$(dstatus "$1" "$2" "(s.get(\"observedGeneration\"), s.get(\"updatedReplicas\", 0), s.get(\"availableReplicas\", 0), s.get(\"replicas\", 0)) == (d[\"metadata\"][\"generation\"], $3, $3, $3)" 2>/dev/null)" = True ]
}
# pods_json SELECTOR [NS]
pods_json() { k get pods -n "${2:-ml-staging}" -l "$1" -o json; }

# deployment NAME IMAGE REPLICAS TRACK [DEADLINE]: a manifest as mloop renders one.
deployment() {
    cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  namespace: ml-staging
  labels: {app: churn, track: $4}
spec:
  replicas: $3
  progressDeadlineSeconds: ${5:-600}
  selector:
    matchLabels: {app: churn, track: $4}
  template:
    metadata:
      labels: {app: churn, track: $4}
    spec:
      containers:
      - name: model
        image: $2
        ports: [{containerPort: 8080}]
EOF
}
service() {
    cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: ml-staging}
spec:
  selector: {app: churn, track: $2}
  ports: [{name: http, port: 80, targetPort: 8080}]
EOF
}

# --- kubectl against the fake API server -------------------------------------------------------

test_expect_success 'kubectl finds the server: version, discovery, the contexts of the kubeconfig' '
    run k version -o json &&
    expect_code 0 &&
    expect_json "j[\"serverVersion\"][\"gitVersion\"] == \"v1.32.4\"" &&
    run k config get-contexts -o name &&
    [ "$(echo "$OUT" | sort | paste -sd,)" = "fake,production,staging" ] &&
    run k --context staging get namespaces -o name &&
    expect_code 0 &&
    expect_stdout_contains "namespace/ml-staging" &&
    run k api-resources --no-headers -o name &&
    expect_stdout_contains "deployments.apps" &&
    expect_stdout_contains "pods.metrics.k8s.io" &&
    grep -q "\"path\": \"/api/v1\"\|\"path\": \"/api?" "$SCRATCH/k8s.log" &&
    ! grep -q Traceback "$SCRATCH/k8s.err"
'

test_expect_success 'apply --server-side creates a Namespace, Deployment, Service and ConfigMap' '
    mkdir m &&
    printf "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-test}\n" >m/00-ns.yaml &&
    deployment churn churn:1 2 stable | sed "s/namespace: ml-staging/namespace: ml-test/" >m/10-deploy.yaml &&
    service churn stable | sed "s/namespace: ml-staging/namespace: ml-test/" >m/20-svc.yaml &&
    printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: churn, namespace: ml-test}\ndata: {model: churn@1}\n" >m/30-cm.yaml &&
    run k apply --server-side --field-manager=mloop -f m &&
    expect_code 0 &&
    expect_stdout "namespace/ml-test serverside-applied
deployment.apps/churn serverside-applied
service/churn serverside-applied
configmap/churn serverside-applied" &&
    run k get deploy churn -n ml-test -o json &&
    expect_json "j[\"metadata\"][\"generation\"] == 1 and j[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"image\"] == \"churn:1\"" &&
    expect_json "j[\"spec\"][\"strategy\"][\"rollingUpdate\"][\"maxSurge\"] == \"25%\" and len(j[\"metadata\"][\"uid\"]) == 36" &&
    run k get svc churn -n ml-test -o json &&
    expect_json "j[\"spec\"][\"selector\"] == {\"app\": \"churn\", \"track\": \"stable\"} and j[\"spec\"][\"clusterIP\"].startswith(\"127.\")" &&
    run curl -sS "$API/_fake/state" &&
    expect_json "[m[\"manager\"] + \"/\" + m[\"operation\"] for o in j[\"objects\"] if o[\"kind\"] == \"ConfigMap\" and o[\"metadata\"][\"name\"] == \"churn\" for m in o[\"metadata\"][\"managedFields\"]] == [\"mloop/Apply\"]" &&
    grep -q "\"method\": \"PATCH\", \"path\": \"/apis/apps/v1/namespaces/ml-test/deployments/churn?fieldManager=mloop" "$SCRATCH/k8s.log" &&
    grep -q "\"contentType\": \"application/apply-patch+yaml\"" "$SCRATCH/k8s.log"
'

test_expect_success 'the Deployment becomes available; its pods run the image, named <deploy>-<hash>-<suffix>' '
    until_true 10 "rolled_out churn ml-test 2" &&
    [ "$(progressing churn ml-test)" = NewReplicaSetAvailable ] &&
    run dstatus churn ml-test "[c[\"type\"] + \"=\" + c[\"status\"] for c in s[\"conditions\"]]" &&
    expect_stdout "[\"Available=True\", \"Progressing=True\"]" &&
    run k rollout status deploy/churn -n ml-test --timeout=10s &&
    expect_code 0 && expect_stdout_contains "successfully rolled out" &&
    run k get pods -n ml-test -l app=churn,track=stable -o json &&
    expect_json "len(j[\"items\"]) == 2" &&
    expect_json "all(p[\"status\"][\"phase\"] == \"Running\" and p[\"spec\"][\"containers\"][0][\"image\"] == \"churn:1\" and p[\"status\"][\"containerStatuses\"][0][\"ready\"] for p in j[\"items\"])" &&
    h=$(echo "$OUT" | py "j[\"items\"][0][\"metadata\"][\"labels\"][\"pod-template-hash\"]") &&
    echo "$OUT" | py "[p[\"metadata\"][\"name\"] for p in j[\"items\"]]" | grep -Eq "^\[\"churn-$h-[a-z0-9]{5}\", \"churn-$h-[a-z0-9]{5}\"\]$" &&
    run k get rs -n ml-test -o json &&
    expect_json "[[r[\"metadata\"][\"name\"], r[\"spec\"][\"replicas\"]] for r in j[\"items\"]] == [[\"churn-$h\", 2]]"
'

test_expect_success 'a new image rolls out, the old ReplicaSet scales to zero; the old manifest brings it back' '
    deployment churn churn:2 2 stable | sed "s/namespace: ml-staging/namespace: ml-test/" >d.yaml &&
    run apply d.yaml &&
    expect_code 0 && expect_stdout "deployment.apps/churn serverside-applied" &&
    [ "$(k get deploy churn -n ml-test -o jsonpath={.metadata.generation})" = 2 ] &&
    run k rollout status deploy/churn -n ml-test --timeout=15s &&
    expect_code 0 &&
    until_true 5 "rolled_out churn ml-test 2" &&
    run k get pods -n ml-test -l app=churn -o json &&
    expect_json "sorted(p[\"spec\"][\"containers\"][0][\"image\"] for p in j[\"items\"]) == [\"churn:2\", \"churn:2\"]" &&
    run k get rs -n ml-test -o json &&
    expect_json "sorted([r[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"image\"], r[\"spec\"][\"replicas\"], r[\"metadata\"][\"annotations\"][\"deployment.kubernetes.io/revision\"]] for r in j[\"items\"]) == [[\"churn:1\", 0, \"1\"], [\"churn:2\", 2, \"2\"]]" &&
    deployment churn churn:1 2 stable | sed "s/namespace: ml-staging/namespace: ml-test/" >d1.yaml &&
    run k apply --server-side --field-manager=mloop --validate=false --dry-run=server -f d1.yaml &&
    expect_code 0 && expect_stdout_contains "(server dry run)" &&
    [ "$(k get deploy churn -n ml-test -o jsonpath={.metadata.generation})" = 2 ] &&
    run apply d1.yaml &&
    expect_code 0 &&
    until_true 10 "rolled_out churn ml-test 2" &&
    run k get rs -n ml-test -o json &&
    expect_json "sorted([r[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"image\"], r[\"spec\"][\"replicas\"], r[\"metadata\"][\"annotations\"][\"deployment.kubernetes.io/revision\"]] for r in j[\"items\"]) == [[\"churn:1\", 2, \"3\"], [\"churn:2\", 0, \"2\"]]"
'

test_expect_success 'label selectors: equality, comma-AND, !=, in and notin' '
    deployment churn-canary churn:3 1 canary >c.yaml &&
    deployment churn-stable churn:2 2 stable >s.yaml &&
    apply c.yaml >/dev/null && apply s.yaml >/dev/null &&
    until_true 10 "rolled_out churn-canary ml-staging 1 && rolled_out churn-stable ml-staging 2" &&
    count() { pods_json "$1" | py "len(j[\"items\"])"; } &&
    [ "$(count app=churn)" = 3 ] &&
    [ "$(count app=churn,track=stable)" = 2 ] &&
    [ "$(count "app==churn,track!=stable")" = 1 ] &&
    [ "$(count "track in (canary, blue)")" = 1 ] &&
    [ "$(count "track notin (canary)")" = 2 ] &&
    [ "$(count "app=other")" = 0 ] &&
    [ "$(pods_json app=churn,track=canary | py "j[\"items\"][0][\"spec\"][\"containers\"][0][\"image\"]")" = churn:3 ] &&
    run k get pods -n ml-staging -l "track in canary" &&
    expect_code 1 && expect_stderr_contains "unable to parse requirement"
'

test_expect_success 'scale up and down, through the scale subresource' '
    run k scale deploy churn-stable -n ml-staging --replicas=3 &&
    expect_code 0 && expect_stdout "deployment.apps/churn-stable scaled" &&
    until_true 10 "rolled_out churn-stable ml-staging 3" &&
    [ "$(pods_json app=churn,track=stable | py "len(j[\"items\"])")" = 3 ] &&
    run k scale deploy churn-stable -n ml-staging --replicas=1 &&
    until_true 10 "rolled_out churn-stable ml-staging 1" &&
    [ "$(pods_json app=churn,track=stable | py "len(j[\"items\"])")" = 1 ] &&
    grep -q "PATCH\", \"path\": \"/apis/apps/v1/namespaces/ml-staging/deployments/churn-stable/scale" "$SCRATCH/k8s.log"
'

test_expect_success 'a field another manager changed is a conflict until --force-conflicts' '
    deployment churn-stable churn:2 2 stable >s.yaml &&
    run apply s.yaml &&
    expect_code 1 &&
    expect_stderr_contains "Apply failed with 1 conflict: conflict with \"kubectl\" using apps/v1: .spec.replicas" &&
    [ "$(k get deploy churn-stable -n ml-staging -o jsonpath={.spec.replicas})" = 1 ] &&
    run apply s.yaml --force-conflicts &&
    expect_code 0 &&
    [ "$(k get deploy churn-stable -n ml-staging -o jsonpath={.spec.replicas})" = 2 ] &&
    until_true 10 "rolled_out churn-stable ml-staging 2"
'

test_expect_success 'a Service selector changes by merge and strategic patch; apply drops what it no longer sets' '
    service churn stable >svc.yaml &&
    apply svc.yaml >/dev/null &&
    run k patch svc churn -n ml-staging --type merge -p "{\"spec\":{\"selector\":{\"track\":\"canary\"}}}" &&
    expect_code 0 && expect_stdout "service/churn patched" &&
    [ "$(k get svc churn -n ml-staging -o json | py "j[\"spec\"][\"selector\"]")" = "{\"app\": \"churn\", \"track\": \"canary\"}" ] &&
    run k patch svc churn -n ml-staging -p "{\"spec\":{\"selector\":{\"track\":null,\"color\":\"green\"}}}" &&
    expect_code 0 &&
    [ "$(k get svc churn -n ml-staging -o json | py "j[\"spec\"][\"selector\"]")" = "{\"app\": \"churn\", \"color\": \"green\"}" ] &&
    run k patch svc churn -n ml-staging --type json -p "[{\"op\":\"replace\",\"path\":\"/spec/selector/color\",\"value\":\"blue\"}]" &&
    expect_code 0 &&
    [ "$(k get svc churn -n ml-staging -o jsonpath={.spec.selector.color})" = blue ] &&
    service churn stable | sed "/selector:/s/, track: stable//" >svc2.yaml &&
    apply svc2.yaml --force-conflicts >/dev/null &&
    [ "$(k get svc churn -n ml-staging -o json | py "j[\"spec\"][\"selector\"]")" = "{\"app\": \"churn\", \"color\": \"blue\"}" ] &&
    service churn stable >svc.yaml && apply svc.yaml >/dev/null &&
    [ "$(k get svc churn -n ml-staging -o json | py "j[\"spec\"][\"selector\"]")" = "{\"app\": \"churn\", \"color\": \"blue\", \"track\": \"stable\"}" ]
'

test_expect_success 'kubectl top pod reads the metrics API: defaults, then values set per image' '
    run k top pod -n ml-staging -l app=churn,track=canary --no-headers &&
    expect_code 0 &&
    [ "$(echo "$OUT" | awk "{print \$2, \$3}")" = "12m 34Mi" ] &&
    ctl metrics "{\"image\": \"churn:3\", \"cpu\": \"250m\", \"memory\": \"100Mi\"}" >/dev/null &&
    run k top pod -n ml-staging -l app=churn --no-headers &&
    [ "$(echo "$OUT" | awk "{print \$2, \$3}" | sort | uniq -c | awk "{print \$1, \$2, \$3}" | paste -sd,)" = "2 12m 34Mi,1 250m 100Mi" ] &&
    run curl -sS "$API/apis/metrics.k8s.io/v1beta1/namespaces/ml-staging/pods?labelSelector=track%3Dcanary" &&
    expect_json "j[\"kind\"] == \"PodMetricsList\" and j[\"items\"][0][\"containers\"][0][\"usage\"] == {\"cpu\": \"250m\", \"memory\": \"100Mi\"}"
'

test_expect_success 'delete removes the Deployment, its ReplicaSets and pods' '
    run k delete deploy churn-canary -n ml-staging &&
    expect_code 0 && expect_stdout "deployment.apps \"churn-canary\" deleted" &&
    run k get deploy churn-canary -n ml-staging -o json &&
    expect_code 1 &&
    expect_stderr "Error from server (NotFound): deployments.apps \"churn-canary\" not found" &&
    [ "$(pods_json app=churn,track=canary | py "len(j[\"items\"])")" = 0 ] &&
    [ "$(k get rs -n ml-staging -l track=canary -o name)" = "" ] &&
    run k delete deploy churn-canary -n ml-staging &&
    expect_code 1 && expect_stderr_contains "not found"
'

# --- faults ------------------------------------------------------------------------------------

test_expect_success 'ImagePullBackOff: ErrImagePull then ImagePullBackOff; a bad update leaves the old pods serving' '
    ctl faults "{\"image\": \"churn:nopull\", \"fault\": \"ImagePullBackOff\"}" >/dev/null &&
    deployment pull churn:nopull 1 pull >p.yaml && apply p.yaml >/dev/null &&
    reason() { pods_json "$1" | py "\" \".join(str(c[\"state\"].get(\"waiting\", {}).get(\"reason\")) for p in j[\"items\"] for c in p[\"status\"].get(\"containerStatuses\", []))"; } &&
    until_true 5 "[ \"\$(reason track=pull)\" = ImagePullBackOff ]" &&
    run pods_json track=pull &&
    expect_json "j[\"items\"][0][\"status\"][\"phase\"] == \"Pending\" and not j[\"items\"][0][\"status\"][\"containerStatuses\"][0][\"ready\"]" &&
    expect_json "\"Back-off pulling image \\\"churn:nopull\\\"\" in j[\"items\"][0][\"status\"][\"containerStatuses\"][0][\"state\"][\"waiting\"][\"message\"]" &&
    [ "$(dstatus pull ml-staging "s.get(\"availableReplicas\", 0)")" = 0 ] &&
    run k get events -n ml-staging --field-selector involvedObject.kind=Pod -o json &&
    expect_json "any(e[\"reason\"] == \"Failed\" and \"churn:nopull\" in e[\"message\"] for e in j[\"items\"])" &&
    expect_json "any(e[\"message\"] == \"Error: ErrImagePull\" for e in j[\"items\"])" &&
    deployment churn-stable churn:nopull 2 stable >s.yaml && apply s.yaml --force-conflicts >/dev/null &&
    until_true 5 "reason track=stable | grep -q ImagePullBackOff" &&
    run pods_json track=stable &&
    expect_json "sorted([p[\"spec\"][\"containers\"][0][\"image\"], p[\"status\"][\"containerStatuses\"][0][\"ready\"]] for p in j[\"items\"]) == [[\"churn:2\", True], [\"churn:2\", True], [\"churn:nopull\", False]]" &&
    [ "$(dstatus churn-stable ml-staging "(s[\"replicas\"], s[\"updatedReplicas\"], s[\"availableReplicas\"])")" = "(3, 1, 2)" ]
'

test_expect_success 'CrashLoopBackOff: restarts go up, the last state is an error exit' '
    ctl faults "[{\"image\": \"churn:crash\", \"fault\": \"CrashLoopBackOff\"}]" >/dev/null &&
    deployment crash churn:crash 1 crash >c.yaml && apply c.yaml >/dev/null &&
    restarts() { pods_json track=crash | py "j[\"items\"][0][\"status\"][\"containerStatuses\"][0][\"restartCount\"]" 2>/dev/null; } &&
    until_true 10 "[ \"\$(restarts)\" -ge 3 ] 2>/dev/null" &&
    run pods_json track=crash &&
    expect_json "j[\"items\"][0][\"status\"][\"containerStatuses\"][0][\"state\"][\"waiting\"][\"reason\"] == \"CrashLoopBackOff\"" &&
    expect_json "j[\"items\"][0][\"status\"][\"containerStatuses\"][0][\"lastState\"][\"terminated\"][\"exitCode\"] == 1" &&
    expect_json "j[\"items\"][0][\"status\"][\"phase\"] == \"Running\"" &&
    run k logs deploy/crash -n ml-staging &&
    expect_code 0 && expect_stdout_contains "crashed on purpose" &&
    run k get pods -n ml-staging -l track=crash --no-headers &&
    expect_stdout_contains "CrashLoopBackOff"
'

test_expect_success 'NeverReady: running, never ready, then ProgressDeadlineExceeded after progressDeadlineSeconds' '
    ctl faults "{\"image\": \"churn:unready*\", \"fault\": \"NeverReady\"}" >/dev/null &&
    deployment unready churn:unready-1 1 unready 1 >u.yaml && apply u.yaml >/dev/null &&
    until_true 10 "[ \"\$(progressing unready ml-staging)\" = ProgressDeadlineExceeded ]" &&
    run dstatus unready ml-staging "[(c[\"type\"], c[\"status\"], c[\"reason\"]) for c in s[\"conditions\"]]" &&
    expect_stdout "[[\"Available\", \"False\", \"MinimumReplicasUnavailable\"], [\"Progressing\", \"False\", \"ProgressDeadlineExceeded\"]]" &&
    run pods_json track=unready &&
    expect_json "j[\"items\"][0][\"status\"][\"phase\"] == \"Running\" and j[\"items\"][0][\"status\"][\"containerStatuses\"][0][\"ready\"] is False" &&
    run k rollout status deploy/unready -n ml-staging --timeout=5s &&
    expect_code 1 && expect_stderr_contains "deployment \"unready\" exceeded its progress deadline" &&
    ctl faults "{\"image\": \"churn:unready*\", \"fault\": \"none\"}" >/dev/null &&
    until_true 10 "rolled_out unready ml-staging 1" &&
    [ "$(progressing unready ml-staging)" = NewReplicaSetAvailable ]
'

test_expect_success 'the API server goes away for a while and comes back; the cluster went on meanwhile' '
    deployment churn-stable churn:4 2 stable >s.yaml && apply s.yaml --force-conflicts >/dev/null &&
    run ctl down "{\"seconds\": 1.5}" &&
    expect_code 0 && expect_json "j[\"down\"] == 1.5" &&
    sleep 0.3 &&
    run k get deploy churn-stable -n ml-staging &&
    expect_code 1 && expect_stderr_contains "was refused" &&
    until_true 5 "k get --raw /version >/dev/null 2>&1" &&
    until_true 10 "rolled_out churn-stable ml-staging 2" &&
    [ "$(pods_json app=churn,track=stable | py "sorted(p[\"spec\"][\"containers\"][0][\"image\"] for p in j[\"items\"])")" = "[\"churn:4\", \"churn:4\"]" ] &&
    grep -q "down for 1.5s" "$SCRATCH/k8s.err" && grep -q "back up" "$SCRATCH/k8s.err"
'

test_expect_success 'bad requests get a Kubernetes Status, and the server stays up' '
    run curl -sS "$API/apis/apps/v1/namespaces/ml-staging/widgets" &&
    expect_json "j[\"kind\"] == \"Status\" and j[\"code\"] == 404 and j[\"reason\"] == \"NotFound\"" &&
    run curl -sS -X PATCH -H "Content-Type: application/apply-patch+yaml" "$API/apis/apps/v1/namespaces/ml-staging/deployments/x?fieldManager=t" -d "{nope" &&
    expect_json "j[\"code\"] == 400 and j[\"reason\"] == \"BadRequest\"" &&
    run curl -sS -X POST "$API/api/v1/namespaces/ml-staging/configmaps" -d "[1]" &&
    expect_json "j[\"code\"] == 400" &&
    deployment bad churn:1 1 blue | awk "/ labels: \{app: churn, track: blue\}/ { if (++n == 2) sub(/track: blue/, \"track: green\") } { print }" >b.yaml &&
    grep -q "track: green" b.yaml &&
    run apply b.yaml &&
    expect_code 1 && expect_stderr_contains "The Deployment \"bad\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"churn\", \"track\":\"green\"}: \`selector\` does not match template \`labels\`" &&
    deployment churn churn:1 1 stable | sed "s/namespace: ml-staging/namespace: nowhere/" >n.yaml &&
    run apply n.yaml &&
    expect_code 1 && expect_stderr_contains "namespaces \"nowhere\" not found" &&
    deployment churn-stable churn:4 2 stable | sed "s/^spec:/spec:\n  replica: 2/" >t.yaml &&
    run k apply --server-side --field-manager=mloop -f t.yaml &&
    expect_code 1 && expect_stderr_contains ".spec.replica: field not declared in schema" &&
    run k create deployment proto --image=x -n ml-staging &&
    expect_code 1 && expect_stderr_contains "accepts JSON bodies only" &&
    run k create namespace ml-extra &&
    expect_code 0 && expect_stdout "namespace/ml-extra created" &&
    run k create namespace ml-extra &&
    expect_code 1 && expect_stderr "Error from server (AlreadyExists): namespaces \"ml-extra\" already exists" &&
    run k delete namespace default &&
    expect_code 1 && expect_stderr_contains "this namespace may not be deleted" &&
    run curl -sS "$API/version" && expect_code 0 &&
    ! grep -q Traceback "$SCRATCH/k8s.err"
'

test_expect_success 'faults from --faults at start; the request log; SIGTERM stops the server' '
    printf "{\"img:bad\": \"CrashLoopBackOff\"}" >faults.json || return 1
    /usr/bin/python3 "$FIX/k8s/fake_apiserver.py" --port-file p2 --faults faults.json --step 0.1 >out2 2>err2 &
    pid=$! && echo "$pid" >>"$SCRATCH/pids" &&
    wait_file p2 &&
    run curl -sS "http://127.0.0.1:$(cat p2)/_fake/state" &&
    expect_json "j[\"faults\"] == {\"img:bad\": \"CrashLoopBackOff\"} and j[\"step\"] == 0.1" &&
    run curl -sS -X POST "http://127.0.0.1:$(cat p2)/_fake/faults" -d "{\"image\": \"x\", \"fault\": \"Nope\"}" &&
    expect_json "j[\"code\"] == 400" &&
    kill -TERM "$pid" && wait "$pid" &&
    run curl -sS "$API/_fake/requests" &&
    expect_json "any(r[\"method\"] == \"PATCH\" and r[\"contentType\"] == \"application/apply-patch+yaml\" and \"fieldManager=mloop\" in r[\"path\"] and r[\"body\"].startswith(\"{\") for r in j[\"requests\"])" &&
    expect_json "all(\"/_fake/requests\" not in r[\"path\"] for r in j[\"requests\"])"
'

# --- the fake Prometheus -----------------------------------------------------------------------

test_expect_success 'fake Prometheus: values set per query, sequences, a default, empty results and errors' '
    q="sum(rate(http_requests_total{status=~\"5..\"}[1m]))" &&
    run curl -sS -G "$PROM/api/v1/query" --data-urlencode "query=$q" &&
    expect_json "j == {\"status\": \"success\", \"data\": {\"resultType\": \"vector\", \"result\": []}}" &&
    /usr/bin/python3 -c "import json, sys; print(json.dumps([{\"query\": sys.argv[1], \"value\": 0.02}, {\"query\": \"latency\", \"values\": [0.1, 0.00001, 3]}, {\"query\": \"gone\", \"empty\": True}, {\"query\": \"broken\", \"error\": \"parse error\"}, {\"default\": 0.5}]))" "$q" >set.json &&
    run curl -sS --fail-with-body -X POST "$PROM/_fake/set" --data-binary @set.json &&
    expect_code 0 &&
    run curl -sS -G "$PROM/api/v1/query" --data-urlencode "query=$q" --data-urlencode time=1700000000.5 &&
    expect_json "j == {\"status\": \"success\", \"data\": {\"resultType\": \"vector\", \"result\": [{\"metric\": {}, \"value\": [1700000000.5, \"0.02\"]}]}}" &&
    run curl -sS -X POST "$PROM/api/v1/query" --data-urlencode "query=$q" &&
    expect_json "j[\"data\"][\"result\"][0][\"value\"][1] == \"0.02\"" &&
    vals=$(for i in 1 2 3 4; do curl -sS "$PROM/api/v1/query?query=latency" | py "j[\"data\"][\"result\"][0][\"value\"][1]"; done | paste -sd,) &&
    [ "$vals" = "0.1,0.00001,3,3" ] &&
    run curl -sS "$PROM/api/v1/query?query=gone" &&
    expect_json "j == {\"status\": \"success\", \"data\": {\"resultType\": \"vector\", \"result\": []}}" &&
    run curl -sS -o body.json -w "%{http_code}" "$PROM/api/v1/query?query=broken" &&
    expect_stdout 400 &&
    [ "$(py "[j[\"status\"], j[\"errorType\"], j[\"error\"]]" <body.json)" = "[\"error\", \"bad_data\", \"parse error\"]" ] &&
    run curl -sS "$PROM/api/v1/query?query=anything_else" &&
    expect_json "j[\"data\"][\"result\"][0][\"value\"][1] == \"0.5\"" &&
    run curl -sS "$PROM/_fake/requests" &&
    expect_json "[r[\"query\"] for r in j[\"requests\"]].count(\"latency\") == 4" &&
    [ "$(echo "$OUT" | py "j[\"requests\"][0][\"query\"]")" = "$q" ]
'

test_done
