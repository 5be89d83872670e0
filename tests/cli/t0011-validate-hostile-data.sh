#!/usr/bin/env bash
# Hostile data files: a located message (file:row:column) and exit 1 within a second, in
# bounded memory, never a crash. Unreadable paths are usage errors (exit 2).
. "$(dirname "$0")/lib.sh"

project() {
    cat >mloop.yaml <<-\YAML
	project: hostile
	schema:
	  columns:
	    a: {type: string}
	    b: {type: int}
	  rows: {min: 1}
	  extra_columns: ignore
	YAML
}

# measured MLOOP ARGS…: runs mloop like `run`, writing its peak RSS (KiB) and CPU time (ms) to
# ./rss. (ASan keeps freed blocks in a 256 MB quarantine by default, which would measure the
# sanitizer rather than the reader: it is kept at 16 MB here.)
measured() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16" run /usr/bin/python3 -c '
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True)
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open("rss", "w").write("%d %d" % (u.ru_maxrss, (u.ru_utime + u.ru_stime) * 1000))
sys.exit(p.returncode)' "$@"
}

# What mloop holds before it reads anything: `mloop --version`'s peak RSS. Under the sanitizers
# that is some 200 MB of shadow memory and runtime, which grows with the binary, so the bound
# below is this plus 128 MB (what a reader may hold: a 64 MB row, its buffer, and slack).
(cd "$SCRATCH" && measured "$MLOOP" --version) && BASE_RSS=$(cut -d" " -f1 "$SCRATCH/rss") &&
    [ "$BASE_RSS" -gt 0 ] || { echo "not ok - could not measure mloop --version" >&2; exit 1; }
echo "# mloop --version: peak RSS $((BASE_RSS / 1024)) MiB"

# check_hostile FILE EXPECTED-FIRST-STDERR-LINE: exit 1, that diagnostic, in under a second of
# CPU time (LIMIT_MS; CPU rather than wall time, which a loaded CI machine stretches) and in
# bounded memory: under BASE_RSS + 128 MB, sanitizers included.
check_hostile() {
    local start end rss cpu
    start=$(now_ms)
    measured "$MLOOP" validate data "$1"
    end=$(now_ms)
    read -r rss cpu <rss
    expect_code 1 || return 1
    expect_no_sanitizer_report || return 1
    case "$ERR" in "mloop: error: $2"*) ;; *) fail "stderr does not start with: mloop: error: $2" || return 1 ;; esac
    expect_stderr_contains "mloop: error: 1 of 1 dataset failed validation" || return 1
    [ "$cpu" -lt "${LIMIT_MS:-1000}" ] || fail "took $cpu ms of CPU time" || return 1
    [ "$rss" -lt $((BASE_RSS + 131072)) ] || fail "peak RSS $rss KiB, $(((rss - BASE_RSS) / 1024)) MiB over mloop --version" || return 1
    echo "    $1: $((end - start)) ms ($cpu ms CPU), $((rss / 1024)) MiB: $(printf '%s' "$ERR" | head -n 1)"
}

test_expect_success 'a ragged row' '
    project && printf "a,b\nx,1\ny\nz,3\n" >ragged.csv &&
    check_hostile ragged.csv "ragged.csv:3:2: row has 1 field where the header has 2" &&
    expect_stdout "FAIL  data    ragged.csv  ragged.csv  cannot be read as csv at row 3, column 2: row has 1 field where the header has 2" &&
    printf "a,b\nx,1,2,3\n" >long.csv &&
    check_hostile long.csv "long.csv:2:3: row has 4 fields where the header has 2"
'

test_expect_success 'an unterminated quote at the end of the file' '
    project && printf "a,b\nx,1\n\"y,2\nz,3\n" >quote.csv &&
    check_hostile quote.csv "quote.csv:3:1: column '"'"'a'"'"': unterminated quoted field: the quote opened in this row is never closed before the end of the file" &&
    expect_stderr_contains "hint: close the quote, and double every quote inside a quoted field"
'

test_expect_success 'NUL bytes' '
    project && printf "a,b\nx,1\ny\000z,2\n" >nul.csv &&
    check_hostile nul.csv "nul.csv:3:1: column '"'"'a'"'"': NUL byte in the field" &&
    printf "{\"a\": \"x\", \"b\": \000}\n" >nul.jsonl &&
    check_hostile nul.jsonl "nul.jsonl:1:17: column '"'"'b'"'"': unexpected byte 0x00"
'

test_expect_success 'invalid UTF-8' '
    project && printf "a,b\ncaf\351,1\n" >utf8.csv &&
    check_hostile utf8.csv "utf8.csv:2:1: column '"'"'a'"'"': invalid UTF-8 byte 0xe9" &&
    printf "{\"a\": \"caf\351\", \"b\": 1}\n" >utf8.jsonl &&
    check_hostile utf8.jsonl "utf8.jsonl:1:11: column '"'"'a'"'"': invalid UTF-8 byte 0xe9"
'

test_expect_success 'a 1 GB single field, streamed through a pipe: bounded memory' '
    project && mkfifo big.csv &&
    /usr/bin/python3 -c "
