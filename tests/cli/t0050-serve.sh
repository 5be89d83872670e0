#!/usr/bin/env bash
# mloop-serve, the example's model server: a static binary; its scores equal churnlib's for the
# model the example's train.py writes; bad input is a 400 naming the field; the metrics, the
# predictions log, the environment fallbacks, a model that does not load, and a clean stop on
# SIGTERM and SIGINT. Every server listens on 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

: "${MLOOP_BUILD_DIR:?MLOOP_BUILD_DIR must name the build directory}"
SERVE=$MLOOP_BUILD_DIR/mloop-serve
EXAMPLE=$MLOOP_SOURCE_DIR/examples/churn
RC=0 OUT= ERR= CODE=

# The model, made once by the example's own training script as mloop.yaml runs it.
MODEL=$SCRATCH/model/model.json
mkdir -p "$SCRATCH/model"
if ! PYTHONHASHSEED=0 /usr/bin/python3 -B "$EXAMPLE/train.py" --data "$EXAMPLE/data/train.csv" \
    --eval "$EXAMPLE/data/eval.csv" --out "$SCRATCH/model" >"$SCRATCH/train.log" 2>&1; then
    cat "$SCRATCH/train.log" >&2
    echo "not ok - the example's train.py failed" && exit 1
fi

# edit_model PYTHON OUT: the model with PYTHON run on it (as `m`), written to OUT.
edit_model() {
    /usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(m, open(sys.argv[3], "w"))' "$MODEL" "$1" "$2"
}

