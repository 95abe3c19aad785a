"""Trains the quality predictor (UC10): a LightGBM classifier of "this LLM response will be low quality"
from request and model features, exported to ONNX with onnxmltools (convert_lightgbm, zipmap off).

    python train_lgbm.py --out DIR [--seed 7] [--train 20000] [--heldout 4000] [--trees 150]
                         [--leaves 15] [--learning-rate 0.08] [--shift 0]

Writes into DIR:
  model.onnx      input `features` float32 [n, F] → `label` int64 [n], `probabilities` float32 [n, 2]
  predictor.json  the feature schema the server encodes requests with (names, numeric/categorical, codes)
  heldout.json    the held-out rows (as request feature objects and as the encoded matrix), LightGBM's
                  probability of class 1 (low quality), onnxruntime's, and their max |diff|
and prints one JSON line: the parity figure, held-out log loss / Brier / AUC against the base-rate
baseline, and the file names.

The data comes from a seeded simulator of LLM responses (simulate below): prompt length, task category,
model tier, retrieval k, sampling temperature and the model's recent latency, with a non-linear ground
truth (tier x task interaction, long prompts hurting small models, a U-shaped retrieval depth, high
temperature and overloaded providers). `--shift` adds a constant to the ground-truth logit: a different
world, used to train a second, distinguishable version.

Every continuous feature is drawn on a grid that float32 represents exactly (whole milliseconds and
tokens, temperature in 1/64 steps): the ONNX tree ensemble compares float32 inputs against float32
thresholds while LightGBM compares doubles, so a value that float32 rounds could land on the other
side of a split.
"""

import argparse
import json
import os
import sys

import numpy as np

TASKS = ["chat", "code", "math", "summarise", "extract", "reasoning"]
TIERS = ["small", "medium", "large"]
FEATURES = [
    {"name": "prompt_tokens", "type": "numeric", "min": 1, "max": 32000},
    {"name": "task", "type": "categorical", "categories": TASKS},
    {"name": "model_tier", "type": "categorical", "categories": TIERS},
    {"name": "retrieval_k", "type": "numeric", "min": 0, "max": 50},
    {"name": "temperature", "type": "numeric", "min": 0, "max": 2},
    {"name": "model_latency_ms", "type": "numeric", "min": 0, "max": 120000},
]

TASK_DIFFICULTY = np.array([-0.5, 0.4, 0.8, -0.2, -0.4, 0.6])
TIER_EFFECT = np.array([1.0, 0.0, -1.0])
NEEDS_RETRIEVAL = np.array([0, 0, 0, 1, 1, 0])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def simulate(rng, n, shift=0.0):
    """n simulated responses: the encoded feature matrix X (codes for categories) and the 0/1 labels."""
    tokens = np.clip(np.round(np.exp(rng.normal(6.3, 1.1, n))), 1, 32000)
    task = rng.integers(0, len(TASKS), n)
    tier = rng.choice(len(TIERS), n, p=[0.45, 0.35, 0.20])
    k = rng.integers(0, 21, n)
    temperature = np.round(rng.uniform(0, 1.5, n) * 64) / 64
    latency = np.round(np.exp(rng.normal(7.0, 0.6, n)) * (1 + 0.8 * (tier == 2)))
    small = (tier == 0).astype(float)
    hard = np.isin(task, [2, 5]).astype(float)
    logit = (
        -1.3
        + shift
        + TIER_EFFECT[tier]
        + TASK_DIFFICULTY[task]
        + 1.1 * small * hard
        + (0.5 + 1.0 * small) * sigmoid(2.0 * (np.log(tokens) - np.log(3000)))
        + NEEDS_RETRIEVAL[task] * np.where(k == 0, 0.9, 0.0)
        + np.where(k > 12, 0.05 * (k - 12), 0.0)
        - 0.3 * ((k >= 3) & (k <= 8))
        + 1.2 * np.maximum(0.0, temperature - 0.9)
        + 0.7 * (latency > 3000)
    )
    y = (rng.uniform(0, 1, n) < sigmoid(logit)).astype(int)
    X = np.column_stack([tokens, task, tier, k, temperature, latency]).astype(np.float64)
    assert np.array_equal(X.astype(np.float32).astype(np.float64), X), "features must be float32-exact"
    return X, y


