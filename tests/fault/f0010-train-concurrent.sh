#!/usr/bin/env bash
# 16 `mloop train` processes at once on one registry: 16 runs, model versions 1…16, and not one
# "database is locked".
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"

test_expect_success '16 concurrent trainings: 16 runs, versions 1..16, no lock errors' '
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . &&
    start=$(now_ms) &&
    for i in $(seq 16); do mloop -q train --param lr=0.$i >"out.$i" 2>"err.$i" & done &&
    failed=0 &&
    for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done &&
    end=$(now_ms) &&
    runs=$(sql "select count(*) from runs where state = \"succeeded\"") &&
    versions=$(sql "select group_concat(version) from (select version from model_versions order by version)") &&
    locked=$(cat err.* | grep -ci "locked\|lock not obtained" || true) &&
    echo "# concurrent train: 16 processes, $runs runs succeeded, versions $versions, $locked lock errors, $failed failed, $((end - start)) ms" &&
    [ "$failed" = 0 ] && [ "$runs" = 16 ] && [ "$locked" = 0 ] &&
    [ "$versions" = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16" ] ||
    { cat err.* | head -5; return 1; }
'

test_done
