#!/usr/bin/env bash
# A registry whose schema is newer than this mloop: exit 4, and the file unchanged byte for byte.
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"
W="$MLOOP_BUILD_DIR/fault_registry_writer"

test_expect_success 'mloop refuses a newer registry and leaves it as it was' '
    printf "project: p\n" >mloop.yaml &&
    "$W" open .mloop/registry.db >/dev/null &&
    /usr/bin/python3 -c "import sqlite3; c = sqlite3.connect(\".mloop/registry.db\"); c.execute(\"pragma user_version = 99\"); c.commit(); c.close()" &&
    before=$(sha256sum .mloop/registry.db) &&
    files_before=$(ls -A .mloop) &&
    run mloop fsck &&
    expect_code 4 &&
    expect_stderr_contains "schema version 99, newer than this mloop understands" &&
    expect_stderr_contains "hint: it was written by a newer mloop; upgrade mloop to use it" &&
    after=$(sha256sum .mloop/registry.db) &&
    echo "# newer schema: exit $RC; registry.db $( [ "$before" = "$after" ] && echo unchanged || echo CHANGED) (${before%% *})" &&
    [ "$before" = "$after" ] &&
    [ "$files_before" = "$(ls -A .mloop)" ]
'

test_done
