/**
 * Schema of the RL policy config (`configs/rl/policy.defaults.yaml`, R-TUNER-CONFIG shape, extended).
 * Every field has the default of that file, so `policyConfigSchema.parse({})` is the defaults.
 * Objects are strict: an unknown (misspelt) field is an error that names it. Each message names the
 * field, the value received and what was expected, e.g.
 *   `policy.bounds.k.min must be an integer ≥ 1, got 0.5`. The `ppo` section is the trainer's
 * schema (`ml/rl/hyperparameters.ts`), whose messages say what was expected.
 * The lead's YAML loader calls `policyConfigSchema`; `parsePolicyConfig` is the same with the issues
 * joined into one Error for callers without a loader.
 */
import { z } from 'zod';
import { parsePpoHyperparameters, PpoHyperparametersSchema, type PpoHyperparameters } from '../ml/rl/hyperparameters';

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

interface NumberRule {
  int?: boolean;
  min?: number;
  /** Strictly greater than. */
  gt?: number;
  max?: number;
  /** Strictly less than. */
  lt?: number;
}

function describe(rule: NumberRule): string {
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`≥ ${rule.min}`);
  if (rule.gt !== undefined) parts.push(`> ${rule.gt}`);
  if (rule.max !== undefined) parts.push(`≤ ${rule.max}`);
  if (rule.lt !== undefined) parts.push(`< ${rule.lt}`);
  return `${rule.int ? 'an integer' : 'a number'}${parts.length ? ' ' + parts.join(' and ') : ''}`;
}

/** A number field whose every failure says `field must be <rule>, got <value>`. */
function num(field: string, rule: NumberRule, fallback: number) {
  const msg = (iss: { input?: unknown }) => `${field} must be ${describe(rule)}, got ${show(iss.input)}`;
  let s = z.number({ error: msg });
  if (rule.int) s = s.int({ error: msg });
  if (rule.min !== undefined) s = s.min(rule.min, { error: msg });
  if (rule.gt !== undefined) s = s.gt(rule.gt, { error: msg });
  if (rule.max !== undefined) s = s.max(rule.max, { error: msg });
  if (rule.lt !== undefined) s = s.lt(rule.lt, { error: msg });
  return s.default(fallback);
}

function bool(field: string, fallback: boolean) {
  return z.boolean({ error: (iss) => `${field} must be true or false, got ${show(iss.input)}` }).default(fallback);
}

function oneOf<T extends string>(field: string, values: readonly [T, ...T[]], fallback: T) {
  return z
    .enum(values, { error: (iss) => `${field} must be one of ${values.join(', ')}, got ${show(iss.input)}` })
    .default(fallback);
}

/** A strict object: a missing object takes its fields' defaults, an unknown key is named. */
function obj<S extends z.ZodRawShape>(field: string, shape: S) {
  const known = Object.keys(shape).join(', ');
  return z
    .strictObject(shape, {
      error: (iss) => {
        if (iss.code === 'unrecognized_keys') {
          const keys = (iss as unknown as { keys: string[] }).keys;
          return `${field || 'the policy config'} has unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => (field ? `${field}.${k}` : k)).join(', ')} (expected ${known})`;
        }
        if (iss.code === 'invalid_type') return `${field || 'the policy config'} must be a mapping, got ${show(iss.input)}`;
        return undefined;
      },
    })
    .prefault({} as never);
}

/** A list of distinct ids; each must be one of `allowed` when given. */
function idList(field: string, fallback: string[], allowed?: readonly string[]) {
  const expected = allowed ? `a list of distinct values from ${allowed.join(', ')}` : 'a list of distinct non-empty ids';
  return z
    .array(z.string({ error: (iss) => `${field} must be ${expected}, got an item ${show(iss.input)}` }), {
      error: (iss) => `${field} must be ${expected}, got ${show(iss.input)}`,
    })
    .superRefine((ids, ctx) => {
      const bad = (message: string) => ctx.addIssue({ code: 'custom', message, input: ids });
      if (ids.length === 0) return bad(`${field} must be ${expected}, got an empty list`);
      const seen = new Set<string>();
      for (const id of ids) {
        if (id.trim() === '') return bad(`${field} must be ${expected}, got an empty id`);
        if (seen.has(id)) return bad(`${field} must be ${expected}, got ${show(id)} twice`);
        if (allowed && !allowed.includes(id)) return bad(`${field} must be ${expected}, got ${show(id)}`);
        seen.add(id);
      }
    })
    .default(fallback);
}

