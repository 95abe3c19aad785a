/**
 * The canary gate's arithmetic, pure (no I/O): per-arm summaries of a window's rewarded decisions,
 * the gates of the plan, multi-window burn rates, and the reward delta with its bootstrap interval
 * under Lan–DeMets alpha spending. The activity (`activities.ts`) reads the rows and calls this.
 *
 * Reward delta. Δ = mean(canary reward) − mean(champion reward) over the same window; both arms are
 * served side by side, so the comparison is fair. Its interval is the two-sample percentile bootstrap:
 * each resample redraws the canary's and the champion's rewards independently (with replacement,
 * their own sizes) and takes the difference of the means (Efron & Tibshirani 1993, §16.2).
 *
 * Repeated looks. A step's decision looks (the end of its bake and each extension) form one group-
 * sequential test with information fraction t_i = (bake + (i−1)·checkInterval) / (bake +
 * maxInconclusive·checkInterval) (time-based information, traffic assumed steady). At look i the
 * one-sided boundary c_i from `sequentialBoundary` (O'Brien–Fleming or Pocock spending of `alpha`)
 * gives the nominal level α_i = 1 − Φ(c_i), and the decision uses the bootstrap's α_i and 1 − α_i
 * percentiles as repeated confidence bounds (Jennison & Turnbull 1989). The percentile bootstrap is
 * slightly anti-conservative at the sample sizes of a canary window (its spread uses the plug-in
 * variance, and with 0/1 rewards its tails are lumpy), which let the false-promotion rate of equal
 * canaries drift just above alpha in simulation; so each bound is the more conservative of the
 * bootstrap percentile and the Welch normal bound Δ ∓ c_i·√(s²_c/n_c + s²_h/n_h) (unbiased variances).
 * So:
 *   non-inferiority  lower_i > −tolerance   P(ever advancing | Δ = −tolerance) ≤ alpha
 *   superiority      lower_i > 0            P(ever promoting | Δ = 0) ≤ alpha
 *   harmful          upper_i < −tolerance   a failed check
 * Mid-bake checks use the first decision look's level, for harm only (they cannot advance a step).
 * The plain 95% interval is reported beside it for people.
 */
import { bootstrapMeans, normalQuantile, percentile, sequentialBoundary, type Boundary } from '../ml/stats';
import type { BurnRateResult, CheckResult, Comparison, DeltaResult, MetricValue } from './status';
import { formatDuration, type CanaryPlan } from './plan';

/** What the gates need from one arm's rewarded decisions in the window. */
export interface ArmSummary {
  /** Rewarded decisions. */
  n: number;
  rewards: Float64Array;
  /** Rewards whose components report `error > 0`. */
  errors: number;
  /** Rewards that carry an `error` component at all. */
  errorReported: number;
  /** Latency per decision: the reward component `latency_ms` when reported, else the decision's latency. */
  latencies: Float64Array;
  latencyFromComponents: number;
  /** Sum and count of every reward component (for component gates such as faithfulness). */
  components: Record<string, { sum: number; n: number }>;
}

/** One row as the gate sees it. */
export interface GateRow {
  reward: number;
  components: Record<string, number> | null;
  latencyMs: number | null;
}

/** Accumulates rows page by page (the activity streams the window in chunks). */
export class ArmAccumulator {
  private rewards: number[] = [];
  private latencies: number[] = [];
  private errors = 0;
  private errorReported = 0;
  private latencyFromComponents = 0;
  private components: Record<string, { sum: number; n: number }> = {};

  add(row: GateRow): void {
    this.rewards.push(row.reward);
    const c = row.components;
    if (c) {
      for (const [k, v] of Object.entries(c)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        const acc = (this.components[k] ??= { sum: 0, n: 0 });
        acc.sum += v;
        acc.n += 1;
      }
      if (typeof c.error === 'number') {
        this.errorReported++;
        if (c.error > 0) this.errors++;
      }
    }
    const lat = c && typeof c.latency_ms === 'number' ? c.latency_ms : row.latencyMs;
    if (c && typeof c.latency_ms === 'number') this.latencyFromComponents++;
    if (typeof lat === 'number' && Number.isFinite(lat)) this.latencies.push(lat);
  }

  summary(): ArmSummary {
    return {
      n: this.rewards.length,
      rewards: Float64Array.from(this.rewards),
      errors: this.errors,
      errorReported: this.errorReported,
      latencies: Float64Array.from(this.latencies),
      latencyFromComponents: this.latencyFromComponents,
      components: this.components,
    };
  }
}

export function summarize(rows: GateRow[]): ArmSummary {
  const acc = new ArmAccumulator();
  for (const r of rows) acc.add(r);
  return acc.summary();
}

/** Counts of good and bad events of the canary arm in one burn-rate window. */
export interface BurnWindowCounts {
  longEvents: number;
  longBad: number;
  shortEvents: number;
  shortBad: number;
}

