/**
 * Computed-feature definitions (a feature set), as read from YAML (configs/features/*.yaml) and checked
 * with zod. Feast's vocabulary where it fits: a named feature with a type, a source it is computed from
 * and a freshness window; unlike Feast the transformation is declared, not written as code, so the one
 * pure module here computes it online (inference server) and offline (training sets) alike.
 *
 *   set: llm-routing
 *   timezone: UTC                         # temporal features' clock (an IANA zone)
 *   features:
 *     - name: prompt_chars
 *       type: int
 *       source: request                   # from the raw request
 *       transformation: { fn: chars, field: prompt }
 *       missing: { policy: error }        # or { policy: default, value: 0 }
 *     - name: task_code                   # one-hot: 1 when the keyword category is `code`
 *       type: bool
 *       source: request
 *       transformation: { fn: keyword_category, categories: { code: [python, bug] }, otherwise: chat, levels: [chat, code], equals: code }
 *     - name: tokens_k
 *       type: float
 *       source: request
 *       transformation: { fn: number, field: expected_tokens, divideBy: 1000 }
 *     - name: hour
 *       type: int
 *       source: temporal                  # from the request's timestamp (else the server's clock)
 *       transformation: { fn: hour }
 *     - name: cheap_latency_p50_15m
 *       type: float
 *       source: model                     # rolling aggregate of one model's outcomes (rewards' components)
 *       model: cheap
 *       transformation: { field: latency_ms, agg: p50 }
 *       window: 15m
 *       missing: { policy: default, value: 0 }
 *     - name: tenant_requests_1h
 *       type: int
 *       source: aggregate                 # rolling aggregate of the request's entity (e.g. its tenant)
 *       entity: tenant
 *       transformation: { event: decision, agg: count }
 *       window: 1h
 *
 * Windows are 12 buckets of window/12 each (`1h` → 5-minute buckets): a value as of t covers the buckets
 * [⌊t/B⌋ − 11, ⌊t/B⌋], i.e. between 11/12 and 12/12 of the window, and only events before t.
 */
import { z } from 'zod';

export const FEATURE_TYPES = ['float', 'int', 'bool', 'categorical'] as const;
export const REQUEST_FNS = [
  'chars',
  'words',
  'lines',
  'estimated_tokens',
  'non_ascii_ratio',
  'digit_ratio',
  'uppercase_ratio',
  'count_char',
  'has_code',
  'has_url',
  'script',
  'keyword_category',
  'number',
] as const;
export const TEMPORAL_FNS = ['hour', 'weekday', 'is_weekend', 'hour_sin', 'hour_cos', 'minute_of_day'] as const;
/** What an aggregate counts: decisions of the entity, or the fields of its rewards. */
export const AGG_FIELDS = ['count', 'reward', 'latency_ms', 'cost_usd', 'error'] as const;
export const AGGS = ['count', 'sum', 'mean', 'p50', 'p90'] as const;
export type AggField = (typeof AGG_FIELDS)[number];
export type Agg = (typeof AGGS)[number];

/** Upper bounds (ms) of the latency histogram each bucket keeps (last: +∞): p50/p90 interpolate in it. */
export const LATENCY_BOUNDS_MS = [25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 8000, 13000, 20000, 30000, 60000];

/** Buckets per window. */
export const BUCKETS_PER_WINDOW = 12;

const NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const FIELD = /^[a-z_][a-zA-Z0-9_]*$/;
const WINDOW = /^([1-9][0-9]*)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `15m` → 900000 (ms). */
export function windowMs(window: string): number {
  const m = WINDOW.exec(window);
  if (m === null) throw new Error(`window ${JSON.stringify(window)}: expected a number and s, m, h or d, e.g. "15m"`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const windowSchema = z.string().refine((w) => WINDOW.test(w) && windowMs(w) % (BUCKETS_PER_WINDOW * 1000) === 0 && windowMs(w) <= 30 * 86_400_000, {
  message: `a window such as "1m", "15m", "1h", "1d": whole seconds per bucket (a multiple of ${BUCKETS_PER_WINDOW}s), at most 30d`,
});

const missingSchema = z.discriminatedUnion('policy', [
  z.object({ policy: z.literal('error') }).strict(),
  z.object({ policy: z.literal('default'), value: z.number().finite() }).strict(),
]);

const base = {
  name: z.string().refine((n) => NAME.test(n), { message: 'a feature name: lower-case letters, digits and _, starting with a letter or _' }),
  type: z.enum(FEATURE_TYPES),
  description: z.string().optional(),
  missing: missingSchema.default({ policy: 'error' }),
};

const requestSchema = z
  .object({
    ...base,
    source: z.literal('request'),
    transformation: z
      .object({
        fn: z.enum(REQUEST_FNS),
        /** The request field read (default `prompt`). */
        field: z.string().refine((f) => FIELD.test(f), { message: 'a request field name' }).default('prompt'),
        /** count_char: the character counted. */
        char: z.string().length(1).optional(),
        /** keyword_category: category → keywords (first category with a hit wins; none: `otherwise`; script: the level of scripts not listed). */
        categories: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
        otherwise: z.string().optional(),
        /** script / keyword_category: the categories in encoding order (the value is the index). */
        levels: z.array(z.string().min(1)).min(2).optional(),
        /**
         * script / keyword_category as one bool (a one-hot column): 1 when the category is this level,
         * else 0. A linear model needs one such feature per level, not the index.
         */
        equals: z.string().min(1).optional(),
        /** A numeric transformation's value divided by this (e.g. 1000: tokens in thousands). */
        divideBy: z.number().finite().positive().optional(),
      })
      .strict(),
  })
  .strict();

const temporalSchema = z
  .object({
    ...base,
    source: z.literal('temporal'),
    transformation: z.object({ fn: z.enum(TEMPORAL_FNS) }).strict(),
    /** An IANA time zone; default the set's `timezone`. */
    timezone: z.string().optional(),
  })
  .strict();

const aggTransformation = z
  .object({
    /** decision: the entity's decisions (count only); reward: its rewards' value or components. */
    event: z.enum(['decision', 'reward']).default('reward'),
    field: z.enum(AGG_FIELDS).default('count'),
    agg: z.enum(AGGS),
  })
  .strict();

const modelSchema = z
  .object({ ...base, source: z.literal('model'), model: z.string().min(1).max(128), transformation: aggTransformation, window: windowSchema })
  .strict();

const aggregateSchema = z
  .object({
    ...base,
    source: z.literal('aggregate'),
    /** The request field naming the entity (e.g. `tenant`). */
    entity: z.string().refine((f) => FIELD.test(f), { message: 'a request field name (e.g. tenant)' }),
    transformation: aggTransformation,
    window: windowSchema,
  })
  .strict();

export const featureDefinitionSchema = z.discriminatedUnion('source', [requestSchema, temporalSchema, modelSchema, aggregateSchema]);

export const featureSetSchema = z
  .object({
    set: z.string().refine((n) => /^[a-z][a-z0-9-]{0,63}$/.test(n), { message: 'a set name: lower-case letters, digits and -, starting with a letter' }),
    description: z.string().optional(),
    timezone: z.string().default('UTC'),
    /** The member of a decision's action that names the model its reward's outcome is counted for (bandit actions: `arm`). */
    modelAction: z.string().min(1).default('arm'),
    features: z.array(featureDefinitionSchema).min(1),
  })
  .strict();

export type FeatureDefinition = z.output<typeof featureDefinitionSchema>;
export type RequestFeature = z.output<typeof requestSchema>;
export type TemporalFeature = z.output<typeof temporalSchema>;
export type ModelFeature = z.output<typeof modelSchema>;
export type AggregateFeature = z.output<typeof aggregateSchema>;
export type FeatureSetDefinition = z.output<typeof featureSetSchema>;

/** A problem the schema cannot see (cross-field rules), named like a zod issue. */
export interface DefinitionProblem {
  /** Index of the feature in `features`. */
  index: number;
  field: string;
  value: unknown;
  expected: string;
}

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The rules between fields: unique names, the transformation's own parameters, aggregates that exist. */
export function checkDefinitions(set: FeatureSetDefinition): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const seen = new Map<string, number>();
  set.features.forEach((f, index) => {
    const p = (field: string, value: unknown, expected: string) => problems.push({ index, field, value, expected });
    const first = seen.get(f.name);
    if (first !== undefined) p('name', f.name, `a name not used before (feature ${first} has it)`);
    seen.set(f.name, index);
    if (f.source === 'request') {
      const t = f.transformation;
      if (t.fn === 'count_char' && t.char === undefined) p('transformation.char', t.char, 'the character to count (count_char)');
      const categorical = t.fn === 'keyword_category' || t.fn === 'script';
      if (t.equals !== undefined) {
        if (!categorical) p('transformation.equals', t.equals, 'nothing (only keyword_category and script take equals)');
        else if (t.levels !== undefined && !t.levels.includes(t.equals)) p('transformation.equals', t.equals, `one of the levels ${t.levels.join(', ')}`);
      }
      if (t.divideBy !== undefined && (categorical || f.type === 'bool' || f.type === 'categorical')) p('transformation.divideBy', t.divideBy, 'nothing (only a numeric feature is divided)');
      const levelType = t.equals === undefined ? 'categorical' : 'bool';
      if (t.fn === 'keyword_category') {
        if (t.categories === undefined) p('transformation.categories', t.categories, 'category → keywords (keyword_category)');
        if (t.otherwise === undefined) p('transformation.otherwise', t.otherwise, 'the category of a request with no keyword (keyword_category)');
        if (t.levels === undefined) p('transformation.levels', t.levels, 'the categories in encoding order (keyword_category)');
        else {
          for (const c of [...Object.keys(t.categories ?? {}), ...(t.otherwise === undefined ? [] : [t.otherwise])]) {
            if (!t.levels.includes(c)) p('transformation.levels', t.levels, `a list that contains the category ${JSON.stringify(c)}`);
          }
        }
        if (f.type !== levelType) p('type', f.type, `${levelType} (keyword_category${t.equals === undefined ? '' : ' with equals'})`);
      }
      if (t.fn === 'script') {
        if (t.levels === undefined) p('transformation.levels', t.levels, `scripts in encoding order, from ${SCRIPTS.join(', ')}`);
        else {
          for (const l of t.levels) if (!(SCRIPTS as readonly string[]).includes(l)) p('transformation.levels', l, `one of ${SCRIPTS.join(', ')}`);
          if (t.otherwise === undefined || !t.levels.includes(t.otherwise)) p('transformation.otherwise', t.otherwise, 'the level of the scripts not listed (one of levels)');
        }
        if (f.type !== levelType) p('type', f.type, `${levelType} (script${t.equals === undefined ? '' : ' with equals'})`);
      }
      if (t.fn !== 'count_char' && t.char !== undefined) p('transformation.char', t.char, 'nothing (only count_char takes char)');
    } else if (f.source === 'temporal') {
      if (f.timezone !== undefined && !validZone(f.timezone)) p('timezone', f.timezone, 'an IANA time zone such as "UTC" or "Europe/Paris"');
    } else {
      const t = f.transformation;
      if (t.event === 'decision' && t.field !== 'count') p('transformation.field', t.field, 'count (decision events carry no values)');
      if (t.event === 'reward' && t.field === 'count' && t.agg !== 'count') p('transformation.agg', t.agg, 'count (field count)');
      if ((t.agg === 'p50' || t.agg === 'p90') && t.field !== 'latency_ms') p('transformation.agg', t.agg, 'count, sum or mean (quantiles are kept for latency_ms only)');
      if (f.source === 'model' && t.event === 'decision') p('transformation.event', t.event, 'reward (a model\'s decisions are counted by its rewards)');
    }
  });
  return problems;
}

/** Scripts `script` can tell apart (by Unicode block of the letters). */
export const SCRIPTS = ['latin', 'cjk', 'cyrillic', 'arabic', 'greek', 'devanagari', 'other', 'none'] as const;
export type Script = (typeof SCRIPTS)[number];

/** Checks the set's time zone too; returns every problem (empty: valid). */
export function checkSet(set: FeatureSetDefinition): DefinitionProblem[] {
  const problems = checkDefinitions(set);
  if (!validZone(set.timezone)) problems.push({ index: -1, field: 'timezone', value: set.timezone, expected: 'an IANA time zone such as "UTC"' });
  return problems;
}
