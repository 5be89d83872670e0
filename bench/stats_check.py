#!/usr/bin/python3
"""Holds src/stats against live SciPy and scikit-learn on random data (run by bench/stats_check).

    /usr/bin/python3 bench/stats_check.py BUILD/bench_stats_check [SEED]

Random samples of varied sizes and shapes go to the C++ driver as JSON lines; its answers are
compared with scipy.stats.ks_2samp(method="auto"), kstwo, smirnov, wasserstein_distance,
Evidently's PSI / Jensen-Shannon / chisquare definitions and sklearn.metrics. Statistics must
agree to 1e-12 relative and p-values to 1e-9 relative (NaN and infinities exactly, values below
1e-300 as equal). Prints the
worst relative difference per kind and exits 1 on any miss.
"""

import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
from scipy import special, stats
from sklearn import metrics

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats_fixtures as ev  # noqa: E402  Evidently's definitions, shared with the fixtures

warnings.simplefilter("ignore")

STAT_REL = 1e-12
P_REL = 1e-9


class Driver:
    def __init__(self, path):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def ask(self, req):
        self.proc.stdin.write(json.dumps(req, allow_nan=False) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())


def enc(a):
    out = []
    for x in np.asarray(a, dtype=float).tolist():
        if math.isnan(x):
            out.append(None)
        elif math.isinf(x):
            out.append("inf" if x > 0 else "-inf")
        else:
            out.append(x)
    return out


def dec(v):
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v]
    return float(v)


worst = {}
misses = []
counts = {}


def compare(kind, got, want, rel, context):
    got, want = dec(got), float(want)
    counts[kind] = counts.get(kind, 0) + 1
    if math.isnan(want) or math.isinf(want) or abs(want) < 1e-300:
        # NaN and infinities exactly; below 1e-300 (subnormal tails, where neither side keeps
        # 53 bits) any two values agree
        ok = (math.isnan(got) if math.isnan(want) else
              got == want if math.isinf(want) else abs(got) < 1e-300)
        diff = 0.0 if ok else math.inf
    else:
        diff = abs(got - want) / abs(want)
        ok = diff <= rel
    worst[kind] = max(worst.get(kind, 0.0), diff)
    if not ok:
        misses.append(f"{kind}: got {got!r}, scipy {want!r} ({context})")


def samples(rng):
    """(a, b, label) pairs: sizes around the exact/asymptotic boundary, ties, tiny, constant."""
    sizes = [(1, 1), (1, 7), (2, 3), (5, 5), (9, 13), (30, 30), (64, 100), (250, 400),
             (999, 1000), (1000, 1001), (3000, 3000), (9999, 10000), (10000, 10000),
             (10000, 10001), (10001, 10001), (12000, 7), (25000, 20000), (100000, 100000)]
    for n1, n2 in sizes:
        for shift in (0.0, 0.02, 0.3):
            yield rng.normal(size=n1), rng.normal(loc=shift, size=n2), f"normal {n1}x{n2} +{shift}"
        yield (np.round(rng.normal(size=n1), 1), np.round(rng.normal(0.05, size=n2), 1),
               f"ties {n1}x{n2}")
        yield (rng.integers(0, 4, n1).astype(float), rng.integers(0, 5, n2).astype(float),
               f"few values {n1}x{n2}")
    yield np.full(40, 2.0), np.full(30, 2.0), "constant, same"
    yield np.full(40, 2.0), np.full(30, 2.5), "constant, moved"
    yield rng.exponential(size=5000) * 1e6, rng.exponential(size=4000) * 1.1e6, "large scale"


def check_pairs(drv, rng):
    for a, b, label in samples(rng):
        A, B = enc(a), enc(b)
        r = drv.ask({"op": "ks", "a": A, "b": B})
        s = stats.ks_2samp(a, b, method="auto")
        compare("ks statistic", r["statistic"], s.statistic, STAT_REL, label)
        compare("ks p-value", r["p_value"], s.pvalue, P_REL, label)
        ra, rb = pd.Series(a), pd.Series(b)
        if len(a) + len(b) <= 60000:
            r = drv.ask({"op": "wasserstein", "a": A, "b": B})
            compare("wasserstein", r["value"], stats.wasserstein_distance(a, b), STAT_REL, label)
        r = drv.ask({"op": "wasserstein_norm", "a": A, "b": B})
        compare("wasserstein normed", r["value"], ev.wasserstein_norm(ra, rb), STAT_REL, label)
        r = drv.ask({"op": "psi", "a": A, "b": B})
        compare("psi", r["value"], ev.psi(ra, rb), STAT_REL, label)
        r = drv.ask({"op": "jensenshannon", "a": A, "b": B})
        compare("jensenshannon", r["value"], ev.jensenshannon(ra, rb), STAT_REL, label)
        if len(set(a) | set(b)) <= 50 and len(set(a) | set(b)) >= 2:
            r = drv.ask({"op": "chisquare", "a": A, "b": B})
            stat, p = ev.chisquare(ra, rb)
            compare("chisquare statistic", r["statistic"], stat, STAT_REL, label)
            compare("chisquare p-value", r["p_value"], p, P_REL, label)


