/**
 * The canary plan: how a new model version is rolled out, in Flagger / Argo Rollouts vocabulary, plus
 * the statistics that decide each step. `configs/canary/default.yaml` spells out every default.
 *
 *   stepWeights      canary traffic share (percent) of each step, strictly increasing, e.g. [5, 25, 50, 100]
 *   interval         bake time of each step: one duration for all, or one per step
 *   checkInterval    how often the gates are checked while a step bakes (the last check ends the bake)
 *   threshold        failed checks before rollback (Flagger's `threshold`)
 *   minSamples       rewarded decisions each arm needs in a check's window; fewer → inconclusive
 *   maxInconclusive  extra checks (each one checkInterval longer) a step may take after its bake when
 *                    the statistics are inconclusive; one more inconclusive result rolls back
 *   shadow           optional stage before any traffic moves: the canary's mirrored decisions (arm
 *                    `shadow`) are compared with the champion's
 *   metrics          gates `{ name, thresholdRange: { min?, max? } }`: error_rate, latency_p95_ms,
 *                    reward_delta (min = −analysis.tolerance), or any reward component (its mean); or
 *                    `{ name, query, interval?, thresholdRange }`: a PromQL query (canary/promql.ts)
 *   analysis         alpha, non-inferiority tolerance, alpha-spending shape, bootstrap resamples, seed
 *   burnRate         multi-window error-budget burn-rate alerts (SRE workbook ch. 5): a breach rolls back at once
 *   webhooks         Flagger's types (confirm-rollout, pre-rollout, rollback, confirm-promotion,
 *                    post-rollout, event), each with url, timeout and metadata
 *   prometheus       url (default: the worker's setting) and timeout of the metric queries
 *   ope              optional gate before any traffic: an offPolicyEvaluation of the canary on the
 *                    champion's logged decisions of the last `window`; it passes when the lower bound
 *                    of the canary's estimate is above the champion's value − tolerance (canary/ope-gate.ts)
 *
 * `resolvePlan` turns the schema's output into the `CanaryPlan` the workflow uses: every duration in
 * milliseconds, one interval per step. Pure (zod only). Checking plan data, YAML text or a plan file
 * with the project's config errors (file, path, line:column, value, expectation) is
 * activities/canary/plan-config.ts's job.
 */
import { z } from 'zod';
import { ESTIMATOR_NAMES } from '../ml/ope/estimators';
import type { OpeGatePlan } from './ope-gate';
import { queryTemplateProblems } from './promql';

export type { OpeGatePlan } from './ope-gate';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_EXPECTED = 'a duration > 0 such as 500ms, 30s, 5m, 24h or 2d';

/** Milliseconds of a duration string (`30s`, `5m`, `24h`, `2d`, `250ms`); throws on anything else. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
  if (!(ms > 0)) throw new Error(`duration: got ${JSON.stringify(text)}, expected ${DURATION_EXPECTED}`);
  return Math.round(ms);
}

/** `90000` → `1m30s`; used in status lines and history. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let s = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.join('');
}

function isDuration(text: string): boolean {
  const m = DURATION.exec(text.trim());
  return m !== null && Number(m[1]) * UNIT_MS[m[2]] >= 0.5;
}

const duration = z.string().refine(isDuration, { error: DURATION_EXPECTED });

const thresholdRange = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((r) => r.min !== undefined || r.max !== undefined, { error: 'at least one of min, max' })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { error: 'min <= max' });

export const BUILTIN_METRICS = ['error_rate', 'latency_p95_ms', 'reward_delta'] as const;

const httpUrl = z.string().refine((u) => /^https?:\/\/[^\s/]+/.test(u), { error: 'an http:// or https:// URL' });

const metric = z.strictObject({
  /** error_rate | latency_p95_ms | reward_delta | the name of a reward component (e.g. faithfulness) | any name with a query. */
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, { error: 'a metric name: error_rate, latency_p95_ms, reward_delta or a reward component name' }),
  thresholdRange,
  /** PromQL (Flagger's MetricTemplate query) with {{ deployment }}, {{ arm }}, {{ version }}, {{ interval }}; canary/promql.ts. */
  query: z.string().optional(),
  /** The {{ interval }} of the query (default: checkInterval). Only with a query. */
  interval: duration.optional(),
});

