/**
 * A realistic synthetic set of labelled decisions (R-APPROVAL-DATA schema) for demos and tests: several anomaly
 * kinds with metrics scaled by severity, an analysis (recent deploy, blast radius, risk), proposed actions
 * that are often but not always the fitting ones, confidences, auto-approval flags, the proposer's
 * reasoning, and labels from the reviewing rule (`judge`) flipped with probability `labelNoise` (the
 * human reviewers' disagreement). Seeded: the same options give the same records. Pure.
 */
import { Rng } from '../rng';
import {
  ACTION_TYPES, ANOMALY_KINDS, BLAST_RADII, type ActionType, type Anomaly, type AnomalyKind,
  type DecisionInput, type LabeledDecision, type ProposedAction, type RiskLevel, type Severity,
} from './decision';
import { actionFits, judge } from './judge';

export interface GenerateOptions {
  /** Number of records. */
  n: number;
  seed: number;
  /** Probability that a record's label is flipped (reviewer noise), in [0, 0.5). Default 0.02. */
  labelNoise?: number;
  /** Probability that the proposer picks a fitting action rather than an arbitrary one. Default 0.6. */
  fitRate?: number;
}

const SERVICES = ['checkout', 'search', 'payments', 'auth', 'catalog', 'recommendations', 'notifications', 'inventory'];
const SEVERITY_WEIGHTS: Record<Severity, number> = { low: 0.25, medium: 0.3, high: 0.3, critical: 0.15 };
const SEVERITY_SCALE: Record<Severity, number> = { low: 0.25, medium: 0.5, high: 0.75, critical: 1 };

const ROOT_CAUSES: Record<AnomalyKind, string[]> = {
  error_rate: ['bad config push', 'null pointer in new handler', 'schema mismatch'],
  latency_spike: ['slow query', 'lock contention', 'gc pauses'],
  cpu_saturation: ['hot loop', 'load above capacity', 'inefficient serializer'],
  memory_leak: ['unbounded cache', 'leaked connections', 'listener leak'],
  traffic_surge: ['marketing campaign', 'retry storm', 'bot traffic'],
  traffic_drop: ['off-peak hours', 'upstream routing change', 'client release'],
  stale_cache: ['missed invalidation', 'clock skew', 'partial cache warmup'],
  dependency_outage: ['upstream database down', 'third-party api outage', 'dns failure'],
  disk_pressure: ['log growth', 'temp files', 'large snapshot'],
};