# churnlib, the example's scoring code, run by the system Python without writing __pycache__.
churnlib() { PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$EXAMPLE" /usr/bin/python3 - "$@"; }

# Every server started is listed here and killed when the suite ends, whatever happened; only
# while the pid is still an mloop-serve (a pid of one that already ended may be reused).
SERVERS=$SCRATCH/servers.pid
: >"$SERVERS"
kill_servers() {
    local p exe
    exe=$(readlink -f "$SERVE")
    while read -r p; do
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$exe" ] && kill -KILL "$p" 2>/dev/null
    done <"$SERVERS"
}
trap 'kill_servers; rm -rf "$SCRATCH"' EXIT

# start_server ARGS...: runs mloop-serve --host 127.0.0.1 ARGS... with stderr in server.err,
# waits for its "listening on" line, sets SERVER_PID, SERVER_PORT and URL. The server is killed
# when the test's subshell exits, whatever the test's outcome.
start_server() {
    : >server.err  # no stale "listening on" line from an earlier server in this directory
    env --default-signal=INT,TERM "$SERVE" --host 127.0.0.1 "$@" >server.out 2>server.err &
    SERVER_PID=$!
    echo "$SERVER_PID" >>"$SERVERS"
    trap kill_servers EXIT
    SERVER_PORT=
    for _ in $(seq 200); do
        SERVER_PORT=$(sed -n 's/^mloop-serve: listening on 127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' server.err)
        [ -n "$SERVER_PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$SERVER_PORT" ] || { ERR=$(cat server.err) && fail "mloop-serve did not start"; return 1; }
    URL=http://127.0.0.1:$SERVER_PORT
}

# stop_server [SIGNAL]: signals the last server and waits for it; its exit code in $RC.
stop_server() {
    kill "-${1:-TERM}" "$SERVER_PID" && { wait "$SERVER_PID"; RC=$?; }
}

# http METHOD PATH [CURL-ARGS...]: the status in $CODE, the body in $OUT, headers in .headers.
http() {
    local method=$1 path=$2
    shift 2
    CODE=$(curl -sS -X "$method" -o .body -D .headers -w '%{http_code}' --max-time 10 "$@" "$URL$path")
    RC=$?
    OUT=$(cat .body)
}
# predict JSON: POST /predict.
predict() { http POST /predict -H 'Content-Type: application/json' --data-binary "$1"; }

expect_status() { [ "$CODE" = "$1" ] || fail "HTTP status $CODE, expected $1"; }
expect_header() { tr -d '\r' <.headers | grep -qixF "$1" || fail "no header '$1' in $(cat .headers)"; }

# expect_error FIELD MESSAGE: a 400 whose JSON names FIELD ("" for none) and says MESSAGE.
expect_error() {
    expect_status 400 &&
    printf '%s' "$OUT" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
ok = j.get("field", "") == sys.argv[1] and j.get("error") == sys.argv[2]
sys.exit(0 if ok else 1)' "$1" "$2" || fail "expected error field '$1', message: $2"
}

# A valid row: the first of eval.csv.
ROW='{"age":44,"tenure_months":8,"monthly_fee":67.42,"support_calls":4,"plan":"pro","region":"south","autopay":false}'
# row_with KEY JSON|-: the row with KEY set to JSON, or without KEY for "-".
row_with() {
    /usr/bin/python3 -c '
import json, sys
row = json.loads(sys.argv[1])
if sys.argv[3] == "-":
    del row[sys.argv[2]]
else:
    row[sys.argv[2]] = json.loads(sys.argv[3])
print(json.dumps(row))' "$ROW" "$1" "$2"
}

# cases FILE: rows of eval.csv as requests (some sent with ids, ints or floats, a null fee, an
# unseen category), one JSON object per line, and churnlib's score for each in FILE.expected.
cases() {
    churnlib "$MODEL" "$EXAMPLE/data/eval.csv" "$1" <<'PY'
import json, sys
import churnlib as cl
model, rows, out = cl.load_model(sys.argv[1]), cl.load_rows(sys.argv[2]), sys.argv[3]
picked = rows[:6] + [r for r in rows if r["monthly_fee"] is None][:2]
unseen = dict(rows[6], plan="platinum", region="mars")  # each unseen category contributes 0
picked.append(unseen)
with open(out, "w") as req, open(out + ".expected", "w") as exp:
    for i, r in enumerate(picked):
        body = {}
        for name in cl.NUMERIC:  # some as JSON integers, some as floats, None as null
            v = r[name]
            body[name] = int(v) if v is not None and i % 2 and v.is_integer() else v
        for name in cl.CATEGORY:
            body[name] = r[name]
        for name in cl.BOOL:
            body[name] = bool(r[name])
        if i % 3 == 0:
            body["id"] = f"eval-{i}"
        elif i % 3 == 1:
            body["request_id"] = 1000 + i
        req.write(json.dumps(body) + "\n")
        exp.write(json.dumps({"score": cl.score(model, r), "id": body.get("id", body.get("request_id"))}) + "\n")
PY
}

# compare_scores EXPECTED ANSWERS: each answer's score within 1e-12 of churnlib's, ids echoed
# where sent, made and distinct where not.
compare_scores() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, re, sys
expected = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == len(expected) > 5, (len(got), len(expected))
made = set()
for e, g in zip(expected, got):
    assert abs(g["score"] - e["score"]) <= 1e-12, (g, e)
    if e["id"] is None:
        assert re.fullmatch(r"[0-9a-f]+-[0-9a-f]{8}-[0-9]+", g["request_id"]), g
        made.add(g["request_id"])
    else:
        assert g["request_id"] == e["id"], (g, e)
assert len(made) == sum(1 for e in expected if e["id"] is None) > 0
PY
}

test_expect_success 'mloop-serve is a fully static executable, built without the sanitizers' '
    [ -x "$SERVE" ] &&
    run file "$SERVE" && expect_stdout_contains "statically linked" &&
    run ldd "$SERVE" && expect_code 1 &&
    case "$OUT$ERR" in *"not a dynamic executable"*) ;; *) fail "ldd found a dynamic executable" ;; esac &&
    run readelf -l -d "$SERVE" && expect_code 0 &&
    case "$OUT" in *INTERP* | *NEEDED*) fail "an interpreter or a shared library" ;; esac &&
    run nm "$SERVE" && expect_code 0 &&
    case "$OUT" in *__asan_* | *__ubsan_*) fail "built with a sanitizer" ;; esac
'

