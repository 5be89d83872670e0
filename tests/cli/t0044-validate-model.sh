#!/usr/bin/env bash
# mloop validate model: absolute gates, gates against the version an alias points at, the
# evaluation of candidate and baseline on the same data, and the table, json and markdown.
. "$(dirname "$0")/lib.sh"

project() { cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/gates/." . ; }
train() { mloop -q train --param quality="$1" --param latency="$2" >/dev/null; }

test_expect_success 'before the first version: validate model is exit 2, validate all skips it' '
    project &&
    run mloop validate model &&
    expect_code 2 &&
    expect_stderr_contains "gated" &&
    run mloop validate --json &&
    expect_code 0 &&
    expect_json "\"model\" not in j and j[\"ok\"] is True"
'

test_expect_success 'a candidate within its limits passes; both versions are evaluated on the same data' '
    project &&
    train 0.8 10 && mloop -q promote gated@1 production >/dev/null &&
    train 0.78 10.5 &&
    run mloop validate model &&
    expect_code 0 &&
    expect_stdout_contains "gates of gated@2" &&
    expect_stdout_contains "auc                    0.76       0.78  drop ≤ 0.05    pass    gated@1 (production)" &&
    expect_stdout_contains "latency_ms             10.5         10  rise ≤ 10%     pass    gated@1 (production)" &&
    expect_stdout_contains "auc                    0.76          -  ≥ 0.6          pass" &&
    expect_stdout_contains "evaluated on 6 rows" &&
    n=$(sql "select count(*) from runs where kind = \"evaluate\"") &&
    [ "$(sql "select version from evaluations order by run_id desc limit 2" | sort | paste -sd,)" = "1,2" ] &&
    [ "$(sql "select count(distinct i.digest) from run_inputs i join evaluations e on e.run_id = i.run_id where i.name = \"eval\"")" = 1 ] &&
    [ "$(sql "select i.digest from run_inputs i join evaluations e on e.run_id = i.run_id where i.name = \"eval\" limit 1")" = "sha256:$(sha256sum eval.csv | cut -c1-64)" ] &&
    [ "$(sql "select value from metrics m join evaluations e on e.run_id = m.run_id where e.version = 1 and m.name = \"auc\" order by e.run_id desc limit 1")" = 0.78 ] &&
    run mloop validate model gated@2 --json &&
    expect_code 0 &&
    expect_json "j[\"ok\"] is True and j[\"model\"][\"candidate\"] == \"gated@2\" and j[\"model\"][\"passed\"] is True" &&
    expect_json "[g[\"verdict\"] for g in j[\"model\"][\"gates\"]] == [\"pass\", \"pass\", \"pass\"]" &&
    expect_json "j[\"model\"][\"gates\"][1][\"baseline\"] == 0.78 and j[\"model\"][\"gates\"][1][\"candidate\"] == 0.76" &&
    expect_json "len(j[\"model\"][\"evaluations\"]) == 2"
'

test_expect_success 'a drop past max_drop or a rise past max_increase_pct fails: exit 1, named' '
    project &&
    train 0.8 10 && mloop -q promote gated@1 production >/dev/null &&
    train 0.7 11.5 &&
    run mloop validate model &&
    expect_code 1 &&
    expect_stdout_contains "auc                    0.68       0.78  drop ≤ 0.05    fail" &&
    expect_stdout_contains "latency_ms             11.5         10  rise ≤ 10%     fail" &&
    expect_stderr_contains "gated@2 fails 2 of 3 gates" &&
    run mloop validate model --format markdown &&
    expect_code 1 &&
    expect_stdout_contains "### ❌ gates of \`gated@2\`" &&
    expect_stdout_contains "| auc | 0.68 | 0.78 | drop ≤ 0.05 | **fail** | gated@1 (production) |" &&
    expect_stdout_contains "| auc | 0.68 | - | ≥ 0.6 | pass |  |" &&
    case "$OUT" in *"evaluated on"*) fail "evaluation output in the report" ;; esac &&
    run mloop validate model gated@1 &&
    expect_code 0 &&
    run mloop validate &&
    expect_code 1 &&
    expect_stdout_contains "ok    config" &&
    expect_stdout_contains "gates of gated@2" &&
    run mloop promote gated@2 production &&
    expect_code 1 &&
    [ "$(sql "select version from aliases where alias = \"production\"")" = 1 ]
'

test_expect_success 'an absolute gate fails on its own; a baseline alias not set yet is skipped' '
    project &&
    train 0.55 10 &&
    run mloop validate model --json &&
    expect_code 1 &&
    expect_json "[g[\"verdict\"] for g in j[\"model\"][\"gates\"]] == [\"fail\", \"skip\", \"skip\"]" &&
    expect_json "j[\"model\"][\"gates\"][1][\"note\"] == \"no version is aliased production yet\""
'

test_expect_success 'an absolute max fails above it; a baseline may be any alias promote moves' '
    project &&
    sed -i "s|    - {metric: auc, min: 0.6}|    - {metric: auc, min: 0.6}\n    - {metric: latency_ms, max: 12}\n    - {metric: auc, baseline: champion, max_drop: 0.01}|" mloop.yaml &&
    run mloop validate config &&
    expect_code 0 &&
    train 0.8 11 && mloop -q promote gated@1 champion >/dev/null &&
    train 0.7 13 &&
    run mloop validate model --json &&
    expect_code 1 &&
    expect_json "[(g[\"metric\"], g[\"verdict\"]) for g in j[\"model\"][\"gates\"]] == [(\"auc\", \"pass\"), (\"latency_ms\", \"fail\"), (\"auc\", \"fail\"), (\"auc\", \"skip\"), (\"latency_ms\", \"skip\")]" &&
    expect_json "j[\"model\"][\"gates\"][1][\"candidate\"] == 13" &&
    expect_json "j[\"model\"][\"gates\"][2][\"baseline_version\"] == \"gated@1 (champion)\""
'

test_expect_success 'a failing evaluation is exit 3 and recorded as a failed run' '
    project &&
    train 0.8 10 &&
    EVAL_FAIL=1 run mloop validate model &&
    expect_code 3 &&
    expect_stderr_contains "the evaluation of gated@1 (run 2) exited with 5" &&
    [ "$(sql "select state from runs where id = 2")" = failed ]
'

test_expect_success 'a reference that names nothing is exit 2; two references are a usage error' '
    project &&
    train 0.8 10 &&
    run mloop validate model gated@7 &&
    expect_code 2 &&
    expect_stderr_contains "gated has no version 7" &&
    run mloop validate model gated@1 gated@1 &&
    expect_code 2 &&
    expect_stderr_contains "checks one model version"
'

test_done
