"""Runs Open Bandit Pipeline's seven estimators on an NDJSON file of logged rounds (one JSON object per
line with OBP's names: reward, action, pscore, action_dist, estimated_rewards_by_reg_model) and prints
one JSON object: each estimator's point estimate and bootstrap interval, and the seconds spent
reading the file and estimating. Used only by bench/ope-peers.ts (run with .venv-obp's python,
built by scripts/obp-venv.sh); never by the project's tests.

    .venv-obp/bin/python bench/ope-peers.py FILE LAMBDA N_BOOTSTRAP
"""
import json
import sys
import time

import numpy as np
from obp.ope.estimators import (
    DirectMethod,
    DoublyRobust,
    DoublyRobustWithShrinkage,
    InverseProbabilityWeighting,
    SelfNormalizedDoublyRobust,
    SelfNormalizedInverseProbabilityWeighting,
    SwitchDoublyRobust,
)

path, lam, n_boot = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
reward, action, pscore, dist, q = [], [], [], [], []
with open(path) as f:
    for line in f:
        d = json.loads(line)
        reward.append(d["reward"])
        action.append(d["action"])
        pscore.append(d["pscore"])
        dist.append(d["action_dist"])
        q.append(d["estimated_rewards_by_reg_model"])
kw = dict(
    reward=np.asarray(reward, dtype=float),
    action=np.asarray(action, dtype=int),
    pscore=np.asarray(pscore, dtype=float),
    action_dist=np.asarray(dist, dtype=float)[:, :, None],
    estimated_rewards_by_reg_model=np.asarray(q, dtype=float)[:, :, None],
)
del reward, action, pscore, dist, q
load_s = time.perf_counter() - t0

estimators = {
    "ipw": InverseProbabilityWeighting(),
    "snipw": SelfNormalizedInverseProbabilityWeighting(),
    "dm": DirectMethod(),
    "dr": DoublyRobust(),
    "sndr": SelfNormalizedDoublyRobust(),
    "switch-dr": SwitchDoublyRobust(lambda_=lam),
    "dr-os": DoublyRobustWithShrinkage(lambda_=lam),
}
t1 = time.perf_counter()
out = {}
for name, est in estimators.items():
    ci = est.estimate_interval(alpha=0.05, n_bootstrap_samples=n_boot, random_state=0, **kw)
    lo = [v for k, v in ci.items() if "lower" in k][0]
    hi = [v for k, v in ci.items() if "upper" in k][0]
    out[name] = {"value": float(est.estimate_policy_value(**kw)), "lower": float(lo), "upper": float(hi)}
estimate_s = time.perf_counter() - t1
print(json.dumps({"estimates": out, "load_s": load_s, "estimate_s": estimate_s}))
