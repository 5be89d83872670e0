#!/usr/bin/env bash
# Ctrl-C and SIGTERM during mloop train: forwarded to the command's whole process group, the run
# recorded interrupted, exit 130 / 143; a grandchild that ignores SIGINT is killed after the
# grace period; nothing keeps running.
. "$(dirname "$0")/lib.sh"

project() {
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . &&
    cat >slow.sh <<-\SH
	#!/bin/sh
	# A grandchild that ignores SIGINT, then a child that waits.
	(trap "" INT; exec sleep 60) &
	echo $! > grandchild.pid
	sleep 60 &
	wait
	SH
    sed -i "s|command: \[sh, train.sh, \"\${data.train}\", \"\${run.dir}\"\]|command: [sh, slow.sh]|" mloop.yaml
}

wait_for() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

test_expect_success 'SIGINT: the run is interrupted, exit 130, the SIGINT-ignoring grandchild dies' '
    project || return 1
    env --default-signal=INT,TERM "$MLOOP" train >out 2>err &
    pid=$! &&
    wait_for grandchild.pid &&
    start=$(now_ms) &&
    kill -INT "$pid" &&
    { wait "$pid"; rc=$?; } ;
    end=$(now_ms) &&
    gc=$(cat grandchild.pid) &&
    echo "    exit $rc after $((end - start)) ms" &&
    [ "$rc" = 130 ] &&
    [ "$(sql "select state from runs")" = interrupted ] &&
    ! kill -0 "$gc" 2>/dev/null &&
    grep -q "mloop: error: interrupted" err &&
    [ $((end - start)) -lt 15000 ]
'

test_expect_success 'SIGTERM: exit 143 and the run recorded interrupted' '
    project || return 1
    env --default-signal=INT,TERM "$MLOOP" train >out 2>err &
    pid=$! &&
    wait_for grandchild.pid &&
    kill -TERM "$pid" &&
    { wait "$pid"; rc=$?; } ;
    [ "$rc" = 143 ] &&
    [ "$(sql "select state from runs")" = interrupted ] &&
    ! kill -0 "$(cat grandchild.pid)" 2>/dev/null
'

test_done