def check_categories(drv, rng):
    labels = np.array(["basic", "pro", "enterprise", "trial", "legacy"])
    for n1, n2, k1, k2 in [(10, 12, 2, 3), (200, 150, 3, 3), (5000, 6000, 4, 5), (40, 40, 5, 2)]:
        a = labels[rng.integers(0, k1, n1)].tolist()
        b = labels[rng.integers(0, k2, n2)].tolist()
        ra, rb = pd.Series(a), pd.Series(b)
        ctx = f"categories {n1}x{n2}"
        r = drv.ask({"op": "psi", "categories": True, "a": a, "b": b})
        compare("psi (categories)", r["value"], ev.psi(ra, rb, numeric=False), STAT_REL, ctx)
        r = drv.ask({"op": "jensenshannon", "categories": True, "a": a, "b": b})
        compare("jensenshannon (categories)", r["value"], ev.jensenshannon(ra, rb, numeric=False),
                STAT_REL, ctx)
        r = drv.ask({"op": "chisquare", "categories": True, "a": a, "b": b})
        stat, p = ev.chisquare(ra, rb)
        compare("chisquare statistic (categories)", r["statistic"], stat, STAT_REL, ctx)
        compare("chisquare p-value (categories)", r["p_value"], p, P_REL, ctx)


def check_distributions(drv, rng):
    for _ in range(400):
        n = int(rng.choice([1, 2, 7, 50, 140, 141, 1000, 10**4, 10**5, 100001, 5 * 10**5,
                            int(rng.integers(1, 3 * 10**5))]))
        d = float(np.sqrt(rng.uniform(0.01, 30.0) / n)) if rng.random() < 0.8 else float(rng.random())
        d = min(d, 0.999999)
        r = drv.ask({"op": "kstwo", "d": d, "n": n})
        compare("kstwo.sf", r["sf"], stats.kstwo.sf(d, n), P_REL, f"n={n} d={d!r}")
    for _ in range(40):
        n = int(rng.choice([2, 10, 100, 1012, 1013, 20000, 200000]))
        d = float(np.sqrt(rng.uniform(0.5, 40.0) / n))
        if d < 1:
            r = drv.ask({"op": "smirnov", "n": n, "d": d})
            compare("smirnov", r["sf"], special.smirnov(n, d), P_REL, f"n={n} d={d!r}")


def check_metrics(drv, rng):
    for n in [2, 3, 10, 100, 1000, 50000]:
        y = rng.integers(0, 2, n).astype(float)
        p = rng.integers(0, 2, n).astype(float)
        score = np.round(rng.random(n), 2)  # ties
        score[: max(1, n // 10)] = rng.choice([0.0, 1.0], max(1, n // 10))  # eps clipping
        reg_y, reg_p = rng.normal(size=n) * 10, rng.normal(size=n) * 10
        ref = {
            "accuracy": lambda: metrics.accuracy_score(y, p),
            "precision": lambda: metrics.precision_score(y, p, zero_division=0),
            "recall": lambda: metrics.recall_score(y, p, zero_division=0),
            "f1": lambda: metrics.f1_score(y, p, zero_division=0),
            "auc": lambda: metrics.roc_auc_score(y, score),
            "log_loss": lambda: metrics.log_loss(y, score),
            "rmse": lambda: metrics.mean_squared_error(reg_y, reg_p, squared=False),
            "mae": lambda: metrics.mean_absolute_error(reg_y, reg_p),
            "r2": lambda: metrics.r2_score(reg_y, reg_p),
        }
        for name, f in ref.items():
            if name in ("auc", "log_loss"):
                yy, pp = y, score
            elif name in ("rmse", "mae", "r2"):
                yy, pp = reg_y, reg_p
            else:
                yy, pp = y, p
            try:
                want = f()
            except ValueError:
                want = None
            r = drv.ask({"op": "metric", "name": name, "y": enc(yy), "p": enc(pp)})
            if want is None:
                counts[name] = counts.get(name, 0) + 1
                if "error" not in r:
                    misses.append(f"{name}: sklearn raised, we answered {r} (n={n})")
            elif "error" in r:
                misses.append(f"{name}: {r['error']} where sklearn gives {want!r} (n={n})")
            else:
                compare(name, r["value"], want, STAT_REL, f"n={n}")


def check_hostile(drv):
    """What the library decides where SciPy has no answer: printed, not compared."""
    cases = [
        ("empty current", [1.0, 2.0], [], "ks"),
        ("all-null reference", [None, None], [1.0], "auto"),
        ("NaN and inf left out", [1.0, None, "inf", 2.0, 3.0], [1.5, "-inf", 2.5], "ks"),
        ("constant, wasserstein", [3.0] * 10, [3.0] * 5, "wasserstein"),
        ("constant, chisquare", [3.0] * 10, [3.0] * 5, "chisquare"),
        ("unseen value", [1.0, 2.0, 1.0], [1.0, 2.0, 9.0], "chisquare"),
        ("single values", [1.0], [2.0], "auto"),
    ]
    print("hostile inputs (the library's decisions):")
    for label, a, b, method in cases:
        r = drv.ask({"op": "drift", "a": a, "b": b, "method": method})
        print(f"  {label:24} -> {json.dumps(r)}")


def main():
    drv = Driver(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20240607
    rng = np.random.default_rng(seed)
    check_pairs(drv, rng)
    check_categories(drv, rng)
    check_distributions(drv, rng)
    check_metrics(drv, rng)
    check_hostile(drv)
    print(f"seed {seed}; worst relative difference per kind (tolerance: statistics "
          f"{STAT_REL:g}, p-values {P_REL:g}):")
    for kind in sorted(counts):
        w = worst.get(kind)
        print(f"  {kind:34} {counts[kind]:5} checks   worst {'-' if w is None else f'{w:.2e}'}")
    if misses:
        print(f"{len(misses)} misses:")
        for m in misses[:40]:
            print("  " + m)
        sys.exit(1)
    print("all agree")


if __name__ == "__main__":
    main()