/** Metrics for an anomaly, their magnitude growing with severity. */
function metricsFor(kind: AnomalyKind, severity: Severity, rng: Rng): Record<string, number> {
  const s = SEVERITY_SCALE[severity] * (0.8 + 0.4 * rng.uniform());
  const r = (x: number, digits: number): number => Number(x.toFixed(digits));
  switch (kind) {
    case 'error_rate': return { error_rate: r(0.01 + 0.3 * s, 3), requests_per_s: r(200 + 800 * rng.uniform(), 0) };
    case 'latency_spike': return { p99_latency_ms: r(200 + 2000 * s, 0), p50_latency_ms: r(40 + 200 * s, 0) };
    case 'cpu_saturation': return { cpu_util: r(0.6 + 0.39 * s, 2) };
    case 'memory_leak': return { memory_util: r(0.5 + 0.49 * s, 2), growth_mb_per_h: r(20 + 400 * s, 0) };
    case 'traffic_surge': return { rps_ratio: r(1.3 + 4 * s, 2) };
    case 'traffic_drop': return { rps_ratio: r(0.9 - 0.8 * s, 2) };
    case 'stale_cache': return { cache_hit_ratio: r(0.95 - 0.5 * s, 2), stale_reads_per_s: r(5 + 500 * s, 0) };
    case 'dependency_outage': return { upstream_error_rate: r(0.05 + 0.9 * s, 2) };
    case 'disk_pressure': return { disk_util: r(0.7 + 0.29 * s, 2) };
  }
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function weighted<K extends string>(rng: Rng, weights: Record<K, number>): K {
  const keys = Object.keys(weights) as K[];
  return keys[rng.categorical(keys.map((k) => weights[k]))];
}

function riskFor(severity: Severity, blast: (typeof BLAST_RADII)[number], rng: Rng): RiskLevel {
  const score = SEVERITY_SCALE[severity] + (blast === 'multi_service' ? 0.4 : blast === 'service' ? 0.15 : 0) + 0.3 * rng.normal();
  return score > 0.95 ? 'high' : score > 0.55 ? 'medium' : 'low';
}

function snapshot(index: number, rng: Rng): DecisionInput {
  const kind = pick(rng, ANOMALY_KINDS);
  const severity = weighted(rng, SEVERITY_WEIGHTS);
  const anomalies: Anomaly[] = [{ kind, severity, metrics: metricsFor(kind, severity, rng) }];
  if (rng.uniform() < 0.3) {
    const other = pick(rng, ANOMALY_KINDS.filter((k) => k !== kind));
    const otherSeverity = weighted(rng, { low: 0.5, medium: 0.35, high: 0.15, critical: 0 });
    anomalies.push({ kind: other, severity: otherSeverity, metrics: metricsFor(other, otherSeverity, rng) });
  }
  const deployLikely = kind === 'error_rate' || kind === 'latency_spike' || kind === 'memory_leak';
  const recentDeploy = rng.uniform() < (deployLikely ? 0.55 : 0.2);
  const blast = weighted(rng, { pod: 0.35, service: 0.45, multi_service: 0.2 });
  return {
    snapshot_id: `snap-${String(index).padStart(6, '0')}`,
    service: pick(rng, SERVICES),
    environment: rng.uniform() < 0.85 ? 'prod' : 'staging',
    anomalies,
    analysis: {
      root_cause: recentDeploy && deployLikely ? `deploy regression: ${pick(rng, ROOT_CAUSES[kind])}` : pick(rng, ROOT_CAUSES[kind]),
      recent_deploy: recentDeploy,
      blast_radius: blast,
      risk_level: riskFor(severity, blast, rng),
    },
  };
}

function proposeAction(input: DecisionInput, id: number, fitRate: number, rng: Rng, exclude: ReadonlySet<ActionType>): ProposedAction {
  const candidates = ACTION_TYPES.filter((t) => !exclude.has(t));
  const fitting = candidates.filter((t) => actionFits(input, t).good);
  const fits = fitting.length > 0 && rng.uniform() < fitRate;
  const type = fits ? pick(rng, fitting) : pick(rng, candidates);
  // A proposer that picked a fitting action is usually confident; an arbitrary one less so.
  const confidence = Number((fits ? rng.beta(6, 1.8) : rng.beta(3, 2.5)).toFixed(2));
  const autoApproved = rng.uniform() < (input.analysis.risk_level === 'low' ? 0.7 : input.analysis.risk_level === 'medium' ? 0.45 : 0.3);
  const primary = input.anomalies[0];
  return {
    id: String(id),
    type,
    confidence,
    auto_approved: autoApproved,
    reasoning: `${type} proposed for ${primary.severity} ${primary.kind} on ${input.service} (${input.analysis.root_cause})`,
  };
}

/** One labelled decision; `index` only names the snapshot. */
export function generateDecision(index: number, rng: Rng, labelNoise: number, fitRate: number): LabeledDecision {
  const input = snapshot(index, rng);
  const first = proposeAction(input, 0, fitRate, rng, new Set());
  const actions = [first];
  if (rng.uniform() < 0.2) actions.push(proposeAction(input, 1, fitRate, rng, new Set([first.type])));
  const { good } = judge(input, actions);
  const flipped = rng.uniform() < labelNoise;
  return { input, output: { actions }, label: good !== flipped ? 'good' : 'bad' };
}

export function generateDecisions(options: GenerateOptions): LabeledDecision[] {
  const { n, seed } = options;
  const labelNoise = options.labelNoise ?? 0.02;
  const fitRate = options.fitRate ?? 0.6;
  if (!Number.isInteger(n) || n < 1) throw new Error(`generateDecisions: n must be a positive integer, got ${n}`);
  if (!(labelNoise >= 0 && labelNoise < 0.5)) throw new Error(`generateDecisions: labelNoise must be in [0, 0.5), got ${labelNoise}`);
  if (!(fitRate >= 0 && fitRate <= 1)) throw new Error(`generateDecisions: fitRate must be in [0, 1], got ${fitRate}`);
  const rng = new Rng(seed);
  const records: LabeledDecision[] = [];
  for (let i = 0; i < n; i++) records.push(generateDecision(i, rng, labelNoise, fitRate));
  return records;
}
