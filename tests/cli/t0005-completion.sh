#!/usr/bin/env bash
# mloop completion: the scripts in completions/ are its output, and they work.
. "$(dirname "$0")/lib.sh"

test_expect_success 'completions/ holds the current output for every shell' '
    for pair in bash:mloop.bash zsh:_mloop fish:mloop.fish; do
        run mloop completion "${pair%%:*}" &&
        expect_code 0 &&
        printf "%s\n" "$OUT" >got &&
        diff got "$MLOOP_SOURCE_DIR/completions/${pair#*:}" ||
        { echo "    stale completions/${pair#*:}: regenerate with mloop completion ${pair%%:*}"; return 1; }
    done
'

test_expect_success 'an unknown shell is exit 2' '
    run mloop completion tcsh &&
    expect_code 2 &&
    expect_stderr_contains "no completion for shell '"'"'tcsh'"'"'"
'

# complete WORDS...: runs the bash completion function on a command line, prints COMPREPLY.
complete_bash() {
    bash -c '
        . "$1/completions/mloop.bash"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _mloop; printf "%s\n" "${COMPREPLY[@]}"' _ "$MLOOP_SOURCE_DIR" "$@"
}

test_expect_success 'bash completes commands, options and arguments' '
    [ "$(complete_bash mloop val)" = validate ] &&
    [ "$(complete_bash mloop validate co)" = config ] &&
    [ "$(complete_bash mloop init --ex)" = --example ] &&
    [ "$(complete_bash mloop --js)" = --json ] &&
    [ "$(complete_bash mloop -C /tmp validate a)" = all ] &&
    [ "$(complete_bash mloop completion z)" = zsh ]
'

test_expect_success 'the zsh and fish scripts parse' '
    if command -v zsh >/dev/null; then zsh -n "$MLOOP_SOURCE_DIR/completions/_mloop"; elif [ "${CI:-}" = true ]; then echo "    zsh missing under CI"; return 1; fi &&
    if command -v fish >/dev/null; then fish -n "$MLOOP_SOURCE_DIR/completions/mloop.fish"; elif [ "${CI:-}" = true ]; then echo "    fish missing under CI"; return 1; fi
'

test_done