test_expect_success '--help and --version; bad flags, ports and addresses are errors' '
    run "$SERVE" --help && expect_code 0 &&
    expect_stdout_contains "usage: mloop-serve [--model PATH]" &&
    expect_stdout_contains "(env MLOOP_PREDICTIONS_LOG; default: no log)" &&
    run "$SERVE" --version && expect_code 0 && expect_stdout_contains "mloop-serve 0." &&
    run "$SERVE" --bogus && expect_code 2 &&
    expect_stderr_contains "mloop-serve: error: unknown argument '"'"'--bogus'"'"'" &&
    run "$SERVE" --port 70000 && expect_code 2 &&
    expect_stderr_contains "error: --port must be an integer from 0 to 65535, got '"'"'70000'"'"'" &&
    PORT=http run "$SERVE" && expect_code 2 &&
    expect_stderr_contains "error: PORT must be an integer from 0 to 65535, got '"'"'http'"'"'" &&
    run "$SERVE" --model && expect_code 2 && expect_stderr_contains "error: --model needs a value" &&
    run "$SERVE" --model "$MODEL" --host localhost --port 0 && expect_code 1 &&
    expect_stderr "mloop-serve: error: '"'"'localhost'"'"' is not a numeric IPv4 or IPv6 address" &&
    start_server --model "$MODEL" --port 0 &&
    run "$SERVE" --model "$MODEL" --host 127.0.0.1 --port "$SERVER_PORT" && expect_code 1 &&
    expect_stderr "mloop-serve: error: cannot listen on 127.0.0.1:$SERVER_PORT: Address already in use"
'

test_expect_success 'a model that cannot be loaded: exit 1 with the reason, never listening' '
    run "$SERVE" --model nope.json --host 127.0.0.1 --port 0 && expect_code 1 &&
    expect_stderr "mloop-serve: error: cannot load model '"'"'nope.json'"'"': No such file or directory" &&
    printf "{\"format\": " >truncated.json &&
    run "$SERVE" --model truncated.json --port 0 && expect_code 1 &&
    expect_stderr_contains "error: cannot load model '"'"'truncated.json'"'"': invalid JSON: " &&
    printf "{\"format\": \"other/2\"}" >other.json &&
    run "$SERVE" --model other.json --port 0 && expect_code 1 &&
    expect_stderr "mloop-serve: error: cannot load model '"'"'other.json'"'"': not a mloop-logreg/1 model (format is \"other/2\")" &&
    edit_model "m[\"features\"][0][\"std\"] = 0" zero-std.json &&
    run "$SERVE" --model zero-std.json --port 0 && expect_code 1 &&
    expect_stderr_contains "features[0] ('"'"'age'"'"'): '"'"'std'"'"' is 0" &&
    edit_model "m[\"features\"][6][\"kind\"] = \"flag\"" kind.json &&
    run "$SERVE" --model kind.json --port 0 && expect_code 1 &&
    expect_stderr_contains "features[6] ('"'"'autopay'"'"'): '"'"'kind'"'"' must be numeric, category or bool, got \"flag\"" &&
    edit_model "m[\"features\"][4][\"weights\"][\"pro\"] = \"high\"" text-weight.json &&
    run "$SERVE" --model text-weight.json --port 0 && expect_code 1 &&
    expect_stderr "mloop-serve: error: cannot load model '"'"'text-weight.json'"'"': features[4] ('"'"'plan'"'"'): weights['"'"'pro'"'"'] must be a finite number, got \"high\"" &&
    edit_model "del m[\"bias\"]" no-bias.json &&
    run "$SERVE" --model no-bias.json --port 0 && expect_code 1 &&
    expect_stderr_contains "'"'"'no-bias.json'"'"': the model: missing '"'"'bias'"'"'" &&
    mkdir dir.json && run "$SERVE" --model dir.json --port 0 && expect_code 1 &&
    expect_stderr "mloop-serve: error: cannot load model '"'"'dir.json'"'"': Is a directory" &&
    MLOOP_MODEL_PATH=$PWD/env.json run "$SERVE" --port 0 && expect_code 1 &&
    expect_stderr "mloop-serve: error: cannot load model '"'"'$PWD/env.json'"'"': No such file or directory" &&
    if [ ! -e /model/model.json ]; then
        MLOOP_MODEL_PATH= run "$SERVE" --port 0 && expect_code 1 &&
        expect_stderr_contains "cannot load model '"'"'/model/model.json'"'"'"
    fi
