#!/usr/bin/env bash
# 16 processes run 200 read-then-write transactions each on one registry: exactly 3 200 rows and
# not one "database is locked".
. "$MLOOP_SOURCE_DIR/tests/cli/lib.sh"
W="$MLOOP_BUILD_DIR/fault_registry_writer"

test_expect_success '16 x 200 transactions: 3200 rows, zero lock errors' '
    db="$PWD/registry.db" &&
    "$W" open "$db" >/dev/null &&
    start=$(now_ms) &&
    for p in $(seq 16); do "$W" contend "$db" 200 "p$p" >"out.$p" 2>"err.$p" & done &&
    failed=0 &&
    for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done &&
    end=$(now_ms) &&
    locked=$(cat out.* | awk -F= "/^locked=/ { s += \$2 } END { print s + 0 }") &&
    rows=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from events where kind = ?\", (\"contend\",)).fetchone()[0])" "$db") &&
    distinct=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(distinct detail) from events where kind = ?\", (\"contend\",)).fetchone()[0])" "$db") &&
    echo "# contention: 16 processes x 200 read-then-write transactions: $rows rows ($distinct distinct reads), $locked locked, $failed failed, $((end - start)) ms" &&
    [ "$rows" = 3200 ] && [ "$distinct" = 3200 ] && [ "$locked" = 0 ] && [ "$failed" = 0 ] ||
    { cat err.* | head -5; return 1; }
'

test_done
