#!/usr/bin/python3
"""The peer of bench/stats: the same statistics with SciPy and Evidently's definitions (pandas,
numpy), timed in process on the same float64 files bench_stats reads.

    /usr/bin/python3 bench/stats_peer.py REFERENCE.f64 CURRENT.f64 RUNS
"""

import json
import os
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats_fixtures as ev  # noqa: E402  Evidently's get_binned_data, psi, jensenshannon


def timed(name, runs, f):
    ms, value = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        value = f()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    print(json.dumps({"name": name, "ms": ms[len(ms) // 2], "min_ms": ms[0], "value": value}),
          flush=True)


def main():
    a = np.fromfile(sys.argv[1], dtype=np.float64)
    b = np.fromfile(sys.argv[2], dtype=np.float64)
    runs = int(sys.argv[3])
    ra, rb = pd.Series(a), pd.Series(b)

    def ks():
        r = stats.ks_2samp(a, b, method="auto")
        return [float(r.statistic), float(r.pvalue)]

    timed("ks", runs, ks)
    timed("psi", runs, lambda: ev.psi(ra, rb))
    timed("jensenshannon", runs, lambda: ev.jensenshannon(ra, rb))
    timed("wasserstein_norm", runs, lambda: ev.wasserstein_norm(ra, rb))


if __name__ == "__main__":
    main()