'

test_expect_success 'scores equal churnlib'"'"'s for rows of eval.csv, one row or all at once' '
    cases requests.jsonl &&
    [ "$(wc -l <requests.jsonl)" = 9 ] &&
    start_server --model "$MODEL" --port 0 &&
    http GET /healthz && expect_status 200 && expect_stdout ok &&
    expect_header "Content-Type: text/plain; charset=utf-8" &&
    CODE=$(curl -sS -o /dev/null -w "%{http_code}" -I "$URL/healthz") && expect_status 200 &&
    while IFS= read -r body; do
        predict "$body" && expect_status 200 && expect_header "Content-Type: application/json" &&
        printf "%s\n" "$OUT" >>answers.jsonl || exit 1
    done <requests.jsonl &&
    compare_scores requests.jsonl.expected answers.jsonl &&
    batch=$(paste -sd, requests.jsonl) &&
    predict "{\"instances\": [$batch]}" && expect_status 200 &&
    printf "%s" "$OUT" | /usr/bin/python3 -c "
import json, sys
for p in json.load(sys.stdin)[\"predictions\"]:
    print(json.dumps(p))" >batch.jsonl &&
    compare_scores requests.jsonl.expected batch.jsonl
'

test_expect_success 'bad input is a 400 naming the field, and the server goes on serving' '
    start_server --model "$MODEL" --port 0 --log predictions.jsonl &&
    predict "{\"age\": " && expect_status 400 &&
    expect_json "j[\"error\"].startswith(\"invalid JSON: \") and \"field\" not in j" &&
    predict "$(row_with age 1 | sed "s/\"age\": 1/\"age\": 1e400/")" &&
    expect_error "" "invalid JSON: number overflow parsing '"'"'1e400'"'"'" &&
    predict "[1, 2]" &&
    expect_error "" "expected a JSON object of features or {\"instances\": [...]}" &&
    predict "$(row_with age \"abc\")" &&
    expect_error age "feature '"'"'age'"'"' must be a number, got \"abc\"" &&
    predict "$(row_with age null)" &&
    expect_error age "feature '"'"'age'"'"' must be a number, got null" &&
    predict "$(row_with tenure_months -)" &&
    expect_error tenure_months "feature '"'"'tenure_months'"'"' is missing" &&
    predict "$(row_with plan null)" &&
    expect_error plan "feature '"'"'plan'"'"' must be a non-empty string, got null" &&
    predict "$(row_with region \"\")" &&
    expect_error region "feature '"'"'region'"'"' must be a non-empty string, got \"\"" &&
    predict "$(row_with autopay \"yes\")" &&
    expect_error autopay "feature '"'"'autopay'"'"' must be true or false, got \"yes\"" &&
    predict "$(row_with id "{\"a\": 1}")" &&
    expect_error id "'"'"'id'"'"' must be a non-empty string of at most 256 bytes or an integer, got {\"a\":1}" &&
    predict "$(row_with tenure_months -1.7e308)" && expect_status 200 &&
    expect_json "j[\"score\"] == 1.0" &&
    predict "{\"instances\": []}" &&
    expect_error instances "'"'"'instances'"'"' must be a non-empty array of objects" &&
    predict "{\"instances\": [$ROW, $(row_with region 5)]}" &&
    expect_error "instances[1].region" "instances[1]: feature '"'"'region'"'"' must be a non-empty string, got 5" &&
    predict "{\"instances\": [$ROW, 7]}" &&
    expect_error "instances[1]" "instances[1]: expected a JSON object of features, got 7" &&
    deep="{\"x\": $(printf "%.0s[" $(seq 100))$(printf "%.0s]" $(seq 100))}" &&
    predict "$deep" && expect_error "" "invalid JSON: nested deeper than 64 levels" &&
    printf "{\"plan\": \"\377\"}" >latin1.json &&
    http POST /predict --data-binary @latin1.json && expect_status 400 &&
    expect_json "j[\"error\"].startswith(\"invalid JSON: \")" &&
    head -c 1100000 /dev/zero | tr "\0" " " >big.json &&
    http POST /predict --data-binary @big.json && expect_status 413 &&
    http GET /predict && expect_status 405 && expect_header "Allow: POST" &&
    http POST /healthz && expect_status 405 && expect_header "Allow: GET, HEAD" &&
    http GET /nope && expect_status 404 && expect_json "j[\"error\"] == \"no such path: /nope\"" &&
    http GET /healthz && expect_status 200 && expect_stdout ok &&
    predict "$ROW" && expect_status 200 &&
    [ "$(wc -l <predictions.jsonl)" = 2 ] &&
    kill -0 "$SERVER_PID"
