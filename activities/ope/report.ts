/**
 * The evaluation report in three forms: JSON (everything), CSV (one row per estimator) and an SVG
 * dot-and-whisker plot of the estimates with their intervals against the logging policy's value,
 * written by hand (no plotting library).
 */
import type { EstimateRow, OpeActionSpaceSummary, OpeConfig, OpeGate } from '../../contracts/off-policy-evaluation';
import type { EstimatorName } from '../../ml/ope/estimators';
import type { Interval } from '../../ml/stats/bootstrap';

export const REPORT_FORMAT = 'autopilot.ope-report/v1';

export interface OpeReport {
  format: typeof REPORT_FORMAT;
  workflowId: string;
  candidate: { model: string; version: number; sha256: string };
  deployment: string;
  window: { from: string; to: string };
  config: OpeConfig;
  rounds: { read: number; used: number; skipped: Record<string, number>; chunks: number };
  actionSpace: OpeActionSpaceSummary;
  rewardModel: { kind: 'ridge-per-joint-action'; nFolds: number; alpha: number } | { kind: 'ridge-action-features'; nFolds: number; alpha: number; features: number } | null;
  /** The logging policy's value: the mean logged reward, with its percentile-bootstrap interval. */
  logging: Interval;
  estimates: Partial<Record<EstimatorName, EstimateRow>>;
  /** Estimators asked for but not run, with the reason. */
  skippedEstimators: Partial<Record<EstimatorName, string>>;
  gate: OpeGate;
  /** Importance-weight diagnostics (w_i = π_e(a_i|x_i) / π_b(a_i|x_i)): mean ≈ 1 when the logs support the candidate. */
  weights: {
    mean: number;
    max: number;
    effectiveSampleSize: number;
    /** Mean mass the candidate puts on actions the logging policy could not take (ml/ope/diagnostics.ts). */
    unsupportedMass: number;
    /** From the logged per-head propensities, when every round has them: factored weights' ESS, their agreement with the joint weights, and each head's marginal weights. */
    factored: { effectiveSampleSize: number; maxRelativeDifferenceFromJoint: number; byHead: Record<string, { effectiveSampleSize: number; max: number }> } | null;
  };
  /** Every estimator's warnings (no support, low effective sample size), in words. */
  warnings: string[];
  timing: { estimateSeconds: number };
  /**
   * The estimate activity's process, sampled at each step: resident set, V8 heap + array buffers, and
   * the bytes per round of the compact arrays it holds (the only thing that grows with the window).
   */
  memory: { peakRssBytes: number; peakHeapBytes: number; perRoundBytes: number };
  createdAt: string;
}

const CSV_COLUMNS = ['estimator', 'value', 'lower', 'upper', 'diff_value', 'diff_lower', 'diff_upper', 'gate'] as const;

export function reportCsv(r: OpeReport): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  lines.push(['logging', r.logging.value, r.logging.lower, r.logging.upper, 0, 0, 0, 'false'].join(','));
  for (const [name, e] of Object.entries(r.estimates) as [EstimatorName, EstimateRow][]) {
    lines.push([name, e.value, e.lower, e.upper, e.diff.value, e.diff.lower, e.diff.upper, String(name === r.gate.estimator)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" tick step (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : Number(x.toPrecision(4)).toString();
}

/** Dot-and-whisker plot: the logging policy's value and each estimator's estimate with its (1 − α) interval. */
export function reportSvg(r: OpeReport): string {
  const rows: { label: string; iv: Interval; gate: boolean; logging: boolean }[] = [
    { label: 'logging policy', iv: r.logging, gate: false, logging: true },
    ...(Object.entries(r.estimates) as [EstimatorName, EstimateRow][]).map(([name, e]) => ({ label: name, iv: e as Interval, gate: name === r.gate.estimator, logging: false })),
  ];
  const width = 760, left = 150, right = 40, top = 70, rowH = 30, bottom = 50;
  const height = top + rows.length * rowH + bottom;
  let lo = Infinity, hi = -Infinity;
  for (const { iv } of rows) {
    lo = Math.min(lo, iv.lower, iv.value);
    hi = Math.max(hi, iv.upper, iv.value);
  }
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const padX = (hi - lo) * 0.08;
  lo -= padX; hi += padX;
  const x = (v: number): number => left + ((v - lo) / (hi - lo)) * (width - left - right);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  const pct = Math.round((1 - r.config.alpha) * 1000) / 10;
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(`Off-policy evaluation of ${r.candidate.model} v${r.candidate.version} on ${r.deployment}`)}</text>`);
  out.push(`<text x="${left}" y="42" fill="#444">${esc(`${r.rounds.used} rounds, ${r.window.from} – ${r.window.to}; ${pct}% bootstrap intervals (${r.config.nBootstrap} resamples)`)}</text>`);
  out.push(`<text x="${left}" y="58" fill="${r.gate.verdict === 'pass' ? '#1a7f37' : r.gate.verdict === 'fail' ? '#cf222e' : '#9a6700'}">${esc(`verdict: ${r.gate.verdict} (${r.gate.estimator}: Δ = ${fmt(r.gate.diff.value)} [${fmt(r.gate.diff.lower)}, ${fmt(r.gate.diff.upper)}])`)}</text>`);
  const axisY = top + rows.length * rowH + 8;
  const step = tickStep(hi - lo, 6);
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) {
    const tx = x(t).toFixed(1);
    out.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${axisY}" stroke="#eeeeee"/>`);
    out.push(`<text x="${tx}" y="${axisY + 16}" text-anchor="middle" fill="#444">${esc(fmt(Math.abs(t) < step * 1e-9 ? 0 : t))}</text>`);
  }
  out.push(`<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="#888"/>`);
  out.push(`<text x="${(left + width - right) / 2}" y="${axisY + 36}" text-anchor="middle" fill="#444">policy value (mean reward per decision)</text>`);
  const lx = x(r.logging.value).toFixed(1);
  out.push(`<line x1="${lx}" y1="${top - 6}" x2="${lx}" y2="${axisY}" stroke="#666" stroke-dasharray="4 3"/>`);
  rows.forEach((row, i) => {
    const y = top + i * rowH + rowH / 2;
    const color = row.logging ? '#555555' : row.gate ? '#0969da' : '#8250df';
    out.push(`<text x="${left - 10}" y="${y + 4}" text-anchor="end"${row.gate ? ' font-weight="bold"' : ''}>${esc(row.label + (row.gate ? ' (gate)' : ''))}</text>`);
    out.push(`<line x1="${x(row.iv.lower).toFixed(1)}" y1="${y}" x2="${x(row.iv.upper).toFixed(1)}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    for (const end of [row.iv.lower, row.iv.upper]) out.push(`<line x1="${x(end).toFixed(1)}" y1="${y - 5}" x2="${x(end).toFixed(1)}" y2="${y + 5}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<circle cx="${x(row.iv.value).toFixed(1)}" cy="${y}" r="4.5" fill="${color}"><title>${esc(`${row.label}: ${row.iv.value} [${row.iv.lower}, ${row.iv.upper}]`)}</title></circle>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
