/**
 * The canary's off-policy evaluation gate: the rule, and the record the status query shows and the
 * registry keeps. Pure; the canary's activity `canaryOpeGate` applies it to the offPolicyEvaluation
 * child workflow's result.
 *
 *   pass  ⇔  rounds ≥ minRounds  ∧  lower(V̂_estimator(canary)) > V̂(champion) − tolerance
 *
 * V̂(champion) is the value of the policy that served the window: the mean logged reward (the champion
 * with its exploration, which is what logged the propensities). The evaluation failing (no logged
 * rounds, an estimator that cannot run on this action space, the candidate unreadable) fails the gate
 * with that reason: no evidence, no traffic.
 */
import type { EstimatorName } from '../ml/ope/estimators';

export interface GateInterval {
  value: number;
  lower: number;
  upper: number;
}

/** The plan's `ope` section, resolved (canary/plan.ts). */
export interface OpeGatePlan {
  enabled: boolean;
  windowMs: number;
  /** null: dr when the candidate's action space allows it, else snipw (the evaluation's own choice). */
  estimator: EstimatorName | null;
  tolerance: number;
  alpha: number;
  nBootstrap: number;
  minRounds: number;
}

/** What the gate reads of the offPolicyEvaluation workflow's result (contracts/off-policy-evaluation.ts). */
export interface OpeEvaluationSummary {
  nRounds: number;
  logging: GateInterval;
  estimates: Partial<Record<EstimatorName, GateInterval>>;
  skippedEstimators: Partial<Record<EstimatorName, string>>;
  gate: { estimator: EstimatorName };
  reportUri: string;
  evaluationId: string;
}

/** The gate's result: in the canary's status (`opeGate`) and as the version's evaluation of kind `canary-ope-gate`. */
export interface OpeGateResult {
  verdict: 'pass' | 'fail';
  /** Why: each failed condition, or on a pass the comparison that passed. */
  reasons: string[];
  /** The estimator read (null: the evaluation failed before choosing one). */
  estimator: EstimatorName | null;
  /** V̂(canary) with that estimator and its (1 − alpha) interval. */
  candidate: GateInterval | null;
  /** The champion's value: the mean logged reward of the window, with its interval. */
  champion: GateInterval | null;
  /** Every estimate the evaluation made (by estimator). */
  estimates: Partial<Record<EstimatorName, GateInterval>>;
  tolerance: number;
  alpha: number;
  minRounds: number;
  rounds: number;
  /** The logged window evaluated (ISO). */
  window: { from: string; to: string };
  /** The offPolicyEvaluation child workflow. */
  workflowId: string;
  reportUri: string | null;
  /** The evaluation row the OPE workflow recorded (kind `ope`), when it finished. */
  opeEvaluationId: string | null;
}

const f = (x: number): string => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(3));

/** Judges the evaluation `result` (or the evaluation's `error`) by the plan's gate. */
export function judgeOpeGate(
  plan: OpeGatePlan,
  evaluation: { result: OpeEvaluationSummary | null; error: string | null; workflowId: string; window: { from: string; to: string } },
): OpeGateResult {
  const base = { tolerance: plan.tolerance, alpha: plan.alpha, minRounds: plan.minRounds, window: evaluation.window, workflowId: evaluation.workflowId };
  const r = evaluation.result;
  if (r === null) {
    return {
      ...base,
      verdict: 'fail',
      reasons: [`off-policy evaluation failed: ${evaluation.error ?? 'no result'}`],
      estimator: plan.estimator,
      candidate: null,
      champion: null,
      estimates: {},
      rounds: 0,
      reportUri: null,
      opeEvaluationId: null,
    };
  }
  const estimates: Partial<Record<EstimatorName, GateInterval>> = {};
  for (const [name, row] of Object.entries(r.estimates) as [EstimatorName, GateInterval][]) estimates[name] = { value: row.value, lower: row.lower, upper: row.upper };
  const estimator = plan.estimator ?? r.gate.estimator;
  const candidate = estimates[estimator] ?? null;
  const champion = { value: r.logging.value, lower: r.logging.lower, upper: r.logging.upper };
  const reasons: string[] = [];
  if (r.nRounds < plan.minRounds) reasons.push(`${r.nRounds} rewarded logged decisions in the window, the gate needs minRounds = ${plan.minRounds}`);
  const bar = champion.value - plan.tolerance;
  const ci = `${Math.round((1 - plan.alpha) * 100)}% CI`;
  if (candidate === null) {
    const why = r.skippedEstimators[estimator];
    reasons.push(`estimator ${estimator} did not run${why ? `: ${why}` : ''}`);
  } else if (!(candidate.lower > bar)) {
    reasons.push(
      `${estimator} estimate of v-candidate ${f(candidate.value)} (${ci} [${f(candidate.lower)}, ${f(candidate.upper)}]): lower bound not above the champion's value ${f(champion.value)} − tolerance ${f(plan.tolerance)} = ${f(bar)}`,
    );
  }
  const verdict = reasons.length === 0 ? 'pass' : 'fail';
  if (verdict === 'pass') {
    reasons.push(`${estimator} lower bound ${f(candidate!.lower)} > champion ${f(champion.value)} − tolerance ${f(plan.tolerance)} = ${f(bar)} on ${r.nRounds} logged decisions`);
  }
  return { ...base, verdict, reasons, estimator, candidate, champion, estimates, rounds: r.nRounds, reportUri: r.reportUri, opeEvaluationId: r.evaluationId };
}
