#!/usr/bin/env bash
# 32 processes open an old-schema registry at once: the migration is applied exactly once and all
# 32 succeed.
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"
W="$MLOOP_BUILD_DIR/fault_registry_writer"

test_expect_success '32 concurrent openers migrate an old registry exactly once' '
    db="$PWD/registry.db" &&
    run "$W" open "$db" 1 && expect_code 0 && expect_stdout "version=1" &&
    for p in $(seq 32); do "$W" open "$db" >"out.$p" 2>"err.$p" & done &&
    failed=0 &&
    for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done &&
    ok=$(grep -lx "version=[0-9]*" out.* | wc -l) &&
    applied=$(/usr/bin/python3 -c "import sqlite3,sys; c = sqlite3.connect(sys.argv[1]); print(\" \".join(f\"{v}:{n}\" for v, n in c.execute(\"select version, count(*) from schema_migrations group by version\")))" "$db") &&
    echo "# migration: 32 openers, $ok succeeded, $failed failed; applications per version: $applied" &&
    [ "$failed" = 0 ] && [ "$ok" = 32 ] &&
    [ -z "$(printf "%s\n" $applied | grep -v ":1$")" ] || { cat err.* | head -5; return 1; }
'

test_done
