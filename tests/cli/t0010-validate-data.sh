#!/usr/bin/env bash
# mloop validate data: the example passes, a broken copy fails with its report, results are
# recorded against the data's digest and answered from the record, every output format.
. "$(dirname "$0")/lib.sh"

# A copy of the example with a broken train.csv: an age out of range, a bad category, a
# duplicated id and an email that is not one (the email column tolerates 1% of those).
break_train() {
    /usr/bin/python3 - <<-\PY
	import csv
	rows = list(csv.reader(open("data/train.csv", newline="")))
	rows[5][2] = "150"          # age > 90, row 6
	rows[9][6] = "premium"      # plan, row 10
	rows[12][0] = rows[3][0]    # a duplicated customer_id, row 13
	rows[20][2] = "twenty"      # not an int, row 21
	w = csv.writer(open("data/train.csv", "w", newline=""), lineterminator="\n")
	w.writerows(rows)
	PY
}

test_expect_success 'the example datasets pass, each on one line' '
    copy_example &&
    run mloop validate data &&
    expect_code 0 &&
    expect_stdout "ok    data    train       data/train.csv       4000 rows, 29 expectations met
      unique customer_id: 4000 values, 320.0 KiB of memory
ok    data    eval        data/eval.csv        1000 rows, 29 expectations met
      unique customer_id: 1000 values, 96.0 KiB of memory
ok    data    production  data/production.csv  1000 rows, 29 expectations met
      unique customer_id: 1000 values, 96.0 KiB of memory" &&
    expect_stderr_empty
'

test_expect_success 'validate (all) checks the project file, then every dataset' '
    copy_example &&
    run mloop validate &&
    expect_code 0 &&
    expect_stdout_contains "ok    config  mloop.yaml  (3 datasets, 11 columns, 3 gates, 3 environments)
ok    data    train " &&
    run mloop validate all -q &&
    expect_code 0 &&
    expect_stdout_empty
'

test_expect_success 'an unchanged dataset is answered from the registry, unless --force' '
    copy_example &&
    run mloop validate data train &&
    expect_code 0 &&
    expect_stdout_contains "4000 rows, 29 expectations met
" &&
    run mloop validate data train &&
    expect_code 0 &&
    expect_stdout_contains "4000 rows, 29 expectations met  (cached)" &&
    run mloop validate data train --force &&
    expect_stdout_contains "4000 rows, 29 expectations met
" &&
    n=$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect(\".mloop/registry.db\").execute(\"select count(*), sum(passed), min(rows) from validations\").fetchone())") &&
    [ "$n" = "(2, 2, 4000)" ] || fail "validations: $n"
'

# cpu_ms CMD…: runs it like run, and sets CPU to the milliseconds of CPU time it took.
cpu_ms() {
    run /usr/bin/python3 -c '
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True)
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open("cpu", "w").write("%d" % ((u.ru_utime + u.ru_stime) * 1000))
sys.exit(p.returncode)' "$MLOOP" "$@"
    CPU=$(cat cpu)
}

test_expect_success 'the record is kept against the sha256 of the bytes, and answers in milliseconds' '
    printf "project: p\nschema:\n  columns:\n    a: {type: int, min: 0}\n    b: {type: string}\n" >mloop.yaml &&
    /usr/bin/python3 -c "open(\"big.csv\", \"w\").write(\"a,b\\n\" + \"12345,some text here\\n\" * 1500000)" &&
    cpu_ms validate data big.csv --json &&
    expect_code 0 &&
    expect_json "j[\"data\"][0][\"rows\"] == 1500000 and not j[\"data\"][0][\"cached\"]" &&
    first=$CPU &&
    cpu_ms validate data big.csv --json &&
    expect_code 0 &&
    expect_json "j[\"data\"][0][\"cached\"] and j[\"data\"][0][\"rows\"] == 1500000" &&
    cached=$CPU &&
    cpu_ms --version &&
    echo "    first read: $first ms of CPU; from the record: $cached ms; mloop --version: $CPU ms" &&
    # Beyond what starting mloop costs (a sanitizer build spends ~0.3 s of CPU before main):
    [ $((cached - CPU)) -lt 300 ] && [ "$cached" -lt "$first" ] || fail "answered from the record in $cached ms of CPU (mloop --version: $CPU ms), read in $first" &&
    want="sha256:$(sha256sum big.csv | cut -d" " -f1)" &&
    got=$(sql "select digest, passed, rows, path from validations") &&
    [ "$got" = "$want	1	1500000	big.csv" ] || fail "recorded: $got"