export interface LookContext {
  comparison: Comparison;
  /** Decision look number in the stage (0: mid-bake). */
  decisionLook: number;
  /** Bake of the stage, ms (for the information fractions). */
  bakeMs: number;
  /** Minimum rewarded decisions per arm. */
  minSamples: number;
}

/** Time-based information fractions of decision looks 1..look of a stage. */
export function informationFractions(look: number, bakeMs: number, plan: Pick<CanaryPlan, 'checkIntervalMs' | 'maxInconclusive'>): number[] {
  const horizon = bakeMs + plan.maxInconclusive * plan.checkIntervalMs;
  return Array.from({ length: look }, (_, i) => (bakeMs + i * plan.checkIntervalMs) / horizon);
}

/**
 * The reward delta with its 95% interval and the repeated-confidence bounds of this look. `lookForLevel`
 * ≥ 1 is the decision look whose spent alpha sets the level.
 */
export function rewardDelta(
  canary: Float64Array,
  champion: Float64Array,
  lookForLevel: number,
  ctx: Pick<LookContext, 'comparison' | 'bakeMs' | 'decisionLook'>,
  plan: Pick<CanaryPlan, 'checkIntervalMs' | 'maxInconclusive' | 'analysis'>,
): DeltaResult {
  const { alpha, spending, nBootstrap, seed, tolerance } = plan.analysis;
  const fractions = informationFractions(lookForLevel, ctx.bakeMs, plan);
  const boundary = lookBoundary(fractions, alpha, spending);
  const mc = bootstrapMeans(canary, nBootstrap, seed);
  const mh = bootstrapMeans(champion, nBootstrap, seed + 0x9e3779b1);
  const diffs = new Float64Array(nBootstrap);
  for (let i = 0; i < nBootstrap; i++) diffs[i] = mc[i] - mh[i];
  diffs.sort();
  const estimate = mean(canary) - mean(champion);
  const a = boundary.nominalAlpha;
  const se = Math.sqrt(unbiasedVariance(canary) / canary.length + unbiasedVariance(champion) / champion.length);
  const z = a > 0 ? normalQuantile(1 - a) : Infinity;
  const welchLower = Number.isFinite(se) ? estimate - z * se : -Infinity;
  const welchUpper = Number.isFinite(se) ? estimate + z * se : Infinity;
  return {
    estimate,
    ci95: { lower: percentile(diffs, 0.025), upper: percentile(diffs, 0.975) },
    lower: a > 0 ? Math.min(percentile(diffs, a), welchLower) : -Infinity,
    upper: a > 0 ? Math.max(percentile(diffs, 1 - a), welchUpper) : Infinity,
    look: ctx.decisionLook,
    informationFraction: fractions.at(-1)!,
    nominalAlpha: a,
    comparison: ctx.comparison,
    tolerance,
  };
}

const boundaryCache = new Map<string, Boundary>();

/** The one-sided boundary of the last of `fractions` (memoized: the quadrature is the slow part). */
function lookBoundary(fractions: number[], alpha: number, spending: CanaryPlan['analysis']['spending']): Boundary {
  const key = `${alpha}|${spending}|${fractions.join(',')}`;
  let b = boundaryCache.get(key);
  if (b === undefined) {
    b = sequentialBoundary(fractions, alpha, spending, 1).at(-1)!;
    if (boundaryCache.size > 1000) boundaryCache.clear();
    boundaryCache.set(key, b);
  }
  return b;
}

/** Sample variance with n − 1 in the denominator (NaN below two values). */
function unbiasedVariance(x: Float64Array): number {
  if (x.length < 2) return NaN;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - m) * (x[i] - m);
  return s / (x.length - 1);
}

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length ? s / x.length : NaN;
}

/** The q-quantile of unsorted values (linear interpolation), NaN when empty. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  return percentile(Float64Array.from(values).sort(), q);
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function inRange(value: number, min?: number, max?: number): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

/** Value of one gate metric on the canary arm (reward_delta is judged by the statistics instead). */
export function metricValue(name: string, arm: ArmSummary): { value: number | null; source: string } {
  if (name === 'error_rate') {
    // Rewards without an error component count as successes once any reward reports one.
    return arm.errorReported === 0 ? { value: null, source: 'no reward reports an error component' } : { value: arm.errors / arm.n, source: 'reward component error > 0' };
  }
  if (name === 'latency_p95_ms') {
    if (arm.latencies.length === 0) return { value: null, source: 'no latency in rewards or decisions' };
    return { value: quantile(arm.latencies, 0.95), source: arm.latencyFromComponents * 2 >= arm.n ? 'reward component latency_ms' : 'decision latency_ms' };
  }
  const c = arm.components[name];
  return c && c.n > 0 ? { value: c.sum / c.n, source: `mean of reward component ${name}` } : { value: null, source: `no reward reports component ${name}` };
}

