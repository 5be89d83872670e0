#!/usr/bin/env bash
# mloop monitor: drift per feature against the data that trained the version (from the store),
# the dataset-level verdict and exit 1, performance on labels joined from feedback, the window,
# KPIs, the report recorded in the registry and written as JSON, odd data handled with a note,
# and, with docker, the deployed example's own prediction log, its resources and status.
. "$(dirname "$0")/lib.sh"

PROJECT=tmon$$
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
cleanup_docker() {
    command -v docker >/dev/null || return 0
    docker ps -aq --filter "label=io.mloop.project=$PROJECT" | xargs -r docker rm -f >/dev/null 2>&1
    docker images -q --filter "label=io.mloop.project=$PROJECT" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1
    true
}
trap 'cleanup_docker; rm -rf "$SCRATCH"' EXIT

P="$SCRATCH/project"
mkdir -p "$P"
(
    cd "$P" && copy_example . &&
    /usr/bin/python3 - "$PROJECT" "$PORT" <<'PY'
import re, sys
project, port = sys.argv[1], sys.argv[2]
text = open("mloop.yaml").read()
text = text.replace("project: churn", "project: " + project)
text = text.replace("image: 127.0.0.1:5000/mloop/churn", "image: 127.0.0.1:5000/mloop-test/" + project)
text = text.replace("health: {path: /healthz, timeout: 60s}", "health: {path: /healthz, timeout: 8s}")
text = re.sub(r"(local:\n\s+target: docker\n\s+port: )8080", r"\g<1>" + port, text)
# Retraining on alert has its own test below; elsewhere a drifting report must not train.
text = text.replace("on_alert: retrain", "on_alert: none")
open("mloop.yaml", "w").write(text)
PY
    mloop -q train >/dev/null
) || { echo "not ok - could not set up the project" >&2; exit 1; }
cd "$P" || exit 1

