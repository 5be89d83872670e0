#!/usr/bin/env bash
# mloop gc: keeps what aliases, the last N runs, running runs and the grace keep; a dry run lists
# exactly what gc then deletes; fsck is clean afterwards; a second gc has nothing to do.
. "$(dirname "$0")/lib.sh"
S="$MLOOP_BUILD_DIR/fault_gcstate"

# state: a project built by fault_gcstate (see tests/fault/gcstate.cpp), its digests in ./digests
# and this shell (alive for the whole test) recorded as the live running run 5.
state() {
    mkdir p && cd p && printf "project: p\n" >mloop.yaml &&
        "$S" . $$ >../digests
}
digest() { awk -v n="$1" '$1 == n { print $2 }' ../digests; }
stored() { find .mloop/objects/sha256 -type f | sed 's|.*/sha256/\(..\)/|sha256:\1|' | sort; }
# The digests of the names given, sorted.
digests_of() { for n in "$@"; do digest "$n"; done | sort -u; }
# The deleted digests of a gc --json document in $OUT, sorted.
json_deleted() {
    printf '%s' "$OUT" | /usr/bin/python3 -c '
import json, sys
for o in json.load(sys.stdin)["deleted"]["objects"]:
    print(o["digest"])' | sort
}

test_expect_success 'gc --dry-run changes nothing and lists exactly what gc then deletes' '
    state &&
    before=$(stored) &&
    db_before=$(sha256sum .mloop/registry.db) &&
    run mloop gc --dry-run --keep 2 --json &&
    expect_code 0 &&
    expect_json "j[\"dry_run\"] is True and j[\"keep\"] == 2 and j[\"grace_seconds\"] == 3600" &&
    expect_json "[d[\"run\"] for d in j[\"deleted\"][\"run_dirs\"]] == [1, 3, 4]" &&
    expect_json "j[\"deleted\"][\"temp_files\"] == 1" &&
    expect_json "j[\"kept\"][\"recent_runs\"] == [7, 6] and j[\"kept\"][\"running_runs\"] == [5]" &&
    expect_json "j[\"kept\"][\"aliases\"] == [{\"model\": \"churn\", \"alias\": \"production\", \"version\": 2, \"run\": 2}]" &&
    expect_json "j[\"kept\"][\"grace_objects\"] == 1 and j[\"kept\"][\"run_dir_count\"] == 4" &&
    expect_json "j[\"left_alone\"] == [\".mloop/runs/999\", \".mloop/runs/notes\"]" &&
    expected=$(digests_of A1 T3 C_UNIQUE D4 O_OLD) &&
    listed=$(json_deleted) &&
    { [ "$listed" = "$expected" ] || fail "dry run listed: $listed"; } &&
    [ "$(stored)" = "$before" ] &&
    [ "$(sha256sum .mloop/registry.db)" = "$db_before" ] &&
    [ -d .mloop/runs/1 ] && [ -d .mloop/runs/4 ] &&
    [ -e .mloop/objects/tmp/12345-00000000deadbeef ] &&
    run mloop gc --keep 2 --json &&
    expect_code 0 &&
    expect_json "j[\"dry_run\"] is False and j[\"crashed_runs\"] == 1" &&
    { [ "$(json_deleted)" = "$listed" ] || fail "gc deleted other objects than the dry run listed"; } &&
    gone=$(comm -23 <(printf "%s\n" "$before") <(stored)) &&
    { [ "$gone" = "$expected" ] || fail "the store lost: $gone"; } &&
    [ ! -e .mloop/runs/1 ] && [ ! -e .mloop/runs/3 ] && [ ! -e .mloop/runs/4 ] &&
    [ -d .mloop/runs/2 ] && [ -d .mloop/runs/5 ] && [ -d .mloop/runs/6 ] && [ -d .mloop/runs/7 ] &&
    [ -f .mloop/runs/999/notes.txt ] && [ -f .mloop/runs/notes/todo.txt ] &&
    [ ! -e .mloop/objects/tmp/12345-00000000deadbeef ]
'

test_expect_success 'gc keeps exactly the referenced objects, the grace and what kept trees list' '
    state &&
    run mloop gc --keep 2 &&
    expect_code 0 &&
    expect_stdout_contains "deleted 5 objects (" &&
    expect_stdout_contains "and 3 run directories (" &&
    expect_stdout_contains "removed 1 temporary file of a dead writer" &&
    expect_stdout_contains "  aliased    churn@production (version 2, run 2)" &&
    expect_stdout_contains "  recent     runs 6-7 (the last 2)" &&
    expect_stdout_contains "  running    run 5" &&
    expect_stdout_contains "  grace      1 object written or re-used in the last hour" &&
    expect_stdout_contains "left alone  .mloop/runs/999 (not a run of this registry)" &&
    expect_stderr "marked 1 run '"'"'crashed'"'"': the mloop that ran it is gone" &&
    kept=$(digests_of A2 D1 D5 S6 A7 T7 T7A T7B O_NEW) &&
    { [ "$(stored)" = "$kept" ] || fail "the store holds: $(stored)"; } &&
    state4=$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect(\".mloop/registry.db\").execute(\"SELECT state FROM runs WHERE id = 4\").fetchone()[0])") &&
    { [ "$state4" = crashed ] || fail "run 4 is $state4"; }