'

test_expect_success '/metrics counts requests, errors, durations and scores' '
    start_server --model "$MODEL" --port 0 --model-name churn --model-version 7 &&
    : >scores &&
    for id in a b c; do
        predict "$(row_with id \"$id\")" && expect_status 200 &&
        printf "%s\n" "$OUT" >>scores || exit 1
    done &&
    predict "{\"instances\": [$ROW, $(row_with age 70), $(row_with autopay true), $(row_with plan \"basic\")]}" &&
    expect_status 200 && printf "%s\n" "$OUT" >>scores &&
    predict "$(row_with age \"x\")" && expect_status 400 &&
    predict "{" && expect_status 400 &&
    http GET /healthz && http GET /healthz && http GET /missing && expect_status 404 &&
    http GET /metrics && expect_status 200 &&
    expect_header "Content-Type: text/plain; version=0.0.4; charset=utf-8" &&
    printf "%s\n" "$OUT" >metrics.txt &&
    /usr/bin/python3 - metrics.txt scores <<-\PY &&
	import json, re, sys
	text = open(sys.argv[1]).read()
	samples = {}
	for line in text.splitlines():
	    if not line.startswith("#"):
	        name, labels, value = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line).groups()
	        labels = tuple(sorted(re.findall(r"(\w+)=\"([^\"]*)\"", labels or "")))
	        samples[name, labels] = float(value)
	def get(name, **labels):
	    return samples.get((name, tuple(sorted(labels.items()))))
	scores = []
	for line in open(sys.argv[2]):
	    j = json.loads(line)
	    scores += [p["score"] for p in j["predictions"]] if "predictions" in j else [j["score"]]
	def check(cond, what):
	    if not cond:
	        sys.exit("metrics: " + what)
	r, d, s = "mloop_serve_requests_total", "mloop_serve_request_duration_seconds", "mloop_serve_prediction_score"
	check(get("mloop_serve_model_info", model="churn", version="7") == 1, "model_info")
	check(get(r, path="/predict", code="200") == 4, "predict 200")
	check(get(r, path="/predict", code="400") == 2, "predict 400")
	check(get(r, path="/healthz", code="200") == 2, "healthz 200")
	check(get(r, path="other", code="404") == 1, "other 404")
	check(len([k for k in samples if k[0] == r]) == 4, "no other request counters")
	check(get("mloop_serve_errors_total") == 3, "errors_total")
	check(get(d + "_count", path="/predict") == 6, "duration count")
	check(get(d + "_bucket", path="/predict", le="+Inf") == 6, "duration +Inf bucket")
	check(0 < get(d + "_sum", path="/predict") < 6, "duration sum")
	check(get(d + "_count", path="/healthz") == 2 and get(d + "_count", path="other") == 1, "durations")
	buckets = [v for k, v in samples.items() if k[0] == d + "_bucket" and ("path", "/predict") in k[1]]
	check(len(buckets) == 13 and buckets == sorted(buckets), "duration buckets cumulative")
	check(get(d + "_bucket", path="/predict", le="0.0005") is not None, "bounds in fixed notation")
	check(len(scores) == 7 and get(s + "_count") == 7, "score count")
	check(abs(get(s + "_sum") - sum(scores)) < 1e-9, "score sum")
	for le in ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1", "+Inf"]:
	    want = sum(1 for x in scores if x <= float(le.replace("+Inf", "inf")))
	    check(get(s + "_bucket", le=le) == want, "score bucket " + le)
	for kind, name in [("counter", r), ("counter", "mloop_serve_errors_total"), ("histogram", d),
	                   ("histogram", s), ("gauge", "mloop_serve_model_info")]:
	    check(f"# TYPE {name} {kind}\n" in text, "TYPE of " + name)
	PY
    http GET /metrics &&
    case "$OUT" in *"mloop_serve_requests_total{path=\"/metrics\",code=\"200\"} 1"*) ;; *) fail "/metrics not counted" ;; esac
