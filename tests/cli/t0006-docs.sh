#!/usr/bin/env bash
# The docs generated from the binary's tables are current: completions and mloop.yaml(5)'s keys.
. "$(dirname "$0")/lib.sh"

test_expect_success 'scripts/update-docs --check finds nothing stale' '
    run /usr/bin/python3 "$MLOOP_SOURCE_DIR/scripts/update-docs" --check "$MLOOP" &&
    expect_code 0 &&
    expect_stdout_empty
'

test_expect_success 'every man page renders without warnings' '
    command -v groff >/dev/null || { [ "${CI:-}" != true ] && echo "    (groff missing)" && return 0; }
    for page in "$MLOOP_SOURCE_DIR"/man/*.[15]; do
        run groff -man -Tutf8 -ww -z "$page" &&
        expect_code 0 && expect_stderr_empty || { echo "    in $page"; return 1; }
    done
'

test_done
