#!/usr/bin/env bash
# mloop validate config: discovery, every error at once with file:line:col, --json.
. "$(dirname "$0")/lib.sh"

test_expect_success 'the example project is valid' '
    copy_example &&
    run mloop validate config &&
    expect_code 0 &&
    expect_stdout "ok    config  mloop.yaml  (3 datasets, 11 columns, 3 gates, 3 environments)" &&
    expect_stderr_empty
'

test_expect_success 'validate with no argument checks everything there is' '
    copy_example &&
    run mloop validate &&
    expect_code 0 &&
    expect_stdout_contains "ok    config"
'

test_expect_success 'the project file is found in a parent directory, like .git' '
    copy_example && mkdir -p deep/er &&
    cd deep/er &&
    run mloop validate config &&
    expect_code 0 &&
    expect_stdout_contains "../../mloop.yaml"
'

test_expect_success 'no project file anywhere is exit 2 with a hint' '
    run mloop validate config &&
    expect_code 2 &&
    expect_stderr_contains "mloop: error: no mloop.yaml in" &&
    expect_stderr_contains "hint: run '"'"'mloop init'"'"' to create one"
'

test_expect_success '-f names another project file; a missing one is exit 2' '
    copy_example && mv mloop.yaml other.yaml &&
    run mloop -f other.yaml validate config &&
    expect_code 0 &&
    expect_stdout_contains "other.yaml" &&
    run mloop -f nope.yaml validate &&
    expect_code 2 &&
    expect_stderr "mloop: error: cannot read '"'"'nope.yaml'"'"': no such file or directory"
'

test_expect_success 'every error is reported at once, in file order, with file:line:col' '
    mkdir data && printf "a\n" >data/train.csv &&
    cat >mloop.yaml <<-\YAML &&
	project: demo
	data:
	  train: data/train.csv
	  eval: data/eval.csv
	trian:
	  command: [python3]
	deploy:
	  environments:
	    prod: {target: kubernetes, replicas: lots, requires: stagin}
	model:
	  gates:
	    - {metric: auc, baseline: prd, max_drop: 0.1}
	YAML
    run mloop validate config &&
    expect_code 2 &&
    expect_stdout_empty &&
    expect_stderr "mloop: error: mloop.yaml:4:9: dataset '"'"'eval'"'"': path '"'"'data/eval.csv'"'"' does not exist
mloop: error: mloop.yaml:5:1: unknown key '"'"'trian'"'"' at the top level
hint: did you mean '"'"'train'"'"'?
mloop: error: mloop.yaml:9:42: '"'"'deploy.environments.prod.replicas'"'"' must be a whole number, not '"'"'lots'"'"'
mloop: error: mloop.yaml:9:58: environment '"'"'prod'"'"' requires unknown environment '"'"'stagin'"'"'
mloop: error: mloop.yaml:12:31: gate baseline '"'"'prd'"'"' is not an environment
hint: did you mean '"'"'prod'"'"'?"
'

test_expect_success '--json gives the diagnostics as data and keeps exit 2' '
    printf "project: demo\ntrain: {command: [x], timeout: 5}\n" >mloop.yaml &&
    run mloop validate config --json &&
    expect_code 2 &&
    expect_json "j[\"ok\"] is False and j[\"config\"][\"errors\"] == 1" &&
    expect_json "j[\"config\"][\"diagnostics\"][0][\"line\"] == 2 and j[\"config\"][\"diagnostics\"][0][\"column\"] == 32" &&
    expect_json "\"not a duration\" in j[\"config\"][\"diagnostics\"][0][\"message\"]" &&
    expect_stderr_contains "mloop.yaml:2:32:"
'

test_expect_success 'variables are checked where they are used' '
    mkdir data && printf "a\n" >data/train.csv &&
    cat >mloop.yaml <<-\YAML &&
	project: demo
	data: {train: data/train.csv}
	train:
	  command: [python3, train.py, "${data.trian}", "${run.dir}", "${deploy.url}"]
	YAML
    run mloop validate config &&
    expect_code 2 &&
    expect_stderr_contains "mloop.yaml:4:32: '"'"'\${data.trian}'"'"' names no dataset under '"'"'data'"'"'" &&
    expect_stderr_contains "hint: did you mean '"'"'train'"'"'?" &&
    expect_stderr_contains "'"'"'\${deploy.url}'"'"' cannot be used in '"'"'train.command'"'"'"
'

test_expect_success 'a stage cycle is a config error' '
    cat >mloop.yaml <<-\YAML &&
	project: demo
	train:
	  stages:
	    - {name: a, command: [x], after: [b]}
	    - {name: b, command: [x], after: [a]}
	YAML
    run mloop validate config &&
    expect_code 2 &&
    expect_stderr_contains "stages form a cycle: a → b → a"
'

test_expect_success 'an init'"'"'d project validates as written' '
    run mloop init &&
    expect_code 0 &&
    run mloop validate config &&
    expect_code 0
'

test_done
