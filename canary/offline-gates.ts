/**
 * Offline gates: the evidence a trained version needs before a canary may start (only
 * promote improvements with evidence; R-SCOPE, R-TUNER-SUCCESS). A training workflow evaluates its candidate on held-out episodes
 * against the static baseline, then asks `offlineGateVerdict`; a failing version is registered as
 * `rejected` with the reasons and no canary starts, unless the run was started with `force` (audited).
 *
 * The reward gate uses the paired bootstrap interval of (policy − baseline) mean reward per step over the
 * same held-out episodes (common random numbers): it passes when the interval's lower bound is above
 * `minRewardDelta` (default 0: better than the baseline with 1 − alpha confidence). The quality gate is
 * seed 002's hard gates (faithfulness, relevancy, p95 latency, error rate): the share of held-out steps
 * where one failed must not exceed `maxGateViolationRate` (default 0: R-TUNER-SUCCESS's "no constraint
 * violations").
 */

export interface OfflineGateSettings {
  /** The lower bound of the reward-delta interval must exceed this (reward per step). Default 0. */
  minRewardDelta: number;
  /** Most held-out steps with a failed hard gate, as a share of steps. Default 0. */
  maxGateViolationRate: number;
}

export const DEFAULT_OFFLINE_GATES: OfflineGateSettings = { minRewardDelta: 0, maxGateViolationRate: 0 };

export interface RewardDeltaInterval {
  /** mean(policy) − mean(baseline), reward per step. */
  value: number;
  lower: number;
  upper: number;
  /** The interval covers 1 − alpha. */
  alpha: number;
  episodes: number;
}

export interface OfflineGateCheck {
  name: 'reward_delta_lower' | 'gate_violation_rate';
  value: number;
  threshold: number;
  passed: boolean;
}

export interface OfflineGateVerdict {
  passed: boolean;
  checks: OfflineGateCheck[];
  /** One sentence per failed check (empty when passed). */
  reasons: string[];
}

export function resolveOfflineGates(partial: Partial<OfflineGateSettings> | undefined): OfflineGateSettings {
  const s = { ...DEFAULT_OFFLINE_GATES, ...(partial ?? {}) };
  if (!Number.isFinite(s.minRewardDelta)) throw new RangeError(`gates.minRewardDelta must be a finite number, got ${s.minRewardDelta}`);
  if (!(s.maxGateViolationRate >= 0 && s.maxGateViolationRate <= 1)) throw new RangeError(`gates.maxGateViolationRate must be in [0, 1], got ${s.maxGateViolationRate}`);
  return s;
}

export function offlineGateVerdict(
  evidence: { rewardDelta: RewardDeltaInterval; gateViolations: number; steps: number },
  settings: OfflineGateSettings,
): OfflineGateVerdict {
  const { rewardDelta: d } = evidence;
  const rate = evidence.gateViolations / Math.max(1, evidence.steps);
  const checks: OfflineGateCheck[] = [
    { name: 'reward_delta_lower', value: d.lower, threshold: settings.minRewardDelta, passed: d.lower > settings.minRewardDelta },
    { name: 'gate_violation_rate', value: rate, threshold: settings.maxGateViolationRate, passed: rate <= settings.maxGateViolationRate },
  ];
  const reasons: string[] = [];
  const pct = Math.round((1 - d.alpha) * 100);
  if (!checks[0].passed) {
    reasons.push(
      `held-out reward vs baseline: Δ = ${d.value.toPrecision(4)} per step, ${pct}% CI [${d.lower.toPrecision(4)}, ${d.upper.toPrecision(4)}] over ${d.episodes} episodes; its lower bound must exceed ${settings.minRewardDelta}`,
    );
  }
  if (!checks[1].passed) {
    reasons.push(`quality gates failed on ${evidence.gateViolations} of ${evidence.steps} held-out steps (${(rate * 100).toFixed(2)}%); at most ${(settings.maxGateViolationRate * 100).toFixed(2)}% allowed`);
  }
  return { passed: reasons.length === 0, checks, reasons };
}
