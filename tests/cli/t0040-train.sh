#!/usr/bin/env bash
# mloop train: a recorded run, its params, logs, metrics, artifacts and model version, and each
# way a training command can go wrong.
. "$(dirname "$0")/lib.sh"

project() { cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . ; }

test_expect_success 'a run records params, inputs, metrics, artifacts and a model version' '
    project &&
    run mloop train &&
    expect_code 0 &&
    expect_stdout_contains "run 1 succeeded" &&
    expect_stdout_contains "score 0.7" &&
    expect_stdout_contains "registered tiny@1" &&
    expect_stdout_contains "trained on 3 rows" &&
    [ "$(sql "select state, exit_code, kind from runs where id = 1")" = "$(printf "succeeded\t0\ttrain")" ] &&
    [ "$(sql "select wall_ms >= 0 and cpu_ms >= 0 and max_rss_kb > 0 from runs where id = 1")" = 1 ] &&
    [ "$(sql "select git_commit is null from runs where id = 1")" = 1 ] &&
    [ "$(sql "select name || \"=\" || value || \":\" || type from params where run_id = 1 order by name" | paste -sd,)" = "lr=0.7:number,mode=ok:string,seconds=30:integer" ] &&
    [ "$(sql "select kind, name, path from run_inputs where run_id = 1 order by kind" | paste -sd,)" = "$(printf "code\ttrain.sh\ttrain.sh,dataset\ttrain\tdata.csv")" ] &&
    [ "$(sql "select digest from run_inputs where name = \"train\"")" = "sha256:$(sha256sum data.csv | cut -c1-64)" ] &&
    [ "$(sql "select count(*) from datasets where snapshot is not null")" = 1 ] &&
    [ "$(sql "select value from metrics where run_id = 1 and name = \"score\"")" = 0.7 ] &&
    d=$(sql "select digest from artifacts where run_id = 1 and path = \"model.bin\"") &&
    [ "$d" = "sha256:$(sha256sum .mloop/runs/1/model.bin | cut -c1-64)" ] &&
    [ -f ".mloop/objects/sha256/${d:7:2}/${d:9}" ] &&
    [ "$(sql "select version, run_id from model_versions")" = "$(printf "1\t1")" ] &&
    grep -q "trained on 3 rows" .mloop/runs/1/stdout.log &&
    [ "$(stat -c %a .mloop/runs/1/stdout.log)" = 600 ] &&
    [ "$(cat .mloop/runs/1/params.json | tr -d " \n")" = "{\"lr\":0.7,\"mode\":\"ok\",\"seconds\":30}" ] &&
    run mloop fsck && expect_code 0
'

test_expect_success 'the git commit, whether the tree was dirty, and a digest of its diff are recorded' '
    project &&
    git init -q . && git add -A &&
    git -c user.name=t -c user.email=t@example.com commit -qm one &&
    head=$(git rev-parse HEAD) &&
    mloop -q train >/dev/null &&
    [ "$(sql "select git_commit, git_dirty, git_diff is null from runs where id = 1")" = "$(printf "%s\t0\t1" "$head")" ] &&
    echo "# edited" >>train.sh &&
    mloop -q train >/dev/null &&
    [ "$(sql "select git_commit, git_dirty, git_diff like \"sha256:%\" from runs where id = 2")" = "$(printf "%s\t1\t1" "$head")" ]
'

test_expect_success '--param overrides reach params.json and MLOOP_PARAM_*; unknown ones are exit 2' '
    project &&
    run mloop train --param lr=0.95 --json &&
    expect_code 0 &&
    expect_json "j[\"metrics\"][\"score\"] == 0.95 and j[\"version\"] == \"tiny@1\"" &&
    grep -q "\"lr\": 0.95" .mloop/runs/1/params.json &&
    run mloop train --param rate=1 &&
    expect_code 2 &&
    expect_stderr "mloop: error: --param rate=1: no parameter '"'"'rate'"'"' in train.params
