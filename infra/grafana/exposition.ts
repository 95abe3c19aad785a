/**
 * Reads the Prometheus text exposition format (what every /metrics here serves) into the names a
 * PromQL query can select and their samples. Hand-written because no parser for the format is in the
 * dependency set (prom-client only writes it); it handles what the format allows that we produce:
 * `# HELP`/`# TYPE` lines, samples with or without labels, escaped label values, optional timestamps.
 *
 * Each `# TYPE` line names a family even when it has no sample yet (a labelled counter no event has
 * touched): a histogram family `h` makes `h_bucket`, `h_sum`, `h_count` selectable, a summary `h_sum`,
 * `h_count` (and `h`), anything else its own name.
 */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  /** The family's name (`# TYPE` line), `untyped` when a sample came without one. */
  family: string;
  type: string;
  samples: Sample[];
}

/** Selectable metric name → its family (several names share a histogram's family). */
export type Exposition = Map<string, Family>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (m === null) {
      if (text.slice(start).trim() === '') break;
      throw new Error(`exposition: cannot read the labels of "${line}" at "${text.slice(start)}"`);
    }
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(raw: string, line: string): number {
  // Prometheus reads these case-insensitively (prom-client writes "Nan").
  const lower = raw.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const v = Number(raw);
  if (Number.isNaN(v)) throw new Error(`exposition: "${line}": expected a number, got "${raw}"`);
  return v;
}

export function parseExposition(text: string): Exposition {
  const names: Exposition = new Map();
  const families = new Map<string, Family>();
  const declare = (family: string, type: string): void => {
    const f: Family = { family, type, samples: [] };
    families.set(family, f);
    const selectable = type === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : type === 'summary' ? [family, `${family}_sum`, `${family}_count`] : [family];
    for (const n of selectable) names.set(n, f);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m !== null) declare(m[1], m[2]);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`exposition: cannot read the line "${line}"`);
    const name = m[1];
    if (!names.has(name)) declare(name, 'untyped');
    names.get(name)!.samples.push({ labels: { ...(m[3] ? parseLabels(m[3], line) : {}), __name__: name }, value: parseValue(m[4], line) });
  }
  return names;
}

/** The value of the one sample of `name` whose labels include `labels`, or null when there is none (an error when several match). */
export function sampleValue(exp: Exposition, name: string, labels: Record<string, string> = {}): number | null {
  const f = exp.get(name);
  if (f === undefined) return null;
  const hits = f.samples.filter((s) => s.labels.__name__ === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name}${JSON.stringify(labels)}: ${hits.length} samples match, expected at most one`);
  return hits.length === 1 ? hits[0].value : null;
}
