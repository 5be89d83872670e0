#!/usr/bin/python3
"""The data of bench/monitor: seeded reference and current CSV files (numpy, fixed seeds).

    /usr/bin/python3 bench/monitor_gen.py mixed ROWS DIR    # DIR/mixed-reference.csv, -current.csv
    /usr/bin/python3 bench/monitor_gen.py wide ROWS COLS DIR  # DIR/wide-reference.csv, -current.csv

`mixed`: 20 columns shaped like a churn table: 13 numeric (floats with many unique values,
integers with many, with some and with at most five, one with missing values, one written to
full precision), 6 categorical strings (3 to 50 categories, one with missing values) and a
boolean. The current data drifts on 8 of them (DRIFTED), each well past its threshold, and on
one (temperature) by less than the threshold, so that no verdict hangs on a rounding.

`wide`: COLS columns c000…, every tenth one categorical (5 to 19 categories), the rest floats
(and every seventh an integer); every fifth column drifts.

Each column has its own generator, seeded by (seed, side, column), so a column's values do not
depend on the others or on the number of columns.
"""

import os
import sys

import numpy as np
import pandas as pd

SEED = 20240611
DRIFTED = ["income", "balance", "sessions", "rating", "latency_ms", "plan", "country", "active"]


def rng(side, k):
    return np.random.default_rng([SEED, side, k])


def mixed(n, side):
    """side 0: reference, 1: current (drifted)."""
    cur = side == 1
    g = [rng(side, k) for k in range(20)]
    cities = [f"city_{i:02d}" for i in range(50)]
    zipf = 1.0 / np.arange(1, 51)
    countries = ["de", "fr", "us", "uk", "jp", "br", "in", "ng", "au", "ca"]
    p_country = np.array([.2, .15, .15, .1, .1, .08, .08, .06, .04, .04])
    if cur:
        p_country = np.array([.1, .1, .25, .15, .05, .08, .12, .06, .05, .04])
    channels = np.array(["web", "app", "email", "partner", "store", "phone"], dtype=object)
    channel = channels[g[17].integers(0, 6, n)]
    channel[g[17].random(n) < 0.05] = None
    discount = np.round(g[10].uniform(0, 0.5, n), 3)
    discount[g[10].random(n) < 0.10] = np.nan
    d = {
        "age": g[0].integers(18, 91, n),
        "income": np.round(g[1].lognormal(10.65 if cur else 10.5, 0.6, n), 2),
        "score": np.round(g[2].normal(50, 10, n), 3),
        "balance": np.round(g[3].normal(1075 if cur else 1000, 250, n), 2),
        "tenure": g[4].integers(0, 121, n),
        "sessions": g[5].poisson(4 if cur else 3, n),
        "rating": g[6].choice(np.arange(1, 6), n, p=[.15, .2, .25, .25, .15] if cur
                              else [.05, .1, .25, .35, .25]),
        "children": g[7].choice(4, n, p=[.4, .3, .2, .1]),
        "ratio": np.round(g[8].random(n), 4),
        "latency_ms": np.round(g[9].exponential(150 if cur else 120, n), 1),
        "discount": discount,
        "temperature": np.round(g[11].normal(20.25 if cur else 20, 5, n), 2),
        "amount": g[12].normal(100, 15, n),  # written to 17 digits
        "plan": np.array(["basic", "pro", "enterprise"])[
            g[13].choice(3, n, p=[.4, .35, .25] if cur else [.6, .3, .1])],
        "region": np.array(["north", "south", "east", "west"])[g[14].integers(0, 4, n)],
        "device": np.array(["ios", "android", "web"])[g[15].choice(3, n, p=[.4, .4, .2])],
        "country": np.array(countries)[g[16].choice(10, n, p=p_country)],
        "channel": channel,
        "city": np.array(cities)[g[18].choice(50, n, p=zipf / zipf.sum())],
        "active": np.where(g[19].random(n) < (0.5 if cur else 0.7), "true", "false"),
    }
    return pd.DataFrame(d)


def wide(n, cols, side):
    cur = side == 1
    d = {}
    for k in range(cols):
        g = rng(side, 1000 + k)
        drift = cur and k % 5 == 0
        if k % 10 == 0:
            m = 5 + k % 15
            p = np.linspace(1, 2, m)
            if drift:
                p = p[::-1] ** 2
            d[f"c{k:03d}"] = np.array([f"k{i}" for i in range(m)])[g.choice(m, n, p=p / p.sum())]
        elif k % 7 == 0:
            d[f"c{k:03d}"] = g.poisson(20 + (4 if drift else 0), n)
        else:
            mu = (k % 13) * 10
            sd = 1 + k % 4
            d[f"c{k:03d}"] = np.round(g.normal(mu + (0.4 * sd if drift else 0), sd, n), 3)
    return pd.DataFrame(d)


def main():
    kind = sys.argv[1]
    if kind == "mixed":
        n, out = int(sys.argv[2]), sys.argv[3]
        frames = [mixed(n, s) for s in (0, 1)]
    elif kind == "wide":
        n, cols, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        frames = [wide(n, cols, s) for s in (0, 1)]
    else:
        sys.exit(f"monitor_gen.py: unknown kind '{kind}'")
    for side, f in zip(("reference", "current"), frames):
        f.to_csv(f"{out}/{kind}-{side}.csv.part", index=False)
        os.replace(f"{out}/{kind}-{side}.csv.part", f"{out}/{kind}-{side}.csv")


if __name__ == "__main__":
    main()
