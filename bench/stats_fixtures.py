#!/usr/bin/python3
"""Expected values for tests/unit/test_stats_*.cpp, computed once with SciPy, scikit-learn and
Evidently's definitions, and committed as tests/fixtures/stats/*.json.

    /usr/bin/python3 bench/stats_fixtures.py    # Debian's python3-scipy, -sklearn, -pandas

Samples are written inline when small. Larger ones are described by a generator both sides
compute bit for bit (a 64-bit LCG giving u = k * 2**-53, then floor(u * levels) when levels > 0,
then * scale + shift: every step is one correctly rounded IEEE operation), so the fixtures cover
the asymptotic regime of ks_2samp without megabytes of numbers.
"""

import json
import math
import os
import sys

import numpy as np
import pandas as pd
import scipy
import sklearn
from scipy import special, stats
from scipy.spatial import distance
from sklearn import metrics

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "stats")
MASK = (1 << 64) - 1


def lcg(seed, n, levels=0, scale=1.0, shift=0.0):
    state = seed & MASK
    out = np.empty(n)
    for i in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        u = (state >> 11) * 2.0**-53
        if levels:
            u = float(math.floor(u * levels))
        out[i] = u * scale + shift
    return out


def sample(spec):
    """A sample given inline (a list) or as a generator spec (a dict)."""
    if isinstance(spec, dict):
        return lcg(spec["seed"], spec["n"], spec.get("levels", 0), spec.get("scale", 1.0),
                   spec.get("shift", 0.0))
    return np.array([np.nan if v is None else v for v in spec], dtype=float)


def gen(seed, n, levels=0, scale=1.0, shift=0.0):
    return {"seed": seed, "n": n, "levels": levels, "scale": scale, "shift": shift}


# ---- Evidently's definitions (evidently/calculations/stattests), on cleaned pandas Series ----

def clean(a):
    s = pd.Series(a).replace([-np.inf, np.inf], np.nan).dropna()
    return s


def get_binned_data(reference_data, current_data, numeric, feel_zeroes):
    n_vals = reference_data.nunique()
    if numeric and n_vals > 20:
        bins = np.histogram_bin_edges(pd.concat([reference_data, current_data], axis=0).values,
                                      bins="sturges")
        reference_percents = np.histogram(reference_data, bins)[0] / len(reference_data)
        current_percents = np.histogram(current_data, bins)[0] / len(current_data)
    else:
        keys = list(set(reference_data.dropna().unique()) | set(current_data.dropna().unique()))
        ref_feature_dict = {**dict.fromkeys(keys, 0), **dict(reference_data.value_counts())}
        current_feature_dict = {**dict.fromkeys(keys, 0), **dict(current_data.value_counts())}
        reference_percents = np.array([ref_feature_dict[key] / len(reference_data) for key in keys])
        current_percents = np.array([current_feature_dict[key] / len(current_data) for key in keys])
    if feel_zeroes:
        for p in (reference_percents, current_percents):
            m = min(p[p != 0])
            np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return reference_percents, current_percents


def psi(ref, cur, numeric=True):
    r, c = get_binned_data(ref, cur, numeric, True)
    value = 0
    for i, _ in enumerate(r):
        value += (r[i] - c[i]) * np.log(r[i] / c[i])
    return float(value)


def jensenshannon(ref, cur, numeric=True):
    r, c = get_binned_data(ref, cur, numeric, False)
    return float(distance.jensenshannon(r, c))  # natural log, as SPEC §6 says