'

test_expect_success 'a changed file or a changed schema is read again' '
    copy_example &&
    run mloop validate data train && expect_code 0 &&
    printf "C999999,2020-01-01T00:00:00Z,30,5,20.00,1,pro,east,true,x@example.com,false\n" >>data/train.csv &&
    run mloop validate data train &&
    expect_code 0 &&
    expect_stdout_contains "4001 rows, 29 expectations met
" &&
    sed -i "s/age:           {type: int, min: 18, max: 90}/age:           {type: int, min: 18, max: 91}/" mloop.yaml &&
    run mloop validate data train &&
    expect_stdout_contains "4001 rows, 29 expectations met
"
'

test_expect_success 'a broken dataset fails with exit 1 and a table of what failed' '
    copy_example && break_train &&
    run mloop validate data train &&
    expect_code 1 &&
    expect_stdout "FAIL  data    train  data/train.csv  4000 rows, 4 of 29 expectations failed
      expectation                column       failed  fraction  allowed  verdict  samples
      unique                     customer_id       1     0.03%       0%  FAIL     row 13: '"'"'C000003'"'"'
      type int                   age               1     0.03%       0%  FAIL     row 21: '"'"'twenty'"'"'
      <= 90                      age               1     0.03%       0%  FAIL     row 6: '"'"'150'"'"'
      in basic, pro, enterprise  plan              1     0.03%       0%  FAIL     row 10: '"'"'premium'"'"'
      unique customer_id: 3999 values, 320.0 KiB of memory" &&
    expect_stderr "mloop: error: 1 of 1 dataset failed validation" &&
    run mloop validate data train &&
    expect_code 1 &&
    expect_stdout_contains "(cached)"
'

test_expect_success '-v lists every expectation' '
    copy_example &&
    run mloop -v validate data eval &&
    expect_code 0 &&
    expect_stdout_contains "
      type string                     customer_id            0        0%       0%  pass
      not null                        customer_id            0        0%       0%  pass
" &&
    expect_stdout_contains "
      nulls <= 1%                     monthly_fee            3     0.30%       1%  pass
" &&
    expect_stdout_contains "
      rows >= 500                                    1000 rows                     pass
"
'

test_expect_success '--json is one document with every expectation' '
    copy_example && break_train &&
    run mloop validate data --json &&
    expect_code 1 &&
    expect_json "j[\"ok\"] is False and len(j[\"data\"]) == 3" &&
    expect_json "[d[\"passed\"] for d in j[\"data\"]] == [False, True, True]" &&
    expect_json "j[\"data\"][0][\"digest\"].startswith(\"sha256:\") and j[\"data\"][0][\"schema_digest\"].startswith(\"sha256:\")" &&
    expect_json "[e for e in j[\"data\"][0][\"expectations\"] if e[\"kind\"] == \"max\" and e[\"column\"] == \"age\"][0][\"samples\"] == [{\"row\": 6, \"value\": \"'"'"'150'"'"'\"}]" &&
    expect_json "j[\"data\"][0][\"unique\"][0][\"values\"] == 3999" &&
    run mloop validate data eval --format json &&
    expect_code 0 &&
    expect_json "j[\"ok\"] and j[\"data\"][0][\"rows\"] == 1000"
'

test_expect_success '--format markdown for CI summaries' '
    copy_example && break_train &&
    run mloop validate --format markdown &&
    expect_code 1 &&
    expect_stdout_contains "## mloop validate" &&
    expect_stdout_contains "✅ **config** <code>mloop.yaml</code>" &&
    expect_stdout_contains "| ❌ | train | <code>data/train.csv</code> | 4000 | 4 of 29 expectations failed |" &&
    expect_stdout_contains "| ✅ | eval | <code>data/eval.csv</code> | 1000 | 29 expectations met |" &&
    expect_stdout_contains "| &lt;= 90 | age | 1 | 0.03% | 0% | FAIL | row 6 <code>'"'"'150'"'"'</code> |"
'

