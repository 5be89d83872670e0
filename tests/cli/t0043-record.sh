#!/usr/bin/env bash
# Reading the record: mloop runs, show, diff, lineage and models over runs that mloop train
# really recorded (tests/fixtures/train and tests/fixtures/pipeline), every reference form of
# SPEC §2, --json documents, the formats of diff and lineage, and exit codes.
. "$(dirname "$0")/lib.sh"

export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t \
    GIT_COMMITTER_EMAIL=t@example.com
P=$SCRATCH/proj  # one recorded history, read by most tests below
S=$SCRATCH/pipe  # a two-stage pipeline trained twice

# Times and ages change from run to run; the rest of the output is compared exactly.
dates() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/DATE/g'; }
digest() { echo "sha256:$(sha256sum "$1" | cut -c1-64)"; }
short() { echo "${1:0:19}"; }

test_expect_success 'a history: three trainings, a failure, a sweep, promotions, changed data' '
    mkdir "$P" && cd "$P" &&
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . &&
    git init -q -b main && git add -A && git commit -qm first &&
    mloop -q train >/dev/null &&                            # run 1 → tiny@1
    mloop -q train --param lr=0.9 >/dev/null &&             # run 2 → tiny@2
    { mloop -q train --param mode=fail >/dev/null 2>&1; [ $? = 3 ]; } &&  # run 3 failed
    mloop -q train --sweep >/dev/null &&                    # run 4 sweep, trials 5, 6, 7
    mloop -q promote tiny@1 production &&
    mloop -q promote tiny@2 production &&
    mloop -q promote tiny@1 staging &&
    cp data.csv data-v1.csv && echo 5,6 >>data.csv &&
    git add data.csv && git commit -qm "more data" &&
    mloop -q train --param lr=0.6 >/dev/null &&            # run 8 → tiny@6, on the new data
    [ "$(sql "select group_concat(state) from (select state from runs order by id)")" = "succeeded,succeeded,failed,succeeded,succeeded,succeeded,succeeded,succeeded" ] &&
    [ "$(sql "select count(*) from model_versions")" = 6 ]
'

test_expect_success 'runs: newest first with state, kind, commit, key metric and version' '
    cd "$P" &&
    run mloop runs &&
    expect_code 0 && expect_stderr_empty &&
    [ "$(printf "%s\n" "$OUT" | head -1 | tr -s " ")" = "ID STATE KIND STARTED DURATION COMMIT score MODEL" ] &&
    [ "$(printf "%s\n" "$OUT" | sed 1d | awk "{print \$1, \$2, \$3}" | paste -sd,)" = "8 succeeded train,7 succeeded trial,6 succeeded trial,5 succeeded trial,4 succeeded sweep,3 failed train,2 succeeded train,1 succeeded train" ] &&
    printf "%s\n" "$OUT" | grep -E "^ 2 .* $(git rev-parse --short=12 HEAD~1) +0\.9 +tiny@2$" >/dev/null &&
    printf "%s\n" "$OUT" | grep -E "^ 8 .* $(git rev-parse --short=12 HEAD) +0\.6 +tiny@6$" >/dev/null &&
    run mloop runs --limit 2 &&
    [ "$(printf "%s\n" "$OUT" | wc -l)" = 3 ] &&
    run mloop runs --status failed &&
    [ "$(printf "%s\n" "$OUT" | sed 1d | awk "{print \$1}" | paste -sd,)" = 3 ] &&
    run mloop runs --model tiny --limit 3 &&
    [ "$(printf "%s\n" "$OUT" | sed 1d | awk "{print \$1}" | paste -sd,)" = "8,7,6" ]
'

test_expect_success 'runs --json is one document; a bad state or model is exit 2 with did you mean' '
    cd "$P" &&
    run mloop runs --json --limit 0 &&
    expect_code 0 && expect_stderr_empty &&
    expect_json "[r[\"id\"] for r in j[\"runs\"]] == [8, 7, 6, 5, 4, 3, 2, 1]" &&
    expect_json "j[\"key_metrics\"] == [\"score\"]" &&
    expect_json "j[\"runs\"][6][\"versions\"] == [\"tiny@2\"] and j[\"runs\"][5][\"exit_code\"] == 7" &&
    expect_json "j[\"runs\"][1][\"parent\"] == 4 and j[\"runs\"][1][\"kind\"] == \"trial\"" &&
    run mloop runs --status faild &&
    expect_code 2 && expect_stdout_empty &&
    expect_stderr "mloop: error: '"'"'faild'"'"' is not a run state
