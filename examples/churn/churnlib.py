"""Shared code for the churn example: CSV loading, model scoring and metrics.

Imported by train.py and evaluate.py. Standard library only.
"""
import csv
import json
import math

NUMERIC = ["age", "tenure_months", "monthly_fee", "support_calls"]
NULLABLE = {"monthly_fee"}  # missing values are imputed with the train mean
CATEGORY = ["plan", "region"]
BOOL = ["autopay"]
TARGET = "churned"
FORMAT = "mloop-logreg/1"
EPS = 1e-15


class DataError(Exception):
    """A missing file or a malformed row; the message names file and row."""


def parse_bool(text):
    value = text.strip().lower()
    if value in ("true", "1"):
        return 1
    if value in ("false", "0"):
        return 0
    raise ValueError(f"expected true/false, got {text!r}")


def parse_number(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"expected a number, got {text!r}")
    return value


def parse_row(fields, index):
    row = {}
    for name in NUMERIC + CATEGORY + BOOL + [TARGET]:
        text = fields[index[name]].strip()
        try:
            if name in NUMERIC:
                if text == "" and name in NULLABLE:
                    row[name] = None
                else:
                    row[name] = parse_number(text)
            elif name in CATEGORY:
                if text == "":
                    raise ValueError("empty value")
                row[name] = text
            else:
                row[name] = parse_bool(text)
        except ValueError as e:
            msg = str(e) if text else "empty value"
            raise ValueError(f"column {name!r}: {msg}") from None
    return row


def load_rows(path):
    """Read a churn CSV into a list of dicts of parsed feature values."""
    needed = NUMERIC + CATEGORY + BOOL + [TARGET]
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path}: file is empty (expected a header row)")
            missing = [c for c in needed if c not in header]
            if missing:
                raise DataError(f"{path}: missing column(s): {', '.join(missing)}")
            index = {name: header.index(name) for name in needed}
            rows = []
            for fields in reader:
                if not fields:
                    continue  # blank line
                where = f"{path}: row {len(rows) + 1} (line {reader.line_num})"
                if len(fields) != len(header):
                    raise DataError(f"{where}: expected {len(header)} fields, "
                                    f"got {len(fields)}")
                try:
                    rows.append(parse_row(fields, index))
                except ValueError as e:
                    raise DataError(f"{where}: {e}") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: unreadable CSV: {e}") from None
    if not rows:
        raise DataError(f"{path}: no data rows")
    return rows


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def read_json_object(path):
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    except ValueError as e:
        raise DataError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a JSON object")
    return obj


def load_model(path):
    model = read_json_object(path)
    if model.get("format") != FORMAT:
        raise DataError(f"{path}: not a {FORMAT} model")
    return model


def score(model, row):
    """Churn probability of one parsed row under a mloop-logreg/1 model."""
    z = model["bias"]
    for feat in model["features"]:
        value = row[feat["name"]]
        if feat["kind"] == "numeric":
            if value is None:
                value = feat["fill"]
            z += feat["weight"] * (value - feat["mean"]) / feat["std"]
        elif feat["kind"] == "category":
            z += feat["weights"].get(value, 0.0)  # unseen category contributes 0
        else:
            z += feat["weight"] * value
    return sigmoid(z)


def log_loss(labels, probs):
    total = 0.0
    for y, p in zip(labels, probs):
        p = min(max(p, EPS), 1.0 - EPS)
        total -= math.log(p) if y else math.log(1.0 - p)
    return total / len(labels)


def auc(labels, probs):
    """ROC AUC via the Mann-Whitney U statistic, tied scores get average ranks."""
    order = sorted(range(len(probs)), key=probs.__getitem__)
    ranks = [0.0] * len(probs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and probs[order[j + 1]] == probs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        raise DataError("AUC is undefined: the labels contain only one class")
    rank_sum = sum(r for r, y in zip(ranks, labels) if y)
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def metrics(labels, probs, threshold=0.5):
    """Classification metrics; precision/recall/f1 are 0 when undefined."""
    pred = [1 if p >= threshold else 0 for p in probs]
    tp = sum(1 for y, q in zip(labels, pred) if y and q)
    fp = sum(1 for y, q in zip(labels, pred) if not y and q)
    fn = sum(1 for y, q in zip(labels, pred) if y and not q)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result = {"auc": auc(labels, probs), "log_loss": log_loss(labels, probs),
              "accuracy": sum(1 for y, q in zip(labels, pred) if y == q) / len(labels),
              "f1": f1, "precision": precision, "recall": recall}
    return {k: round(v, 6) for k, v in result.items()}


def evaluate(model, rows):
    """Score parsed rows with a model and return the metrics dict."""
    labels = [row[TARGET] for row in rows]
    probs = [score(model, row) for row in rows]
    return metrics(labels, probs, model.get("threshold", 0.5))


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