/**
 * Flagger's webhook types, with its semantics (canary/tick.ts and the workflow carry them out):
 *   confirm-rollout    before anything reaches the canary; the rollout waits (phase Waiting) and asks again every checkInterval until a 2xx
 *   pre-rollout        before the canary's first traffic; a non-2xx is a failed check, asked again every checkInterval; threshold failures roll back
 *   rollback           asked before every check while the canary runs or waits; a 2xx rolls back at once (a gate a person or a system trips)
 *   confirm-promotion  before the promotion; it waits (phase WaitingPromotion, checks still run) and asks again every checkInterval until a 2xx
 *   post-rollout       told after the promotion or the rollback; its answer is only recorded
 *   event              told of every history entry (one POST each); its answer is ignored
 */
export const WEBHOOK_TYPES = ['confirm-rollout', 'pre-rollout', 'rollback', 'confirm-promotion', 'post-rollout', 'event'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

const webhook = z.strictObject({
  type: z.enum(WEBHOOK_TYPES),
  name: z.string().min(1).optional(),
  url: httpUrl,
  timeout: duration.default('10s'),
  /** Sent as the payload's `metadata` (Flagger's webhook metadata). */
  metadata: z.record(z.string(), z.string()).optional(),
});

const burnRateAlert = z.strictObject({
  longWindow: duration,
  shortWindow: duration,
  /** Alert when the budget burns this many times faster than sustainable in BOTH windows. */
  factor: z.number().positive(),
});

export const DEFAULT_STEP_WEIGHTS = [5, 25, 50, 100];

/** The YAML/JSON shape of a canary plan (every field optional; defaults are the runbook of R-CANARY-STEPS). */
export const canaryPlanSchema = z
  .strictObject({
    stepWeights: z.array(z.number().gt(0).max(100)).min(1).default(DEFAULT_STEP_WEIGHTS),
    interval: z.union([duration, z.array(duration).min(1)]).default('24h'),
    checkInterval: duration.default('1h'),
    threshold: z.number().int().min(1).default(2),
    minSamples: z.number().int().min(2).default(200),
    maxInconclusive: z.number().int().min(0).default(6),
    shadow: z
      .strictObject({
        enabled: z.boolean().default(false),
        interval: duration.default('2h'),
        minSamples: z.number().int().min(2).default(200),
        /** What to do when the window has no shadow-logged decisions: skip the stage or fail the canary. */
        onMissingData: z.enum(['skip', 'fail']).default('skip'),
      })
      .prefault({}),
    metrics: z
      .array(metric)
      .default([
        { name: 'error_rate', thresholdRange: { max: 0.01 } },
        { name: 'latency_p95_ms', thresholdRange: { max: 500 } },
        { name: 'reward_delta', thresholdRange: { min: -0.02 } },
        { name: 'faithfulness', thresholdRange: { min: 0.75 } },
        { name: 'relevancy', thresholdRange: { min: 0.75 } },
      ]),
    analysis: z
      .strictObject({
        /** One-sided type-I error over all looks of a step: P(advance | canary worse by tolerance), P(promote | equal). */
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        /** Non-inferiority margin in reward units: a step may advance when delta > −tolerance. */
        tolerance: z.number().min(0).default(0.02),
        spending: z.enum(['obrien-fleming', 'pocock']).default('obrien-fleming'),
        nBootstrap: z.number().int().min(100).max(1_000_000).default(10_000),
        seed: z.number().int().default(0),
      })
      .prefault({}),
    burnRate: z
      .strictObject({
        /** The SLO: fraction of good events (no error, latency ≤ latencyThresholdMs). */
        objective: z.number().gt(0).lt(1).default(0.99),
        latencyThresholdMs: z.number().positive().default(500),
        /** Events the short window needs before its alert can fire. */
        minEvents: z.number().int().min(1).default(50),
        alerts: z.array(burnRateAlert).default([
          { longWindow: '1h', shortWindow: '5m', factor: 14.4 },
          { longWindow: '6h', shortWindow: '30m', factor: 6 },
        ]),
      })
      .prefault({}),
    webhooks: z.array(webhook).default([]),
    /**
     * The off-policy evaluation gate: before the shadow stage or any traffic, the canary is evaluated
     * on the champion's logged decisions of the last `window` (the offPolicyEvaluation workflow, as a
     * child); it must show estimator.lower > champion value − tolerance, else the canary is rejected.
     */
    ope: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** How far back the logged decisions are read (the window ends when the gate starts). */
        window: duration.default('24h'),
        /** The estimator the gate reads (OBP name). Default: dr when the action space allows it, else snipw. */
        estimator: z.enum(ESTIMATOR_NAMES).optional(),
        /** The canary may be this much worse than the champion's logged value (reward units). */
        tolerance: z.number().min(0).default(0.02),
        /** Significance level of the interval (0.05: 95% intervals). */
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        nBootstrap: z.number().int().min(100).max(1_000_000).default(2000),
        /** Rewarded logged decisions the evaluation needs; fewer fail the gate. */
        minRounds: z.number().int().min(1).default(200),
      })
      .prefault({}),
    /** Where metric queries run (default: the worker's AUTOPILOT_PROMETHEUS_URL). */
    prometheus: z
      .strictObject({
        url: httpUrl.optional(),
        timeout: duration.default('10s'),
      })
      .prefault({}),
  })
  .superRefine((p, ctx) => {
    p.stepWeights.forEach((w, i) => {
      if (i > 0 && !(w > p.stepWeights[i - 1])) {
        ctx.addIssue({ code: 'custom', path: ['stepWeights', i], input: w, message: `a weight above the previous step's ${p.stepWeights[i - 1]} (weights strictly increase)` });
      }
    });
    if (!p.stepWeights.some((w) => w < 100)) {
      ctx.addIssue({ code: 'custom', path: ['stepWeights'], input: p.stepWeights, message: 'at least one weight below 100 (the reward delta needs champion traffic in the same window)' });
    }
    if (Array.isArray(p.interval) && p.interval.length !== p.stepWeights.length) {
      ctx.addIssue({ code: 'custom', path: ['interval'], input: p.interval, message: `one duration, or one per step (${p.stepWeights.length} for stepWeights ${JSON.stringify(p.stepWeights)})` });
    }
    const intervals = (Array.isArray(p.interval) ? p.interval : [p.interval]).filter(isDuration);
    if (isDuration(p.checkInterval) && intervals.length) {
      const shortest = Math.min(...intervals.map(parseDuration));
      if (parseDuration(p.checkInterval) > shortest) {
        ctx.addIssue({ code: 'custom', path: ['checkInterval'], input: p.checkInterval, message: `at most the shortest step interval (${formatDuration(shortest)})` });
      }
    }
    const seen = new Set<string>();
    p.metrics.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'name'], input: m.name, message: 'a metric name not already listed' });
      seen.add(m.name);
      const r = m.thresholdRange;
      if (m.query !== undefined) {
        if ((BUILTIN_METRICS as readonly string[]).includes(m.name)) {
          ctx.addIssue({ code: 'custom', path: ['metrics', i, 'name'], input: m.name, message: `a name other than the built-in ${BUILTIN_METRICS.join(', ')} for a metric with a query` });
        }
        const problems = queryTemplateProblems(m.query);
        if (problems.length) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'query'], input: m.query, message: `a PromQL query: ${problems.join('; ')}` });
        return;
      }
      if (m.interval !== undefined) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'interval'], input: m.interval, message: 'no interval on a metric without a query (it is the query\'s {{ interval }})' });
      if (m.name === 'error_rate' && ((r.min !== undefined && (r.min < 0 || r.min > 1)) || (r.max !== undefined && (r.max < 0 || r.max > 1)))) {
        ctx.addIssue({ code: 'custom', path: ['metrics', i, 'thresholdRange'], input: r, message: 'a range inside [0, 1] (error_rate is a fraction)' });
      }
      if (m.name === 'reward_delta') {
        if (r.max !== undefined) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'thresholdRange', 'max'], input: r.max, message: 'no max (a better canary is never a breach)' });
        if (r.min !== undefined && r.min !== -p.analysis.tolerance) {
          ctx.addIssue({
            code: 'custom',
            path: ['metrics', i, 'thresholdRange', 'min'],
            input: r.min,
            message: `-analysis.tolerance (${-p.analysis.tolerance}): the reward delta's lower limit is the non-inferiority margin`,
          });
        }
      }
    });
    p.burnRate.alerts.forEach((a, i) => {
      if (isDuration(a.longWindow) && isDuration(a.shortWindow) && parseDuration(a.shortWindow) >= parseDuration(a.longWindow)) {
        ctx.addIssue({ code: 'custom', path: ['burnRate', 'alerts', i, 'shortWindow'], input: a.shortWindow, message: `a window shorter than longWindow (${a.longWindow})` });
      }
    });
    const types = new Set<string>();
    p.webhooks.forEach((w, i) => {
      if (types.has(w.type)) ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'type'], input: w.type, message: 'one webhook per type' });
      types.add(w.type);
      // The webhook activity's own limit is 10 minutes (workflows/canaryPromotion.ts).
      if (isDuration(w.timeout) && parseDuration(w.timeout) > 300_000) ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'timeout'], input: w.timeout, message: 'at most 5m' });
    });
    // The check activity's own limit is 5 minutes (workflows/canaryPromotion.ts).
    if (isDuration(p.prometheus.timeout) && parseDuration(p.prometheus.timeout) > 120_000) {
      ctx.addIssue({ code: 'custom', path: ['prometheus', 'timeout'], input: p.prometheus.timeout, message: 'at most 2m' });
    }
  });

