#!/usr/bin/env bash
# mloop fsck: a sound project is clean; each kind of damage is named and exits 4.
. "$(dirname "$0")/lib.sh"
P="$MLOOP_BUILD_DIR/fault_populate"

test_expect_success 'a project without a registry yet is clean' '
    printf "project: p\n" >mloop.yaml &&
    run mloop fsck &&
    expect_code 0 &&
    expect_stdout_contains "not created yet" &&
    expect_stdout_contains "ok" &&
    [ ! -e .mloop/registry.db ]
'

test_expect_success 'a sound registry and store are clean' '
    printf "project: p\n" >mloop.yaml &&
    "$P" . >digests &&
    run mloop fsck &&
    expect_code 0 &&
    expect_stdout_contains ", 6 rows naming stored files" &&
    expect_stdout_contains "3 objects, 49 B re-hashed" &&
    run mloop fsck --json &&
    expect_code 0 &&
    expect_json "j[\"ok\"] and j[\"store\"][\"objects_checked\"] == 3 and j[\"problems\"] == []"
'

test_expect_success 'a damaged object is named' '
    printf "project: p\n" >mloop.yaml &&
    "$P" . >digests &&
    d=$(head -n 1 digests) && hex=${d#sha256:} &&
    obj=".mloop/objects/sha256/${hex:0:2}/${hex:2}" &&
    chmod u+w "$obj" && printf X | dd of="$obj" bs=1 seek=3 conv=notrunc status=none && chmod 0444 "$obj" &&
    run mloop fsck &&
    expect_code 4 &&
    expect_stdout_contains "damaged   object $d: its content does not match its name" &&
    expect_stderr "mloop: error: 1 damaged thing found
hint: restore the registry or the named objects from a backup"
'

test_expect_success 'a writable object is damage too' '
    printf "project: p\n" >mloop.yaml &&
    "$P" . >digests &&
    d=$(sed -n 2p digests) && hex=${d#sha256:} &&
    chmod u+w ".mloop/objects/sha256/${hex:0:2}/${hex:2}" &&
    run mloop fsck &&
    expect_code 4 &&
    expect_stdout_contains "object $d: it is writable; objects are read-only"
'

test_expect_success 'a row that names a missing object is named, with the row' '
    printf "project: p\n" >mloop.yaml &&
    "$P" . >digests &&
    d=$(head -n 1 digests) && hex=${d#sha256:} &&
    rm -f ".mloop/objects/sha256/${hex:0:2}/${hex:2}" &&
    run mloop fsck --json &&
    expect_code 4 &&
    expect_json "j[\"ok\"] is False and j[\"problems\"][0][\"kind\"] == \"missing-object\"" &&
    expect_json "j[\"problems\"][0][\"subject\"] == \"$d\"" &&
    expect_json "\"model.json of run 1\" in j[\"problems\"][0][\"message\"]" &&
    expect_stderr_contains "1 damaged thing found"
'

test_expect_success 'rows that refer to a deleted row are named by table, key and value' '
    printf "project: p\n" >mloop.yaml &&
    "$P" . >digests &&
    python3 -c "import sqlite3; c = sqlite3.connect(\".mloop/registry.db\"); c.execute(\"DELETE FROM runs WHERE id = 1\"); c.commit()" &&
    run mloop fsck --json &&
    expect_code 4 &&
    expect_json "any(p[\"kind\"] == \"foreign-key\" and p[\"subject\"] == \"artifacts.run_id\" and p[\"message\"].endswith(\"refer to missing rows of runs (run_id 1)\") for p in j[\"problems\"])" &&
    expect_json "not any(\"?\" in p[\"subject\"] for p in j[\"problems\"])"
'

test_expect_success 'a damaged registry file is exit 4 and says so' '
    printf "project: p\n" >mloop.yaml &&
    "$P" . >digests &&
    # Fold the write-ahead log into the database file first: mloop leaves it to the next
    # writer, and the damage must land on pages that hold the runs.
    python3 -c "import sqlite3; sqlite3.connect(\".mloop/registry.db\").execute(\"PRAGMA wal_checkpoint(TRUNCATE)\")" &&
    size=$(stat -c %s .mloop/registry.db) &&
    dd if=/dev/urandom of=.mloop/registry.db bs=4096 seek=2 count=$(( size / 4096 - 3 )) conv=notrunc status=none &&
    run mloop fsck &&
    expect_code 4 &&
    expect_no_sanitizer_report &&
    case "$OUT$ERR" in *damaged*|*malformed*|*"not a database"*) ;; *) fail "no word of damage" ;; esac
'

test_done
