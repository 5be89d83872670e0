#!/usr/bin/env python3
"""Generate the synthetic customer-churn data set for the mloop example.

Writes <out>/train.csv, <out>/eval.csv and <out>/production.csv. train and eval
share one distribution; production is deliberately drifted (younger customers,
higher fees, more support calls, more basic plans, more customers in the west,
slightly more autopay, more recent signups). Labels in every file come from the
same logistic model. Output is byte-identical for a given --seed.
"""
import argparse
import csv
import math
import os
import random
from datetime import datetime, timedelta, timezone

COLUMNS = ["customer_id", "signup", "age", "tenure_months", "monthly_fee",
           "support_calls", "plan", "region", "autopay", "email", "churned"]
PLANS = ["basic", "pro", "enterprise"]
REGIONS = ["north", "south", "east", "west"]
BASE_FEE = {"basic": 29.0, "pro": 59.0, "enterprise": 119.0}
PLAN_EFFECT = {"basic": 0.7, "pro": 0.0, "enterprise": -0.9}
FIRST = ["anna", "ben", "carla", "david", "eva", "felix", "grace", "hugo", "ines",
         "jonas", "kim", "lena", "marco", "nina", "oscar", "paula", "quentin",
         "rosa", "sam", "tara", "umar", "vera", "will", "yara", "zoe"]
LAST = ["meyer", "smith", "garcia", "kowalski", "nguyen", "rossi", "silva", "khan",
        "novak", "larsen", "dubois", "tanaka", "okafor", "jansen", "costa", "weber"]
START = datetime(2019, 1, 1, tzinfo=timezone.utc)
END = datetime(2025, 1, 1, tzinfo=timezone.utc)  # exclusive

# Per-file distribution settings: train/eval are identical, production drifts.
BASE = {"age": (44.0, 13.0), "tenure_mean": 30.0, "fee_scale": 1.0, "calls": 1.8,
        "plans": [0.45, 0.35, 0.20], "regions": [0.30, 0.25, 0.25, 0.20],
        "autopay": 0.60, "signup_from": START}
DRIFT = dict(BASE, age=(33.0, 10.0), fee_scale=1.5, calls=2.4,
             plans=[0.65, 0.25, 0.10], regions=[0.15, 0.20, 0.25, 0.40],
             autopay=0.65, signup_from=datetime(2022, 1, 1, tzinfo=timezone.utc))


def gauss(rng, mu, sigma):
    """Box-Muller normal draw using only rng.random() (stable across versions)."""
    u1, u2 = rng.random(), rng.random()
    radius = math.sqrt(-2.0 * math.log(1.0 - u1))
    return mu + sigma * radius * math.cos(2.0 * math.pi * u2)


def poisson(rng, lam):
    """Knuth's Poisson sampler."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def pick(rng, items, weights):
    """Weighted choice using a single rng.random() draw."""
    u, acc = rng.random() * sum(weights), 0.0
    for item, w in zip(items, weights):
        acc += w
        if u < acc:
            return item
    return items[-1]


def churn_probability(age, tenure, fee, calls, plan, autopay):
    """The ground-truth logistic model shared by all three files."""
    z = (-1.0 - 0.06 * tenure + 0.6 * calls + 0.012 * fee + PLAN_EFFECT[plan]
         - 1.4 * autopay - 0.015 * (age - 44))
    return 1.0 / (1.0 + math.exp(-z))


def make_row(rng, prefix, n, cfg):
    age = min(90, max(18, round(gauss(rng, *cfg["age"]))))
    tenure = min(120, int(-cfg["tenure_mean"] * math.log(1.0 - rng.random())))
    plan = pick(rng, PLANS, cfg["plans"])
    fee = max(0.0, BASE_FEE[plan] * cfg["fee_scale"] * (1.0 + gauss(rng, 0.0, 0.15)))
    fee = round(fee, 2)
    calls = min(20, poisson(rng, cfg["calls"]))
    region = pick(rng, REGIONS, cfg["regions"])
    autopay = 1 if rng.random() < cfg["autopay"] else 0
    span = int((END - cfg["signup_from"]).total_seconds())
    signup = cfg["signup_from"] + timedelta(seconds=int(rng.random() * span))
    email = "%s.%s%d@example.com" % (FIRST[int(rng.random() * len(FIRST))],
                                     LAST[int(rng.random() * len(LAST))],
                                     int(rng.random() * 100))
    churned = rng.random() < churn_probability(age, tenure, fee, calls, plan, autopay)
    fee_text = "" if rng.random() < 0.005 else f"{fee:.2f}"
    return [f"{prefix}{n:06d}", signup.strftime("%Y-%m-%dT%H:%M:%SZ"), age, tenure,
            fee_text, calls, plan, region, "true" if autopay else "false", email,
            "true" if churned else "false"]


def write_file(path, seed, name, prefix, rows, cfg):
    rng = random.Random(f"mloop-churn:{seed}:{name}")  # str seeds hash with SHA-512
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for n in range(1, rows + 1):
            writer.writerow(make_row(rng, prefix, n, cfg))
    print(f"wrote {path} ({rows} rows)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default="data", help="output directory (default: data)")
    ap.add_argument("--train-rows", type=int, default=4000)
    ap.add_argument("--eval-rows", type=int, default=1000)
    ap.add_argument("--production-rows", type=int, default=1000)
    args = ap.parse_args()
    for flag in ("train_rows", "eval_rows", "production_rows"):
        if getattr(args, flag) < 1:
            ap.error(f"--{flag.replace('_', '-')} must be at least 1")
    os.makedirs(args.out, exist_ok=True)
    write_file(os.path.join(args.out, "train.csv"), args.seed, "train", "C",
               args.train_rows, BASE)
    write_file(os.path.join(args.out, "eval.csv"), args.seed, "eval", "E",
               args.eval_rows, BASE)
    write_file(os.path.join(args.out, "production.csv"), args.seed, "production", "P",
               args.production_rows, DRIFT)


if __name__ == "__main__":
    main()