hint: did you mean '"'"'failed'"'"'?" &&
    run mloop runs --model tyni &&
    expect_code 2 &&
    expect_stderr_contains "no model '"'"'tyni'"'"'" &&
    expect_stderr_contains "did you mean '"'"'tiny'"'"'?"
'

test_expect_success 'show: a run with its params, metrics, inputs, artifacts and version' '
    cd "$P" &&
    run mloop show 2 &&
    expect_code 0 &&
    expect_stdout_contains "run 2  succeeded" &&
    expect_stdout_contains "git        $(git rev-parse HEAD~1) on main" &&
    expect_stdout_contains "model      tiny@2 (production)" &&
    expect_stdout_contains "  lr       0.9" &&
    expect_stdout_contains "  score  0.9" &&
    expect_stdout_contains "dataset  train     data.csv  $(short "$(digest data-v1.csv)")  not validated" &&
    expect_stdout_contains "code     train.sh            $(short "$(digest train.sh)")" &&
    expect_stdout_contains "model.bin  15 B  $(short "$(digest .mloop/runs/2/model.bin)")" &&
    expect_stdout_contains "logs       .mloop/runs/2/stdout.log, .mloop/runs/2/stderr.log" &&
    run mloop show run/2 &&
    [ "$(printf "%s\n" "$OUT" | head -1)" = "run 2  succeeded" ] &&
    run mloop show 3 &&
    expect_stdout_contains "run 3  failed" && expect_stdout_contains "exit code  7" &&
    run mloop show 4 &&
    printf "%s\n" "$OUT" | grep -E "^kind +sweep$" >/dev/null
'

test_expect_success 'show --json: a run, a version with its alias history' '
    cd "$P" &&
    run mloop show 2 --json &&
    expect_code 0 && expect_stderr_empty &&
    expect_json "j[\"kind\"] == \"run\" and j[\"run\"][\"id\"] == 2 and j[\"run\"][\"params\"][\"lr\"] == {\"value\": \"0.9\", \"type\": \"number\"}" &&
    expect_json "[i[\"name\"] for i in j[\"run\"][\"inputs\"]] == [\"train\", \"train.sh\"]" &&
    expect_json "j[\"run\"][\"inputs\"][0][\"digest\"] == \"$(digest data-v1.csv)\"" &&
    expect_json "j[\"run\"][\"versions\"] == [{\"model\": \"tiny\", \"version\": 2, \"ref\": \"tiny@2\", \"aliases\": [\"production\"]}]" &&
    run mloop --json show tiny@production &&
    expect_json "j[\"kind\"] == \"version\" and j[\"version\"][\"ref\"] == \"tiny@2\" and j[\"version\"][\"run\"][\"id\"] == 2" &&
    expect_json "[(m[\"alias\"], m[\"from\"], m[\"to\"]) for m in j[\"version\"][\"alias_history\"]] == [(\"production\", 1, 2)]"
'