'

test_expect_success 'the predictions log: a JSON line per prediction with request_id, ts, features, score' '
    start_server --model "$MODEL" --port 0 --log predictions.jsonl &&
    before=$(date -u +%s) &&
    predict "$(row_with id \"cust-1\")" && expect_status 200 && printf "%s\n" "$OUT" >answers &&
    predict "$(row_with request_id 42 | sed "s/\"monthly_fee\": 67.42/\"monthly_fee\": null/")" &&
    expect_status 200 && printf "%s\n" "$OUT" >>answers &&
    predict "{\"instances\": [$(row_with id \"b-1\"), $ROW, $(row_with extra \"kept\")]}" &&
    expect_status 200 && printf "%s" "$OUT" | /usr/bin/python3 -c "
import json, sys
for p in json.load(sys.stdin)[\"predictions\"]:
    print(json.dumps(p))" >>answers &&
    for j in 1 2 3 4; do
        (for i in $(seq 25); do
            curl -sS --max-time 10 -o /dev/null --data-binary "$(row_with id \"p$j-$i\")" "$URL/predict" || exit 1
        done) &
        eval "client$j=\$!"
    done &&
    wait "$client1" && wait "$client2" && wait "$client3" && wait "$client4" &&
    after=$(date -u +%s) &&
    /usr/bin/python3 - predictions.jsonl answers "$before" "$after" <<-\PY
	import datetime, json, re, sys
	lines = open(sys.argv[1]).read().splitlines()
	answers = [json.loads(l) for l in open(sys.argv[2])]
	before, after = int(sys.argv[3]), int(sys.argv[4])
	assert len(lines) == 105, len(lines)
	rows = [json.loads(l) for l in lines]  # every line whole, even from concurrent requests
	features = ["age", "tenure_months", "monthly_fee", "support_calls", "plan", "region", "autopay"]
	for r in rows:
	    keys = list(r)
	    assert keys[0] == "request_id" and keys[1] == "ts" and keys[-1] == "score", keys
	    assert sorted(keys[2:-1]) == sorted(features + (["extra"] if "extra" in r else [])), keys
	    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["ts"]), r["ts"]
	    t = datetime.datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
	    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
	    assert before - 1 <= t <= after + 1, (r["ts"], before, after)
	    assert 0 < r["score"] < 1
	    assert "id" not in r
	first = rows[:5]
	assert [r["request_id"] for r in first[:3]] == ["cust-1", 42, "b-1"], first
	assert first[1]["monthly_fee"] is None and first[0]["monthly_fee"] == 67.42
	assert first[0]["plan"] == "pro" and first[0]["autopay"] is False and first[0]["age"] == 44
	assert first[4]["extra"] == "kept"
	assert re.fullmatch(r"[0-9a-f]+-[0-9a-f]{8}-[0-9]+", first[3]["request_id"])
	assert [(r["request_id"], r["score"]) for r in first] == [(a["request_id"], a["score"]) for a in answers]
	assert first[2]["ts"] == first[3]["ts"] == first[4]["ts"]  # one request, one time
	ids = [r["request_id"] for r in rows]
	assert len(set(ids)) == len(ids)
	assert sorted(ids[5:]) == sorted(f"p{j}-{i}" for j in range(1, 5) for i in range(1, 26))
	PY
'

test_expect_success 'a predictions log that cannot be opened is an error on stderr; serving goes on' '
    start_server --model "$MODEL" --port 0 --log "$PWD/no/such/dir/predictions.jsonl" &&
    grep -qxF "mloop-serve: error: cannot open predictions log '"'"'$PWD/no/such/dir/predictions.jsonl'"'"': No such file or directory; predictions are not logged" server.err &&
    predict "$ROW" && expect_status 200 && expect_json "0 < j[\"score\"] < 1" &&
    http GET /healthz && expect_status 200 &&
    [ ! -e no ]