hint: the parameters are lr, mode, seconds" &&
    run mloop train --param lrr=1 &&
    expect_stderr_contains "did you mean '"'"'lr'"'"'?" &&
    run mloop train --param nonsense &&
    expect_code 2 && expect_stderr_contains "write NAME=VALUE"
'

test_expect_success 'a failing command: run failed, exit code recorded, mloop exits 3' '
    project &&
    run mloop train --param mode=fail &&
    expect_code 3 &&
    expect_stderr_contains "mloop: error: run 1 failed: the training command exited with 7" &&
    expect_stderr_contains "hint: its output is in .mloop/runs/1" &&
    [ "$(sql "select state, exit_code from runs")" = "$(printf "failed\t7")" ] &&
    [ "$(sql "select count(*) from model_versions")" = 0 ] &&
    grep -q "training failed on purpose" .mloop/runs/1/stderr.log
'

test_expect_success 'a missing or malformed metrics file is a failure naming the file' '
    project &&
    run mloop train --param mode=nometrics &&
    expect_code 3 &&
    expect_stderr_contains "run 1 failed: the training command wrote no metrics file '"'"'.mloop/runs/1/metrics.json'"'"'" &&
    run mloop train --param mode=badmetrics &&
    expect_code 3 &&
    expect_stderr_contains "metrics file '"'"'.mloop/runs/2/metrics.json'"'"' is not valid JSON" &&
    run mloop train --param mode=textmetric &&
    expect_code 3 &&
    expect_stderr_contains "'"'"'score'"'"' is not a finite number but \"high\"" &&
    [ "$(sql "select group_concat(state) from (select state from runs order by id)")" = "failed,failed,failed" ]
'

test_expect_success 'an artifact that is missing, or a symlink out of the run directory, is refused' '
    project &&
    run mloop train --param mode=noartifact &&
    expect_code 3 &&
    expect_stderr_contains "wrote no artifact '"'"'model.bin'"'"'" &&
    run mloop train --param mode=symlink &&
    expect_code 3 &&
    expect_stderr_contains "artifact '"'"'model.bin'"'"' leads outside the run directory (through a symlink)" &&
    [ "$(sql "select count(*) from artifacts")" = 0 ]
'

test_expect_success 'artifact paths that leave the run directory are config errors' '
    project &&
    sed -i "s|artifacts: \[model.bin\]|artifacts: [../x, /etc/passwd]|" mloop.yaml &&
    run mloop train &&
    expect_code 2 &&
    expect_stderr_contains "artifact '"'"'../x'"'"' leaves its directory" &&
    expect_stderr_contains "artifact '"'"'/etc/passwd'"'"' must be a relative path" &&
    [ ! -e .mloop/registry.db ]
'

test_expect_success 'secrets are masked in the terminal, the logs and the registry' '
    project &&
    TEST_TOKEN=hunter2-very-secret run mloop train --param mode=secret &&
    expect_code 0 &&
    expect_stdout_contains "the token is ***" &&
    case "$OUT$ERR" in *hunter2*) fail "secret on the terminal" ;; esac &&
    ! grep -rq hunter2 .mloop/runs/1 &&
    grep -q "on stderr: \*\*\*" .mloop/runs/1/stderr.log &&
    ! grep -q hunter2 .mloop/registry.db .mloop/registry.db-wal 2>/dev/null
'

test_expect_success 'arguments with shell metacharacters and leading dashes arrive byte for byte' '
    project &&
    cat >mloop.yaml <<-\YAML &&
	project: tiny
	data: {train: data.csv}
	train:
	  command: [sh, train.sh, "${data.train}", "${run.dir}", "${params.weird}", "-rf", "--lr=1", "$(id)", "a;b|c&d", "  spaced  ", "*", "$${literal}"]
	  params: {weird: "-x $(touch pwned) `id` ; rm", mode: args}
	  artifacts: [model.bin]
	YAML
    run mloop train &&
    expect_code 0 &&
    printf "%s\n" data.csv "$PWD/.mloop/runs/1" "-x \$(touch pwned) \`id\` ; rm" -rf --lr=1 "\$(id)" "a;b|c&d" "  spaced  " "*" "\${literal}" >expected &&
    cmp expected .mloop/runs/1/args &&
    [ ! -e pwned ]