test_expect_success 'every reference form names what SPEC §2 says' '
    cd "$P" &&
    for ref in 2 run/2 tiny@2 tiny@production; do
        run mloop show "$ref" --json && expect_code 0 &&
        expect_json "(j.get(\"run\") or j[\"version\"][\"run\"])[\"id\"] == 2" || return 1
    done &&
    run mloop show tiny@latest --json && expect_json "j[\"version\"][\"ref\"] == \"tiny@6\"" &&
    run mloop show @latest --json && expect_json "j[\"version\"][\"ref\"] == \"tiny@6\"" &&
    run mloop show tiny@staging --json && expect_json "j[\"version\"][\"ref\"] == \"tiny@1\"" &&
    d1=$(digest data-v1.csv) &&
    run mloop show "${d1:0:19}" --json &&
    expect_json "j[\"kind\"] == \"dataset\" and j[\"dataset\"][\"digest\"] == \"$d1\" and j[\"dataset\"][\"path\"] == \"data.csv\"" &&
    run mloop show data.csv --json &&
    expect_json "j[\"kind\"] == \"dataset\" and j[\"dataset\"][\"digest\"] == \"$(digest data.csv)\"" &&
    a=$(digest .mloop/runs/1/model.bin) &&
    run mloop show "$a" --json &&
    expect_json "j[\"kind\"] == \"artifact\" and j[\"artifact\"][\"versions\"] == [\"tiny@1\"]" &&
    c=$(git rev-parse HEAD~1) &&
    run mloop show "${c:0:7}" --json &&
    expect_json "j[\"kind\"] == \"commit\" and j[\"commit\"][\"commit\"] == \"$c\" and j[\"commit\"][\"run_count\"] == 7" &&
    run mloop show "commit/${c:0:4}" &&
    expect_stdout_contains "commit $c" && expect_stdout_contains "7 runs" &&
    run mloop show deploy/1 &&
    expect_code 2 && expect_stderr_contains "mloop: error: no deployment 1"
'

test_expect_success 'an unknown reference is exit 2 naming the nearest' '
    cd "$P" &&
    run mloop show tiny@prod &&
    expect_code 2 && expect_stdout_empty &&
    expect_stderr "mloop: error: tiny has no alias '"'"'prod'"'"'
hint: did you mean '"'"'production'"'"'?" &&
    run mloop show tyni@1 &&
    expect_code 2 && expect_stderr_contains "did you mean '"'"'tiny'"'"'?" &&
    run mloop show 99 &&
    expect_code 2 && expect_stderr_contains "mloop: error: " &&
    run mloop lineage tiny@9 &&
    expect_code 2 && expect_stderr_contains "mloop: error: " &&
    run mloop diff 1 sha256:000000000000 &&
    expect_code 2 &&
    run mloop show nothing-like-it &&
    expect_code 2 && expect_stderr_contains "hint: a reference is a run (42)"
'

test_expect_success 'diff: params, metrics with deltas, data hashes, commits; three formats' '
    cd "$P" &&
    run mloop diff 2 8 &&
    expect_code 0 &&
    expect_stdout_contains "params (1 changed, 2 same)" &&
    printf "%s\n" "$OUT" | grep -E "^  lr +0\.9 +0\.6 +changed$" >/dev/null &&
    printf "%s\n" "$OUT" | grep -E "^  score +0\.9 +0\.6 +-0\.3 +-33\.33%$" >/dev/null &&
    printf "%s\n" "$OUT" | grep -E "^  rows +3 +4 +\+1 +\+33\.33%$" >/dev/null &&
    printf "%s\n" "$OUT" | grep -E "^  train +$(short "$(digest data-v1.csv)") +$(short "$(digest data.csv)") +different$" >/dev/null &&
    expect_stdout_contains "$(git rev-parse --short=12 HEAD~1) (main)" &&
    expect_stdout_contains "$(git rev-parse --short=12 HEAD) (main)" &&
    run mloop diff tiny@2 tiny@6 --format markdown &&
    expect_code 0 &&
    expect_stdout_contains "### mloop diff: tiny@2 → tiny@6" &&
    expect_stdout_contains "| score | 0.9 | 0.6 | -0.3 | -33.33% |" &&
    expect_stdout_contains "| lr | \`0.9\` | \`0.6\` | changed |" &&
    run mloop diff 2 8 --format json &&
    expect_json "[(m[\"name\"], m[\"a\"], m[\"b\"]) for m in j[\"metrics\"]] == [(\"rows\", 3, 4), (\"score\", 0.9, 0.6)]" &&
    expect_json "abs(j[\"metrics\"][1][\"delta\"] + 0.3) < 1e-9 and j[\"params\"][0] == {\"name\": \"lr\", \"a\": \"0.9\", \"b\": \"0.6\", \"status\": \"changed\"}" &&
    expect_json "j[\"data\"][0][\"status\"] != \"same\" and j[\"data\"][1][\"status\"] == \"same\"" &&
    run mloop diff 2 8 --json &&
    expect_json "j[\"a\"][\"run\"] == 2 and j[\"b\"][\"run\"] == 8" &&
    run mloop diff 2 8 --format dot &&
    expect_code 2 && expect_stderr_contains "'"'"'dot'"'"' is not an output format here" &&
    run mloop diff 2 8 --json --format markdown &&
    expect_code 2