export type CanaryPlanInput = z.input<typeof canaryPlanSchema>;
export type ParsedPlan = z.output<typeof canaryPlanSchema>;

export interface MetricGate {
  name: string;
  min?: number;
  max?: number;
  /** A Prometheus gate: the PromQL template and its {{ interval }} in ms. */
  query?: string;
  intervalMs?: number;
}

export interface BurnRateAlert {
  longWindowMs: number;
  shortWindowMs: number;
  factor: number;
}

export interface Webhook {
  type: WebhookType;
  name: string;
  url: string;
  timeoutMs: number;
  metadata?: Record<string, string>;
}

/** A validated plan with its defaults, durations in milliseconds: what the workflow runs. */
export interface CanaryPlan {
  stepWeights: number[];
  /** Bake time of each step (same length as stepWeights). */
  intervalsMs: number[];
  checkIntervalMs: number;
  threshold: number;
  minSamples: number;
  maxInconclusive: number;
  shadow: { enabled: boolean; intervalMs: number; minSamples: number; onMissingData: 'skip' | 'fail' };
  metrics: MetricGate[];
  analysis: { alpha: number; tolerance: number; spending: 'obrien-fleming' | 'pocock'; nBootstrap: number; seed: number };
  burnRate: { objective: number; latencyThresholdMs: number; minEvents: number; alerts: BurnRateAlert[] };
  webhooks: Webhook[];
  /** Prometheus for the metric queries: the plan's URL (null: the worker's setting) and the query timeout. */
  prometheus: { url: string | null; timeoutMs: number };
  /** The off-policy evaluation gate (absent in plans resolved before it existed). */
  ope?: OpeGatePlan;
}