const range = (field: string, rule: NumberRule, lo: number, hi: number) =>
  obj(field, { min: num(`${field}.min`, rule, lo), max: num(`${field}.max`, rule, hi) }).superRefine((r, ctx) => {
    if (r.min > r.max) ctx.addIssue({ code: 'custom', message: `${field} must have min ≤ max, got min ${r.min} > max ${r.max}`, input: r });
  });

export const DEFAULT_PROMPT_IDS = ['default', 'cite-sources', 'step-by-step'];

/** The static config a policy is compared with (R-TUNER-SUCCESS baseline); checked against the bounds below. */
const baselineSchema = obj('policy.baseline', {
  variant: oneOf('policy.baseline.variant', ['A', 'B'], 'A'),
  k: num('policy.baseline.k', { int: true }, 8),
  rerank: bool('policy.baseline.rerank', false),
  fusion_weight: num('policy.baseline.fusion_weight', {}, 0),
  prompt_id: z.string({ error: (iss) => `policy.baseline.prompt_id must be a prompt id, got ${show(iss.input)}` }).default('default'),
});

const policySchema = obj('policy', {
  bounds: obj('policy.bounds', {
    k: range('policy.bounds.k', { int: true, min: 1 }, 3, 32),
    fusion_weight: range('policy.bounds.fusion_weight', { min: 0, max: 1 }, 0, 1),
  }),
  discrete: obj('policy.discrete', {
    variant: idList('policy.discrete.variant', ['A', 'B'], ['A', 'B']),
    rerank: idList('policy.discrete.rerank', ['off', 'on'], ['off', 'on']).superRefine((v, ctx) => {
      if (v.length !== 2) ctx.addIssue({ code: 'custom', message: `policy.discrete.rerank must be [off, on] (the re-rank part is a yes/no switch), got ${show(v)}`, input: v });
    }),
    prompt_id: idList('policy.discrete.prompt_id', DEFAULT_PROMPT_IDS),
  }),
  thresholds: obj('policy.thresholds', {
    faithfulness: num('policy.thresholds.faithfulness', { min: 0, max: 1 }, 0.75),
    relevancy: num('policy.thresholds.relevancy', { min: 0, max: 1 }, 0.75),
    p95_latency_ms: num('policy.thresholds.p95_latency_ms', { gt: 0 }, 500),
    error_rate: num('policy.thresholds.error_rate', { gt: 0, max: 1 }, 0.01),
    instability_std: num('policy.thresholds.instability_std', { gt: 0 }, 0.2),
  }),
  cost_ref: num('policy.cost_ref', { gt: 0 }, 0.002),
  reward_weights: obj('policy.reward_weights', {
    alpha: num('policy.reward_weights.alpha', { min: 0 }, 0.5),
    beta: num('policy.reward_weights.beta', { min: 0 }, 0.5),
    gamma: num('policy.reward_weights.gamma', { min: 0 }, 0.2),
    delta: num('policy.reward_weights.delta', { min: 0 }, 0.2),
    lambda: num('policy.reward_weights.lambda', { min: 0 }, 1.0),
  }),
  penalties: obj('policy.penalties', {
    gate_breach: num('policy.penalties.gate_breach', { min: 0 }, 1.0),
    slo_breach: num('policy.penalties.slo_breach', { min: 0 }, 1.0),
    instability: num('policy.penalties.instability', { min: 0 }, 0.5),
    policy_violation: num('policy.penalties.policy_violation', { min: 0 }, 1.0),
  }),
  baseline: baselineSchema,
});

export const DEFAULT_DATASET_IDS = ['acme-policies', 'dev-docs', 'support-faq'];

const environmentSchema = obj('environment', {
  datasets: idList('environment.datasets', DEFAULT_DATASET_IDS),
  episode_length: num('environment.episode_length', { int: true, min: 1 }, 16),
  batch_size: num('environment.batch_size', { int: true, min: 1 }, 200),
  rolling_window: num('environment.rolling_window', { int: true, min: 1 }, 5),
  contextual: bool('environment.contextual', true),
  category_stickiness: num('environment.category_stickiness', { min: 0, max: 1 }, 0),
  max_corpus_age_days: num('environment.max_corpus_age_days', { gt: 0 }, 365),
});

