#!/usr/bin/env python3
"""Train a logistic-regression churn model from scratch (standard library only).

Batch gradient descent on standardized features, L2 penalty of strength 1/C as
in sklearn (minimise C * sum(log loss) + |w|^2 / 2; bias not penalised). Writes
RUN_DIR/model.json and RUN_DIR/metrics.json (on the --eval CSV). Deterministic.
"""
import argparse
import math
import os
import sys
from operator import mul

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep the project directory free of __pycache__
import churnlib as cl  # noqa: E402

DEFAULTS = {"C": 1.0, "max_iter": 200, "learning_rate": 0.5}


def load_params(run_dir):
    """Per param: RUN_DIR/params.json, else MLOOP_PARAM_<NAME>, else default."""
    path = os.path.join(run_dir, "params.json")
    given = cl.read_json_object(path) if os.path.exists(path) else {}
    params = {}
    for name, default in DEFAULTS.items():
        raw = given.get(name, os.environ.get(f"MLOOP_PARAM_{name.upper()}", default))
        try:
            value = -1.0 if isinstance(raw, bool) else float(raw)
        except (TypeError, ValueError):
            value = -1.0
        integral = isinstance(default, int)
        if not 0 < value < math.inf or (integral and not value.is_integer()):
            kind = "a positive integer" if integral else "a number > 0"
            raise cl.DataError(f"param {name}: must be {kind}, got {raw!r}")
        params[name] = int(value) if integral else value
    return params


def design(rows):
    """Model features with train statistics, weight slots, standardized columns."""
    features, slots, cols = [], [], []
    for name in cl.NUMERIC:
        present = [r[name] for r in rows if r[name] is not None]
        if not present:
            raise cl.DataError(f"train data: column {name!r} has no values")
        mean = math.fsum(present) / len(present)
        var = math.fsum((v - mean) ** 2 for v in present) / len(present)
        std = math.sqrt(var) or 1.0
        feat = dict(name=name, kind="numeric", mean=mean, std=std, weight=0.0)
        if name in cl.NULLABLE:
            feat["fill"] = mean
        features.append(feat)
        slots.append((feat, "weight"))
        cols.append([0.0 if r[name] is None else (r[name] - mean) / std for r in rows])
    for name in cl.CATEGORY:
        cats = sorted({r[name] for r in rows})
        feat = {"name": name, "kind": "category", "weights": dict.fromkeys(cats, 0.0)}
        features.append(feat)
        slots.extend((feat["weights"], c) for c in cats)
        cols.extend([1.0 if r[name] == c else 0.0 for r in rows] for c in cats)
    for name in cl.BOOL:
        features.append({"name": name, "kind": "bool", "weight": 0.0})
        slots.append((features[-1], "weight"))
        cols.append([float(r[name]) for r in rows])
    return features, slots, cols


def fit(cols, labels, C, max_iter, learning_rate):
    """Batch gradient descent; math.fsum keeps sums identical on every CPython."""
    n = len(labels)
    w, b, lam = [0.0] * len(cols), 0.0, 1.0 / (C * n)
    for it in range(1, max_iter + 1):
        z = [b] * n
        for wj, col in zip(w, cols):
            z = [zi + wj * xi for zi, xi in zip(z, col)]
        probs = [cl.sigmoid(zi) for zi in z]
        resid = [p - y for p, y in zip(probs, labels)]
        if it == 1 or it % 50 == 0 or it == max_iter:
            loss = cl.log_loss(labels, probs) + lam / 2 * math.fsum(wj * wj for wj in w)
            print(f"iter {it:4d}  train loss {loss:.6f}", flush=True)
        grads = [math.fsum(map(mul, col, resid)) / n + lam * wj
                 for wj, col in zip(w, cols)]
        b -= learning_rate * math.fsum(resid) / n
        w = [wj - learning_rate * g for wj, g in zip(w, grads)]
    return b, w


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="training CSV")
    ap.add_argument("--eval", required=True, help="evaluation CSV")
    ap.add_argument("--out", required=True, help="run directory")
    args = ap.parse_args()
    try:
        params = load_params(args.out)
        train_rows, eval_rows = cl.load_rows(args.data), cl.load_rows(args.eval)
        print(f"training on {len(train_rows)} rows, params "
              + " ".join(f"{k}={v}" for k, v in params.items()))
        features, slots, cols = design(train_rows)
        labels = [r[cl.TARGET] for r in train_rows]
        bias, weights = fit(cols, labels, **params)
        for (holder, key), weight in zip(slots, weights):
            holder[key] = weight
        model = {"format": cl.FORMAT, "target": cl.TARGET, "threshold": 0.5,
                 "bias": bias, "features": features}
        metrics = cl.evaluate(model, eval_rows)
    except cl.DataError as e:
        sys.exit(f"train.py: error: {e}")
    summary = " ".join(f"{k}={v}" for k, v in metrics.items())
    metrics["train_rows"] = len(train_rows)
    os.makedirs(args.out, exist_ok=True)
    cl.write_json(os.path.join(args.out, "model.json"), model)
    cl.write_json(os.path.join(args.out, "metrics.json"), metrics)
    print(f"done: eval rows={len(eval_rows)} {summary}")


if __name__ == "__main__":
    main()
