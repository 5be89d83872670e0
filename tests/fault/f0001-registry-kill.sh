#!/usr/bin/env bash
# A writer recording runs is killed with SIGKILL at random points, 200 times: the registry passes
# integrity_check every time, no acknowledged run is lost, none is half-visible, and the next
# writer proceeds without cleanup.
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"
W="$MLOOP_BUILD_DIR/fault_registry_writer"
KILLS=${MLOOP_FAULT_KILLS:-200}

test_expect_success "$KILLS kills of a recording writer leave a sound registry" '
    db="$PWD/state/registry.db" acks="$PWD/acks" &&
    for i in $(seq "$KILLS"); do
        "$W" record "$db" "$i" >>"$acks" 2>>writer.err &
        pid=$!
        sleep "$(printf "0.%03d" $((RANDOM % 180 + 20)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        run "$W" check "$db" "$acks" &&
        expect_code 0 || { echo "    after kill $i"; return 1; }
    done &&
    { [ ! -s writer.err ] || fail "a writer failed: $(head -n 3 writer.err)"; } &&
    echo "# registry: $KILLS kills; $OUT"
'

test_done
