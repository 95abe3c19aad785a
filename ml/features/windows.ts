/**
 * Rolling windows as time buckets: the one model of an aggregate that the online store (Redis hashes,
 * one per series and bucket, feature-store/computed/) and the offline builder (events folded in memory,
 * ./offline.ts) both hold, so a value as of t is the same sum of the same buckets on both paths.
 *
 * A series is (kind, id, bucketMs): kind `model` (id: the model's name) or an entity field of the
 * request (`tenant`, id: its value). Each bucket keeps flat sums:
 *   n.decision                              decisions of the entity
 *   n.reward, s.reward                      rewards: count and sum
 *   n.<c>, s.<c>                            each reward component c (latency_ms, cost_usd, error) present
 *   h.latency_ms.<i>                        latency histogram (LATENCY_BOUNDS_MS, last bucket +∞)
 * A window of W as of t is the sum of buckets ⌊t/B⌋−11 … ⌊t/B⌋ (B = W/12), ascending.
 */
import { BUCKETS_PER_WINDOW, LATENCY_BOUNDS_MS, type Agg, type AggField } from './definitions';

/** One bucket's (or one window's) sums, by field name. */
export type Stats = Record<string, number>;

export interface SeriesRef {
  kind: string;
  id: string;
  bucketMs: number;
  /** The fields of the series' sums that its features read (`fieldsOf`); absent: every field (`ALL_FIELDS`). */
  fields?: readonly string[];
}

/** What happened, with the time the online store applied it (ms since the epoch). */
export type FeatureEvent =
  | { type: 'decision'; time: number; entities: Readonly<Record<string, string>> }
  | {
      type: 'reward';
      time: number;
      entities: Readonly<Record<string, string>>;
      /** The model that served the decision (null: no model series). */
      model: string | null;
      reward: number | null;
      /** Reward components (latency_ms, cost_usd, error), those present. */
      components: Readonly<Record<string, number>> | null;
    };

/** The components kept per model and entity. */
export const COMPONENTS = ['latency_ms', 'cost_usd', 'error'] as const;

export function bucketOf(time: number, bucketMs: number): number {
  return Math.floor(time / bucketMs);
}

/** The first and last bucket of the window as of `asOf`. */
export function windowBuckets(asOf: number, bucketMs: number): { first: number; last: number } {
  const last = bucketOf(asOf, bucketMs);
  return { first: last - BUCKETS_PER_WINDOW + 1, last };
}

/** Index of the latency histogram bucket of `ms` (values above the last bound: the +∞ bucket). */
export function latencyBucket(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) i++;
  return i;
}

/** The increments an event makes to each series it touches (before choosing bucket sizes). */
export function eventIncrements(e: FeatureEvent): { decision: [string, number][]; reward: [string, number][] } {
  if (e.type === 'decision') return { decision: [['n.decision', 1]], reward: [] };
  const inc: [string, number][] = [];
  if (e.reward !== null) inc.push(['n.reward', 1], ['s.reward', e.reward]);
  if (e.components !== null) {
    for (const c of COMPONENTS) {
      const v = e.components[c];
      if (v === undefined || !Number.isFinite(v)) continue;
      inc.push([`n.${c}`, 1], [`s.${c}`, v]);
      if (c === 'latency_ms') inc.push([`h.latency_ms.${latencyBucket(v)}`, 1]);
    }
  }
  return { decision: [], reward: inc };
}

/** Adds `b` into `a` (field by field). */
export function addStats(a: Stats, b: Readonly<Stats>): void {
  for (const k in b) a[k] = (a[k] ?? 0) + b[k];
}

