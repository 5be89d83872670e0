#!/usr/bin/env python3
"""Score a CSV with a trained churn model and write RUN_DIR/metrics.json.

Loads MODEL_DIR/model.json (format mloop-logreg/1, written by train.py), scores
every row of the CSV and reports auc, log_loss, accuracy, f1, precision, recall
and rows. Uses the same scoring and metric code as train.py (churnlib.py).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep the project directory free of __pycache__
import churnlib as cl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="directory containing model.json")
    ap.add_argument("--data", required=True, help="CSV to score (must have the label)")
    ap.add_argument("--out", required=True, help="run directory for metrics.json")
    args = ap.parse_args()
    try:
        model = cl.load_model(os.path.join(args.model, "model.json"))
        rows = cl.load_rows(args.data)
        metrics = cl.evaluate(model, rows)
    except cl.DataError as e:
        sys.exit(f"evaluate.py: error: {e}")
    except (KeyError, TypeError, AttributeError) as e:
        sys.exit(f"evaluate.py: error: {os.path.join(args.model, 'model.json')}: "
                 f"malformed model ({e!r})")
    metrics["rows"] = len(rows)
    os.makedirs(args.out, exist_ok=True)
    cl.write_json(os.path.join(args.out, "metrics.json"), metrics)
    print(f"scored {len(rows)} rows from {args.data}: "
          + " ".join(f"{k}={v}" for k, v in metrics.items() if k != "rows"))


if __name__ == "__main__":
    main()
