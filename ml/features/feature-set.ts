/**
 * A compiled feature set: the one `compute` both paths call.
 *
 *   const set = new FeatureSet(definition);            // from ./definitions (checked)
 *   const refs = set.seriesFor(request);               // which rolling windows this request needs
 *   const values = set.compute(request, asOf, refs.map((r) => windowOf(r, asOf)));
 *
 * Online, `windowOf` is one Redis script call (feature-store/computed/online.ts); offline it is
 * BucketStore.window over the events before asOf (./offline.ts). The request's own fields give the
 * request and temporal features; `timestamp` (ISO 8601 or ms) is its time, else asOf.
 */
import { BUCKETS_PER_WINDOW, checkSet, windowMs, type AggregateFeature, type FeatureDefinition, type FeatureSetDefinition, type ModelFeature } from './definitions';
import { requestFeature } from './request';
import { localTime, temporalFeature, type LocalTime } from './temporal';
import { aggregate, fieldsOf, type FeatureEvent, type SeriesRef, type Stats } from './windows';

/** The raw request a set is computed from: `prompt`, the entity fields (`tenant`), `timestamp`, … */
export type FeatureRequest = Readonly<Record<string, unknown>>;

/** A feature that has no value and whose missing policy is `error`, or a request field of the wrong type. */
export class FeatureInputError extends Error {
  constructor(
    readonly feature: string,
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`feature ${feature}: ${field} ${describe(value)}; expected ${expected}`);
    this.name = 'FeatureInputError';
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'is missing';
  const s = JSON.stringify(v) ?? String(v);
  return `is ${s.length > 60 ? `${s.slice(0, 57)}...` : s}`;
}

/** The problems of a definition that `new FeatureSet` refuses, as one error (names the feature, field, value, expected). */
export class FeatureSetError extends Error {
  constructor(
    readonly set: string,
    readonly problems: { feature: string; field: string; value: unknown; expected: string }[],
  ) {
    super(problems.map((p) => `feature set ${set}: feature ${p.feature}: ${p.field}: got ${JSON.stringify(p.value)}, expected ${p.expected}`).join('\n'));
    this.name = 'FeatureSetError';
  }
}

type Compiled =
  | { kind: 'request'; def: FeatureDefinition & { source: 'request' } }
  | { kind: 'temporal'; def: FeatureDefinition & { source: 'temporal' }; timezone: string }
  | { kind: 'window'; def: ModelFeature | AggregateFeature; seriesKind: string; bucketMs: number };

export class FeatureSet {
  readonly name: string;
  readonly timezone: string;
  /** The member of a decision's action naming the model a reward's outcome is counted for. */
  readonly modelAction: string;
  /** Feature names in definition order: the order of `compute`'s values. */
  readonly names: readonly string[];
  readonly definitions: readonly FeatureDefinition[];
  /** Per series kind, the bucket sizes its windows use (what an event must be recorded at). */
  readonly bucketSizes: ReadonlyMap<string, readonly number[]>;
  /** The request fields naming aggregate entities (e.g. `tenant`). */
  readonly entityFields: readonly string[];
  private readonly compiled: Compiled[];
  private readonly index: Map<string, number>;
  /** Distinct (kind, model id, bucketMs) of model features: the same for every request. */
  private readonly modelSeries: SeriesRef[];
  /** Distinct (entity field, bucketMs) of aggregate features, with the fields they read. */
  private readonly entitySeries: { kind: string; bucketMs: number; fields: readonly string[] }[];
  private readonly needsTime: boolean;

  constructor(def: FeatureSetDefinition) {
    const problems = checkSet(def);
    if (problems.length > 0) {
      throw new FeatureSetError(
        def.set,
        problems.map((p) => ({ feature: p.index < 0 ? '(set)' : def.features[p.index].name, field: p.field, value: p.value, expected: p.expected })),
      );
    }
    this.name = def.set;
    this.timezone = def.timezone;
    this.modelAction = def.modelAction;
    this.definitions = def.features;
    this.names = def.features.map((f) => f.name);
    this.index = new Map(this.names.map((n, i) => [n, i]));
    const sizes = new Map<string, Set<number>>();
    const modelSeries = new Map<string, SeriesRef & { fields: string[] }>();
    const entitySeries = new Map<string, { kind: string; bucketMs: number; fields: string[] }>();
    const addFields = (to: string[], f: ModelFeature | AggregateFeature) => {
      for (const x of fieldsOf(f.transformation.event, f.transformation.field, f.transformation.agg)) if (!to.includes(x)) to.push(x);
    };
    this.compiled = def.features.map((f): Compiled => {
      if (f.source === 'request') return { kind: 'request', def: f };
      if (f.source === 'temporal') return { kind: 'temporal', def: f, timezone: f.timezone ?? def.timezone };
      const bucketMs = windowMs(f.window) / BUCKETS_PER_WINDOW;
      const seriesKind = f.source === 'model' ? 'model' : f.entity;
      let s = sizes.get(seriesKind);
      if (s === undefined) sizes.set(seriesKind, (s = new Set()));
      s.add(bucketMs);
      if (f.source === 'model') {
        const k = `${f.model}\u0000${bucketMs}`;
        let m = modelSeries.get(k);
        if (m === undefined) modelSeries.set(k, (m = { kind: 'model', id: f.model, bucketMs, fields: [] }));
        addFields(m.fields, f);
      } else {
        const k = `${f.entity}\u0000${bucketMs}`;
        let e = entitySeries.get(k);
        if (e === undefined) entitySeries.set(k, (e = { kind: f.entity, bucketMs, fields: [] }));
        addFields(e.fields, f);
      }
      return { kind: 'window', def: f, seriesKind, bucketMs };
    });
    this.bucketSizes = new Map([...sizes].map(([k, v]) => [k, [...v].sort((a, b) => a - b)]));
    this.modelSeries = [...modelSeries.values()];
    this.entitySeries = [...entitySeries.values()];
    this.entityFields = [...new Set(this.entitySeries.map((e) => e.kind))];
    this.needsTime = this.compiled.some((c) => c.kind === 'temporal');
  }