def chisquare(ref, cur):
    keys = list(set(ref.dropna().unique()) | set(cur.dropna().unique()))
    ref_d = {**dict.fromkeys(keys, 0), **dict(ref.value_counts())}
    cur_d = {**dict.fromkeys(keys, 0), **dict(cur.value_counts())}
    k_norm = cur.shape[0] / ref.shape[0]
    f_exp = [ref_d[key] * k_norm for key in keys]
    f_obs = [cur_d[key] for key in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = stats.chisquare(f_obs, f_exp)
    return float(r[0]), float(r[1])


def wasserstein_norm(ref, cur):
    norm = max(np.std(ref.values), 0.001)
    return float(stats.wasserstein_distance(ref, cur) / norm)


def num(x):
    """JSON has no inf or NaN: write them as strings the tests read back."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


# ---------------------------------------------------------------------------------------------

def kolmogorov_cases():
    kstwo, smirnov = [], []
    ns = [1, 2, 3, 5, 10, 50, 100, 140, 141, 500, 1000, 1013, 5000, 10000, 50000, 100000,
          100001, 500000, 1000000, 1000001, 2500000]
    nd2 = [0.05, 0.2, 0.5, 0.75, 0.76, 1.0, 1.5, 2.0, 2.19, 2.21, 3.0, 4.0, 4.5, 8.0, 17.0,
           19.0, 50.0, 200.0, 369.0, 371.0]
    for n in ns:
        ds = {min(math.sqrt(v / n), 0.999) for v in nd2}
        ds |= {0.3 / n, 0.5 / n, 0.75 / n, 1.0 / n, 1.5 / n, 0.25, 0.5, 0.6, 0.9, 1 - 1.0 / n}
        for d in sorted(ds):
            if not 0 < d < 1:
                continue
            kstwo.append({"n": n, "d": d, "sf": num(stats.kstwo.sf(d, n))})
            if n <= 1000001:
                smirnov.append({"n": n, "d": d, "sf": num(special.smirnov(n, d))})
    return {"kstwo": kstwo, "smirnov": smirnov}


def ks_cases():
    inline = [
        ([1.0], [2.0]),
        ([1.0], [1.0]),
        ([0.5], [0.1, 0.2, 0.3, 0.9]),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
        ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]),
        ([3.0, 3.0, 3.0], [3.0, 3.0]),
        ([3.0, 3.0, 3.0, 3.0], [4.0, 4.0]),
        ([0.0, 1.0, 1.0, 2.0, 2.0, 2.0], [1.0, 2.0, 2.0, 3.0]),
        ([-0.0, 0.0, 1e-300, -1e300, 1e300], [0.0, 2.0, -3.0]),
        ([1, 5, 2, 8, 3, 9, 4, 7], [6, 10, 11, 12, 2.5]),
    ]
    cases = [{"a": list(a), "b": list(b)} for a, b in inline]
    gens = [
        (gen(1, 30), gen(2, 40)),
        (gen(3, 100), gen(4, 100, shift=0.2)),
        (gen(5, 500, levels=7), gen(6, 300, levels=7)),  # ties
        (gen(7, 999), gen(8, 1000, shift=0.05)),
        (gen(9, 3000), gen(10, 2000, shift=0.03)),
        (gen(11, 10000), gen(12, 10000, shift=0.01)),  # exact, n1 == n2 at the boundary
        (gen(13, 10000), gen(14, 9999, shift=0.02)),  # exact, n1 != n2
        (gen(15, 10001), gen(16, 10000, shift=0.01)),  # asymptotic just past the boundary
        (gen(17, 10001), gen(18, 10001)),  # en = 5000.5: np.round to even
        (gen(19, 20000), gen(20, 5)),
        (gen(21, 20000), gen(22, 15000, shift=0.02)),  # kstwo via smirnov
        (gen(23, 15000), gen(24, 12000, shift=0.001)),  # kstwo via Durbin's matrix
        (gen(25, 200000), gen(26, 150000, shift=0.002)),  # Pelz-Good
        (gen(27, 12000, levels=3), gen(28, 11000, levels=3)),  # heavy ties, asymptotic
        (gen(29, 40), gen(30, 7000, scale=2.0, shift=-0.5)),
    ]
    cases += [{"a": a, "b": b} for a, b in gens]
    for c in cases:
        r = stats.ks_2samp(sample(c["a"]), sample(c["b"]), method="auto")
        c["statistic"] = num(r.statistic)
        c["p_value"] = num(r.pvalue)
    return cases


def distance_cases():
    numeric = [
        (gen(31, 200), gen(32, 300, shift=0.1)),
        (gen(33, 1000, scale=10.0), gen(34, 1000, scale=10.0, shift=1.0)),
        (gen(35, 4000), gen(36, 4192, scale=0.5)),  # 8192 values: log2(n) + 1 is an integer
        (gen(37, 500, levels=15), gen(38, 400, levels=15, shift=0.0)),  # <= 20 values
        (gen(39, 500, levels=10), gen(40, 400, levels=14)),  # values the reference lacks
        (gen(41, 300, levels=21), gen(42, 300, levels=21)),  # 21 values: a histogram
        (gen(43, 2000, levels=4), gen(44, 1500, levels=4, shift=0.5)),
        ([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 5.0]),
        ([2.5] * 10, [2.5] * 3 + [3.5]),  # constant reference: the 0.001 floor
        ([7.0], [7.0]),
        ([7.0], [8.0, 9.0]),
        (gen(45, 3000, scale=1e-3, shift=1e6), gen(46, 3000, scale=1e-3, shift=1e6)),  # big offset
    ]
    cases = []
    for a, b in numeric:
        ra, rb = clean(sample(a)), clean(sample(b))
        c = {"a": a, "b": b}
        c["wasserstein"] = num(stats.wasserstein_distance(ra, rb))
        c["wasserstein_norm"] = num(wasserstein_norm(ra, rb))
        c["psi"] = num(psi(ra, rb))
        c["jensenshannon"] = num(jensenshannon(ra, rb))
        if ra.nunique() > 20:
            c["edges"] = [num(e) for e in np.histogram_bin_edges(
                pd.concat([ra, rb]).values, bins="sturges")]
        if len(set(ra) | set(rb)) >= 2:
            stat, p = chisquare(ra, rb)
            c["chisquare"] = num(stat)
            c["chisquare_p"] = num(p)
        cases.append(c)

    # Categories as runs: [["label", count], ...]
    categorical = [
        ([["a", 1], ["b", 1], ["a", 1], ["c", 1], ["b", 1], ["a", 1]],
         [["a", 1], ["b", 3], ["c", 2]]),
        ([["x", 50], ["y", 30], ["z", 20]], [["x", 40], ["y", 40], ["z", 20]]),
        ([["red", 100], ["green", 100]], [["red", 150], ["green", 49], ["blue", 1]]),  # unseen
        ([["a", 1], ["b", 1]], [["c", 1], ["d", 1]]),
        ([["p", 5000], ["q", 1]], [["p", 4000], ["q", 900], ["r", 100]]),
        ([["only", 3]], [["only", 2]]),  # one category on both sides
    ]
    cat = []
    for a, b in categorical:
        ra = pd.Series([label for label, k in a for _ in range(k)])
        rb = pd.Series([label for label, k in b for _ in range(k)])
        c = {"a": a, "b": b, "psi": num(psi(ra, rb, numeric=False)),
             "jensenshannon": num(jensenshannon(ra, rb, numeric=False))}
        if len(set(ra) | set(rb)) >= 2:
            stat, p = chisquare(ra, rb)
            c["chisquare"] = num(stat)
            c["chisquare_p"] = num(p)
        cat.append(c)
    return {"numeric": cases, "categorical": cat}


def metric_cases():
    def run(y, p, kind):
        y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
        out = {}
        names = {"labels": ["accuracy", "precision", "recall", "f1"],
                 "scores": ["auc", "log_loss"],
                 "regression": ["rmse", "mae", "r2"]}[kind]
        for name in names:
            try:
                if name == "accuracy":
                    v = metrics.accuracy_score(y, p)
                elif name == "precision":
                    v = metrics.precision_score(y, p, zero_division=0)
                elif name == "recall":
                    v = metrics.recall_score(y, p, zero_division=0)
                elif name == "f1":
                    v = metrics.f1_score(y, p, zero_division=0)
                elif name == "auc":
                    v = metrics.roc_auc_score(y, p)
                elif name == "log_loss":
                    v = metrics.log_loss(y, p)
                elif name == "rmse":
                    v = metrics.mean_squared_error(y, p, squared=False)
                elif name == "mae":
                    v = metrics.mean_absolute_error(y, p)
                else:
                    v = metrics.r2_score(y, p)
                out[name] = num(v)
            except ValueError:
                out[name] = "error"
        return out

    def lcg_list(seed, n, levels=0, scale=1.0, shift=0.0):
        return gen(seed, n, levels, scale, shift)

    cases = [
        ("labels", [0, 1, 1, 0, 1, 1, 0, 0], [0, 1, 0, 0, 1, 1, 1, 0]),
        ("labels", [0, 0, 0, 0], [0, 0, 0, 0]),  # no positives: precision 0 (zero_division)
        ("labels", [1, 1, 1], [0, 0, 0]),
        ("labels", [0, 1, 2, 1], [0, 1, 1, 1]),  # multiclass: binary metrics refuse
        ("labels", [2, 3, 2, 3], [2, 3, 3, 3]),  # no class 1
        ("labels", lcg_list(51, 5000, levels=2), lcg_list(52, 5000, levels=2)),
        ("scores", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
        ("scores", [0, 1, 0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5, 0.9, 0.1]),  # ties
        ("scores", [1, 0, 1], [1.0, 0.0, 0.0]),  # clipping at eps
        ("scores", [1, 1, 1], [0.2, 0.3, 0.9]),  # one class
        ("scores", [-1, 1, -1, 1], [0.3, 0.6, 0.2, 0.4]),
        ("scores", lcg_list(53, 4000, levels=2), lcg_list(54, 4000, levels=20, scale=0.05)),
        ("scores", lcg_list(55, 3000, levels=2), lcg_list(56, 3000)),
        ("regression", [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]),
        ("regression", [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]),  # r2: 1 when both sums are 0
        ("regression", [1.0, 1.0, 1.0], [1.0, 2.0, 1.0]),  # r2: 0 on a constant target
        ("regression", [5.0], [4.0]),  # r2 needs two rows
        ("regression", lcg_list(57, 10000, scale=100.0), lcg_list(58, 10000, scale=100.0)),
    ]
    out = []
    for kind, y, p in cases:
        c = {"kind": kind, "y": y, "p": p}
        c.update(run(sample(y), sample(p), kind))
        out.append(c)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    versions = {"scipy": scipy.__version__, "sklearn": sklearn.__version__,
                "numpy": np.__version__, "pandas": pd.__version__}
    files = {
        "kolmogorov.json": kolmogorov_cases,
        "ks.json": lambda: {"cases": ks_cases()},
        "distance.json": distance_cases,
        "metrics.json": lambda: {"cases": metric_cases()},
    }
    only = sys.argv[1:]  # file names to regenerate; all when none
    for name, make in files.items():
        if only and name not in only:
            continue
        content = make()
        content = {"generated_by": "bench/stats_fixtures.py", "versions": versions, **content}
        path = os.path.join(OUT, name)
        with open(path, "w") as f:
            json.dump(content, f, indent=None, separators=(",", ":"))
            f.write("\n")
        print(f"{os.path.relpath(path)}: {os.path.getsize(path)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
