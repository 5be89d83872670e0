#!/usr/bin/env bash
# `mloop train` killed with SIGKILL at random points, 50 times: the registry passes `mloop fsck`,
# and the killed runs are shown crashed by the next command that looks. The kills are spread over
# the life of one whole `mloop train` as timed here first (start-up, the run's record, the
# training command, the end): a fixed window would fall within start-up alone on a slow build
# (the sanitizer build spends a good part of a second before main() on a loaded machine).
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"
KILLS=${MLOOP_FAULT_TRAIN_KILLS:-50}

test_expect_success "$KILLS SIGKILLs of mloop train leave a registry fsck accepts" '
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . &&
    start=$(now_ms) &&
    run mloop -q train --param lr=0 --param mode=sleep --param seconds=0.2 &&
    expect_code 0 &&
    life=$(($(now_ms) - start)) &&
    echo "    one whole mloop train: $life ms" &&
    for i in $(seq "$KILLS"); do
        "$MLOOP" -q train --param lr=0.$i --param mode=sleep --param seconds=0.$((RANDOM % 3)) >/dev/null 2>&1 &
        pid=$!
        delay=$((RANDOM * 32768 + RANDOM)) && delay=$((delay % life + 5)) &&
        sleep "$((delay / 1000)).$(printf "%03d" $((delay % 1000)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        true
    done &&
    run mloop -q train &&
    expect_code 0 &&
    crashed=$(sql "select count(*) from runs where state = \"crashed\"") &&
    left=$(sql "select count(*) from runs where state = \"running\"") &&
    states=$(sql "select state || \"=\" || count(*) from runs group by state" | paste -sd" ") &&
    run mloop fsck &&
    echo "# train kills: $KILLS SIGKILLs over $life ms; runs by state after the next command: $states; fsck exit $RC" &&
    expect_code 0 &&
    [ "$left" = 0 ] && [ "$crashed" -ge 1 ]
'

test_done