'

test_expect_success 'lineage upstream: version, run, commit, params, data, code' '
    cd "$P" &&
    run mloop lineage tiny@production &&
    expect_code 0 &&
    printf "%s\n" "$OUT" | dates >got &&
    cat >want <<-EOF &&
	tiny@2 (production)
	└── produced by run 2  train  succeeded  DATE
	    ├── commit $(git rev-parse --short=12 HEAD~1) (main)
	    ├── params
	    │   ├── lr = 0.9
	    │   ├── mode = ok
	    │   └── seconds = 30
	    ├── dataset train  data.csv  $(short "$(digest data-v1.csv)")  not validated
	    └── code train.sh  $(short "$(digest train.sh)")
	EOF
    diff -u want got &&
    run mloop lineage 6 &&
    expect_stdout_contains "└── trial of run 4  sweep  succeeded" &&
    run mloop lineage tiny@1 --format json &&
    expect_json "j[\"root\"] == \"tiny@1\" and j[\"direction\"] == \"upstream\"" &&
    expect_json "sorted(n[\"kind\"] for n in j[\"nodes\"]) == [\"commit\", \"dataset\", \"file\", \"params\", \"run\", \"version\"]" &&
    expect_json "{\"from\": \"run/1\", \"to\": \"tiny@1\", \"relation\": \"produced\"} in j[\"edges\"]" &&
    expect_json "[n[\"aliases\"] for n in j[\"nodes\"] if n[\"kind\"] == \"version\"] == [[\"staging\"]]" &&
    run mloop lineage tiny@1 --format dot &&
    expect_stdout_contains "digraph \"lineage\" {" &&
    expect_stdout_contains "  \"run/1\" -> \"tiny@1\" [label=\"produced\"];" &&
    expect_stdout_contains "\"tiny@1\" [label=\"tiny@1 (staging)\", shape=\"box3d\", penwidth=\"2\"];" &&
    [ "$(printf "%s\n" "$OUT" | tail -1)" = "}" ]
'

test_expect_success 'lineage downstream: from a dataset, a commit and a run, every run and version' '
    cd "$P" &&
    d1=$(digest data-v1.csv) &&
    run mloop lineage "$d1" --downstream &&
    expect_code 0 &&
    for r in 1 2 3 5 6 7; do
        expect_stdout_contains "used by run $r " || return 1
    done &&
    case "$OUT" in *"run 8 "*) fail "run 8 trained on other data" ;; esac &&
    for v in 1 2 3 4 5; do
        printf "%s\n" "$OUT" | grep -E "tiny@$v( |$)" >/dev/null || fail "no tiny@$v" || return 1
    done &&
    run mloop lineage data.csv --downstream --json &&
    expect_json "j[\"direction\"] == \"downstream\" and j[\"root\"] == \"$(digest data.csv)\"" &&
    expect_json "sorted(n[\"id\"] for n in j[\"nodes\"] if n[\"kind\"] != \"dataset\") == [\"run/8\", \"tiny@6\"]" &&
    run mloop lineage "$(git rev-parse --short HEAD~1)" --downstream --format json &&
    expect_json "sorted(n[\"run\"] for n in j[\"nodes\"] if n[\"kind\"] == \"run\") == [1, 2, 3, 4, 5, 6, 7]" &&
    expect_json "sorted(n[\"id\"] for n in j[\"nodes\"] if n[\"kind\"] == \"version\") == [\"tiny@1\", \"tiny@2\", \"tiny@3\", \"tiny@4\", \"tiny@5\"]" &&
    run mloop lineage run/4 --downstream &&
    printf "%s\n" "$OUT" | dates | sed -E "s/tiny@[345]/tiny@N/" >got &&  # trials run two at once
    cat >want <<-EOF &&
	run 4  sweep  succeeded  DATE
	├── trial run 5  trial  succeeded  DATE
	│   └── tiny@N
	├── trial run 6  trial  succeeded  DATE
	│   └── tiny@N
	└── trial run 7  trial  succeeded  DATE
	    └── tiny@N
	EOF
    diff -u want got &&
    run mloop lineage 4 --downstream --format dot &&
    expect_stdout_contains "\"run/4\" -> \"run/5\" [label=\"sweep\"];" &&
    run mloop lineage 1 --format tre &&
    expect_code 2 && expect_stderr_contains "did you mean"
