"""Vowpal Wabbit's FTRL-Proximal and AdaGrad on data sets that ship inside scikit-learn, for the
comparison with ml/online (ml/online/vw-compare.int.test.ts, bench/online-learners.ts).

    .venv-vw/bin/python python/vw_compare.py OUT.json [--passes 10]

Writes one JSON object: per data set the standardised train/test rows exactly as VW saw them (feature j
is VW feature j of namespace f, plus VW's constant), VW's test-set predictions and loss for each
configuration, VW's own training throughput, and a few murmurhash3_32 reference values.
"""
import json
import sys
import time

import numpy as np
import vowpalwabbit
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.utils import murmurhash3_32

CONFIGS = {
    # name: (data set, VW arguments, our learner's settings)
    "ftrl": ("breast_cancer", "--ftrl --ftrl_alpha 0.05 --ftrl_beta 1 --l1 0.5 --l2 1 --loss_function logistic --link logistic",
             {"algorithm": "ftrl", "loss": "logistic", "ftrl": {"alpha": 0.05, "beta": 1, "l1": 0.5, "l2": 1}}),
    "adagrad": ("breast_cancer", "--adaptive -l 0.1 --loss_function logistic --link logistic",
                {"algorithm": "adagrad", "loss": "logistic", "adagrad": {"eta": 0.1, "l2": 0}}),
    "adagrad-squared": ("diabetes", "--adaptive -l 0.1 --loss_function squared",
                        {"algorithm": "adagrad", "loss": "squared", "adagrad": {"eta": 0.1, "l2": 0}}),
    # VW's default update (adaptive + normalized + invariant), for reference only: not the same algorithm.
    "vw-default": ("breast_cancer", "-l 0.1 --loss_function logistic --link logistic", None),
}


def dataset(name):
    data = load_breast_cancer() if name == "breast_cancer" else load_diabetes()
    x, y = data.data.astype(float), data.target.astype(float)
    order = np.random.RandomState(0).permutation(len(y))
    x, y = x[order], y[order]
    cut = int(0.8 * len(y))
    mean, std = x[:cut].mean(0), x[:cut].std(0)
    x = (x - mean) / std
    if name == "diabetes":
        y = (y - y[:cut].mean()) / y[:cut].std()
    x = np.round(x, 6)  # the rows as text: both learners read these exact numbers
    return x[:cut], y[:cut], x[cut:], y[cut:]


def line(row, label, loss):
    lab = ("1" if label > 0.5 else "-1") if loss == "logistic" else repr(float(label))
    return lab + " |f " + " ".join(f"{j}:{v!r}" for j, v in enumerate(row) if v != 0)


def main():
    out_path = sys.argv[1]
    passes = int(sys.argv[sys.argv.index("--passes") + 1]) if "--passes" in sys.argv else 10
    result = {"passes": passes, "vowpalwabbit": vowpalwabbit.__version__, "datasets": {}, "runs": {},
              "murmur3": {s: murmurhash3_32(s, seed=0, positive=True) for s in ["", "hello", "^bias", "country=fr", "héllo wörld"]}}
    for name in ("breast_cancer", "diabetes"):
        xtr, ytr, xte, yte = dataset(name)
        result["datasets"][name] = {"train": {"x": xtr.tolist(), "y": ytr.tolist()}, "test": {"x": xte.tolist(), "y": yte.tolist()}}
    for key, (ds, args, ours) in CONFIGS.items():
        d = result["datasets"][ds]
        loss = "squared" if "squared" in args else "logistic"
        train = [line(r, l, loss) for r, l in zip(d["train"]["x"], d["train"]["y"])]
        test = [line(r, 0, loss) for r in d["test"]["x"]]
        ws = vowpalwabbit.Workspace(f"{args} -b 18 --quiet --holdout_off")
        t0 = time.perf_counter()
        parsed = [ws.parse(s) for s in train]
        t1 = time.perf_counter()
        for _ in range(passes):
            for ex in parsed:
                ws.learn(ex)
        t2 = time.perf_counter()
        for ex in parsed:
            ws.finish_example(ex)
        preds = [float(ws.predict(s)) for s in test]
        ws.finish()
        y = np.array(d["test"]["y"])
        p = np.array(preds)
        if loss == "logistic":
            q = np.clip(p, 1e-15, 1 - 1e-15)
            score = float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
        else:
            score = float(np.mean((p - y) ** 2))
        result["runs"][key] = {"dataset": ds, "vwArgs": args, "ours": ours, "metric": "logLoss" if loss == "logistic" else "mse",
                               "vw": score, "predictions": preds,
                               "vwLearnPerSecond": passes * len(parsed) / (t2 - t1), "vwParseSeconds": t1 - t0}
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