/** Quantile q of the latency histogram in `s` (Prometheus' histogram_quantile: linear within a bucket); null when empty. */
export function latencyQuantile(s: Readonly<Stats>, q: number): number | null {
  const n = s['n.latency_ms'] ?? 0;
  if (n <= 0) return null;
  const rank = q * n;
  let cum = 0;
  for (let i = 0; i <= LATENCY_BOUNDS_MS.length; i++) {
    const c = s[`h.latency_ms.${i}`] ?? 0;
    if (c > 0 && cum + c >= rank) {
      if (i === LATENCY_BOUNDS_MS.length) return LATENCY_BOUNDS_MS[i - 1];
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
      return lower + ((LATENCY_BOUNDS_MS[i] - lower) * (rank - cum)) / c;
    }
    cum += c;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}

/** Every field a bucket can hold (what eventIncrements writes). */
export const ALL_FIELDS: readonly string[] = [
  'n.decision',
  'n.reward',
  's.reward',
  ...COMPONENTS.flatMap((c) => [`n.${c}`, `s.${c}`]),
  ...LATENCY_BOUNDS_MS.map((_, i) => `h.latency_ms.${i}`),
  `h.latency_ms.${LATENCY_BOUNDS_MS.length}`,
];

/** The fields of a window's sums that `aggregate(s, event, field, agg)` reads: the others do not change its value. */
export function fieldsOf(event: 'decision' | 'reward', field: AggField, agg: Agg): string[] {
  if (event === 'decision') return ['n.decision'];
  const f = field === 'count' ? 'reward' : field;
  switch (agg) {
    case 'count':
      return [`n.${f}`];
    case 'sum':
      return [`s.${f}`];
    case 'mean':
      return [`n.${f}`, `s.${f}`];
    case 'p50':
    case 'p90':
      return ['n.latency_ms', ...ALL_FIELDS.filter((x) => x.startsWith('h.latency_ms.'))];
  }
}

/** The aggregate `agg` of `field` over the window's sums; null when it is undefined (a mean of nothing). */
export function aggregate(s: Readonly<Stats>, event: 'decision' | 'reward', field: AggField, agg: Agg): number | null {
  if (event === 'decision') return s['n.decision'] ?? 0;
  const f = field === 'count' ? 'reward' : field;
  const n = s[`n.${f}`] ?? 0;
  switch (agg) {
    case 'count':
      return n;
    case 'sum':
      return s[`s.${f}`] ?? 0;
    case 'mean':
      return n > 0 ? (s[`s.${f}`] ?? 0) / n : null;
    case 'p50':
      return latencyQuantile(s, 0.5);
    case 'p90':
      return latencyQuantile(s, 0.9);
  }
}

/**
 * Buckets in memory: the offline twin of the online store. `apply` adds an event to every series it
 * touches (the entity series of `kinds` that it names, its model's series) at each of their bucket sizes;
 * `window` sums a series' buckets as of t, ascending, as the online read does.
 */
export class BucketStore {
  private readonly buckets = new Map<string, Stats>();

  /** `bucketSizes`: per series kind (`model`, `tenant`, …), the bucket sizes in use. */
  constructor(private readonly bucketSizes: ReadonlyMap<string, readonly number[]>) {}

  private add(kind: string, id: string, time: number, inc: [string, number][]): void {
    const sizes = this.bucketSizes.get(kind);
    if (sizes === undefined || inc.length === 0) return;
    for (const b of sizes) {
      const key = `${kind}\u0000${id}\u0000${b}\u0000${bucketOf(time, b)}`;
      let s = this.buckets.get(key);
      if (s === undefined) this.buckets.set(key, (s = {}));
      for (const [f, v] of inc) s[f] = (s[f] ?? 0) + v;
    }
  }

  apply(e: FeatureEvent): void {
    const { decision, reward } = eventIncrements(e);
    const inc = e.type === 'decision' ? decision : reward;
    for (const [kind, id] of Object.entries(e.entities)) if (kind !== 'model') this.add(kind, id, e.time, inc);
    if (e.type === 'reward' && e.model !== null) this.add('model', e.model, e.time, inc);
  }

  /** Every field of the series' sums as of `asOf` (`ref.fields` is not applied: the aggregates read what they need). */
  window(ref: SeriesRef, asOf: number): Stats {
    const { first, last } = windowBuckets(asOf, ref.bucketMs);
    const out: Stats = {};
    for (let i = first; i <= last; i++) {
      const s = this.buckets.get(`${ref.kind}\u0000${ref.id}\u0000${ref.bucketMs}\u0000${i}`);
      if (s !== undefined) addStats(out, s);
    }
    return out;
  }
}