def as_request(row):
    """An encoded row back as the request's feature object (categories by name)."""
    out = {}
    for f, v in zip(FEATURES, row):
        if f["type"] == "categorical":
            out[f["name"]] = f["categories"][int(v)]
        else:
            out[f["name"]] = int(v) if float(v).is_integer() else float(v)
    return out


def auc(y, p):
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    # ties share their mean rank
    _, inv, counts = np.unique(p, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / counts)[inv]
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def log_loss(y, p):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--train", type=int, default=20000)
    ap.add_argument("--heldout", type=int, default=4000)
    ap.add_argument("--trees", type=int, default=150)
    ap.add_argument("--leaves", type=int, default=15)
    ap.add_argument("--learning-rate", type=float, default=0.08)
    ap.add_argument("--shift", type=float, default=0.0)
    a = ap.parse_args(argv)
    for name, v, lo in (("--train", a.train, 100), ("--heldout", a.heldout, 10), ("--trees", a.trees, 1), ("--leaves", a.leaves, 2)):
        if v < lo:
            raise SystemExit(f"{name}: got {v}, expected an integer >= {lo}")
    if not 0 < a.learning_rate <= 1:
        raise SystemExit(f"--learning-rate: got {a.learning_rate}, expected a number in (0, 1]")

    import lightgbm as lgb
    import onnxmltools
    import onnxruntime as ort
    from onnxmltools.convert.common.data_types import FloatTensorType

    rng = np.random.default_rng(a.seed)
    X, y = simulate(rng, a.train, a.shift)
    Xh, yh = simulate(rng, a.heldout, a.shift)

    clf = lgb.LGBMClassifier(
        n_estimators=a.trees,
        num_leaves=a.leaves,
        learning_rate=a.learning_rate,
        min_child_samples=40,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.9,
        random_state=a.seed,
        deterministic=True,
        force_row_wise=True,
        n_jobs=1,
        verbose=-1,
    )
    clf.fit(X, y)
    p_lgbm = clf.predict_proba(Xh)[:, 1]

    onx = onnxmltools.convert_lightgbm(
        clf,
        name="quality_predictor",
        initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
        zipmap=False,
        target_opset=15,
    )
    os.makedirs(a.out, exist_ok=True)
    model_path = os.path.join(a.out, "model.onnx")
    with open(model_path, "wb") as f:
        f.write(onx.SerializeToString())

    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    outputs = [o.name for o in sess.get_outputs()]
    if "probabilities" not in outputs:
        raise SystemExit(f"model.onnx: outputs {outputs}, expected one named probabilities")
    p_ort = sess.run(["probabilities"], {"features": Xh.astype(np.float32)})[0][:, 1].astype(np.float64)
    max_diff = float(np.max(np.abs(p_ort - p_lgbm)))

    base = float(y.mean())
    signature = {
        "predictor": {
            "input": "features",
            "output": "probabilities",
            "positiveClass": 1,
            "target": "low_quality",
            "features": FEATURES,
        }
    }
    with open(os.path.join(a.out, "predictor.json"), "w") as f:
        json.dump(signature, f, indent=2)
    with open(os.path.join(a.out, "heldout.json"), "w") as f:
        json.dump(
            {
                "rows": [as_request(r) for r in Xh],
                "matrix": Xh.tolist(),
                "labels": yh.tolist(),
                "lightgbm": p_lgbm.tolist(),
                "onnxruntime": p_ort.tolist(),
                "maxAbsDiff": max_diff,
            },
            f,
        )
    report = {
        "model": "model.onnx",
        "signature": "predictor.json",
        "heldout": "heldout.json",
        "rows": {"train": a.train, "heldout": a.heldout},
        "trees": int(clf.booster_.num_trees()),
        "lightgbm": lgb.__version__,
        "onnxmltools": onnxmltools.__version__,
        "onnxruntime": ort.__version__,
        "parity": {"maxAbsDiff": max_diff, "rows": a.heldout},
        "metrics": {
            "heldout_log_loss": log_loss(yh, p_lgbm),
            "heldout_log_loss_base_rate": log_loss(yh, np.full(len(yh), base)),
            "heldout_brier": float(np.mean((p_lgbm - yh) ** 2)),
            "heldout_auc": auc(yh, p_lgbm),
            "heldout_positive_rate": float(yh.mean()),
            "train_positive_rate": base,
        },
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
