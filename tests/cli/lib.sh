# Test library for the CLI suites, in the manner of git's t/test-lib.sh: each test runs its body
# in a fresh scratch directory, drives the real binary and checks stdout, stderr and exit code.
#
#   test_expect_success 'what it checks' '
#       run mloop validate &&
#       expect_code 0 &&
#       expect_stdout_contains "ok"
#   '
set -u
: "${MLOOP:?MLOOP must name the mloop binary}"
: "${MLOOP_SOURCE_DIR:?MLOOP_SOURCE_DIR must name the source tree}"

SUITE=$(basename "$0" .sh)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mloop-$SUITE-XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
export NO_COLOR=1 HOME="$SCRATCH/home"
mkdir -p "$HOME"
tests=0
failed=0

mloop() { "$MLOOP" "$@"; }

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR and the status in $RC.
run() {
    "$@" >"$SCRATCH/.out" 2>"$SCRATCH/.err"
    RC=$?
    OUT=$(cat "$SCRATCH/.out")
    ERR=$(cat "$SCRATCH/.err")
    return 0
}

fail() {
    printf '    FAIL: %s\n' "$*" >&2
    printf '    rc=%s\n    stdout: %s\n    stderr: %s\n' "$RC" "${OUT:0:2000}" "${ERR:0:2000}" >&2
    return 1
}
expect_code() { [ "$RC" = "$1" ] || fail "exit code $RC, expected $1"; }
expect_stdout() { [ "$OUT" = "$1" ] || fail "stdout differs from: $1"; }
expect_stderr() { [ "$ERR" = "$1" ] || fail "stderr differs from: $1"; }
expect_stdout_contains() { case "$OUT" in *"$1"*) ;; *) fail "stdout lacks: $1" ;; esac; }
expect_stderr_contains() { case "$ERR" in *"$1"*) ;; *) fail "stderr lacks: $1" ;; esac; }
expect_stdout_empty() { [ -z "$OUT" ] || fail "stdout is not empty"; }
expect_stderr_empty() { [ -z "$ERR" ] || fail "stderr is not empty"; }
expect_no_sanitizer_report() {
    case "$ERR" in *AddressSanitizer* | *"runtime error:"* | *LeakSanitizer*) fail "sanitizer report" ;; esac
}
# expect_json EXPR: a Python expression over the parsed stdout `j` that must be true.
expect_json() {
    printf '%s' "$OUT" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" || fail "stdout JSON fails: $1"
}

test_expect_success() {
    local desc=$1 body=$2
    tests=$((tests + 1))
    local dir="$SCRATCH/t$tests"
    mkdir -p "$dir"
    if (cd "$dir" && eval "$body"); then
        printf 'ok %d - %s\n' "$tests" "$desc"
    else
        printf 'not ok %d - %s\n' "$tests" "$desc"
        failed=$((failed + 1))
    fi
}

test_done() {
    printf '# %s: %d tests, %d failed\n' "$SUITE" "$tests" "$failed"
    [ "$failed" = 0 ]
}

# A copy of the example project, for tests that need a valid project.
copy_example() { cp -r "$MLOOP_SOURCE_DIR/examples/churn/." "${1:-.}"; }

# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# sql "SELECT …" [DB]: one query on the registry (default .mloop/registry.db), rows as lines of
# tab-separated values.
sql() {
    /usr/bin/python3 - "$1" "${2:-.mloop/registry.db}" <<'PY'
import sqlite3, sys
for row in sqlite3.connect(sys.argv[2]).execute(sys.argv[1]):
    print("\t".join("" if v is None else str(v) for v in row))
PY
}