'

test_expect_success 'the flags fall back to PORT, MLOOP_MODEL_PATH, MLOOP_PREDICTIONS_LOG, MLOOP_MODEL, MLOOP_MODEL_VERSION' '
    free=$(/usr/bin/python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
    PORT=$free MLOOP_MODEL_PATH=$MODEL MLOOP_PREDICTIONS_LOG=env.jsonl MLOOP_MODEL=churn-env \
        MLOOP_MODEL_VERSION=9 start_server &&
    [ "$SERVER_PORT" = "$free" ] &&
    grep -qF "listening on 127.0.0.1:$free (model churn-env version 9, $MODEL)" server.err &&
    predict "$ROW" && expect_status 200 &&
    [ "$(wc -l <env.jsonl)" = 1 ] &&
    http GET /metrics &&
    expect_stdout_contains "mloop_serve_model_info{model=\"churn-env\",version=\"9\"} 1" &&
    stop_server && expect_code 0 &&
    MLOOP_MODEL_PATH=/nonexistent MLOOP_MODEL=churn-env MLOOP_MODEL_VERSION=9 \
        start_server --model "$MODEL" --port 0 --model-version "10 \"rc\"" &&
    http GET /metrics &&
    expect_stdout_contains "mloop_serve_model_info{model=\"churn-env\",version=\"10 \\\"rc\\\"\"} 1"
'

test_expect_success 'keep-alive, pipelining, chunked bodies and Expect: 100-continue' '
    start_server --model "$MODEL" --port 0 &&
    /usr/bin/python3 - "$SERVER_PORT" "$ROW" <<-\PY &&
	import json, socket, sys
	port, row = int(sys.argv[1]), sys.argv[2].encode()
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	post = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(row), row)
	chunked = (b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	           b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, row[:10], len(row) - 10, row[10:]))
	s.sendall(post + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + chunked)  # pipelined
	data = b""
	while data.count(b"HTTP/1.1 ") < 3 or not data.endswith(b"}\n"):
	    chunk = s.recv(65536)
	    assert chunk, data
	    data += chunk
	parts = data.split(b"HTTP/1.1 ")[1:]
	assert [p[:3] for p in parts] == [b"200"] * 3, data
	assert b"Connection: keep-alive" in parts[0] and parts[1].endswith(b"\r\n\r\nok\n"), data
	first, third = (json.loads(p.split(b"\r\n\r\n", 1)[1]) for p in (parts[0], parts[2]))
	assert first["score"] == third["score"], data
	s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")  # HTTP/1.0: answered, then closed
	data = b""
	while True:
	    chunk = s.recv(65536)
	    if not chunk:
	        break
	    data += chunk
	assert data.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close" in data, data
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
	assert s.recv(65536).startswith(b"HTTP/1.1 400 Bad Request\r\n")
	PY
    start=$(now_ms) &&
    http POST /predict -H "Expect: 100-continue" --data-binary "$ROW" && expect_status 200 &&
    [ $(($(now_ms) - start)) -lt 900 ] &&
    http GET /metrics &&
    expect_stdout_contains "mloop_serve_requests_total{path=\"/predict\",code=\"200\"} 3" &&
    expect_stdout_contains "mloop_serve_requests_total{path=\"/healthz\",code=\"400\"} 1"
'

test_expect_success 'SIGTERM and SIGINT stop the server within a second, exit 0, even with a client mid-request' '
    for sig in TERM INT; do
        { start_server --model "$MODEL" --port 0 && predict "$ROW" && expect_status 200; } ||
            exit 1
        /usr/bin/python3 -c "
import socket, sys, time
s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))
s.sendall(b\"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\")
time.sleep(10)" "$SERVER_PORT" &
        slow=$! &&
        sleep 0.3 &&
        start=$(now_ms) &&
        stop_server "$sig" ;
        took=$(($(now_ms) - start)) &&
        kill "$slow" &&
        echo "    SIG$sig: exit $RC after $took ms" &&
        expect_code 0 && [ "$took" -lt 1000 ] &&
        [ "$(tail -n 1 server.err)" = "mloop-serve: stopped" ] || exit 1
    done
'

test_done
