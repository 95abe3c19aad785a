/**
 * Prometheus gates, after Flagger's MetricTemplate: a plan metric may carry a PromQL `query` whose
 * placeholders are filled in at each check, and whose single value is held to the metric's
 * thresholdRange like any other gate (R-CANARY-GATES). Pure: the template check, the rendering and
 * the judgement. The activity (activities/canary/prometheus.ts) runs the query against Prometheus'
 * HTTP API.
 *
 *   {{ deployment }}  the deployment (= model) name                   inside a "…" or '…' label value
 *   {{ arm }}         canary while progressing, shadow in the shadow stage       (escaped as such)
 *   {{ version }}     the canary's version number
 *   {{ interval }}    the metric's `interval` (default: the plan's checkInterval) as a PromQL
 *                     duration, e.g. 1m30s, for range selectors: rate(x[{{ interval }}])
 *
 * A query that errors, times out, returns no series, returns NaN (e.g. 0/0 when there was no traffic)
 * or returns more than one series is a failed check whose reason says which. Flagger does the same
 * for errors and for an empty result (its Prometheus provider's `ErrNoValuesFound` halts advancement
 * and counts a failed check). It differs on two: Flagger parses "NaN" as a value, which then passes
 * any thresholdRange (every comparison with NaN is false), and it takes the last of several series
 * silently; here both fail the check, so a gate never passes on nothing or on an arbitrary series
 * (aggregate with sum(…) or the like so the gate judges one number).
 */
import type { CheckResult, MetricValue } from './status';

export const QUERY_PLACEHOLDERS = ['deployment', 'arm', 'version', 'interval'] as const;
export type QueryPlaceholder = (typeof QUERY_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Problems of a query template (unknown placeholders, stray braces); empty when it is usable. */
export function queryTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!(QUERY_PLACEHOLDERS as readonly string[]).includes(m[1])) {
      problems.push(`unknown placeholder {{ ${m[1]} }} (known: ${QUERY_PLACEHOLDERS.map((p) => `{{ ${p} }}`).join(', ')})`);
    }
  }
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('an unclosed {{ or a stray }}');
  if (template.trim() === '') problems.push('an empty query');
  return problems;
}

/**
 * A value placed inside a PromQL string literal ("…" or '…'): PromQL strings use Go's escapes, so a
 * backslash, either quote and line breaks are escaped; nothing a label value holds can end the literal.
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"'\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
}

/** Milliseconds as a PromQL duration (`90000` → `1m30s`, `1500` → `1500ms`): exact, largest units first. */
export function promDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`promDuration: got ${ms}, expected a whole number of milliseconds > 0`);
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return out;
}

export interface QueryVars {
  deployment: string;
  arm: string;
  version: number;
  intervalMs: number;
}

/** The query with its placeholders filled in (label values escaped, the interval as a duration). */
export function renderQuery(template: string, vars: QueryVars): string {
  const problems = queryTemplateProblems(template);
  if (problems.length) throw new Error(`query ${JSON.stringify(template)}: ${problems.join('; ')}`);
  return template.replace(PLACEHOLDER, (_m, name: QueryPlaceholder) => {
    switch (name) {
      case 'deployment':
        return escapeLabelValue(vars.deployment);
      case 'arm':
        return escapeLabelValue(vars.arm);
      case 'version':
        return escapeLabelValue(String(vars.version));
      case 'interval':
        return promDuration(vars.intervalMs);
    }
  });
}

/** What running one metric's query gave: its value, or why there is none. */
export interface QueryOutcome {
  name: string;
  /** The rendered PromQL that ran. */
  query: string;
  value: number | null;
  /** Why there is no value (query error, no data, NaN, several series, unreachable); null with a value. */
  error: string | null;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/**
 * A check with the Prometheus gates added: each query's value goes into `metrics`; a value outside its
 * range, or no value at all, fails the check (a failed check, counted against `threshold`; a breach
 * stays a breach). The decision-row gates' own outcome stands when every query passes.
 */
export function withQueryGates(check: CheckResult, outcomes: QueryOutcome[], gates: { name: string; min?: number; max?: number }[]): CheckResult {
  if (outcomes.length === 0) return check;
  const metrics: MetricValue[] = [...check.metrics];
  const failed: string[] = [];
  for (const o of outcomes) {
    const g = gates.find((x) => x.name === o.name);
    if (!g) throw new Error(`withQueryGates: no gate named ${o.name} in the plan`);
    const range = `[${g.min ?? '-inf'}, ${g.max ?? 'inf'}]`;
    const ok = o.error === null && o.value !== null && (g.min === undefined || o.value >= g.min) && (g.max === undefined || o.value <= g.max);
    metrics.push({ name: o.name, value: o.value, ...(g.min !== undefined ? { min: g.min } : {}), ...(g.max !== undefined ? { max: g.max } : {}), ok, source: `prometheus: ${o.query}` });
    if (o.error !== null) failed.push(`${o.name}: ${o.error} (query ${o.query})`);
    else if (!ok) failed.push(`${o.name} ${fmt(o.value!)} outside ${range} (prometheus: ${o.query})`);
  }
  if (failed.length === 0) return { ...check, metrics };
  if (check.breach) return { ...check, metrics, reasons: [...check.reasons, ...failed] };
  // Failed gates first, as the decision-row gates order them; the check's other reasons after.
  const ownFailed = check.outcome === 'fail' ? check.reasons : [];
  const ownOther = check.outcome === 'fail' ? [] : check.reasons;
  return { ...check, outcome: 'fail', metrics, reasons: [...failed, ...ownFailed, ...ownOther] };
}