'

test_expect_success 'models: every model, one model with versions, metrics and alias history' '
    cd "$P" &&
    run mloop models &&
    expect_code 0 &&
    printf "%s\n" "$OUT" | grep -E "^tiny +6 +6 .* production=2, staging=1$" >/dev/null &&
    run mloop models --json &&
    expect_json "j[\"models\"][0][\"name\"] == \"tiny\" and j[\"models\"][0][\"versions\"] == 6 and j[\"models\"][0][\"aliases\"] == {\"production\": 2, \"staging\": 1}" &&
    run mloop models tiny &&
    expect_code 0 &&
    expect_stdout_contains "tiny  6 versions" &&
    printf "%s\n" "$OUT" | grep -E "^ +2 +2 +succeeded .* 0\.9 +production$" >/dev/null &&
    printf "%s\n" "$OUT" | grep -E "^ +1 +1 +succeeded .* 0\.7 +staging$" >/dev/null &&
    expect_stdout_contains "alias history" &&
    printf "%s\n" "$OUT" | grep -E "production +→ 1 " >/dev/null &&
    printf "%s\n" "$OUT" | grep -E "production +1 → 2 " >/dev/null &&
    printf "%s\n" "$OUT" | grep -E "staging +→ 1 " >/dev/null &&
    run mloop models tiny --json &&
    expect_json "[v[\"version\"] for v in j[\"versions\"]] == [6, 5, 4, 3, 2, 1] and j[\"version_count\"] == 6" &&
    expect_json "[(m[\"alias\"], m[\"from\"], m[\"to\"], m[\"forced\"]) for m in j[\"alias_history\"]] == [(\"production\", None, 1, False), (\"production\", 1, 2, False), (\"staging\", None, 1, False)]" &&
    expect_json "j[\"versions\"][4][\"metrics\"][\"score\"] == 0.9" &&
    run mloop models tnyi &&
    expect_code 2 && expect_stderr_contains "did you mean '"'"'tiny'"'"'?"
'

test_expect_success 'stages: shown with state, a cached one traced to the run it came from' '
    mkdir "$S" && cd "$S" &&
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/pipeline/." . &&
    mloop -q train >/dev/null && mloop -q train >/dev/null &&
    run mloop show 2 &&
    expect_code 0 &&
    expect_stdout_contains "stages" &&
    printf "%s\n" "$OUT" | grep -E "prepare +cached .*run 1" >/dev/null &&
    run mloop show 2 --json &&
    expect_json "[(s[\"name\"], s[\"state\"], s[\"source_run\"]) for s in j[\"run\"][\"stages\"]] == [(\"prepare\", \"cached\", 1), (\"fit\", \"succeeded\", None)]" &&
    run mloop lineage pipe@2 &&
    expect_stdout_contains "├── stage prepare  cached" &&
    expect_stdout_contains "│   └── cached from run 1  train  succeeded" &&
    expect_stdout_contains "└── stage fit  succeeded" &&
    run mloop lineage 1 --downstream &&
    expect_stdout_contains "stage prepare cached by run 2  train  succeeded" &&
    run mloop diff 1 2 --json &&
    expect_json "[(s[\"name\"], s[\"a\"], s[\"b\"]) for s in j[\"stages\"]] == [(\"fit\", \"succeeded\", \"succeeded\"), (\"prepare\", \"succeeded\", \"cached\")]"
'

