/**
 * Cumulative reward and an empirical regret estimate from a bandit's per-arm statistics (pure).
 *
 *   μ̂_a = Σr_a / n_a,   μ̂* = max_a μ̂_a (arms with n_a > 0)
 *   regret ≈ Σ_a n_a · (μ̂* − μ̂_a)        (pseudo-regret against the best single arm)
 *   regretRatio = regret / (N · μ̂*)       (R-ONLINE-REGRET: "< 10% cumulative regret vs optimal", when μ̂* > 0)
 *
 * Against the best *fixed* arm: for a contextual learner the optimal policy may beat every fixed arm,
 * so this under-states its regret; it is the estimate the logged statistics support without a model.
 */
import type { RegretEstimate } from '../../contracts/bandit-snapshot';
import type { ArmStats } from '../../ml/bandits';

export type { RegretEstimate };

export function regretEstimate(arms: readonly ArmStats[]): RegretEstimate {
  let rounds = 0;
  let cumulativeReward = 0;
  let bestArm = -1;
  let bestArmMean = -Infinity;
  arms.forEach((a, i) => {
    rounds += a.n;
    cumulativeReward += a.rSum;
    if (a.n > 0 && a.rSum / a.n > bestArmMean) {
      bestArmMean = a.rSum / a.n;
      bestArm = i;
    }
  });
  if (rounds === 0) return { rounds: 0, cumulativeReward: 0, meanReward: 0, bestArm: -1, bestArmMean: 0, regret: 0, regretRatio: 0 };
  let regret = 0;
  for (const a of arms) if (a.n > 0) regret += a.n * (bestArmMean - a.rSum / a.n);
  const optimal = rounds * bestArmMean;
  return { rounds, cumulativeReward, meanReward: cumulativeReward / rounds, bestArm, bestArmMean, regret, regretRatio: optimal > 0 ? regret / optimal : 0 };
}