test_expect_success 'a path is validated against the schema too; an unknown name is exit 2' '
    copy_example &&
    cp data/eval.csv other.csv &&
    run mloop validate data other.csv &&
    expect_code 0 &&
    expect_stdout_contains "ok    data    other.csv  other.csv  1000 rows, 29 expectations met" &&
    run mloop validate data trian &&
    expect_code 2 &&
    expect_stderr "mloop: error: '"'"'trian'"'"' is neither a dataset in mloop.yaml nor a path
hint: did you mean '"'"'train'"'"'?" &&
    run mloop validate config train &&
    expect_code 2 &&
    expect_stderr_contains "datasets are named only with '"'"'mloop validate data'"'"'" &&
    run mloop validate data --format yaml &&
    expect_code 2
'

test_expect_success 'JSON lines, gzip and directories' '
    copy_example &&
    /usr/bin/python3 - <<-\PY &&
	import csv, gzip, json, os
	rows = list(csv.DictReader(open("data/eval.csv", newline="")))
	def typed(r):
	    out = {}
	    for k, v in r.items():
	        if v == "":
	            out[k] = None
	        elif k in ("age", "tenure_months", "support_calls"):
	            out[k] = int(v)
	        elif k == "monthly_fee":
	            out[k] = float(v)
	        elif k in ("autopay", "churned"):
	            out[k] = v == "true"
	        else:
	            out[k] = v
	    return out
	with open("eval.jsonl", "w") as f:
	    for r in rows:
	        f.write(json.dumps(typed(r)) + "\n")
	with gzip.open("eval.jsonl.gz", "wt") as f:
	    f.write(open("eval.jsonl").read())
	os.makedirs("parts/2024")
	text = open("data/eval.csv").read().splitlines(True)
	open("parts/a.csv", "w").writelines(text[:500])
	with gzip.open("parts/2024/b.csv.gz", "wt") as f:
	    f.writelines([text[0]] + text[500:])
	PY
    run mloop validate data eval.jsonl eval.jsonl.gz parts &&
    expect_code 0 &&
    expect_stdout_contains "ok    data    eval.jsonl     eval.jsonl     1000 rows, 29 expectations met" &&
    expect_stdout_contains "ok    data    eval.jsonl.gz  eval.jsonl.gz  1000 rows, 29 expectations met" &&
    expect_stdout_contains "ok    data    parts          parts          2 files, 1000 rows, 29 expectations met" &&
    run mloop validate data parts --json &&
    expect_json "j[\"data\"][0][\"files\"] == [\"2024/b.csv.gz\", \"a.csv\"] and j[\"data\"][0][\"format\"] == \"mixed\""
'

test_expect_success 'a dataset that is a directory names the file of each sample' '
    copy_example && mkdir parts &&
    head -n 3 data/eval.csv >parts/a.csv &&
    (head -n 1 data/eval.csv && sed -n 2p data/eval.csv) >parts/b.csv &&
    run mloop validate data parts &&
    expect_code 1 &&
    expect_stdout "FAIL  data    parts  parts  2 files, 3 rows, 2 of 29 expectations failed
      expectation  column       failed  fraction  allowed  verdict  samples
      unique       customer_id       1    33.33%       0%  FAIL     b.csv:2: '"'"'E000001'"'"'
      rows >= 500               3 rows                     FAIL
      unique customer_id: 2 values, 80.0 KiB of memory"
'

test_expect_success 'every SIMD level reads the same' '
    copy_example && break_train &&
    run mloop validate data --json --force && expect_code 1 &&
    best=$(printf "%s" "$OUT" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); [r.pop(k) for r in d[\"data\"] for k in (\"seconds\",\"validated_at\",\"cached\")]; print(json.dumps(d))") &&
    for level in avx2 scalar; do
        MLOOP_SIMD=$level run mloop validate data --json --force && expect_code 1 &&
        got=$(printf "%s" "$OUT" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); [r.pop(k) for r in d[\"data\"] for k in (\"seconds\",\"validated_at\",\"cached\")]; print(json.dumps(d))") &&
        [ "$got" = "$best" ] || fail "level $level differs" || return 1
    done
'

test_expect_success 'a project without a schema still reads its data through' '
    mkdir data && printf "a,b\n1,2\n" >data/x.csv &&
    printf "project: p\ndata: {x: data/x.csv}\n" >mloop.yaml &&
    run mloop validate data &&
    expect_code 0 &&
    expect_stdout "ok    data    x  data/x.csv  1 row, 0 expectations met"
'

test_done