test_expect_success 'drifted data: the features that moved, the dataset verdict, exit 1' '
    cd "$P" &&
    run mloop --json monitor --current data/production.csv &&
    expect_code 1 &&
    expect_json "j[\"report\"] == 1 and j[\"version\"] == \"churn@1\" and j[\"reference\"][\"rows\"] == 4000 and j[\"current\"][\"rows\"] == 1000" &&
    expect_json "j[\"reference\"][\"data\"].startswith(\"train (sha256:\")" &&
    expect_json "[f[\"column\"] for f in j[\"features\"]] == [\"age\", \"tenure_months\", \"monthly_fee\", \"support_calls\", \"plan\", \"region\", \"autopay\"]" &&
    expect_json "{f[\"column\"]: f[\"method\"] for f in j[\"features\"]}[\"plan\"] == \"psi\" and {f[\"column\"]: f[\"threshold\"] for f in j[\"features\"]}[\"plan\"] == 0.2" &&
    expect_json "{f[\"column\"]: f[\"method\"] for f in j[\"features\"]}[\"age\"] == \"wasserstein\" and {f[\"column\"]: f[\"drifted\"] for f in j[\"features\"]}[\"age\"]" &&
    expect_json "not {f[\"column\"]: f[\"drifted\"] for f in j[\"features\"]}[\"tenure_months\"]" &&
    expect_json "j[\"drift\"] == {\"drifted\": 5, \"columns\": 7, \"share\": 0.5, \"dataset_drift\": True}" &&
    expect_json "j[\"alerts\"] == [\"dataset drift: 5 of 7 features drifted (share 0.5)\"]" &&
    expect_stderr_contains "mloop: error: monitor/1: dataset drift" &&
    [ "$(sql "select drifted || \"/\" || columns || \" \" || dataset_drift || \" \" || version from monitor_reports where id = 1")" = "5/7 1 1" ] &&
    /usr/bin/python3 -c "import json, sys; a = json.load(open(\".mloop/reports/1.json\")); b = json.loads(sys.argv[1]); assert a == b, (a, b)" "$OUT" &&
    [ "$(sql "select json_extract(report, \"\$.drift.drifted\") from monitor_reports where id = 1")" = 5 ] &&
    run mloop monitor --current data/production.csv &&
    expect_code 1 &&
    expect_stdout_contains "age            numeric      wasserstein (auto)    0.8422  0.1        DRIFT" &&
    expect_stdout_contains "dataset drift: yes (5 of 7 features drifted; share 0.5)"
'

test_expect_success 'data like the reference: no drift, exit 0; performance not computed without scores' '
    cd "$P" &&
    run mloop --json monitor --current data/eval.csv &&
    expect_code 0 &&
    expect_json "j[\"drift\"][\"drifted\"] == 0 and j[\"alerts\"] == []" &&
    expect_json "j[\"performance\"][\"value\"] is None and \"no prediction column\" in j[\"performance\"][\"problem\"]" &&
    run mloop monitor --current data/eval.csv &&
    expect_code 0 &&
    expect_stderr_contains "note: performance not computed" &&
    expect_stderr_contains "metrics written to metrics/mloop.prom" &&
    mloop monitor --current data/eval.csv >both.txt 2>&1 &&
    table=$(grep -n "^FEATURE" both.txt | cut -d: -f1) &&
    written=$(grep -n "^metrics written to" both.txt | cut -d: -f1) &&
    [ -n "$table" ] && [ -n "$written" ] && [ "$table" -lt "$written" ] &&
    cp data/train.csv ref@1.csv &&
    run mloop --json monitor --reference ref@1.csv --current data/eval.csv &&
    expect_code 0 &&
    expect_json "j[\"reference\"][\"data\"] == \"ref@1.csv\" and j[\"reference\"][\"digest\"] is None" &&
    run mloop --json monitor --reference churn@1 --current data/eval.csv &&
    expect_json "j[\"reference\"][\"data\"].startswith(\"train (sha256:\") and j[\"version\"] == \"churn@1\""
'

# A prediction log as mloop-serve writes it, and labels that come later.
write_log() {
    /usr/bin/python3 - "$1" <<'PY'
import csv, datetime, json, sys
now = datetime.datetime.now(datetime.timezone.utc)
rows = [r for r in csv.DictReader(open("data/eval.csv")) if all(r.values())][:400]
with open(sys.argv[1], "w") as f:
    for i, r in enumerate(rows):
        ts = now - datetime.timedelta(hours=48 if i < 100 else 1)
        churned = r["churned"] == "true"
        # a score that ranks most churners above the rest
        score = (0.8 if churned else 0.2) if i % 5 else (0.3 if churned else 0.7)
        f.write(json.dumps({"request_id": "r%d" % i, "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "age": int(r["age"]), "tenure_months": int(r["tenure_months"]),
                            "monthly_fee": float(r["monthly_fee"]), "support_calls": int(r["support_calls"]),
                            "plan": r["plan"], "region": r["region"], "autopay": r["autopay"] == "true",
                            "score": score}) + "\n")
with open("logs/labels.csv", "w") as f:
    f.write("request_id,churned\n")
    for i, r in enumerate(rows):
        if i % 2 == 0:
            f.write("r%d,%s\n" % (i, r["churned"]))
PY
}

test_expect_success 'the window, labels joined from feedback, performance and a KPI' '
    cd "$P" && mkdir -p logs && write_log logs/predictions.jsonl &&
    expected=$(/usr/bin/python3 -c "
import csv, json
rows = [json.loads(l) for l in open(\"logs/predictions.jsonl\")][100:]
labels = {r[\"request_id\"]: r[\"churned\"] == \"true\" for r in csv.DictReader(open(\"logs/labels.csv\"))}
pairs = [(labels[r[\"request_id\"]], r[\"score\"]) for r in rows if r[\"request_id\"] in labels]
pos = [s for y, s in pairs if y]; neg = [s for y, s in pairs if not y]
auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
print(len(pairs), round(auc, 10))") &&
    run mloop --json monitor &&
    expect_json "j[\"current\"][\"files\"] == [\"logs/predictions.jsonl\"] and j[\"current\"][\"rows\"] == 300 and j[\"current\"][\"outside_window\"] == 100" &&
    expect_json "j[\"performance\"][\"name\"] == \"auc\" and j[\"performance\"][\"rows\"] == ${expected% *}" &&
    expect_json "round(j[\"performance\"][\"value\"], 10) == ${expected#* } and j[\"performance\"][\"ok\"]" &&
    expect_json "any(\"prediction drift not computed\" in n for n in j[\"notes\"])" &&
    cp mloop.yaml mloop.yaml.orig &&
    sed -i "s/  performance: {metric: auc, min: 0.70}/  performance: {metric: auc, min: 0.99}\n  kpis: [{column: score, agg: mean, max: 0.1}]/" mloop.yaml &&
    run mloop --json monitor &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 1 &&
    expect_json "not j[\"performance\"][\"ok\"] and j[\"kpis\"][0][\"name\"] == \"mean(score)\" and not j[\"kpis\"][0][\"ok\"]" &&
    expect_json "any(a.startswith(\"performance: auc \") and a.endswith(\"outside min 0.99\") for a in j[\"alerts\"])" &&
    expect_json "any(a.startswith(\"kpi: mean(score) \") for a in j[\"alerts\"])"
'

test_expect_success 'odd data is reported, never a crash: empty, missing, constant, null, unseen, NaN, mixed' '
    cd "$P" &&
    printf "age,plan\n" >empty.csv &&
    run mloop --json monitor --current empty.csv &&
    expect_json "j[\"current\"][\"rows\"] == 0 and any(\"no rows\" in n for n in j[\"notes\"])" &&
    expect_json "all(f[\"drifted\"] is None and f[\"problem\"] for f in j[\"features\"])" &&
    expect_json "{f[\"column\"]: f[\"problem\"] for f in j[\"features\"]}[\"region\"] == \"not in the current data\"" &&
    expect_no_sanitizer_report &&
    /usr/bin/python3 -c "
import csv
rows = list(csv.DictReader(open(\"data/eval.csv\")))[:300]
with open(\"odd.csv\", \"w\") as f:
    f.write(\"age,tenure_months,monthly_fee,support_calls,plan,region,autopay\n\")
    for i, r in enumerate(rows):
        fee = \"nan\" if i % 3 == 0 else (\"inf\" if i % 7 == 0 else r[\"monthly_fee\"])
        calls = \"many\" if i == 5 else r[\"support_calls\"]
        f.write(\",\".join([\"40\", \"\", fee, calls, \"platinum\" if i % 2 else r[\"plan\"], r[\"region\"], r[\"autopay\"]]) + \"\n\")
" &&
    run mloop --json monitor --current odd.csv &&
    expect_no_sanitizer_report &&
    expect_json "j[\"current\"][\"rows\"] == 300" &&
    expect_json "{f[\"column\"]: f[\"drifted\"] for f in j[\"features\"]}[\"age\"] is True" &&
    expect_json "{f[\"column\"]: f[\"problem\"] for f in j[\"features\"]}[\"tenure_months\"] != \"\"" &&
    expect_json "{f[\"column\"]: f[\"kind\"] for f in j[\"features\"]}[\"support_calls\"] == \"categorical\"" &&
    expect_json "{f[\"column\"]: f[\"drifted\"] for f in j[\"features\"]}[\"plan\"] is True" &&
    expect_json "{f[\"column\"]: f[\"current_values\"] for f in j[\"features\"] if f[\"column\"] == \"monthly_fee\"}[\"monthly_fee\"] < 300" &&
    printf "not,a\n\"broken\n" >bad.csv &&
    run mloop monitor --current bad.csv &&
    expect_code 1 &&
    expect_stderr_contains "bad.csv" &&
    run mloop monitor --current "nothing-*.csv" &&
    expect_code 2 &&
    expect_stderr_contains "no data at '"'"'nothing-*.csv'"'"'" &&
    n=$(sql "select count(*) from monitor_reports") &&
    run mloop monitor nowhere &&
    expect_code 2 &&
    expect_stderr_contains "no environment '"'"'nowhere'"'"' in mloop.yaml" &&
    expect_stderr_contains "hint: environments: local, staging, production" &&
    run mloop monitor staing &&
    expect_code 2 &&
    expect_stderr_contains "did you mean '"'"'staging'"'"'?" &&
    [ "$(sql "select count(*) from monitor_reports")" = "$n" ] &&
    [ "$n" -ge 4 ] &&
    run mloop fsck &&
    expect_code 0
'

test_expect_success 'a drifting report of production fires the drift trigger of train --if-triggered, once' '
    cd "$P" &&
    run mloop --json train --if-triggered &&
    expect_code 0 &&
    expect_json "j[\"trained\"] is False" &&
    run mloop monitor production --reference data/train.csv --current data/production.csv &&
    expect_code 1 &&
    report=$(sql "select max(id) from monitor_reports where env = \"production\"") &&
    run mloop train --if-triggered &&
    expect_code 0 &&
    expect_stderr_contains "trigger drift: fired: monitor/$report: 5 of 7 features drifted" &&
    expect_stderr_contains "trigger performance: quiet: monitor/$report: performance within its limits" &&
    run_id=$(sql "select max(id) from runs") &&
    [ "$(sql "select triggered_by from runs where id = $run_id")" = "[{\"reason\":\"monitor/$report: 5 of 7 features drifted\",\"trigger\":\"drift\"}]" ] &&
    run mloop train --if-triggered &&
    expect_code 0 &&
    expect_stderr_contains "trigger drift: quiet: monitor/$report came before the last training run" &&
    expect_stdout_contains "no trigger fired"
'

# A webhook receiver on 127.0.0.1: each POST body appended to hooks.jsonl, answered 200.
HPORT=$(free_port)
/usr/bin/python3 - "$HPORT" "$SCRATCH/hooks.jsonl" <<'PY' &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "type": self.headers.get("Content-Type"),
                                "body": json.loads(body)}) + "\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
HOOK_PID=$!
trap 'kill $HOOK_PID 2>/dev/null; cleanup_docker; rm -rf "$SCRATCH"' EXIT
for _ in $(seq 100); do curl -s "http://127.0.0.1:$HPORT/" >/dev/null && break; sleep 0.05; done
hooks() { [ -f "$SCRATCH/hooks.jsonl" ] && wc -l <"$SCRATCH/hooks.jsonl" || echo 0; }

test_expect_success 'alerts: a webhook and a command, once per incident, none with --no-alert' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    printf "  alerts:\n    - {webhook: \"\${env.HOOK_URL}\"}\n    - {command: [sh, -c, \"cat > alert.json\"]}\n" >>mloop.yaml &&
    export HOOK_URL="http://127.0.0.1:$HPORT/hook" &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    run mloop --json monitor --current data/production.csv &&
    expect_code 1 &&
    expect_json "[(x[\"kind\"], x[\"ok\"]) for x in j[\"sent\"]] == [(\"webhook\", True), (\"command\", True)]" &&
    [ "$(hooks)" = 1 ] &&
    id=$(sql "select max(id) from monitor_reports") &&
    /usr/bin/python3 -c "
import json
h = json.loads(open(\"$SCRATCH/hooks.jsonl\").readline())
assert h[\"path\"] == \"/hook\" and h[\"type\"] == \"application/json\", h
assert h[\"body\"][\"text\"].startswith(\"mloop monitor: $PROJECT churn@\"), h[\"body\"][\"text\"]
assert \"dataset drift: 5 of 7 features drifted\" in h[\"body\"][\"text\"] and h[\"body\"][\"text\"].endswith(\"(monitor/$id)\")
assert h[\"body\"][\"report\"][\"report\"] == $id and h[\"body\"][\"report\"][\"drift\"][\"drifted\"] == 5
a = json.load(open(\"alert.json\"))
assert a[\"report\"] == $id and a[\"alerts\"] == h[\"body\"][\"report\"][\"alerts\"]
stored = json.load(open(\".mloop/reports/$id.json\"))
assert [x[\"kind\"] for x in stored[\"sent\"]] == [\"webhook\", \"command\"], stored[\"sent\"]
" &&
    run mloop monitor --current data/production.csv &&
    expect_code 1 &&
    expect_stderr_contains "no alert sent: the incident was alerted at an earlier report" &&
    [ "$(hooks)" = 1 ] &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    run mloop monitor --current data/production.csv --no-alert &&
    expect_code 1 &&
    [ "$(hooks)" = 1 ] &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    run mloop monitor --current data/production.csv &&
    expect_stderr_contains "alert sent: webhook http://127.0.0.1:$HPORT/hook" &&
    [ "$(hooks)" = 2 ] &&
    cp mloop.yaml.orig mloop.yaml
'

test_expect_success 'an unreachable webhook is exit 3, and the report is still recorded' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    printf "  alerts:\n    - {webhook: \"http://127.0.0.1:$(free_port)/nobody\"}\n" >>mloop.yaml &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    n=$(sql "select count(*) from monitor_reports") &&
    run mloop monitor --current data/production.csv &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 3 &&
    expect_stderr_contains "the alert to webhook http://127.0.0.1:" &&
    expect_stderr_contains "connection refused" &&
    expect_stderr_contains "hint: the report is recorded" &&
    [ "$(sql "select count(*) from monitor_reports")" = $((n + 1)) ] &&
    [ "$(sql "select json_extract(report, \"\$.sent[0].ok\") from monitor_reports order by id desc limit 1")" = 0 ]
'

test_expect_success '--watch records a report per tick and alerts once for the incident' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    printf "  alerts:\n    - {webhook: \"http://127.0.0.1:$HPORT/watch\"}\n" >>mloop.yaml &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    n=$(sql "select count(*) from monitor_reports") && before=$(hooks) &&
    start=$(now_ms) &&
    run mloop monitor --current data/production.csv --watch 1s --count 3 &&
    took=$(( $(now_ms) - start )) &&
    cp mloop.yaml.orig mloop.yaml &&
    expect_code 1 &&
    [ "$(sql "select count(*) from monitor_reports")" = $((n + 3)) ] &&
    [ "$(hooks)" = $((before + 1)) ] &&
    [ "$took" -ge 2000 ] &&
    run mloop monitor --current data/eval.csv --count 2 &&
    expect_code 2 &&
    expect_stderr_contains "--count needs --watch" &&
    run mloop monitor --watch 0s &&
    expect_code 2
'

test_expect_success 'Prometheus: the textfile written atomically, in the exposition format, with the report'"'"'s numbers' '
    cd "$P" &&
    run mloop --json monitor --current data/production.csv &&
    expect_code 1 &&
    [ -f metrics/mloop.prom ] && [ ! -e metrics/mloop.prom.tmp ] &&
    printf "%s" "$OUT" >report.json &&
    /usr/bin/python3 - "$PROJECT" <<'"'"'PY'"'"'
import json, re, sys
project = sys.argv[1]
j = json.load(open("report.json"))
samples, types = {}, {}
for line in open("metrics/mloop.prom"):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        types[name] = kind
        continue
    if line.startswith("#"):
        continue
    m = re.fullmatch(r"([a-z_]+)\{(.*)\} (\S+)", line)
    assert m, line
    labels = dict(re.findall(r"([a-z_]+)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(2)))
    assert labels["project"] == project and labels["env"] == "", labels
    assert m.group(1) in types, m.group(1)
    samples[(m.group(1), labels.get("feature", labels.get("data", labels.get("model", ""))))] = float(m.group(3))
assert set(types.values()) == {"gauge"}
assert samples[("mloop_monitor_report", "")] == j["report"]
assert samples[("mloop_dataset_drift", "")] == 1 and samples[("mloop_drifted_features", "")] == 5
assert samples[("mloop_rows", "current")] == 1000 and samples[("mloop_rows", "reference")] == 4000
for f in j["features"]:
    assert samples[("mloop_feature_drift_score", f["column"])] == f["score"], f
    assert samples[("mloop_feature_drifted", f["column"])] == (1 if f["drifted"] else 0)
assert samples[("mloop_alerts", "")] == 1
PY
'

test_expect_success 'Prometheus: pushed to a real Pushgateway; --grafana prints a dashboard of the metrics' '
    cd "$P" &&
    if ! command -v prometheus-pushgateway >/dev/null; then
        [ "${CI:-}" != true ] || { fail "no prometheus-pushgateway, and CI=true does not allow skipping"; exit 1; }
        echo "# skipped the push: no prometheus-pushgateway"
    else
        gport=$(free_port) &&
        { prometheus-pushgateway --web.listen-address="127.0.0.1:$gport" >pg.log 2>&1 & echo $! >pg.pid; } &&
        for _ in $(seq 100); do curl -sf "http://127.0.0.1:$gport/-/ready" >/dev/null && break; sleep 0.1; done &&
        cp mloop.yaml mloop.yaml.orig &&
        sed -i "s|  prometheus: {textfile: metrics/mloop.prom}|  prometheus: {textfile: metrics/mloop.prom, pushgateway: \"http://127.0.0.1:$gport/\"}|" mloop.yaml &&
        grep -q pushgateway mloop.yaml &&
        run mloop monitor production --reference data/train.csv --current data/production.csv &&
        expect_code 1 &&
        expect_stderr_contains "metrics pushed to http://127.0.0.1:$gport" &&
        curl -sf "http://127.0.0.1:$gport/metrics" >pushed.txt &&
        grep -q "^mloop_dataset_drift{env=\"production\",instance=\"\",job=\"mloop\",project=\"$PROJECT\"} 1$" pushed.txt &&
        grep -q "^mloop_feature_drifted{env=\"production\",feature=\"age\",instance=\"\",job=\"mloop\",project=\"$PROJECT\"} 1$" pushed.txt &&
        kill "$(cat pg.pid)" && wait "$(cat pg.pid)" 2>/dev/null;
        run mloop monitor production --reference data/train.csv --current data/eval.csv &&
        cp mloop.yaml.orig mloop.yaml &&
        expect_code 3 &&
        expect_stderr_contains "metrics not exported: pushgateway http://127.0.0.1:$gport" &&
        expect_stderr_contains "hint: the report is recorded"
    fi &&
    run mloop monitor --grafana &&
    expect_code 0 &&
    printf "%s" "$OUT" >dash.json &&
    /usr/bin/python3 - "$PROJECT" <<'"'"'PY'"'"'
import json, re, sys
d = json.load(open("dash.json"))
assert d["title"] == "mloop: " + sys.argv[1] and d["schemaVersion"] == 38
exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
assert len(d["panels"]) == 9, len(d["panels"])
assert "mloop_dataset_drift{project=\"%s\",env=~\"$env\"}" % sys.argv[1] in exprs, exprs
for e in exprs:
    assert re.match(r"mloop_[a-z_]+\{project=", e), e
PY
'

test_expect_success 'on_alert: retrain: the incident trains on its report, once; the run names it in its lineage' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    sed -i "s/on_alert: none/on_alert: retrain/" mloop.yaml &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    runs=$(sql "select count(*) from runs") &&
    run mloop --json monitor --current data/production.csv &&
    expect_code 1 &&
    report=$(sql "select max(id) from monitor_reports") &&
    rid=$(sql "select max(id) from runs") &&
    ver=$(sql "select max(version) from model_versions") &&
    [ "$(sql "select count(*) from runs")" = $((runs + 1)) ] &&
    expect_json "j[\"report\"] == $report and j[\"retrain\"] == {\"outcome\": \"trained\", \"run\": $rid, \"state\": \"succeeded\", \"version\": \"churn@$ver\", \"exit_code\": 0}" &&
    [ "$(sql "select json_extract(report, \"\$.retrain.run\") from monitor_reports where id = $report")" = "$rid" ] &&
    grep -qF "<p id=\"retrain\">retrain: run $rid succeeded, registered churn@$ver</p>" .mloop/reports/$report.html &&
    [ "$(sql "select triggered_by from runs where id = $rid")" = "[{\"reason\":\"monitor/$report: 5 of 7 features drifted\",\"trigger\":\"drift\"}]" ] &&
    run mloop lineage churn@$ver &&
    expect_stdout_contains "triggered by drift: monitor/$report: 5 of 7 features drifted" &&
    run mloop --json lineage run/$rid &&
    expect_json "[n for n in j[\"nodes\"] if n[\"id\"] == \"run/$rid\"][0][\"triggered_by\"][0][\"trigger\"] == \"drift\"" &&
    run mloop monitor --current data/production.csv &&
    expect_code 1 &&
    [ "$(sql "select count(*) from runs")" = $((runs + 1)) ] &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    run mloop monitor --current data/production.csv --no-alert &&
    expect_code 1 &&
    [ "$(sql "select count(*) from runs")" = $((runs + 1)) ] &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    run mloop monitor --current data/production.csv &&
    expect_code 1 &&
    expect_stderr_contains "on_alert: retrain: mloop train --if-triggered (MLOOP_MONITOR_REPORT=monitor/" &&
    expect_stderr_contains "trigger drift: fired" &&
    expect_stderr_contains "retrain: run $((rid + 1)) succeeded, registered churn@$((ver + 1))" &&
    cp mloop.yaml.orig mloop.yaml
'

test_expect_success 'on_alert: retrain: a failing training is exit 3 with the report recorded; a bad MLOOP_MONITOR_REPORT is exit 2' '
    cd "$P" && cp mloop.yaml mloop.yaml.orig &&
    sed -i "s/on_alert: none/on_alert: retrain/" mloop.yaml &&
    mloop -q monitor --current data/eval.csv >/dev/null &&
    sed -i "s|^  command: \\[python3, train.py.*|  command: [sh, -c, \"echo broken >\&2; exit 7\"]|" mloop.yaml &&
    grep -q "echo broken" mloop.yaml &&
    n=$(sql "select count(*) from monitor_reports") &&
    run mloop monitor --current data/production.csv &&
    expect_code 3 &&
    expect_stderr_contains "the retraining failed: run " &&
    expect_stderr_contains "hint: the report is recorded" &&
    [ "$(sql "select count(*) from monitor_reports")" = $((n + 1)) ] &&
    [ "$(sql "select json_extract(report, \"\$.retrain.state\") from monitor_reports order by id desc limit 1")" = failed ] &&
    cp mloop.yaml.orig mloop.yaml &&
    MLOOP_MONITOR_REPORT=monitor/999 run mloop train --if-triggered &&
    expect_code 2 &&
    expect_stderr_contains "MLOOP_MONITOR_REPORT: there is no monitor/999" &&
    MLOOP_MONITOR_REPORT=yesterday run mloop train --if-triggered &&
    expect_code 2 &&
    expect_stderr_contains "MLOOP_MONITOR_REPORT '"'"'yesterday'"'"' is not a monitor report"
'

if ! docker info >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        echo "not ok - no docker engine answers, and CI=true does not allow skipping" >&2
        exit 1
    fi
    echo "# skipped the deployed case: no docker engine (scripts/test starts one)"
    test_done
    exit $?
fi

test_expect_success 'the deployed example: its own log, the training data by lineage, docker stats, status' '
    cd "$P" && rm -f logs/predictions.jsonl logs/labels.csv &&
    run mloop deploy local churn@1 &&
    expect_code 0 &&
    dep=$(sql "select max(id) from deployments") &&
    /usr/bin/python3 -c "
import csv, json, sys, urllib.request
rows = [r for r in csv.DictReader(open(\"data/production.csv\")) if all(r.values())][:200]
for i, r in enumerate(rows):
    body = {\"request_id\": \"p%d\" % i, \"age\": int(r[\"age\"]), \"tenure_months\": int(r[\"tenure_months\"]),
            \"monthly_fee\": float(r[\"monthly_fee\"]), \"support_calls\": int(r[\"support_calls\"]),
            \"plan\": r[\"plan\"], \"region\": r[\"region\"], \"autopay\": r[\"autopay\"] == \"true\"}
    urllib.request.urlopen(urllib.request.Request(\"http://127.0.0.1:%s/predict\" % sys.argv[1],
                           data=json.dumps(body).encode(), method=\"POST\"), timeout=5).read()
" "$PORT" &&
    [ "$(wc -l <logs/predictions.jsonl)" = 200 ] &&
    run mloop --json monitor local &&
    expect_code 1 &&
    expect_json "j[\"env\"] == \"local\" and j[\"deployment\"] == $dep and j[\"version\"] == \"churn@1\"" &&
    expect_json "j[\"current\"][\"rows\"] == 200 and j[\"drift\"][\"dataset_drift\"]" &&
    expect_json "j[\"reference\"][\"digest\"].startswith(\"sha256:\") and j[\"reference\"][\"data\"] == \"train (\" + j[\"reference\"][\"digest\"][:19] + \")\"" &&
    expect_json "j[\"resources\"][\"source\"] == \"docker stats mloop-$PROJECT-local\" and j[\"resources\"][\"memory_bytes\"] > 0 and j[\"resources\"][\"pods\"] == 1" &&
    report=$(sql "select max(id) from monitor_reports") &&
    [ "$(sql "select env || \" \" || deployment_id from monitor_reports where id = $report")" = "local $dep" ] &&
    run mloop --json status local &&
    expect_json "j[0][\"monitor\"].startswith(\"monitor/$report: drift \")"
'

test_done
