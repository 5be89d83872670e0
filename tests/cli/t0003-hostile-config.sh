#!/usr/bin/env bash
# Hostile project files: exit 2 and a located message within a second, never a crash.
. "$(dirname "$0")/lib.sh"

# check_hostile FILE EXPECTED-STDERR-PREFIX
check_hostile() {
    local start end
    start=$(now_ms)
    run mloop validate config -f "$1"
    end=$(now_ms)
    expect_code 2 || return 1
    expect_no_sanitizer_report || return 1
    case "$ERR" in "mloop: error: $2"*) ;; *) fail "stderr does not start with: mloop: error: $2" || return 1 ;; esac
    [ $((end - start)) -lt 1000 ] || fail "took $((end - start)) ms" || return 1
    echo "    $1: $((end - start)) ms: $(printf '%s' "$ERR" | head -n 1)"
}

test_expect_success 'a YAML alias bomb (10 levels of 10)' '
    /usr/bin/python3 - <<-\PY &&
	lines = ["project: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
	for i in range(1, 10):
	    lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
	open("bomb.yaml", "w").write("\n".join(lines) + "\n")
	PY
    check_hostile bomb.yaml "bomb.yaml:2:34: document expands to more than 100000 nodes"
'

test_expect_success 'the 8-byte cycle &x [*x]' '
    printf "&x [*x]" >cycle.yaml &&
    check_hostile cycle.yaml "cycle.yaml:1:1: nesting is deeper than 64 levels"
'

test_expect_success '100 000-deep nesting, on one line and over many' '
    /usr/bin/python3 -c "open(\"one.yaml\",\"w\").write(\"project: x\nn: \" + \"[\"*100000 + \"]\"*100000)" &&
    check_hostile one.yaml "one.yaml:2:1: line is" &&
    /usr/bin/python3 -c "open(\"many.yaml\",\"w\").write(\"project: x\nn:\n\" + \"[\n\"*100000)" &&
    check_hostile many.yaml "many.yaml:67:1: nesting is deeper than 64 levels" &&
    /usr/bin/python3 -c "open(\"maps.yaml\",\"w\").write(\"project: x\nn:\n\" + \"{a:\n\"*100000)" &&
    check_hostile maps.yaml "maps.yaml:67:1: nesting is deeper than 64 levels" &&
    /usr/bin/python3 -c "open(\"dash.yaml\",\"w\").write(\"- \"*30000 + \"x\n\")" &&
    check_hostile dash.yaml "dash.yaml:1:"
'

test_expect_success 'a 10 MB scalar' '
    /usr/bin/python3 -c "open(\"big.yaml\",\"w\").write(\"project: x\nbig: \" + \"x\"*(10<<20) + \"\n\")" &&
    check_hostile big.yaml "big.yaml:2:" &&
    expect_stderr_contains "project file is 10.0 MiB, more than the limit of 1.0 MiB"
'

test_expect_success 'invalid UTF-8' '
    printf "project: x\nname: \"caf\303\251 \377\"\n" >utf8.yaml &&
    check_hostile utf8.yaml "utf8.yaml:2:13: invalid UTF-8 byte 0xff"
'

test_expect_success 'a NUL byte' '
    printf "project: x\000\n" >nul.yaml &&
    check_hostile nul.yaml "nul.yaml:1:11: control character 0x00 is not allowed in YAML"
'

test_expect_success 'tabs for indentation' '
    printf "project: x\ntrain:\n\tcommand: [a]\n" >tabs.yaml &&
    check_hostile tabs.yaml "tabs.yaml:3:1: tab character used for indentation" &&
    expect_stderr_contains "hint: YAML indents with spaces only"
'

test_expect_success 'an empty file' '
    : >empty.yaml &&
    check_hostile empty.yaml "empty.yaml:1:1: project file is empty"
'

test_expect_success 'a project file that is a directory' '
    mkdir dir.yaml &&
    check_hostile dir.yaml "cannot read '"'"'dir.yaml'"'"': is a directory" &&
    mkdir -p sub/mloop.yaml && cd sub &&
    check_hostile "" "" 2>/dev/null; run mloop validate &&
    expect_code 2 &&
    expect_stderr "mloop: error: cannot read '"'"'mloop.yaml'"'"': is a directory"
'

test_expect_success 'two documents, a bare scalar, a syntax error' '
    printf "project: x\n---\nproject: y\n" >multi.yaml &&
    check_hostile multi.yaml "multi.yaml:3:1: project file holds more than one YAML document" &&
    printf "just words\n" >scalar.yaml &&
    check_hostile scalar.yaml "scalar.yaml:1:1: the project file must be a mapping of keys" &&
    printf "project: [x\n" >syntax.yaml &&
    check_hostile syntax.yaml "syntax.yaml:"
'

test_done