/** Burn rate of one window pair: (bad / events) / (1 − objective); null without events. */
export function burnRates(counts: BurnWindowCounts[], plan: Pick<CanaryPlan, 'burnRate'>): BurnRateResult[] {
  const budget = 1 - plan.burnRate.objective;
  return plan.burnRate.alerts.map((a, i) => {
    const c = counts[i] ?? { longEvents: 0, longBad: 0, shortEvents: 0, shortBad: 0 };
    const longBurn = c.longEvents > 0 ? c.longBad / c.longEvents / budget : null;
    const shortBurn = c.shortEvents > 0 ? c.shortBad / c.shortEvents / budget : null;
    const firing = c.shortEvents >= plan.burnRate.minEvents && longBurn !== null && shortBurn !== null && longBurn > a.factor && shortBurn > a.factor;
    return { longWindowMs: a.longWindowMs, shortWindowMs: a.shortWindowMs, factor: a.factor, longBurn, shortBurn, shortEvents: c.shortEvents, firing };
  });
}

export interface GateInput {
  canary: ArmSummary;
  champion: ArmSummary;
  burn: BurnWindowCounts[];
  /** Breaches seen outside the rows, e.g. "canary ejected by inference:host:8080: run-time error". */
  incidents: string[];
  window: { from: string; to: string };
  /** Shadow stage without any shadow-logged decision. */
  missingData?: boolean;
  at: string;
}

/** Judges one window: pass, fail or inconclusive, with every number and reason. */
export function evaluateGates(input: GateInput, look: LookContext, plan: CanaryPlan): CheckResult {
  const { canary, champion } = input;
  const reasons: string[] = [];
  const burnRate = burnRates(input.burn, plan);
  const base = {
    at: input.at,
    window: input.window,
    samples: { champion: champion.n, canary: canary.n },
    burnRate,
    decisionLook: look.decisionLook > 0,
  };

  // Hard breaches: roll back at once.
  const breaches = [...input.incidents];
  for (const b of burnRate) {
    if (b.firing) {
      breaches.push(`error budget burning ${b.shortBurn!.toFixed(1)}x over ${formatDuration(b.shortWindowMs)} and ${b.longBurn!.toFixed(1)}x over ${formatDuration(b.longWindowMs)} (alert at ${b.factor}x)`);
    }
  }

  // Gates on the canary arm.
  const metrics: MetricValue[] = [];
  const failed: string[] = [];
  const enough = canary.n >= look.minSamples;
  for (const m of plan.metrics) {
    if (m.name === 'reward_delta' || m.query !== undefined) continue; // a query is judged by withQueryGates (./promql.ts)
    const { value, source } = metricValue(m.name, canary);
    const ok = value === null || !enough || inRange(value, m.min, m.max);
    metrics.push({ name: m.name, value, ...(m.min !== undefined ? { min: m.min } : {}), ...(m.max !== undefined ? { max: m.max } : {}), ok, source });
    if (!ok) failed.push(`${m.name} ${fmt(value!)} outside [${m.min ?? '-inf'}, ${m.max ?? 'inf'}] (${source})`);
  }

  // The reward delta.
  let delta: DeltaResult | null = null;
  let statistic: 'pass' | 'fail' | 'inconclusive' = 'pass';
  const needChampion = look.comparison !== 'none';
  const samplesOk = enough && (!needChampion || champion.n >= look.minSamples);
  if (!samplesOk) {
    reasons.push(`too few rewarded decisions: canary ${canary.n}${needChampion ? `, champion ${champion.n}` : ''} (minSamples ${look.minSamples})`);
  } else if (needChampion) {
    delta = rewardDelta(canary.rewards, champion.rewards, Math.max(1, look.decisionLook), look, plan);
    const tol = plan.analysis.tolerance;
    const bounds = `Δ ${fmt(delta.estimate)}, 95% CI [${fmt(delta.ci95.lower)}, ${fmt(delta.ci95.upper)}], look bound [${fmt(delta.lower)}, ${fmt(delta.upper)}] at α ${delta.nominalAlpha.toPrecision(2)}`;
    metrics.push({ name: 'reward_delta', value: delta.estimate, min: -tol, ok: delta.upper >= -tol, source: 'canary − champion mean reward' });
    if (delta.upper < -tol) {
      statistic = 'fail';
      failed.push(`reward worse than the champion by more than ${tol}: ${bounds}`);
    } else if (look.decisionLook > 0) {
      const bar = look.comparison === 'superiority' ? 0 : -tol;
      if (!(delta.lower > bar)) {
        statistic = 'inconclusive';
        reasons.push(`${look.comparison === 'superiority' ? 'improvement (lower bound > 0)' : `non-inferiority (lower bound > ${-tol})`} not shown: ${bounds}`);
      }
    }
  }

  if (breaches.length) {
    return { ...base, outcome: 'fail', breach: true, reasons: [...breaches, ...failed, ...reasons], metrics, delta, missingData: input.missingData };
  }
  if (failed.length || statistic === 'fail') {
    return { ...base, outcome: 'fail', breach: false, reasons: [...failed, ...reasons], metrics, delta, missingData: input.missingData };
  }
  const outcome = samplesOk && statistic === 'pass' ? 'pass' : 'inconclusive';
  return { ...base, outcome, breach: false, reasons, metrics, delta, missingData: input.missingData };
}
