/**
 * The reward of one batch evaluation and its hard gates (R-TUNER-REWARD and its reward helper).
 *
 *   L̂ = min(p95_latency / T_l, 2)          T_l = thresholds.p95_latency_ms
 *   Ĉ = min(cost_usd / C_ref, 2)           C_ref = cost_ref (USD per request)
 *   r = α·F + β·R − γ·L̂ − δ·Ĉ − λ·P
 *
 * P adds, for each event in this batch:
 *   gate_breach       (1.0) F < thresholds.faithfulness or R < thresholds.relevancy (R-TUNER-REWARD helper)
 *   slo_breach        (1.0) p95 > thresholds.p95_latency_ms or error_rate ≥ thresholds.error_rate.
 *                           Not in R-TUNER-REWARD's formula, which only lists these as hard gates; a reward
 *                           that ignored them would let a policy trade gate breaches for quality.
 *                           Set it to 0 for the literal seed formula.
 *   instability       (0.5) the per-query score std (max of F and R) above thresholds.instability_std
 *   policy_violation  (1.0) any answer flagged (policy_violation_rate > 0)
 *
 * Gates (hard, R-TUNER-GATES): F ≥ 0.75, R ≥ 0.75, p95 ≤ 500 ms, error rate < 1%. `gates.passed` is their
 * conjunction; a policy "has no gate violations" when every batch passes.
 */
import type { Penalties, RewardWeights, Thresholds } from './config';
import type { Evaluation } from './types';

export interface RewardSettings {
  thresholds: Thresholds;
  reward_weights: RewardWeights;
  penalties: Penalties;
  cost_ref: number;
}

export interface GateResults {
  faithfulness: boolean;
  relevancy: boolean;
  p95_latency: boolean;
  error_rate: boolean;
  /** All four gates pass. */
  passed: boolean;
}

export interface RewardResult {
  reward: number;
  /** Normalised, capped latency L̂ and cost Ĉ. */
  latencyHat: number;
  costHat: number;
  /** P: the sum of the penalties that fired (before λ). */
  penalty: number;
  /** Which penalties fired, each with its amount (0 when it did not). */
  penalties: { gate_breach: number; slo_breach: number; instability: number; policy_violation: number };
  gates: GateResults;
}

/** Latency and cost are normalised by their targets and capped at this (R-TUNER-REWARD). */
export const NORMALISED_CAP = 2.0;

function check(field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`evaluation.${field} must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
}

/** Checks an evaluation's fields are in range; throws naming the first bad one. */
export function validateEvaluation(e: Evaluation): void {
  check('faithfulness', e.faithfulness, 0, 1);
  check('relevancy', e.relevancy, 0, 1);
  if (e.latency_ms === null || typeof e.latency_ms !== 'object') {
    throw new Error(`evaluation.latency_ms must be {p50, p95} in milliseconds, got ${JSON.stringify(e.latency_ms)}`);
  }
  check('latency_ms.p50', e.latency_ms.p50, 0, Infinity);
  check('latency_ms.p95', e.latency_ms.p95, 0, Infinity);
  check('cost_usd', e.cost_usd, 0, Infinity);
  check('error_rate', e.error_rate, 0, 1);
  check('faithfulness_std', e.faithfulness_std, 0, Infinity);
  check('relevancy_std', e.relevancy_std, 0, Infinity);
  check('policy_violation_rate', e.policy_violation_rate, 0, 1);
}

/** The four hard gates of R-TUNER-GATES. */
export function evaluateGates(e: Evaluation, t: Thresholds): GateResults {
  const gates = {
    faithfulness: e.faithfulness >= t.faithfulness,
    relevancy: e.relevancy >= t.relevancy,
    p95_latency: e.latency_ms.p95 <= t.p95_latency_ms,
    error_rate: e.error_rate < t.error_rate,
  };
  return { ...gates, passed: gates.faithfulness && gates.relevancy && gates.p95_latency && gates.error_rate };
}

/** r = αF + βR − γL̂ − δĈ − λP for one batch, with its gates. */
export function computeReward(e: Evaluation, s: RewardSettings): RewardResult {
  validateEvaluation(e);
  const { alpha, beta, gamma, delta, lambda } = s.reward_weights;
  const latencyHat = Math.min(e.latency_ms.p95 / s.thresholds.p95_latency_ms, NORMALISED_CAP);
  const costHat = Math.min(e.cost_usd / s.cost_ref, NORMALISED_CAP);
  const gates = evaluateGates(e, s.thresholds);
  const scoreStd = Math.max(e.faithfulness_std ?? 0, e.relevancy_std ?? 0);
  const penalties = {
    gate_breach: gates.faithfulness && gates.relevancy ? 0 : s.penalties.gate_breach,
    slo_breach: gates.p95_latency && gates.error_rate ? 0 : s.penalties.slo_breach,
    instability: scoreStd > s.thresholds.instability_std ? s.penalties.instability : 0,
    policy_violation: (e.policy_violation_rate ?? 0) > 0 ? s.penalties.policy_violation : 0,
  };
  const penalty = penalties.gate_breach + penalties.slo_breach + penalties.instability + penalties.policy_violation;
  const reward = alpha * e.faithfulness + beta * e.relevancy - gamma * latencyHat - delta * costHat - lambda * penalty;
  return { reward, latencyHat, costHat, penalty, penalties, gates };
}
