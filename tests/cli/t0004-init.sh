#!/usr/bin/env bash
# mloop init: a commented project file, the example project, and never an overwrite.
. "$(dirname "$0")/lib.sh"

test_expect_success 'init writes mloop.yaml and .gitignore named after the directory' '
    mkdir "Fraud Model" && cd "Fraud Model" &&
    run mloop init &&
    expect_code 0 &&
    expect_stdout "created mloop.yaml
created .gitignore" &&
    expect_stderr_contains "initialized mloop project '"'"'fraud-model'"'"'" &&
    grep -qx "project: fraud-model" mloop.yaml &&
    grep -qx ".mloop/" .gitignore
'

test_expect_success 'init DIR creates the directory' '
    run mloop init a/b &&
    expect_code 0 &&
    [ -f a/b/mloop.yaml ] &&
    grep -qx "project: b" a/b/mloop.yaml
'

test_expect_success 'init refuses to overwrite and leaves everything as it was' '
    printf "mine\n" >mloop.yaml &&
    run mloop init &&
    expect_code 2 &&
    expect_stderr "mloop: error: '"'"'mloop.yaml'"'"' already exists; mloop init never overwrites a file
hint: remove it or init another directory" &&
    [ "$(cat mloop.yaml)" = mine ] &&
    [ ! -e .gitignore ]
'

test_expect_success 'init adds .mloop/ to an existing .gitignore once' '
    printf "*.pyc\n" >.gitignore &&
    run mloop init &&
    expect_code 0 &&
    expect_stdout_contains "updated .gitignore (added .mloop/)" &&
    [ "$(cat .gitignore)" = "$(printf "*.pyc\n.mloop/")" ] &&
    rm mloop.yaml && run mloop init &&
    expect_code 0 &&
    [ "$(grep -c mloop .gitignore)" = 1 ]
'

test_expect_success '--dry-run prints and writes nothing' '
    run mloop init --dry-run &&
    expect_code 0 &&
    expect_stdout "would create mloop.yaml
would create .gitignore" &&
    [ -z "$(ls -A)" ]
'

test_expect_success '--json reports what was created' '
    run mloop init --json &&
    expect_code 0 &&
    expect_json "j[\"created\"] == [\"mloop.yaml\", \".gitignore\"] and j[\"project\"] == \"t6\""
'

test_expect_success 'init --example writes examples/churn exactly' '
    run mloop init --example churn &&
    expect_code 0 &&
    diff -r churn "$MLOOP_SOURCE_DIR/examples/churn" -x __pycache__ &&
    [ -x churn/train.py ] && [ -x churn/generate.py ] && [ ! -x churn/churnlib.py ] &&
    cd churn && run mloop validate config &&
    expect_code 0
'

test_expect_success 'init --example refuses when any file exists, writing none' '
    mkdir -p churn && printf "mine\n" >churn/train.py &&
    run mloop init --example churn &&
    expect_code 2 &&
    expect_stderr_contains "'"'"'churn/train.py'"'"' already exists" &&
    [ "$(ls -A churn)" = train.py ]
'

test_expect_success 'the example runs: its generator is deterministic and its model trains' '
    run mloop init --example . &&
    expect_code 0 &&
    /usr/bin/python3 generate.py --out regen >/dev/null &&
    cmp regen/train.csv data/train.csv &&
    cmp regen/eval.csv data/eval.csv &&
    cmp regen/production.csv data/production.csv &&
    /usr/bin/python3 generate.py --seed 7 --out seed7a >/dev/null &&
    /usr/bin/python3 generate.py --seed 7 --out seed7b >/dev/null &&
    cmp seed7a/train.csv seed7b/train.csv &&
    ! cmp -s seed7a/train.csv data/train.csv &&
    [ "$(wc -l <seed7a/train.csv)" = "$(wc -l <data/train.csv)" ] &&
    mkdir run && MLOOP_PARAM_MAX_ITER=50 /usr/bin/python3 train.py --data data/train.csv --eval data/eval.csv --out run >/dev/null &&
    /usr/bin/python3 -c "
import json; m = json.load(open(\"run/metrics.json\"))
assert 0.75 < m[\"auc\"] < 0.95, m
w = json.load(open(\"run/model.json\")); assert w[\"format\"] == \"mloop-logreg/1\", w" &&
    mkdir ev && /usr/bin/python3 evaluate.py --model run --data data/eval.csv --out ev >/dev/null &&
    /usr/bin/python3 -c "
import json; a = json.load(open(\"run/metrics.json\")); b = json.load(open(\"ev/metrics.json\"))
assert a[\"auc\"] == b[\"auc\"], (a, b)"
'

test_done
