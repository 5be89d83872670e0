# Sourced after lib.sh by the suites that deploy to the fake cluster (t0071, t0072): skips
# without kubectl or docker (a failure under CI=true), starts the fake API server and the fake
# Prometheus (tests/fixtures) on 127.0.0.1 and stops them, and removes the suite's images, at
# exit. The suite sets PROJECT first.

skip() {
    if [ "${CI:-}" = true ]; then
        echo "not ok - $1, and CI=true does not allow skipping" >&2
        exit 1
    fi
    echo "# skipped: $1"
    exit 77
}
command -v kubectl >/dev/null || skip "no kubectl on PATH"
docker info >/dev/null 2>&1 || skip "no docker engine (scripts/test starts one)"

FIX="$MLOOP_SOURCE_DIR/tests/fixtures"
REPO=127.0.0.1:5000/mloop-test/$PROJECT
export KUBECONFIG="$SCRATCH/kubeconfig"

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    docker images -q --filter "label=io.mloop.project=$PROJECT" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

# start_fake_k8s NAMESPACES: the API server (controller step 0.1 s) with those namespaces;
# sets API to its address.
start_fake_k8s() {
    /usr/bin/python3 "$FIX/k8s/fake_apiserver.py" --port 0 --port-file "$SCRATCH/k8s.port" \
        --kubeconfig "$KUBECONFIG" --step 0.1 --namespaces "$1" 2>"$SCRATCH/k8s.err" &
    PIDS+=($!)
    wait_file "$SCRATCH/k8s.port" || { echo "the fake API server did not start:" >&2; cat "$SCRATCH/k8s.err" >&2; exit 1; }
    API="http://127.0.0.1:$(cat "$SCRATCH/k8s.port")"
}

# start_fake_prometheus: sets PROM to its address.
start_fake_prometheus() {
    /usr/bin/python3 "$FIX/prometheus/fake_prometheus.py" --port 0 --port-file "$SCRATCH/prom.port" \
        2>"$SCRATCH/prom.err" &
    PIDS+=($!)
    wait_file "$SCRATCH/prom.port" || { echo "the fake Prometheus did not start:" >&2; cat "$SCRATCH/prom.err" >&2; exit 1; }
    PROM="http://127.0.0.1:$(cat "$SCRATCH/prom.port")"
}

k() { kubectl --request-timeout=5s "$@"; }
# post URL JSON
post() { curl -sS --fail-with-body -X POST -H "Content-Type: application/json" "$1" -d "$2" >/dev/null; }
# fault IMAGE FAULT: what the fake cluster does with pods of that image
fault() { post "$API/_fake/faults" "{\"image\": \"$1\", \"fault\": \"$2\"}"; }
alias_version() { sql "select a.version from aliases a where a.alias = \"$1\""; }