  /** The position of a feature in `compute`'s values (undefined: not in this set). */
  indexOf(name: string): number | undefined {
    return this.index.get(name);
  }

  /** The request's entities (`{ tenant: "acme" }`) that are strings; others have no series. */
  entitiesOf(request: FeatureRequest): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.entityFields) {
      const v = request[f];
      if (typeof v === 'string' && v.length > 0) out[f] = v;
    }
    return out;
  }

  /** The windows `compute` needs for `request`, in the order it expects their sums, each with the fields its features read. */
  seriesFor(request: FeatureRequest): SeriesRef[] {
    const out = this.modelSeries.slice();
    for (const e of this.entitySeries) {
      const id = request[e.kind];
      if (typeof id === 'string' && id.length > 0) out.push({ kind: e.kind, id, bucketMs: e.bucketMs, fields: e.fields });
    }
    return out;
  }

  /** The request's time: `timestamp` (ISO 8601 text or ms since the epoch), else `asOf`. */
  requestTime(request: FeatureRequest, asOf: number): number {
    const t = request.timestamp;
    if (t === undefined || t === null) return asOf;
    const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : NaN;
    if (!Number.isFinite(ms)) throw new FeatureInputError('(request)', 'timestamp', t, 'an ISO 8601 time or milliseconds since the epoch');
    return ms;
  }

  /**
   * Every feature of the set for `request` as of `asOf` (ms), in `names` order. `windows[i]` holds the
   * sums of `seriesFor(request)[i]` as of asOf. A feature without a value takes its missing policy
   * (`default`: its value; `error`: a FeatureInputError).
   */
  compute(request: FeatureRequest, asOf: number, windows: readonly Stats[], out?: Float64Array): Float64Array {
    return this.computeWindows(request, windows, this.computeLocal(request, asOf, out));
  }

  /** The request and temporal features (the others left as they are): what needs no window. */
  computeLocal(request: FeatureRequest, asOf: number, out: Float64Array = new Float64Array(this.compiled.length)): Float64Array {
    let local: LocalTime | null = null;
    let localZone = '';
    const time = this.needsTime ? this.requestTime(request, asOf) : asOf;
    for (let i = 0; i < this.compiled.length; i++) {
      const c = this.compiled[i];
      let v: number | null;
      if (c.kind === 'request') {
        const field = c.def.transformation.field;
        const raw = request[field];
        if (raw === undefined || raw === null) v = null;
        else if (c.def.transformation.fn === 'number' ? typeof raw !== 'number' || !Number.isFinite(raw) : typeof raw !== 'string') {
          throw new FeatureInputError(c.def.name, `request.${field}`, raw, c.def.transformation.fn === 'number' ? 'a finite number' : 'a string');
        } else v = requestFeature(c.def, raw as string | number);
      } else if (c.kind === 'temporal') {
        if (local === null || localZone !== c.timezone) {
          local = localTime(time, c.timezone);
          localZone = c.timezone;
        }
        v = temporalFeature(c.def, local);
      } else continue;
      out[i] = v ?? this.missing(c, request);
    }
    return out;
  }

  /** The window features from `windows` (the sums of `seriesFor(request)`, in order) into `out`. */
  computeWindows(request: FeatureRequest, windows: readonly Stats[], out: Float64Array): Float64Array {
    const refs = this.seriesFor(request);
    for (let i = 0; i < this.compiled.length; i++) {
      const c = this.compiled[i];
      if (c.kind !== 'window') continue;
      const id = c.def.source === 'model' ? c.def.model : request[c.seriesKind];
      let s: Stats | undefined;
      if (typeof id === 'string' && id.length > 0) {
        for (let j = 0; j < refs.length; j++) {
          const r = refs[j];
          if (r.kind === c.seriesKind && r.id === id && r.bucketMs === c.bucketMs) {
            s = windows[j] ?? {};
            break;
          }
        }
      }
      const v = s === undefined ? null : aggregate(s, c.def.transformation.event, c.def.transformation.field, c.def.transformation.agg);
      out[i] = v ?? this.missing(c, request);
    }
    return out;
  }

  /** The value of a feature that has none: its default, or a FeatureInputError (policy `error`). */
  private missing(c: Compiled, request: FeatureRequest): number {
    const m = c.def.missing;
    if (m.policy === 'default') return m.value;
    if (c.kind === 'request') throw new FeatureInputError(c.def.name, `request.${c.def.transformation.field}`, undefined, `a value (the feature's missing policy is error)`);
    if (c.kind === 'window' && c.def.source === 'aggregate') {
      const id = request[c.def.entity];
      if (typeof id !== 'string' || id.length === 0) throw new FeatureInputError(c.def.name, `request.${c.def.entity}`, id, 'the entity id (the feature\'s missing policy is error)');
    }
    throw new FeatureInputError(c.def.name, c.def.name, undefined, 'data in its window (the feature\'s missing policy is error)');
  }

  /** `compute`'s values keyed by name. */
  toRecord(values: ArrayLike<number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) out[this.names[i]] = values[i];
    return out;
  }

  /** The decision event of a request computed at `time` (what the online path records after computing). */
  decisionEvent(request: FeatureRequest, time: number): FeatureEvent {
    return { type: 'decision', time, entities: this.entitiesOf(request) };
  }
}