'

test_expect_success 'a dataset that changes while the command runs marks the run inputs-changed' '
    project &&
    run mloop train --param mode=touchdata &&
    expect_code 0 &&
    expect_stdout_contains "run 1 inputs-changed" &&
    expect_stdout_contains "inputs changed while it ran: train" &&
    [ "$(sql "select state from runs")" = inputs-changed ] &&
    [ "$(sql "select count(*) from model_versions")" = 0 ]
'

test_expect_success 'train.timeout stops the command' '
    project &&
    sed -i "s|  inputs: \[train.sh\]|  inputs: [train.sh]\n  timeout: 1s|" mloop.yaml &&
    start=$(now_ms) &&
    run mloop train --param mode=sleep &&
    end=$(now_ms) &&
    expect_code 3 &&
    expect_stderr_contains "the training command timed out after 1s" &&
    [ $((end - start)) -lt 8000 ] &&
    [ "$(sql "select state from runs")" = failed ]
'

test_expect_success 'a missing program is exit 3 with its name' '
    project &&
    sed -i "s|command: \[sh, train.sh|command: [no-such-trainer, train.sh|" mloop.yaml &&
    run mloop train &&
    expect_code 3 &&
    expect_stderr_contains "cannot run '"'"'no-such-trainer'"'"'" &&
    [ "$(sql "select state from runs")" = failed ]
'

test_expect_success '--dry-run shows the plan and records nothing' '
    project &&
    run mloop train --dry-run --param lr=0.1 &&
    expect_code 0 &&
    expect_stdout_contains "param  lr = 0.1" &&
    expect_stdout_contains "run    sh train.sh data.csv .mloop/runs/N" &&
    [ ! -e .mloop ]
'

test_expect_success '--dry-run --json is one plan; --stage, --sweep and --if-triggered shape it' '
    project &&
    run mloop --json train --dry-run --sweep --if-triggered &&
    expect_code 0 &&
    expect_json "j[\"dry_run\"] is True and j[\"command\"] == [\"sh\", \"train.sh\", \"data.csv\", \".mloop/runs/N\"]" &&
    expect_json "j[\"trials\"] == [[\"lr=0.2\"], [\"lr=0.9\"], [\"lr=0.4\"]]" &&
    expect_json "[t[\"name\"] for t in j[\"triggers\"] if t[\"fired\"]] == [\"first_run\"]" &&
    [ ! -e .mloop ] &&
    mloop -q train >/dev/null &&
    run mloop train --dry-run --if-triggered &&
    expect_code 0 &&
    expect_stdout_contains "trigger data_changed: quiet: every dataset is as run 1 saw it" &&
    [ "$(sql "select count(*) from runs")" = 1 ]
'

test_expect_success 'sweep trials run -j at a time' '
    project &&
    sed -i "s|params: {lr: \[0.2, 0.9, 0.4\]}|params: {lr: [0.2, 0.9, 0.4], mode: [sleep], seconds: [2]}|" mloop.yaml &&
    start=$(date +%s%N) &&
    run mloop train --sweep -j 3 &&
    ms=$((($(date +%s%N) - start) / 1000000)) &&
    expect_code 0 &&
    [ "$(sql "select count(*) from runs where kind = \"trial\" and state = \"succeeded\"")" = 3 ] &&
    echo "    3 trials of 2 s with -j 3: $ms ms" &&
    { [ "$ms" -lt 5900 ] || fail "3 trials of 2 s took $ms ms: not run at once"; }
'