/**
 * The `ppo` section is the trainer's own schema (`ml/rl/hyperparameters.ts`, CleanRL's names, seed
 * R-TUNER-PPO defaults, network widths in `hidden_sizes`), so `parsePpoHyperparameters(config.ppo)` accepts
 * what this schema returns. Its cross-field rules (minibatches ≤ batch, timesteps ≥ batch,
 * kl_adaptive_lr needs target_kl) are checked here too. Fields left out take `RAG_PPO_DEFAULTS`,
 * then the trainer's defaults.
 */
/** Where the RAG tuner's defaults differ from the trainer's (CleanRL's) defaults. */
export const RAG_PPO_DEFAULTS = {
  total_timesteps: 100_000,
  learning_rate: 3e-4,
  anneal_lr: false,
  kl_adaptive_lr: true,
} as const;

export const ppoConfigSchema = z
  .preprocess(
    (v) => (v === undefined || v === null ? { ...RAG_PPO_DEFAULTS } : typeof v === 'object' && !Array.isArray(v) ? { ...RAG_PPO_DEFAULTS, ...v } : v),
    PpoHyperparametersSchema,
  )
  .superRefine((hp, ctx) => {
    // Field problems are already reported by the schema; only the cross-field rules are added here.
    if (!PpoHyperparametersSchema.safeParse(hp).success) return;
    try {
      parsePpoHyperparameters(hp);
    } catch (err) {
      const lines = (err as Error).message.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
      for (const message of lines) ctx.addIssue({ code: 'custom', message, input: hp });
    }
  });

export const policyConfigSchema = obj('', {
  policy: policySchema,
  environment: environmentSchema,
  ppo: ppoConfigSchema,
}).superRefine((c, ctx) => {
  // The baseline must be a point of the action space.
  const b = c.policy.baseline;
  const { k, fusion_weight } = c.policy.bounds;
  const add = (message: string) => ctx.addIssue({ code: 'custom', message, input: b, path: ['policy', 'baseline'] });
  if (!c.policy.discrete.variant.includes(b.variant)) add(`policy.baseline.variant must be one of policy.discrete.variant (${c.policy.discrete.variant.join(', ')}), got ${show(b.variant)}`);
  if (b.k < k.min || b.k > k.max) add(`policy.baseline.k must be within policy.bounds.k [${k.min}, ${k.max}], got ${b.k}`);
  if (b.fusion_weight < fusion_weight.min || b.fusion_weight > fusion_weight.max) {
    add(`policy.baseline.fusion_weight must be within policy.bounds.fusion_weight [${fusion_weight.min}, ${fusion_weight.max}], got ${b.fusion_weight}`);
  }
  if (!c.policy.discrete.prompt_id.includes(b.prompt_id)) add(`policy.baseline.prompt_id must be one of policy.discrete.prompt_id (${c.policy.discrete.prompt_id.join(', ')}), got ${show(b.prompt_id)}`);
});

export type PolicyConfig = z.infer<typeof policyConfigSchema>;
export type PolicyInput = z.input<typeof policyConfigSchema>;
export type PolicySection = PolicyConfig['policy'];
export type EnvironmentSection = PolicyConfig['environment'];
export type PpoConfig = PpoHyperparameters;
export type RewardWeights = PolicySection['reward_weights'];
export type Thresholds = PolicySection['thresholds'];
export type Penalties = PolicySection['penalties'];

/**
 * The issues of a failed parse, one line each, prefixed by `source` (a file name) when given. Messages
 * of this file name their field; others (the `ppo` section's, which say only what was expected) are
 * written `field = value: expected …` like the trainer's own parser.
 */
export function formatPolicyConfigIssues(error: z.ZodError, input: unknown, source?: string): string {
  const lines = error.issues.map((i) => {
    const field = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys' && field.startsWith('ppo')) return `  - ${field} has unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
    if (field === '' || i.message.startsWith(field) || i.message.startsWith('ppo.')) return `  - ${i.message}`;
    return `  - ${field} = ${show(valueAt(input, i.path))}: expected ${i.message}`;
  });
  return `${source ? `${source}: ` : ''}invalid policy config:\n${lines.join('\n')}`;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Validates a parsed YAML/JSON value; throws one Error listing every problem. */
export function parsePolicyConfig(value: unknown, source?: string): PolicyConfig {
  const result = policyConfigSchema.safeParse(value ?? {});
  if (!result.success) throw new Error(formatPolicyConfigIssues(result.error, value, source));
  return result.data;
}

/** The defaults (what `configs/rl/policy.defaults.yaml` spells out). */
export function defaultPolicyConfig(): PolicyConfig {
  return parsePolicyConfig({});
}
