#!/usr/bin/env bash
# train.stages: dependency order, stages skipped when nothing they depend on changed (outputs
# restored from the store), --stage.
. "$(dirname "$0")/lib.sh"

project() { cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/pipeline/." . ; }

test_expect_success 'the first run runs every stage in order' '
    project &&
    run mloop train &&
    expect_code 0 &&
    expect_stderr_contains "stage prepare: running" &&
    expect_stderr_contains "stage fit: running" &&
    expect_stdout_contains "prepared 3 rows" &&
    expect_stdout_contains "registered pipe@1" &&
    [ "$(sql "select stage || \":\" || state from stage_runs where run_id = 1 order by started_at" | paste -sd,)" = "prepare:succeeded,fit:succeeded" ] &&
    [ "$(sql "select count(*) from stage_outputs")" = 1 ]
'

test_expect_success 'an unchanged stage is cached and its outputs restored' '
    project &&
    mloop -q train >/dev/null &&
    rm -rf work &&
    run mloop train --json &&
    expect_code 0 &&
    expect_json "[(s[\"stage\"], s[\"state\"]) for s in j[\"stages\"]] == [(\"prepare\", \"cached\"), (\"fit\", \"succeeded\")]" &&
    expect_json "j[\"stages\"][0][\"cached_from_run\"] == 1" &&
    [ "$(cat work/clean.csv)" = "$(printf "1\n2\n3")" ] &&
    [ -w work/clean.csv ] &&
    run mloop train &&
    expect_stderr_contains "stage prepare: cached (outputs of run 1)"
'

test_expect_success 'a changed input or param runs the stage again' '
    project &&
    mloop -q train >/dev/null &&
    echo 4 >>raw.csv &&
    run mloop train &&
    expect_stderr_contains "stage prepare: running" &&
    expect_stdout_contains "prepared 4 rows" &&
    run mloop train --param c=2 &&
    expect_stderr_contains "stage prepare: running"
'

test_expect_success '--stage runs that stage and what it needs, and nothing else' '
    project &&
    run mloop train --stage prepare &&
    expect_stderr_contains "stage prepare: running" &&
    case "$ERR" in *"stage fit"*) fail "fit ran" ;; esac &&
    run mloop train --stage fti &&
    expect_code 2 &&
    expect_stderr_contains "--stage fti: no such stage" &&
    expect_stderr_contains "did you mean '"'"'fit'"'"'?"
'

test_expect_success '--stage of a later stage runs the stages it needs first' '
    project &&
    run mloop train --stage fit &&
    expect_code 0 &&
    [ "$(sql "select stage from stage_runs where run_id = 1 order by started_at" | paste -sd,)" = "prepare,fit" ]
'

test_expect_success 'an output that leads outside the project is refused and not stored' '
    project &&
    printf "#!/bin/sh\nmkdir -p work\nln -s /etc/hostname work/clean.csv\n" >prepare.sh &&
    run mloop train &&
    expect_code 3 &&
    expect_stderr_contains "stage '"'"'prepare'"'"': output '"'"'work/clean.csv'"'"' leads outside the project" &&
    [ "$(sql "select stage || \":\" || state from stage_runs" | paste -sd,)" = "prepare:failed" ] &&
    [ "$(sql "select count(*) from stage_outputs")" = 0 ] &&
    project &&
    rm -f work/clean.csv &&
    sed -i "s|outputs: \[work/clean.csv\]|outputs: [../clean.csv]|" mloop.yaml &&
    run mloop train &&
    expect_code 2 &&
    expect_stderr_contains "output of stage '"'"'prepare'"'"' '"'"'../clean.csv'"'"' leaves its directory"
'

test_expect_success 'a failing stage stops the pipeline' '
    project &&
    printf "#!/bin/sh\nexit 4\n" >prepare.sh &&
    run mloop train &&
    expect_code 3 &&
    expect_stderr_contains "run 1 failed: stage '"'"'prepare'"'"' exited with 4" &&
    [ "$(sql "select stage || \":\" || state from stage_runs" | paste -sd,)" = "prepare:failed" ]
'

test_expect_success 'a stage cycle is a config error' '
    project &&
    sed -i "s|after: \[prepare\]}|after: [prepare]}\n    - {name: loop, command: [sh], after: [loop2]}\n    - {name: loop2, command: [sh], after: [loop]}|" mloop.yaml &&
    run mloop train &&
    expect_code 2 &&
    expect_stderr_contains "stages form a cycle: loop → loop2 → loop"
'

test_done