test_expect_success 'a sweep runs every trial, survives a failing one, and names the best' '
    project &&
    sed -i "s|params: {lr: \[0.2, 0.9, 0.4\]}|params: {lr: [0.2, 0.9, 0.4], mode: [ok, fail]}|" mloop.yaml &&
    run mloop train --sweep -j 2 &&
    expect_code 0 &&
    expect_stdout_contains "sweep run 1: 6 trials, objective score (max)" &&
    expect_stdout_contains "best: run" &&
    expect_stdout_contains "(score 0.9)" &&
    [ "$(sql "select count(*) from runs where kind = \"trial\" and parent_id = 1")" = 6 ] &&
    [ "$(sql "select count(*) from runs where kind = \"trial\" and state = \"failed\"")" = 3 ] &&
    [ "$(sql "select state from runs where id = 1")" = succeeded ] &&
    [ "$(sql "select count(*) from model_versions")" = 3 ] &&
    run mloop train --sweep --json &&
    expect_json "j[\"state\"] == \"succeeded\" and len(j[\"trials\"]) == 6 and j[\"trials\"][j[\"best\"]][\"objective\"] == 0.9"
'

test_expect_success '--if-triggered trains only when a trigger fires, and says why' '
    project &&
    run mloop train --if-triggered &&
    expect_code 0 &&
    expect_stderr_contains "trigger first_run: fired: no successful training run is recorded yet" &&
    expect_stdout_contains "run 1 succeeded" &&
    run mloop train --if-triggered &&
    expect_code 0 &&
    expect_stdout "no trigger fired: not training" &&
    expect_stderr_contains "trigger data_changed: quiet" &&
    old=$(sha256sum data.csv | cut -c1-12) &&
    echo "5,6" >>data.csv &&
    new=$(sha256sum data.csv | cut -c1-12) &&
    run mloop train --if-triggered &&
    expect_code 0 &&
    expect_stderr_contains "trigger data_changed: fired: train (data.csv): sha256:$old" &&
    expect_stderr_contains "sha256:$new" &&
    expect_stdout_contains "run 2 succeeded" &&
    [ "$(sql "select triggered_by like \"%data_changed%\" from runs where id = 2")" = 1 ] &&
    echo "# change" >>train.sh &&
    run mloop train --if-triggered --json &&
    expect_json "j[\"run\"] == 3" &&
    expect_stderr_contains "trigger code_changed: fired: train.sh"
'

test_expect_success '--if-triggered: max_age fires when production is older than the limit' '
    project &&
    sed -i "s|max_age: 30d|max_age: 2s|" mloop.yaml &&
    mloop -q train >/dev/null &&
    mloop -q promote tiny@1 production >/dev/null &&
    run mloop train --if-triggered &&
    expect_stderr_contains "trigger max_age: quiet: production (tiny@1) is " &&
    expect_stdout "no trigger fired: not training" &&
    sleep 3.1 &&
    run mloop train --if-triggered &&
    expect_code 0 &&
    expect_stderr_contains "trigger max_age: fired: production (tiny@1) is " &&
    expect_stderr_contains "s old; the limit is 2s" &&
    expect_stdout_contains "run 2 succeeded"
'

test_expect_success 'promote runs the gates; a failing version moves only with --force' '
    project &&
    mloop -q train >/dev/null && mloop -q train --param lr=0.3 >/dev/null &&
    run mloop promote tiny@1 staging &&
    expect_code 0 &&
    expect_stdout_contains "score                   0.7" &&
    expect_stdout_contains "tiny@staging → tiny@1" &&
    run mloop promote tiny@2 staging &&
    expect_code 1 &&
    expect_stderr_contains "tiny@2 fails its gates; tiny@staging was not moved" &&
    [ "$(sql "select a.version from aliases a")" = 1 ] &&
    run mloop promote tiny@2 staging --force --reason "hotfix" &&
    expect_code 0 &&
    expect_stdout_contains "forced past failing gates" &&
    [ "$(sql "select from_version, to_version, forced, reason from alias_moves order by id desc limit 1")" = "$(printf "1\t2\t1\thotfix")" ] &&
    run mloop promote tiny@9 staging &&
    expect_code 2 &&
    expect_stderr_contains "tiny has no version 9" &&
    run mloop promote tiny@1 latest &&
    expect_code 2
'

test_done
