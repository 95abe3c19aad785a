/**
 * A training run's report (R-TUNER-REPORT: "summary CSV/plots", dashboards), written to the
 * artifact store beside the run's checkpoints:
 *   summary.csv   one row per iteration, CleanRL's metric names as columns
 *   configs.csv   every evaluated config (grid screening, shortlisted static configs, the baseline and
 *                 the policy) with reward, quality, cost, latency, gate violations and a Pareto flag
 *   report.svg    left: episodic return per iteration with the baseline's and the best static
 *                 config's held-out episodic return as reference lines; right: quality vs cost of the
 *                 evaluated configs with the Pareto frontier, the baseline, the best static config and
 *                 the policy marked. Hand-written SVG, no plotting library.
 * The rendering functions are pure; `writeReport` stores their output.
 */
import type { RunMetric } from '../../registry/types';
import type { ArtifactStore } from '../../registry/artifacts/store';
import type { CandidateStats, ReportUris } from '../../contracts/ppo-training';
import type { PolicyEvaluation } from './evaluate';
import { runKeys } from './checkpoint';
import { paretoFrontier } from './pareto';

/** Columns first in summary.csv; any other metric follows in name order. */
export const SUMMARY_COLUMNS = [
  'charts/episodic_return',
  'charts/episodic_length',
  'charts/episodes',
  'losses/approx_kl',
  'losses/old_approx_kl',
  'losses/entropy',
  'losses/clipfrac',
  'losses/value_loss',
  'losses/policy_loss',
  'losses/explained_variance',
  'losses/grad_norm',
  'charts/learning_rate',
  'charts/epochs',
];

export interface IterationRow {
  iteration: number;
  values: Record<string, number>;
}

/** Pivots run_metrics rows (step, name, value) into one row per step. */
export function pivotMetrics(metrics: readonly Pick<RunMetric, 'step' | 'name' | 'value'>[]): IterationRow[] {
  const byStep = new Map<number, Record<string, number>>();
  for (const m of metrics) {
    let row = byStep.get(m.step);
    if (!row) byStep.set(m.step, (row = {}));
    row[m.name] = m.value;
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([iteration, values]) => ({ iteration, values }));
}

