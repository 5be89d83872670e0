#!/usr/bin/env bash
# The registry on a full disk (a tiny tmpfs): exit 4 with a message that says so, and the
# registry still passes integrity_check.
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"
W="$MLOOP_BUILD_DIR/fault_registry_writer"

test_expect_success 'a full disk is exit 4, "disk full", and an intact registry' '
    mkdir tiny &&
    if ! mount -t tmpfs -o size=768k,mode=0700 tmpfs tiny 2>mount.err; then
        if [ "${CI:-}" = true ]; then echo "    cannot mount a tmpfs under CI: $(cat mount.err)"; return 1; fi
        echo "    (skipped: cannot mount a tmpfs here: $(cat mount.err))"; return 0
    fi
    trap "umount \"$PWD/tiny\" 2>/dev/null" EXIT
    run "$W" fill "$PWD/tiny/registry.db" >/dev/null
    rc=$RC; err=$ERR
    runs=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from runs\").fetchone()[0])" "$PWD/tiny/registry.db")
    integrity=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"pragma integrity_check\").fetchone()[0])" "$PWD/tiny/registry.db")
    umount "$PWD/tiny"
    echo "# disk full: exit $rc after $runs runs; integrity_check: $integrity; message: $(printf "%s" "$err" | head -n 1)"
    [ "$rc" = 4 ] && [ "$integrity" = ok ] &&
    case "$err" in *"disk full"*) ;; *) echo "    message does not say disk full"; false ;; esac
'

test_done
