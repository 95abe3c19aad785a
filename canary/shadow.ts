/**
 * The Shadow stage's check. Mirrored decisions (arm `shadow`, written by the inference server for
 * every champion-served request, `metadata.mirrorOf` = the served decision) have no rewards of their
 * own: their action was never served. So the stage does not compare rewards; it judges what
 * mirroring provides:
 *
 *   samples        mirrored decisions of this version in the window; none → missingData, fewer than
 *                  shadow.minSamples → inconclusive
 *   errors         `shadow.ejected` audit rows for this version (the server dropped it: load failure or
 *                  run-time error) → breach (roll back now)
 *   latency_p95_ms p95 of the shadow model's own scoring time, judged by the plan's latency_p95_ms gate
 *   shadow_agreement  share of mirrored decisions whose action equals the served action (reported)
 *   shadow_ips_delta  IPS estimate of the shadow policy's reward minus the champion's mean reward, from
 *                  the champion rows' rewards: mean(r · 1[a_shadow = a_served] / p_served) − mean(r)
 *                  (the shadow's greedy action has π_e = 1; unbiased only when the champion explores,
 *                  p_served < 1; reported, never gating; null until minSamples rewarded pairs)
 *
 * Pass: enough samples, no error, latency within its gate. Pure: the activity reads the numbers.
 */
import type { CheckResult, MetricValue } from './status';
import type { CanaryPlan } from './plan';

export interface ShadowStats {
  /** Mirrored decisions of the shadow version in the window. */
  mirrored: number;
  /** Share of mirrored decisions whose action equals the served one (null when none). */
  agreement: number | null;
  /** p95 of the shadow model's scoring time, ms (null when none). */
  latencyP95Ms: number | null;
  /** Rewarded served decisions that have a mirror, with the IPS sums. */
  rewarded: { n: number; championMean: number | null; ips: number | null };
  /** Why the server dropped this shadow (one line per `shadow.ejected` audit row). */
  incidents: string[];
}

export function evaluateShadow(stats: ShadowStats, look: { decisionLook: number; minSamples: number }, plan: CanaryPlan, window: { from: string; to: string }, at: string): CheckResult {
  const gate = plan.metrics.find((m) => m.name === 'latency_p95_ms');
  const range: { min?: number; max?: number } = { ...(gate?.min !== undefined ? { min: gate.min } : {}), ...(gate?.max !== undefined ? { max: gate.max } : {}) };
  const latencyOk = stats.latencyP95Ms === null || ((range.min === undefined || stats.latencyP95Ms >= range.min) && (range.max === undefined || stats.latencyP95Ms <= range.max));
  const ipsDelta = stats.rewarded.n >= look.minSamples && stats.rewarded.ips !== null && stats.rewarded.championMean !== null ? stats.rewarded.ips - stats.rewarded.championMean : null;
  const metrics: MetricValue[] = [
    { name: 'latency_p95_ms', value: stats.latencyP95Ms, ...range, ok: latencyOk, source: 'shadow model scoring time' },
    { name: 'shadow_agreement', value: stats.agreement, ok: true, source: 'mirrored action = served action' },
    { name: 'shadow_ips_delta', value: ipsDelta, ok: true, source: `IPS on ${stats.rewarded.n} rewarded champion decisions` },
  ];
  const base = { at, window, samples: { champion: stats.mirrored, canary: stats.mirrored }, metrics, delta: null, burnRate: [], decisionLook: look.decisionLook > 0 };
  if (stats.incidents.length > 0) return { ...base, outcome: 'fail', breach: true, reasons: stats.incidents };
  if (stats.mirrored === 0) return { ...base, outcome: 'inconclusive', breach: false, reasons: ['no mirrored shadow decisions in the window'], missingData: true };
  if (!latencyOk) return { ...base, outcome: 'fail', breach: false, reasons: [`latency_p95_ms ${stats.latencyP95Ms!.toFixed(2)} outside ${JSON.stringify(range)} (shadow model scoring time)`] };
  if (stats.mirrored < look.minSamples) {
    return { ...base, outcome: 'inconclusive', breach: false, reasons: [`too few mirrored decisions: ${stats.mirrored} (shadow.minSamples ${look.minSamples})`] };
  }
  return { ...base, outcome: 'pass', breach: false, reasons: [] };
}
