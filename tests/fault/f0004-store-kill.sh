#!/usr/bin/env bash
# The store under SIGKILL: 200 writers killed at random moments while they put files, bytes and
# trees. Afterwards every object must re-hash to its name, be 0444 at its right path, and every
# temporary file left by a dead writer must be swept; no half-written file may appear under
# sha256/. Each kill lands 1-60 ms after the writer says it has begun writing (so a slow start,
# as under the sanitizers on a loaded machine, does not turn the kills into kills of start-up).
# Prints one figure line.
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"

driver="$MLOOP_BUILD_DIR/fault_store_writer"
KILLS=${KILLS:-200}

# Starts a writer in the background (its pid in $pid) and waits, 10 s at most, for it to say it
# has begun writing.
start_writer() {
    rm -f "$PWD/writer.out"
    "$driver" write "$1" "$2" >"$PWD/writer.out" 2>"$PWD/writer.err" &
    pid=$!
    local waited=0
    until [ -s "$PWD/writer.out" ]; do
        if [ "$waited" -ge 2000 ]; then
            echo "    writer $2 did not begin within 10 s: $(cat "$PWD/writer.err")" >&2
            kill -KILL "$pid" 2>/dev/null
            return 1
        fi
        sleep 0.005
        waited=$((waited + 1))
    done
}

test_expect_success "$KILLS writers killed mid-write leave no torn object, and mloop fsck is clean" '
    printf "project: p\n" >mloop.yaml &&
    root="$PWD/.mloop/objects" &&
    killed=0 &&
    for i in $(seq 1 "$KILLS"); do
        start_writer "$root" "$i" || exit 1
        sleep "$(printf "0.%03d" $((RANDOM % 60 + 1)))"
        { kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
        rc=$?
        if [ "$rc" != 137 ]; then
            echo "    writer $i ended by itself (rc=$rc): $(cat "$PWD/writer.err")" >&2
            exit 1
        fi
        killed=$((killed + 1))
    done &&
    run "$driver" verify "$root" &&
    expect_code 0 &&
    expect_no_sanitizer_report &&
    objects=$(printf "%s" "$OUT" | sed -n "s/.*objects=\([0-9]*\).*/\1/p") &&
    bad=$(printf "%s" "$OUT" | sed -n "s/.*bad=\([0-9]*\).*/\1/p") &&
    swept=$(printf "%s" "$OUT" | sed -n "s/.*swept=\([0-9]*\).*/\1/p") &&
    [ "$objects" -ge 20 ] || fail "only $objects objects written: the writers did not get going" &&
    run mloop fsck &&
    expect_code 0 &&
    expect_stdout_contains "$objects objects" &&
    echo "# store: $killed kills, $objects objects, $bad torn, $swept stale temps swept, fsck clean"
'

test_expect_success 'verify catches a torn, a writable and a misplaced object' '
    root="$PWD/objects"
    start_writer "$root" 1 &&
    sleep 0.3
    { kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
    run "$driver" verify "$root" &&
    expect_code 0 &&
    victim=$(find "$root/sha256" -type f -size +100c | head -n 1) &&
    [ -n "$victim" ] &&
    chmod u+w "$victim" &&
    printf "X" | dd of="$victim" bs=1 seek=50 conv=notrunc 2>/dev/null &&
    chmod 0444 "$victim" &&
    run "$driver" verify "$root" &&
    expect_code 1 &&
    expect_stdout_contains "bad=1" &&
    expect_stderr_contains "torn" &&
    chmod 0644 "$victim" &&
    run "$driver" verify "$root" &&
    expect_code 1 &&
    expect_stderr_contains "not 444" &&
    rm -f "$victim" &&
    other=$(find "$root/sha256" -type f | head -n 1) &&
    cp "$other" "$(dirname "$other")/0000000000000000000000000000000000000000000000000000000000000" &&
    run "$driver" verify "$root" &&
    expect_code 1 &&
    expect_stderr_contains "not a digest name"
'

test_done
