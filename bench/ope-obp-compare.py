"""Runs Open Bandit Pipeline's estimators on an OPE input file (OBP's snake_case JSON) and prints
their point estimates and bootstrap intervals as JSON. Used only by bench/ope-obp-compare.ts to
compare with ml/ope; never by the project's tests. Needs a Python with `obp` importable: .venv-obp
(scripts/obp-venv.sh), or PYTHONPATH pointing at a checkout of st-tech/zr-obp.

    python bench/ope-obp-compare.py FILE [LAMBDA] [N_BOOTSTRAP]
"""
import json
import sys

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

path = sys.argv[1]
lam = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
n_boot = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
with open(path) as f:
    d = json.load(f)
action_dist = np.asarray(d["action_dist"], dtype=float)
if action_dist.ndim == 2:
    action_dist = action_dist[:, :, None]
q = np.asarray(d["estimated_rewards_by_reg_model"], dtype=float)
if q.ndim == 2:
    q = q[:, :, None]
kw = dict(
    reward=np.asarray(d["reward"], dtype=float),
    action=np.asarray(d["action"], dtype=int),
    pscore=np.asarray(d["pscore"], dtype=float),
    action_dist=action_dist,
    estimated_rewards_by_reg_model=q,
)
estimators = {
    "ipw": InverseProbabilityWeighting(),
    "snipw": SelfNormalizedInverseProbabilityWeighting(),
    "dm": DirectMethod(),
    "dr": DoublyRobust(),
    "sndr": SelfNormalizedDoublyRobust(),
    "switch-dr": SwitchDoublyRobust(lambda_=lam),
    "dr-os": DoublyRobustWithShrinkage(lambda_=lam),
}
out = {}
for name, est in estimators.items():
    ci = est.estimate_interval(alpha=0.05, n_bootstrap_samples=n_boot, random_state=0, **kw)
    lo = [v for k, v in ci.items() if "lower" in k][0]
    hi = [v for k, v in ci.items() if "upper" in k][0]
    out[name] = {"value": float(est.estimate_policy_value(**kw)), "lower": float(lo), "upper": float(hi)}
print(json.dumps(out))