'

test_expect_success 'fsck is clean after gc, and counts what gc collected' '
    state &&
    run mloop gc --keep 2 &&
    expect_code 0 &&
    run mloop fsck &&
    expect_code 0 &&
    expect_stdout_contains "3 objects collected by gc" &&
    expect_stdout_contains "ok" &&
    run mloop fsck --json &&
    expect_json "j[\"ok\"] and j[\"registry\"][\"collected_objects\"] == 3"
'

test_expect_success 'a second gc deletes nothing' '
    state &&
    run mloop gc --keep 2 &&
    expect_code 0 &&
    after=$(stored) &&
    run mloop gc --keep 2 &&
    expect_code 0 &&
    expect_stdout_contains "deleted 0 objects (0 B) and 0 run directories (0 B)" &&
    expect_stderr_empty &&
    [ "$(stored)" = "$after" ] &&
    run mloop gc --keep 2 --dry-run &&
    expect_code 0 &&
    expect_stdout_contains "would delete 0 objects (0 B) and 0 run directories (0 B)"
'

test_expect_success 'gc --keep 0 keeps only what the alias, the running run and the grace keep' '
    state &&
    run mloop gc --keep 0 --json &&
    expect_code 0 &&
    expect_json "j[\"kept\"][\"recent_runs\"] == [] and j[\"kept\"][\"running_runs\"] == [5]" &&
    expect_json "[d[\"run\"] for d in j[\"deleted\"][\"run_dirs\"]] == [1, 3, 4, 6, 7]" &&
    kept=$(digests_of A2 D1 D5 O_NEW) &&
    { [ "$(stored)" = "$kept" ] || fail "the store holds: $(stored)"; } &&
    run mloop fsck &&
    expect_code 0
'

test_expect_success 'the default keeps the last 20 runs' '
    state &&
    run mloop gc --json &&
    expect_code 0 &&
    expect_json "j[\"keep\"] == 20 and j[\"kept\"][\"recent_runs\"] == [7, 6, 5, 4, 3, 2, 1]" &&
    { [ "$(json_deleted)" = "$(digests_of O_OLD)" ] || fail "deleted: $(json_deleted)"; }
'

test_expect_success 'without a registry gc deletes nothing and says why' '
    printf "project: p\n" >mloop.yaml &&
    run mloop gc &&
    expect_code 0 &&
    expect_stdout_contains "no registry at .mloop/registry.db: nothing is known to be referenced, so nothing is deleted" &&
    expect_stderr_empty &&
    [ ! -e .mloop/registry.db ] &&
    state &&
    for f in registry.db registry.db-wal registry.db-shm; do
        [ ! -e .mloop/$f ] || mv .mloop/$f ../elsewhere.${f#registry.} || return 1
    done &&
    before=$(stored) &&
    run mloop gc --json &&
    expect_code 0 &&
    expect_json "j[\"registry\"][\"present\"] is False and j[\"deleted\"][\"objects\"] == []" &&
    run mloop gc &&
    expect_code 0 &&
    expect_stderr_contains "warning: the store holds 14 objects but there is no registry" &&
    expect_stderr_contains "hint: if the registry is elsewhere, name it with --registry or MLOOP_REGISTRY" &&
    [ "$(stored)" = "$before" ] &&
    [ -d .mloop/runs/1 ] &&
    run mloop --registry ../elsewhere.db gc --keep 2 --dry-run --json &&
    expect_code 0 &&
    expect_json "j[\"registry\"][\"present\"] is True and j[\"deleted\"][\"object_count\"] == 5"
'

test_expect_success 'usage errors exit 2' '
    printf "project: p\n" >mloop.yaml &&
    run mloop gc --keep -1 &&
    expect_code 2 &&
    expect_stderr_contains "--keep must be 0 or more" &&
    run mloop gc --keep many &&
    expect_code 2 &&
    run mloop gc extra &&
    expect_code 2 &&
    mkdir elsewhere && cd elsewhere && rm ../mloop.yaml &&
    run mloop gc &&
    expect_code 2 &&
    expect_no_sanitizer_report
'

test_done
