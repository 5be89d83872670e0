#!/usr/bin/env bash
# The command-line frame: global options, help, unknown commands and options, exit codes.
. "$(dirname "$0")/lib.sh"

test_expect_success '--version names mloop and the libraries it runs on' '
    run mloop --version &&
    expect_code 0 &&
    expect_stdout_contains "mloop 0." &&
    expect_stdout_contains "sqlite 3." &&
    expect_stdout_contains "libgit2 1." &&
    expect_stdout_contains "yaml-cpp 0." &&
    expect_stderr_empty
'

test_expect_success '--version --json is one JSON document' '
    run mloop --version --json &&
    expect_code 0 &&
    expect_json "set(j) == {\"mloop\", \"sqlite\", \"libgit2\", \"yaml-cpp\"}"
'

test_expect_success 'no command prints help and succeeds' '
    run mloop &&
    expect_code 0 &&
    expect_stdout_contains "Usage: mloop" &&
    expect_stdout_contains "validate" &&
    expect_stdout_contains "Exit status:"
'

test_expect_success '-h and --help show a command'"'"'s options' '
    run mloop validate --help &&
    expect_code 0 &&
    expect_stdout_contains "Usage: mloop validate" &&
    run mloop init -h &&
    expect_code 0 &&
    expect_stdout_contains "--example"
'

test_expect_success 'mloop help COMMAND is the same as COMMAND --help' '
    run mloop init --help && expected=$OUT &&
    run mloop help init &&
    expect_code 0 &&
    expect_stdout "$expected"
'

test_expect_success 'mloop help mloop.yaml lists the keys of the project file' '
    run mloop help mloop.yaml &&
    expect_code 0 &&
    expect_stdout_contains "deploy.environments.*.canary.steps" &&
    run mloop help mloop.yaml --json &&
    expect_json "any(k[\"key\"] == \"train.timeout\" and k[\"type\"] == \"duration\" for k in j[\"keys\"])"
'

test_expect_success 'an unknown command is exit 2 with a suggestion' '
    run mloop valdiate &&
    expect_code 2 &&
    expect_stdout_empty &&
    expect_stderr "mloop: error: '"'"'valdiate'"'"' is not an mloop command
hint: did you mean '"'"'validate'"'"'?"
'

test_expect_success 'an unknown option is exit 2 with a suggestion' '
    run mloop validate --jsno &&
    expect_code 2 &&
    expect_stderr "mloop: error: unknown option '"'"'--jsno'"'"' for '"'"'mloop validate'"'"'
hint: did you mean '"'"'--json'"'"'?" &&
    run mloop --verbos &&
    expect_code 2 &&
    expect_stderr_contains "did you mean '"'"'--verbose'"'"'?"
'

test_expect_success 'a missing option value is exit 2' '
    run mloop -C &&
    expect_code 2 &&
    expect_stderr_contains "mloop: error:"
'

test_expect_success 'unknown help topics and check kinds are exit 2' '
    run mloop help valdate &&
    expect_code 2 &&
    expect_stderr_contains "did you mean '"'"'validate'"'"'?" &&
    run mloop validate confg &&
    expect_code 2 &&
    expect_stderr_contains "did you mean '"'"'config'"'"'?"
'

test_expect_success 'global options work before and after the command' '
    copy_example &&
    run mloop --json validate config &&
    expect_code 0 &&
    expect_json "j[\"ok\"] is True" &&
    run mloop validate config --json &&
    expect_code 0 &&
    expect_json "j[\"config\"][\"file\"] == \"mloop.yaml\""
'

test_expect_success '-C runs as if started elsewhere; a bad -C is exit 2' '
    mkdir proj && (cd proj && copy_example) &&
    run mloop -C proj validate &&
    expect_code 0 &&
    expect_stdout_contains "ok    config  mloop.yaml" &&
    run mloop -C nowhere validate &&
    expect_code 2 &&
    expect_stderr "mloop: error: cannot change to '"'"'nowhere'"'"': no such file or directory"
'

test_expect_success '--json errors are one JSON document on stdout' '
    run mloop --json validate &&
    expect_code 2 &&
    expect_json "j[\"error\"][\"code\"] == 2 and j[\"error\"][\"kind\"] == \"usage\"" &&
    expect_stderr_contains "mloop: error: no mloop.yaml in"
'

test_expect_success '-q silences success output' '
    copy_example &&
    run mloop -q validate &&
    expect_code 0 &&
    expect_stdout_empty &&
    expect_stderr_empty
'

test_expect_success 'colour only on a terminal, never with NO_COLOR or --no-color' '
    command -v script >/dev/null || { echo "    (script(1) missing)"; return 0; }
    env -u NO_COLOR script -qec "$MLOOP tarin" /dev/null >tty.txt 2>&1
    grep -q "$(printf "\033")\[1;31merror" tty.txt || { cat tty.txt; return 1; }
    NO_COLOR=1 script -qec "$MLOOP tarin" /dev/null >tty.txt 2>&1
    ! grep -q "$(printf "\033")" tty.txt || { cat -v tty.txt; return 1; }
    env -u NO_COLOR script -qec "$MLOOP --no-color tarin" /dev/null >tty.txt 2>&1
    ! grep -q "$(printf "\033")" tty.txt || { cat -v tty.txt; return 1; }
'

test_expect_success 'a failed write to stdout is an error, not silence' '
    [ -w /dev/full ] || { echo "    (no /dev/full)"; return 0; }
    "$MLOOP" --version >/dev/full 2>err.txt; rc=$?
    [ "$rc" = 4 ] || { echo "rc=$rc"; cat err.txt; return 1; }
    grep -q "mloop: error: cannot write to standard output: no space left on device" err.txt
'

test_done
