/**
 * What `autopilot runs show|compare` and `autopilot reports fetch` read about a run: the run row, its
 * metrics by step summarised per name, the model versions it registered (lineage: versions tagged with
 * its `run_id`) and the report files it wrote (artifact-store URIs in those versions' tags and in the
 * run's summary).
 */
import type { Json, ModelVersion, Registry, Run, RunMetric } from '../../registry/index';

export interface MetricSummary {
  name: string;
  /** Value at the highest step. */
  last: number;
  lastStep: number;
  min: number;
  max: number;
  /** How many steps carry it. */
  count: number;
}

export interface RunReport {
  /** Where the URI was found: `version <model> v<n> tag <key>` or `summary.<path>`. */
  source: string;
  /** The file name it gets when fetched. */
  name: string;
  uri: string;
}

export interface RunDetails {
  run: Run;
  metrics: MetricSummary[];
  /** Every metric point, in step order (what `metrics` summarises). */
  metricsByStep: RunMetric[];
  versions: Pick<ModelVersion, 'model' | 'version' | 'status' | 'artifactUri' | 'metrics'>[];
  reports: RunReport[];
}

export function summariseMetrics(rows: RunMetric[]): MetricSummary[] {
  const by = new Map<string, MetricSummary>();
  for (const r of rows) {
    const s = by.get(r.name);
    if (!s) {
      by.set(r.name, { name: r.name, last: r.value, lastStep: r.step, min: r.value, max: r.value, count: 1 });
      continue;
    }
    s.count++;
    if (r.value < s.min) s.min = r.value;
    if (r.value > s.max) s.max = r.value;
    if (r.step >= s.lastStep) {
      s.lastStep = r.step;
      s.last = r.value;
    }
  }
  return [...by.values()].sort((a, b) => a.name.localeCompare(b.name));
}

const REPORT_URI = /^(s3|file):\/\/\S+\.(svg|csv|json|png|html|jsonl|txt)$/i;

/** Report URIs among a version's tags and (recursively) the run's summary, each once, with unique file names. */
export function findReports(run: Run, versions: ModelVersion[]): RunReport[] {
  const found: { source: string; uri: string }[] = [];
  for (const v of versions) {
    for (const [key, value] of Object.entries(v.tags)) {
      if (typeof value === 'string' && REPORT_URI.test(value)) found.push({ source: `version ${v.model} v${v.version} tag ${key}`, uri: value });
    }
  }
  const walk = (value: Json | null, path: string): void => {
    if (typeof value === 'string') {
      if (REPORT_URI.test(value)) found.push({ source: path, uri: value });
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  walk(run.summary, 'summary');
  const seen = new Set<string>();
  const names = new Set<string>();
  const out: RunReport[] = [];
  for (const f of found) {
    if (seen.has(f.uri)) continue;
    seen.add(f.uri);
    const base = f.uri.slice(f.uri.lastIndexOf('/') + 1);
    let name = base;
    for (let i = 2; names.has(name); i++) name = base.replace(/(\.[^.]+)?$/, `-${i}$1`);
    names.add(name);
    out.push({ source: f.source, name, uri: f.uri });
  }
  return out;
}

export async function runDetails(registry: Registry, runId: string): Promise<RunDetails> {
  const run = await registry.getRun(runId);
  const [rows, versions] = await Promise.all([registry.readRunMetrics(runId), registry.searchVersions({ tags: { run_id: runId }, limit: 1000 })]);
  return {
    run,
    metrics: summariseMetrics(rows),
    metricsByStep: rows,
    versions: versions.map((v) => ({ model: v.model, version: v.version, status: v.status, artifactUri: v.artifactUri, metrics: v.metrics })),
    reports: findReports(run, versions),
  };
}

/** `a.b.c` → value for every leaf of a JSON object (arrays as JSON text). */
export function flattenParams(value: Json | null, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (v: Json | null, key: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0 && key) out[key] = '{}';
      for (const [k, child] of entries) visit(child, key ? `${key}.${k}` : k);
    } else if (key) out[key] = typeof v === 'string' ? v : JSON.stringify(v);
  };
  visit(value, prefix);
  return out;
}

export interface RunComparison {
  runs: string[];
  /** Parameters whose values differ between the runs (a missing one is null). */
  params: { name: string; values: (string | null)[] }[];
  /** Every metric's last value per run (null where a run lacks it). */
  metrics: { name: string; values: (number | null)[] }[];
}

export function compareRuns(details: RunDetails[]): RunComparison {
  const params = details.map((d) => flattenParams(d.run.config));
  const paramNames = [...new Set(params.flatMap((p) => Object.keys(p)))].sort();
  const metricMaps = details.map((d) => new Map(d.metrics.map((m) => [m.name, m.last])));
  const metricNames = [...new Set(details.flatMap((d) => d.metrics.map((m) => m.name)))].sort();
  return {
    runs: details.map((d) => d.run.id),
    params: paramNames
      .map((name) => ({ name, values: params.map((p) => p[name] ?? null) }))
      .filter((p) => new Set(p.values).size > 1),
    metrics: metricNames.map((name) => ({ name, values: metricMaps.map((m) => m.get(name) ?? null) })),
  };
}