function csvField(v: string | number | boolean | undefined): string {
  if (v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: string[], rows: (string | number | boolean | undefined)[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export function summaryCsv(rows: IterationRow[]): string {
  const names = new Set<string>();
  for (const r of rows) for (const n of Object.keys(r.values)) names.add(n);
  const columns = [...SUMMARY_COLUMNS.filter((c) => names.has(c)), ...[...names].filter((n) => !SUMMARY_COLUMNS.includes(n)).sort()];
  return csv(['iteration', ...columns], rows.map((r) => [r.iteration, ...columns.map((c) => r.values[c])]));
}

export interface EvaluatedPoint {
  kind: 'grid' | 'static' | 'baseline' | 'best_static' | 'policy';
  stats: CandidateStats;
  pareto: boolean;
}

/** Every evaluated config as one list, with the Pareto flag over all of them. */
export function evaluatedPoints(e: PolicyEvaluation): EvaluatedPoint[] {
  const policy = e.candidates.find((c) => c.label === e.chosen)!;
  const list: Omit<EvaluatedPoint, 'pareto'>[] = [
    ...e.screened.map((stats) => ({ kind: 'grid' as const, stats })),
    { kind: 'baseline', stats: e.baseline },
    { kind: 'best_static', stats: e.bestStatic },
    { kind: 'policy', stats: policy },
  ];
  const front = new Set(paretoFrontier(list.map((p) => ({ quality: p.stats.quality, cost: p.stats.costUsd }))));
  return list.map((p, i) => ({ ...p, pareto: front.has(i) }));
}

export function configsCsv(e: PolicyEvaluation): string {
  const header = ['kind', 'label', 'variant', 'k', 'rerank', 'fusion_weight', 'prompt_id', 'episodes', 'steps', 'reward', 'episodic_return', 'quality', 'faithfulness', 'relevancy', 'cost_usd', 'latency_p95_ms', 'gate_violations', 'pareto'];
  const rows = evaluatedPoints(e).map(({ kind, stats: s, pareto }) => [
    kind, s.label, s.config?.variant, s.config?.k, s.config?.rerank, s.config?.fusion_weight, s.config?.prompt_id,
    s.episodes, s.steps, s.reward, s.episodicReturn, s.quality, s.faithfulness, s.relevancy, s.costUsd, s.latencyP95Ms, s.gateViolations, pareto,
  ]);
  return csv(header, rows);
}

// ---------------------------------------------------------------- SVG

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (x: number) => (Math.round(x * 100) / 100).toString();

/** About `count` round tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function extent(values: number[], pad = 0.05): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
  xDomain: [number, number];
  yDomain: [number, number];
}

const sx = (p: Panel, v: number) => p.x + ((v - p.xDomain[0]) / (p.xDomain[1] - p.xDomain[0])) * p.w;
const sy = (p: Panel, v: number) => p.y + p.h - ((v - p.yDomain[0]) / (p.yDomain[1] - p.yDomain[0])) * p.h;

function axes(p: Panel, title: string, xLabel: string, yLabel: string, fmtX: (v: number) => string, fmtY: (v: number) => string): string {
  const parts: string[] = [`<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="none" stroke="#888"/>`];
  for (const t of niceTicks(p.xDomain[0], p.xDomain[1])) {
    const x = f(sx(p, t));
    parts.push(`<line x1="${x}" y1="${p.y + p.h}" x2="${x}" y2="${p.y + p.h + 5}" stroke="#888"/>`);
    parts.push(`<text x="${x}" y="${p.y + p.h + 18}" text-anchor="middle" font-size="11">${esc(fmtX(t))}</text>`);
  }
  for (const t of niceTicks(p.yDomain[0], p.yDomain[1])) {
    const y = f(sy(p, t));
    parts.push(`<line x1="${p.x - 5}" y1="${y}" x2="${p.x}" y2="${y}" stroke="#888"/>`);
    parts.push(`<line x1="${p.x}" y1="${y}" x2="${p.x + p.w}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${p.x - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${esc(fmtY(t))}</text>`);
  }
  parts.push(`<text x="${p.x + p.w / 2}" y="${p.y - 12}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<text x="${p.x + p.w / 2}" y="${p.y + p.h + 36}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(${p.x - 52} ${p.y + p.h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`);
  return parts.join('\n');
}

function legend(x: number, y: number, items: { mark: string; label: string }[]): string {
  return items
    .map((it, i) => `<g transform="translate(${x} ${y + i * 16})">${it.mark}<text x="14" y="4" font-size="11">${esc(it.label)}</text></g>`)
    .join('\n');
}

const COLORS = { train: '#1f77b4', baseline: '#d62728', bestStatic: '#2ca02c', policy: '#ff7f0e', grid: '#999', frontier: '#9467bd' };

function rewardPanel(p: Omit<Panel, 'xDomain' | 'yDomain'>, rows: IterationRow[], e: PolicyEvaluation | null): string {
  const pts = rows.map((r) => ({ x: r.iteration, y: r.values['charts/episodic_return'] })).filter((q) => Number.isFinite(q.y));
  const refs = e ? [{ y: e.baseline.episodicReturn, color: COLORS.baseline, label: 'baseline (held-out)' }, { y: e.bestStatic.episodicReturn, color: COLORS.bestStatic, label: 'best static (held-out)' }] : [];
  const policy = e?.candidates.find((c) => c.label === e.chosen);
  const ys = [...pts.map((q) => q.y), ...refs.map((r) => r.y), ...(policy ? [policy.episodicReturn] : [])];
  const maxIter = Math.max(1, ...rows.map((r) => r.iteration));
  const panel: Panel = { ...p, xDomain: [0, maxIter + 0.5], yDomain: extent(ys) };
  const out = [axes(panel, 'Episodic return per iteration', 'iteration', 'episodic return', (v) => String(v), (v) => v.toFixed(2))];
  for (const r of refs) {
    const y = f(sy(panel, r.y));
    out.push(`<line x1="${panel.x}" y1="${y}" x2="${panel.x + panel.w}" y2="${y}" stroke="${r.color}" stroke-dasharray="6 4"/>`);
  }
  if (policy) {
    const y = f(sy(panel, policy.episodicReturn));
    out.push(`<line x1="${panel.x}" y1="${y}" x2="${panel.x + panel.w}" y2="${y}" stroke="${COLORS.policy}" stroke-dasharray="2 3"/>`);
  }
  if (pts.length > 1) out.push(`<polyline fill="none" stroke="${COLORS.train}" stroke-width="1.5" points="${pts.map((q) => `${f(sx(panel, q.x))},${f(sy(panel, q.y))}`).join(' ')}"/>`);
  for (const q of pts) out.push(`<circle cx="${f(sx(panel, q.x))}" cy="${f(sy(panel, q.y))}" r="2.5" fill="${COLORS.train}"><title>iteration ${q.x}: ${q.y.toFixed(4)}</title></circle>`);
  const items = [{ mark: `<line x1="0" y1="0" x2="10" y2="0" stroke="${COLORS.train}" stroke-width="2"/>`, label: 'training rollouts (sampled actions)' }];
  if (policy) items.push({ mark: `<line x1="0" y1="0" x2="10" y2="0" stroke="${COLORS.policy}" stroke-dasharray="2 3"/>`, label: `policy, greedy (held-out)` });
  for (const r of refs) items.push({ mark: `<line x1="0" y1="0" x2="10" y2="0" stroke="${r.color}" stroke-dasharray="6 4"/>`, label: r.label });
  out.push(legend(panel.x + 8, panel.y + panel.h + 52, items));
  return out.join('\n');
}

function scatterPanel(p: Omit<Panel, 'xDomain' | 'yDomain'>, e: PolicyEvaluation): string {
  const points = evaluatedPoints(e);
  const panel: Panel = { ...p, xDomain: extent(points.map((q) => q.stats.costUsd * 1000)), yDomain: extent(points.map((q) => q.stats.quality)) };
  const X = (q: EvaluatedPoint) => f(sx(panel, q.stats.costUsd * 1000));
  const Y = (q: EvaluatedPoint) => f(sy(panel, q.stats.quality));
  const tip = (q: EvaluatedPoint) => `<title>${esc(`${q.kind}: ${q.stats.label} — quality ${q.stats.quality.toFixed(4)}, cost $${q.stats.costUsd.toFixed(6)}, reward ${q.stats.reward.toFixed(4)}`)}</title>`;
  const out = [axes(panel, 'Quality vs cost of evaluated configs', 'cost per request (USD × 1000)', 'quality (F + R) / 2', (v) => v.toFixed(2), (v) => v.toFixed(2))];
  for (const q of points.filter((q) => q.kind === 'grid')) out.push(`<circle cx="${X(q)}" cy="${Y(q)}" r="2" fill="${COLORS.grid}" fill-opacity="0.6">${tip(q)}</circle>`);
  const front = points.filter((q) => q.pareto).sort((a, b) => a.stats.costUsd - b.stats.costUsd);
  if (front.length > 1) out.push(`<polyline fill="none" stroke="${COLORS.frontier}" stroke-width="2" points="${front.map((q) => `${X(q)},${Y(q)}`).join(' ')}"/>`);
  for (const q of front) out.push(`<circle cx="${X(q)}" cy="${Y(q)}" r="3.5" fill="none" stroke="${COLORS.frontier}" stroke-width="1.5">${tip(q)}</circle>`);
  const mark = (q: EvaluatedPoint | undefined, color: string, shape: 'square' | 'diamond' | 'triangle') => {
    if (!q) return;
    const x = Number(X(q)), y = Number(Y(q));
    const d = shape === 'square' ? `M${x - 5},${y - 5}h10v10h-10z` : shape === 'diamond' ? `M${x},${y - 7}L${x + 7},${y}L${x},${y + 7}L${x - 7},${y}z` : `M${x},${y - 7}L${x + 6},${y + 5}L${x - 6},${y + 5}z`;
    out.push(`<path d="${d}" fill="${color}" stroke="#000" stroke-width="0.5">${tip(q)}</path>`);
  };
  mark(points.find((q) => q.kind === 'baseline'), COLORS.baseline, 'square');
  mark(points.find((q) => q.kind === 'best_static'), COLORS.bestStatic, 'triangle');
  mark(points.find((q) => q.kind === 'policy'), COLORS.policy, 'diamond');
  out.push(
    legend(panel.x + 8, panel.y + panel.h + 52, [
      { mark: `<circle cx="5" cy="0" r="2" fill="${COLORS.grid}"/>`, label: `grid configs (${e.screened.length}, screening episodes)` },
      { mark: `<line x1="0" y1="0" x2="10" y2="0" stroke="${COLORS.frontier}" stroke-width="2"/>`, label: 'Pareto frontier (max quality, min cost)' },
      { mark: `<rect x="0" y="-5" width="10" height="10" fill="${COLORS.baseline}"/>`, label: 'default static config (baseline)' },
      { mark: `<path d="M5,-6L10,5L0,5z" fill="${COLORS.bestStatic}"/>`, label: 'best static config (grid search)' },
      { mark: `<path d="M5,-6L11,0L5,6L-1,0z" fill="${COLORS.policy}"/>`, label: 'trained policy (greedy)' },
    ]),
  );
  return out.join('\n');
}

export interface ReportInput {
  title: string;
  rows: IterationRow[];
  evaluation: PolicyEvaluation | null;
}

export function renderReportSvg(input: ReportInput): string {
  const W = 1040, H = 520;
  const body = [rewardPanel({ x: 80, y: 60, w: 380, h: 300 }, input.rows, input.evaluation)];
  if (input.evaluation) body.push(scatterPanel({ x: 620, y: 60, w: 380, h: 300 }, input.evaluation));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(input.title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes the three report files under `runs/<run>/report/` (deterministic keys: a retry overwrites). */
export async function writeReportFiles(store: ArtifactStore, runId: string, input: ReportInput): Promise<ReportUris> {
  const summary = await store.put(runKeys.report(runId, 'summary.csv'), summaryCsv(input.rows), { contentType: 'text/csv' });
  const configs = input.evaluation ? await store.put(runKeys.report(runId, 'configs.csv'), configsCsv(input.evaluation), { contentType: 'text/csv' }) : null;
  const svg = await store.put(runKeys.report(runId, 'report.svg'), renderReportSvg(input), { contentType: 'image/svg+xml' });
  return { summaryCsv: summary.uri, configsCsv: configs?.uri ?? null, svg: svg.uri };
}
