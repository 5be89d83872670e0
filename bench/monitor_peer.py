#!/usr/bin/python3
"""The peer of bench/monitor: Evidently's DataDriftPreset statistics with pandas and SciPy, on
the same two CSV files `mloop monitor --reference REF --current CUR` reads.

    /usr/bin/python3 bench/monitor_peer.py REFERENCE.csv CURRENT.csv [SHARE]

pandas read_csv of both files, then for every column both have Evidently's per-column drift:
missing values and ±inf left out; the `auto` rule (SPEC §6, Evidently's get_stattest): a
reference of at most 1000 rows gets ks for a numeric column with more than 5 distinct values
(reference ∪ current), else chisquare; a larger one gets wasserstein (normed by the reference
standard deviation, floor 0.001) for those, else jensenshannon (per value for few values or
categories, Sturges bins for numeric columns with more than 20); drift when the p-value is below
0.05 (ks, chisquare) or the distance reaches 0.1; the dataset drifts when at least SHARE (0.5) of
the columns do. Booleans count as categories, as mloop reads true/false.

Prints one JSON object: the seconds spent in process after the imports (reading, then the
statistics), and per column its method, score and verdict.
"""

import json
import os
import sys
import time

import numpy as np
import pandas as pd
from pandas.api import types
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats_fixtures as ev  # noqa: E402  Evidently's jensenshannon, chisquare, wasserstein_norm


def column_drift(ref, cur):
    numeric = (types.is_numeric_dtype(ref) and types.is_numeric_dtype(cur)
               and not types.is_bool_dtype(ref) and not types.is_bool_dtype(cur))
    ref, cur = ev.clean(ref), ev.clean(cur)
    if ref.empty or cur.empty:
        return {"method": None, "score": None, "drifted": None}
    many = numeric and pd.concat([ref, cur]).nunique() > 5
    if len(ref) <= 1000:
        if many:
            method, score = "ks", float(stats.ks_2samp(ref, cur, method="auto").pvalue)
        else:
            method, score = "chisquare", ev.chisquare(ref, cur)[1]
    elif many:
        method, score = "wasserstein", ev.wasserstein_norm(ref, cur)
    else:
        method, score = "jensenshannon", ev.jensenshannon(ref, cur, numeric)
    drifted = score < 0.05 if method in ("ks", "chisquare") else score >= 0.1
    return {"method": method, "score": score, "drifted": bool(drifted)}


def main():
    share = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
    t0 = time.perf_counter()
    ref = pd.read_csv(sys.argv[1])
    cur = pd.read_csv(sys.argv[2])
    t1 = time.perf_counter()
    columns = []
    for name in ref.columns:
        if name in cur.columns:
            columns.append({"column": name, **column_drift(ref[name], cur[name])})
    t2 = time.perf_counter()
    judged = [c for c in columns if c["drifted"] is not None]
    drifted = sum(c["drifted"] for c in judged)
    print(json.dumps({"seconds": t2 - t0, "read_seconds": t1 - t0, "stats_seconds": t2 - t1,
                      "columns": columns, "drifted": drifted,
                      "dataset_drift": bool(judged) and drifted / len(judged) >= share}))


if __name__ == "__main__":
    main()
