#!/usr/bin/env python3
"""The peers of bench/data: the same expectations as bench/data's mloop.yaml, checked by
  pandas    read_csv, then one vectorised check per expectation (the shape of a Great
            Expectations suite: expect_column_values_to_be_between, _to_be_in_set, _to_match_regex,
            _to_be_unique, _to_not_be_null, ... each a pass over a column)
  csv       Python's csv module, row by row
  json      Python's json module on JSON lines, row by row
  pandas-read, json-parse   the reading alone (read_csv; json.loads of every line), no checks

  data_peers.py pandas|csv|json|pandas-read|json-parse FILE

Imports happen before the clock starts: the peers are timed on the work, not on start-up.

Prints one JSON object: engine, seconds (reading and checking), rows, failures (the number of
failed values per expectation; all zero on the generated data), peak RSS in KiB.
"""
import json
import re

pd = None  # pandas, imported by the engines that use it
import resource
import sys
import time
from datetime import datetime

INTS = {"age": (18, 90), "visits": (0, None), "tenure": (0, 120), "rating": (1, 5),
        "sessions": (0, None)}
FLOATS = {"score": (0, 100), "amount": (0, None), "discount": (0, None), "balance": (None, None),
          "ratio": (0, 1)}
CATEGORIES = {"plan": ["basic", "pro", "enterprise"], "region": ["north", "south", "east", "west"],
              "device": ["ios", "android", "web"],
              "country": ["de", "fr", "us", "uk", "jp", "br", "in", "ng", "au", "ca"]}
BOOLS = ["active", "churned"]
DATETIMES = ["signup", "last_seen"]
PATTERN = r"^[^@\s]+@[^@\s]+$"
COLUMNS = ["id", "age", "score", "amount", "visits", "plan", "region", "active", "email", "signup",
           "discount", "tenure", "device", "churned", "rating", "balance", "sessions", "country",
           "last_seen", "ratio"]


def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def with_pandas(path):
    df = pd.read_csv(path)
    fails = {}
    n = len(df)
    fails["columns"] = len(set(df.columns) ^ set(COLUMNS))
    fails["id.not_null"] = int(df["id"].isna().sum())
    fails["id.unique"] = int(df["id"].duplicated().sum())
    for c, (lo, hi) in {**INTS, **FLOATS}.items():
        col = df[c]
        num = pd.to_numeric(col, errors="coerce")
        fails[c + ".type"] = int((num.isna() & col.notna()).sum())
        if c in INTS:
            fails[c + ".type"] += int(((num % 1) != 0).sum())
        if lo is not None:
            fails[c + ".min"] = int((num < lo).sum())
        if hi is not None:
            fails[c + ".max"] = int((num > hi).sum())
    fails["discount.null_fraction"] = int(df["discount"].isna().mean() > 0.2)
    for c, values in CATEGORIES.items():
        fails[c + ".values"] = int((~df[c].isin(values) & df[c].notna()).sum())
    for c in BOOLS:
        col = df[c]
        if col.dtype != bool:
            fails[c + ".type"] = int((~col.astype(str).str.lower().isin(["true", "false", "0", "1"])).sum())
        else:
            fails[c + ".type"] = 0
    fails["email.pattern"] = int((~df["email"].astype(str).str.match(PATTERN)).sum())
    for c in DATETIMES:
        parsed = pd.to_datetime(df[c], errors="coerce", utc=True)
        fails[c + ".type"] = int((parsed.isna() & df[c].notna()).sum())
    fails["rows"] = int(not (1 <= n <= 100_000_000))
    return n, fails


def row_checker():
    pattern = re.compile(PATTERN)
    fails = {}
    seen = set()
    nulls = {"discount": 0}

    def fail(key):
        fails[key] = fails.get(key, 0) + 1

    def check(get):
        v = get("id")
        if v is None or v == "":
            fail("id.not_null")
        elif v in seen:
            fail("id.unique")
        else:
            seen.add(v)
        for c, (lo, hi) in INTS.items():
            v = get(c)
            try:
                x = v if isinstance(v, int) and not isinstance(v, bool) else int(v)
            except (TypeError, ValueError):
                fail(c + ".type")
                continue
            if lo is not None and x < lo:
                fail(c + ".min")
            if hi is not None and x > hi:
                fail(c + ".max")
        for c, (lo, hi) in FLOATS.items():
            v = get(c)
            if v is None or v == "":
                nulls[c] = nulls.get(c, 0) + 1
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                fail(c + ".type")
                continue
            if lo is not None and x < lo:
                fail(c + ".min")
            if hi is not None and x > hi:
                fail(c + ".max")
        for c, values in CATEGORIES.items():
            if get(c) not in values:
                fail(c + ".values")
        for c in BOOLS:
            v = get(c)
            if not (isinstance(v, bool) or str(v).lower() in ("true", "false", "0", "1")):
                fail(c + ".type")
        if not pattern.match(get("email")):
            fail("email.pattern")
        for c in DATETIMES:
            try:
                datetime.fromisoformat(get(c).replace("Z", "+00:00"))
            except (TypeError, ValueError):
                fail(c + ".type")

    return check, fails, nulls


def with_csv(path):
    import csv
    check, fails, nulls = row_checker()
    n = 0
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        index = {c: i for i, c in enumerate(header)}
        if set(header) != set(COLUMNS):
            fails["columns"] = 1
        for row in reader:
            n += 1
            if len(row) != len(header):
                fails["ragged"] = fails.get("ragged", 0) + 1
                continue
            check(lambda c: row[index[c]])
    if nulls["discount"] > 0.2 * n:
        fails["discount.null_fraction"] = 1
    return n, fails


def with_json(path):
    check, fails, nulls = row_checker()
    n = 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            n += 1
            obj = json.loads(line)
            if set(obj) - set(COLUMNS):
                fails["columns"] = 1
            check(obj.get)
    if nulls["discount"] > 0.2 * n:
        fails["discount.null_fraction"] = 1
    return n, fails


def pandas_read(path):
    return len(pd.read_csv(path)), {}


def json_parse(path):
    n = 0
    with open(path) as f:
        for line in f:
            if line.strip():
                json.loads(line)
                n += 1
    return n, {}


def main():
    global pd
    engine, path = sys.argv[1], sys.argv[2]
    if engine.startswith("pandas"):
        import pandas as pd
    start = time.perf_counter()
    n, fails = {"pandas": with_pandas, "csv": with_csv, "json": with_json,
                "pandas-read": pandas_read, "json-parse": json_parse}[engine](path)
    seconds = time.perf_counter() - start
    print(json.dumps({"engine": engine, "seconds": seconds, "rows": n,
                      "failures": sum(v for v in fails.values()), "peak_kib": peak_kib()}))


if __name__ == "__main__":
    main()