import sys
try:
    with open(\"big.csv\", \"wb\") as f:
        f.write(b\"a,b\nx,\")
        chunk = b\"9\" * (1 << 20)
        for _ in range(1024):
            f.write(chunk)
        f.write(b\"\n\")
except BrokenPipeError:
    pass
" 2>/dev/null &
    writer=$! &&
    LIMIT_MS=3000 check_hostile big.csv "big.csv:2:2: column '"'"'b'"'"': field is longer than the limit of 64.0 MiB";
    status=$?
    kill $writer 2>/dev/null; wait $writer 2>/dev/null
    return $status
'

# The same in a regular file, which two threads read from either half: the second must stop
# when the first fails. 256 MiB rather than 1 GB: a regular file is hashed before it is read
# (its digest finds a recorded result), and SHA-256 over a gigabyte is most of a second of CPU
# on its own; the pipe above is the gigabyte. (About 0.5 s of CPU on an idle machine, mostly
# the hash and the kernel filling the sparse file's pages; the limit leaves room for a busy one.)
test_expect_success 'a 256 MiB single field in a regular file: both threads stop, memory stays bounded' '
    project &&
    printf "a,b\nx,\"" >big.csv && truncate -s 256M big.csv &&
    LIMIT_MS=3000 check_hostile big.csv "big.csv:2:2: column '"'"'b'"'"': field is longer than the limit of 64.0 MiB" &&
    printf "{\"a\": \"" >big.jsonl && truncate -s 256M big.jsonl &&
    LIMIT_MS=3000 check_hostile big.jsonl "big.jsonl:1: row is longer than the limit of 64.0 MiB"
'

test_expect_success 'JSON nested 100 000 deep' '
    project &&
    /usr/bin/python3 -c "open(\"deep.jsonl\", \"w\").write(\"{\\\"a\\\": \" + \"[\" * 100000 + \"]\" * 100000 + \"}\n\")" &&
    check_hostile deep.jsonl "deep.jsonl:1:70: column '"'"'a'"'"': nesting is deeper than 64 levels" &&
    /usr/bin/python3 -c "open(\"deep2.jsonl\", \"w\").write(\"[\" * 100000 + \"\n\")" &&
    check_hostile deep2.jsonl "deep2.jsonl:1:1: row is not a JSON object"
'

test_expect_success 'a truncated gzip stream' '
    project &&
    /usr/bin/python3 -c "
import gzip
data = gzip.compress(b\"a,b\n\" + b\"\".join(b\"x%d,%d\n\" % (i, i) for i in range(200000)))
open(\"cut.csv.gz\", \"wb\").write(data[: len(data) // 2])
" &&
    check_hostile cut.csv.gz "cut.csv.gz:" &&
    expect_stderr_contains ": the compressed stream is truncated after " &&
    expect_stderr_contains "hint: the file was cut short; copy it again" &&
    printf "not gzip at all" >bad.csv.gz &&
    check_hostile bad.csv.gz "bad.csv.gz:1: the compressed stream is damaged (incorrect header check) after 0 B of data"
'

test_expect_success 'an empty file, a header-only file' '
    project && : >empty.csv && : >empty.jsonl &&
    check_hostile empty.csv "empty.csv: file is empty: there is no header row" &&
    check_hostile empty.jsonl "empty.jsonl: file is empty" &&
    printf "a,b\n" >header.csv &&
    run mloop validate data header.csv &&
    expect_code 1 &&
    expect_stdout "FAIL  data    header.csv  header.csv  0 rows, 1 of 3 expectations failed
      expectation  column  failed  fraction  allowed  verdict  samples
      rows >= 1            0 rows                     FAIL" &&
    expect_stderr "mloop: error: 1 of 1 dataset failed validation"
'

test_expect_success 'duplicate column names' '
    project && printf "a,b,a\n1,2,3\n" >dup.csv &&
    check_hostile dup.csv "dup.csv:1:3: column '"'"'a'"'"' appears twice in the header (also column 1)"
'

test_expect_success 'a member twice in one JSON object' '
    project && printf "{\"a\": \"x\", \"b\": 1}\n{\"a\": \"y\", \"b\": 2, \"a\": \"z\"}\n" >dup.jsonl &&
    check_hostile dup.jsonl "dup.jsonl:2:25: column '"'"'a'"'"': member '"'"'a'"'"' appears twice in the object"
'

test_expect_success 'a path that cannot be read is a usage error' '
    project &&
    run mloop validate data nope.csv &&
    expect_code 2 &&
    expect_stderr "mloop: error: '"'"'nope.csv'"'"' is neither a dataset in mloop.yaml nor a path
hint: name a dataset under '"'"'data'"'"', or a file or directory" &&
    printf "a,b\n" >secret.csv && chmod 000 secret.csv &&
    if [ "$(id -u)" != 0 ]; then
        run mloop validate data secret.csv &&
        expect_code 2 &&
        expect_stderr "mloop: error: cannot read '"'"'secret.csv'"'"': permission denied"
    fi &&
    printf "x" >data.txt &&
    run mloop validate data data.txt &&
    expect_code 2 &&
    expect_stderr "mloop: error: cannot tell the format of '"'"'data.txt'"'"' from its name
hint: name it in mloop.yaml with '"'"'format: csv'"'"' or '"'"'format: jsonl'"'"'"
'

test_done
