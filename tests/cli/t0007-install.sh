#!/usr/bin/env bash
# cmake --install puts the binary, the man pages and the completions in place, and the installed
# binary needs nothing from the source tree.
. "$(dirname "$0")/lib.sh"

build_dir=$(dirname "$MLOOP")

test_expect_success 'cmake --install installs binary, man pages and completions' '
    run cmake --install "$build_dir" --prefix "$SCRATCH/prefix" &&
    expect_code 0 &&
    p="$SCRATCH/prefix" &&
    [ -x "$p/bin/mloop" ] &&
    for page in mloop.1 mloop-init.1 mloop-validate.1 mloop-help.1 mloop-completion.1; do
        [ -f "$p/share/man/man1/$page" ] || { echo "    missing $page"; return 1; }
    done &&
    [ -f "$p/share/man/man5/mloop.yaml.5" ] &&
    cmp "$p/share/bash-completion/completions/mloop" "$MLOOP_SOURCE_DIR/completions/mloop.bash" &&
    cmp "$p/share/zsh/vendor-completions/_mloop" "$MLOOP_SOURCE_DIR/completions/_mloop" &&
    cmp "$p/share/fish/vendor_completions.d/mloop.fish" "$MLOOP_SOURCE_DIR/completions/mloop.fish"
'

test_expect_success 'the installed binary makes the example project anywhere' '
    [ -x "$SCRATCH/prefix/bin/mloop" ] || cmake --install "$build_dir" --prefix "$SCRATCH/prefix" >/dev/null &&
    run "$SCRATCH/prefix/bin/mloop" init --example churn &&
    expect_code 0 &&
    cd churn &&
    run "$SCRATCH/prefix/bin/mloop" validate &&
    expect_code 0
'

test_done
