/**
 * The canary's vocabulary, shared by the workflow, its activities, the CLI and the tests: Flagger's
 * phases and status record, and the result of one check (Argo Rollouts' pass / fail / inconclusive).
 * Pure types and constants: imported by workflow code. The workflow's input, signals and activity
 * interface are in contracts/canary.ts.
 */
import type { OpeGateResult } from './ope-gate';

/**
 * Flagger's phases: Waiting (a confirm-rollout webhook has not said yes yet) and WaitingPromotion (all
 * steps passed; a confirm-promotion webhook has not said yes yet, checks go on) included.
 */
export const CANARY_PHASES = ['Initializing', 'Waiting', 'Shadow', 'Progressing', 'WaitingPromotion', 'Promoting', 'Succeeded', 'Failed'] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

export type CheckOutcome = 'pass' | 'fail' | 'inconclusive';

/** What the reward-delta statistics must show at a step's decision look. */
export type Comparison = 'non-inferiority' | 'superiority' | 'none';

export interface MetricValue {
  name: string;
  /** null: not reported in this window (e.g. no reward carries that component). */
  value: number | null;
  min?: number;
  max?: number;
  ok: boolean;
  /** Where the value came from, e.g. `reward component latency_ms` or `decision latency_ms`. */
  source?: string;
}

export interface DeltaResult {
  /** mean(canary reward) − mean(champion reward) in the window. */
  estimate: number;
  /** The plain 95% two-sample percentile bootstrap interval (what people read). */
  ci95: { lower: number; upper: number };
  /** The repeated-confidence bound the decision used: one-sided at this look's spent alpha. */
  lower: number;
  upper: number;
  /** Decision look number within the step (0 for a mid-bake check). */
  look: number;
  informationFraction: number | null;
  nominalAlpha: number;
  comparison: Comparison;
  tolerance: number;
}

export interface BurnRateResult {
  longWindowMs: number;
  shortWindowMs: number;
  factor: number;
  longBurn: number | null;
  shortBurn: number | null;
  shortEvents: number;
  firing: boolean;
}

/** The result of one check of a window (the gate activity's answer). */
export interface CheckResult {
  outcome: CheckOutcome;
  /** Roll back now whatever `threshold` says (burn-rate alert, canary ejected, failed webhook). */
  breach: boolean;
  /** Why: one line per failed gate or missing piece, empty when everything passed. */
  reasons: string[];
  /** Shadow stage: no shadow-logged decisions in the window. */
  missingData?: boolean;
  /** ISO time the check finished (the moment a breach is seen). */
  at: string;
  window: { from: string; to: string };
  samples: { champion: number; canary: number };
  metrics: MetricValue[];
  delta: DeltaResult | null;
  burnRate: BurnRateResult[];
  /** True at and after the end of the step's bake (the statistics may advance the step). */
  decisionLook: boolean;
  /** Set by the workflow: which stage the check belonged to. */
  phase?: CanaryPhase;
  canaryWeight?: number;
}

export interface HistoryEntry {
  /** ISO time (workflow time). */
  at: string;
  event: string;
  detail: string;
}

/** Flagger's canary status, extended: what the `status` query returns. */
export interface CanaryStatus {
  model: string;
  version: number;
  championVersion: number | null;
  phase: CanaryPhase;
  /** Percent of traffic the deployment sends to the canary now. */
  canaryWeight: number;
  /** Index into stepWeights (−1 before traffic moves). */
  stepIndex: number;
  failedChecks: number;
  /** Checks done so far, all stages. */
  iterations: number;
  /** Checks done in the current stage (shadow or step). */
  stepChecks: number;
  /** When the current stage started (ISO, workflow time). */
  stepStartedAt: string | null;
  paused: boolean;
  /** The champion was replaced by the canary (a later abort restores the previous champion). */
  promoted: boolean;
  lastChecks: CheckResult[];
  history: HistoryEntry[];
  /** History entries ever recorded (the list keeps the last HISTORY_KEPT): entry i is number eventSeq − history.length + i. */
  eventSeq: number;
  /** One line on where the canary stands. */
  message: string;
  /** The off-policy evaluation gate's result (plan `ope.enabled`); absent before it ran or without it. */
  opeGate?: OpeGateResult;
}

export const LAST_CHECKS_KEPT = 5;
export const HISTORY_KEPT = 200;