/** Schema output → the plan the workflow runs (durations in milliseconds, one interval per step). */
export function resolvePlan(p: ParsedPlan): CanaryPlan {
  const intervals = Array.isArray(p.interval) ? p.interval : p.stepWeights.map(() => p.interval as string);
  return {
    stepWeights: [...p.stepWeights],
    intervalsMs: intervals.map(parseDuration),
    checkIntervalMs: parseDuration(p.checkInterval),
    threshold: p.threshold,
    minSamples: p.minSamples,
    maxInconclusive: p.maxInconclusive,
    shadow: { enabled: p.shadow.enabled, intervalMs: parseDuration(p.shadow.interval), minSamples: p.shadow.minSamples, onMissingData: p.shadow.onMissingData },
    metrics: p.metrics.map((m) => ({
      name: m.name,
      ...m.thresholdRange,
      ...(m.query !== undefined ? { query: m.query, intervalMs: m.interval !== undefined ? parseDuration(m.interval) : parseDuration(p.checkInterval) } : {}),
    })),
    analysis: { ...p.analysis },
    burnRate: {
      objective: p.burnRate.objective,
      latencyThresholdMs: p.burnRate.latencyThresholdMs,
      minEvents: p.burnRate.minEvents,
      alerts: p.burnRate.alerts.map((a) => ({ longWindowMs: parseDuration(a.longWindow), shortWindowMs: parseDuration(a.shortWindow), factor: a.factor })),
    },
    webhooks: p.webhooks.map((w) => ({ type: w.type, name: w.name ?? w.type, url: w.url, timeoutMs: parseDuration(w.timeout), ...(w.metadata ? { metadata: { ...w.metadata } } : {}) })),
    prometheus: { url: p.prometheus.url ?? null, timeoutMs: parseDuration(p.prometheus.timeout) },
    ope: {
      enabled: p.ope.enabled,
      windowMs: parseDuration(p.ope.window),
      estimator: p.ope.estimator ?? null,
      tolerance: p.ope.tolerance,
      alpha: p.ope.alpha,
      nBootstrap: p.ope.nBootstrap,
      minRounds: p.ope.minRounds,
    },
  };
}
