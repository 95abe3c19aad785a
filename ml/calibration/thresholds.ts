/**
 * Calibration checks: a report breaches a threshold when its metric is past the bound (Flagger's
 * `thresholdRange` read as max/min). A check needs `minPairs` pairs; an undefined correlation (a
 * constant prediction or outcome) fails a `min…Correlation` bound: the KPI cannot be shown.
 */
import type { CalibrationReport } from './metrics';

export interface CalibrationThresholds {
  /** Pairs a window needs before it is checked (default 100). */
  minPairs?: number;
  /** Bins of the reliability table (default 10). */
  bins?: number;
  maxEce?: number;
  maxBrier?: number;
  maxLogLoss?: number;
  /** Pearson r of predicted vs realised per decision (seed 001's KPI: > 0.7). */
  minCorrelation?: number;
  /** Count-weighted r of the reliability table's bins (predicted levels vs realised ones). */
  minBinnedCorrelation?: number;
}

const BOUNDS = ['maxEce', 'maxBrier', 'maxLogLoss', 'minCorrelation', 'minBinnedCorrelation'] as const;

/** Checks the thresholds' fields; the message names the field, the value and what was expected. */
export function checkCalibrationThresholds(t: unknown, where: string): CalibrationThresholds {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new Error(`${where} must be an object { maxEce?, maxBrier?, maxLogLoss?, minCorrelation?, minBinnedCorrelation?, minPairs?, bins? }, got ${JSON.stringify(t)}`);
  const o = t as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(BOUNDS as readonly string[]).includes(k) && k !== 'minPairs' && k !== 'bins') throw new Error(`${where}.${k}: no such threshold (known: ${[...BOUNDS, 'minPairs', 'bins'].join(', ')})`);
  for (const k of BOUNDS) {
    const v = o[k];
    if (v === undefined) continue;
    const corr = k.startsWith('min');
    if (typeof v !== 'number' || !Number.isFinite(v) || (corr ? v < -1 || v > 1 : v < 0)) throw new Error(`${where}.${k} must be ${corr ? 'a number in [-1, 1]' : 'a finite number >= 0'}, got ${JSON.stringify(v)}`);
  }
  for (const k of ['minPairs', 'bins'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'bins' ? 1 : 2) || (k === 'bins' && v > 1000))) throw new Error(`${where}.${k} must be an integer ${k === 'bins' ? 'in [1, 1000]' : '>= 2'}, got ${JSON.stringify(v)}`);
  }
  return o as CalibrationThresholds;
}

/** The breaches of `t` by `r`, one sentence each, prefixed by `label` (e.g. the model). */
export function calibrationBreaches(r: CalibrationReport, t: CalibrationThresholds, label: string): string[] {
  const minPairs = t.minPairs ?? 100;
  if (r.n < minPairs) return [];
  const out: string[] = [];
  const f = (v: number) => v.toFixed(3);
  const max = (name: string, v: number | null, bound: number | undefined) => {
    if (bound === undefined) return;
    if (v === null) out.push(`${label}: ${name} undefined over ${r.n} pairs (a prediction or outcome outside [0, 1]), expected <= ${bound}`);
    else if (v > bound) out.push(`${label}: ${name} ${f(v)} > ${bound} over ${r.n} pairs`);
  };
  const min = (name: string, v: number | null, bound: number | undefined) => {
    if (bound === undefined) return;
    if (v === null) out.push(`${label}: ${name} undefined over ${r.n} pairs (constant predictions or outcomes), expected >= ${bound}`);
    else if (v < bound) out.push(`${label}: ${name} ${f(v)} < ${bound} over ${r.n} pairs`);
  };
  max('ECE', r.ece, t.maxEce);
  max('Brier', r.brier, t.maxBrier);
  max('log loss', r.logLoss, t.maxLogLoss);
  min('correlation', r.correlation, t.minCorrelation);
  min('binned correlation', r.binnedCorrelation, t.minBinnedCorrelation);
  return out;
}