test_expect_success 'a run whose mloop was killed is shown crashed' '
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . &&
    { "$MLOOP" -q train --param mode=sleep --param seconds=3 >/dev/null 2>&1 & } &&
    pid=$! &&
    for _ in $(seq 200); do
        [ "$(sql "select count(*) from runs where state = \"running\"" 2>/dev/null)" = 1 ] && break
        sleep 0.05
    done &&
    kill -9 "$pid" && { wait "$pid"; true; } &&
    run mloop runs &&
    expect_code 0 &&
    printf "%s\n" "$OUT" | grep -E "^ 1  crashed " >/dev/null &&
    run mloop show 1 --json &&
    expect_json "j[\"run\"][\"state\"] == \"crashed\"" &&
    run mloop runs --status crashed --json &&
    expect_json "[r[\"id\"] for r in j[\"runs\"]] == [1]"
'

test_expect_success 'an empty record: nothing to list, references are exit 2' '
    cp -r "$MLOOP_SOURCE_DIR/tests/fixtures/train/." . &&
    run mloop runs &&
    expect_code 0 && expect_stdout_empty &&
    expect_stderr_contains "nothing recorded yet" &&
    run mloop runs --json &&
    expect_json "j[\"runs\"] == []" &&
    run mloop models --json &&
    expect_code 0 &&
    run mloop show 1 &&
    expect_code 2 && expect_stderr_contains "nothing has been recorded yet" &&
    [ ! -e .mloop/registry.db ]
'

test_expect_success '--registry reads a record without a project file' '
    run mloop --registry "$P/.mloop/registry.db" runs --limit 1 --json &&
    expect_code 0 &&
    expect_json "[r[\"id\"] for r in j[\"runs\"]] == [8]" &&
    run mloop --registry "$P/.mloop/registry.db" show tiny@2 &&
    expect_code 0 && expect_stdout_contains "tiny@2  (production)"
'

# Validations, evaluations and forced moves come from other commands; the fixture driver writes
# them through the registry's repositories, with fixed times.
test_expect_success 'what train alone does not make: verdicts, evaluations, forced moves, ambiguity' '
    eval "$("$MLOOP_BUILD_DIR/fault_record_fixture" .)" &&
    echo "project: churn" >mloop.yaml &&
    run mloop lineage churn@1 &&
    expect_stdout_contains "dataset train  data/train.csv  $(short "$D1")  validation FAILED" &&
    run mloop lineage 7 &&
    printf "%s\n" "$OUT" | dates >got &&
    cat >want <<-EOF &&
	run 7  evaluate  succeeded  DATE
	├── commit 222233333333 (main)
	├── dataset eval  data/eval.csv  $(short "$D3")  not validated
	└── evaluates churn@3 (production)
	    └── produced by run 4  trial  succeeded  DATE
	EOF
    diff -u want got &&
    run mloop lineage data/train.csv --downstream &&
    expect_stdout_contains "dataset data/train.csv  $(short "$D2")  validation passed" &&
    printf "%s\n" "$OUT" | dates | grep -F "stage prepare cached by run 6  train  succeeded  DATE (see above)" >/dev/null &&
    run mloop models churn --json &&
    expect_json "j[\"alias_history\"][-1] == {\"alias\": \"staging\", \"from\": 3, \"to\": 5, \"at\": j[\"alias_history\"][-1][\"at\"], \"user\": \"alice\", \"host\": j[\"alias_history\"][-1][\"host\"], \"forced\": True, \"reason\": \"try the pipeline\"}" &&
    run mloop models churn &&
    printf "%s\n" "$OUT" | grep -E "staging +3 → 5 +alice@.* forced +try the pipeline$" >/dev/null &&
    run mloop show churn@3 --json &&
    expect_json "[e[\"id\"] for e in j[\"version\"][\"evaluations\"]] == [7]" &&
    run mloop show commit/2222 &&
    expect_code 2 &&
    expect_stderr "mloop: error: commit '"'"'2222'"'"' is ambiguous
hint: it begins $C2, $C3; give more digits" &&
    run mloop runs --limit 1 &&
    printf "%s\n" "$OUT" | grep -E "^10  crashed " >/dev/null
'

test_done
