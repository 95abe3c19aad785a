/**
 * Composite reward specification (R-REWARD-COMPOSITE: "aggregate feedback signals … weighted
 * composite"). A deployment's spec names the reward components it expects (user feedback, quality
 * scores, latency, cost, business signals), how each raw value is transformed onto a comparable
 * scale, its weight and whether it is a reward or a penalty:
 *
 *   reward = Σ_k w_k · s_k · f_k(x_k),   s_k = +1 (reward) or −1 (penalty),   then optionally clipped
 *
 * Specs are plain JSON, validated with zod (every error names the field, the value and what was
 * expected) and carry a `version` that is stored with the deployment and with every logged reward.
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, { message: 'expected a finite number' });
const positive = finite.refine((v) => v > 0, { message: 'expected a number > 0' });

/** Transforms from a raw component value to the scale the weights apply to. */
export const transformSchema = z.discriminatedUnion('kind', [
  /** f(x) = x */
  z.object({ kind: z.literal('identity') }).strict(),
  /** f(x) = scale·x + offset */
  z.object({ kind: z.literal('linear'), scale: finite, offset: finite.default(0) }).strict(),
  /** f(x) = min(max(x, min), max) */
  z.object({ kind: z.literal('clip'), min: finite, max: finite }).strict()
    .refine((t) => t.min < t.max, { message: 'expected min < max', path: ['max'] }),
  /** f(x) = min(x / target, cap): e.g. latency against its SLO, capped so one outlier cannot dominate. */
  z.object({ kind: z.literal('ratio'), target: positive, cap: positive.optional() }).strict(),
  /** f(x) = ln(1 + x/scale): diminishing returns, e.g. revenue. */
  z.object({ kind: z.literal('log1p'), scale: positive.default(1) }).strict(),
  /** f(x) = 1 if x ≥ threshold else 0 (or the reverse with below: true): e.g. "SLO met". */
  z.object({ kind: z.literal('threshold'), threshold: finite, below: z.boolean().default(false) }).strict(),
]);

export const componentSources = ['user_feedback', 'quality', 'latency', 'cost', 'business'] as const;

export const componentSchema = z.object({
  /** Which family of signal this is (R-REWARD-COMPOSITE). */
  source: z.enum(componentSources),
  /** Weight w ≥ 0. */
  weight: finite.refine((v) => v >= 0, { message: 'expected a number >= 0' }),
  /** 'reward' adds the transformed value, 'penalty' subtracts it (default 'reward'). */
  direction: z.enum(['reward', 'penalty']).default('reward'),
  transform: transformSchema.default({ kind: 'identity' }),
  /** A required component must be present in every reward report (default true). */
  required: z.boolean().default(true),
  /** Raw value used when an optional component is missing; without it the component adds 0. */
  default: finite.optional(),
  /** Raw values outside [min, max] are refused (a guard against unit mix-ups, e.g. ms vs s). */
  range: z.object({ min: finite, max: finite }).strict()
    .refine((r) => r.min <= r.max, { message: 'expected min <= max', path: ['max'] }).optional(),
  description: z.string().optional(),
}).strict().refine((c) => !(c.required && c.default !== undefined), {
  message: 'expected no default on a required component (set required: false to use one)', path: ['default'],
});

const componentName = z.string().regex(/^[a-z][a-z0-9_]*$/, { message: 'expected a snake_case name (a-z, 0-9, _)' });

export const rewardSpecSchema = z.object({
  /** Version of this spec (a positive integer, bumped on every change). */
  version: z.number().int().positive(),
  components: z.record(componentName, componentSchema)
    .refine((c) => Object.keys(c).length > 0, { message: 'expected at least one component' }),
  /** Clip of the final scalar reward. */
  clip: z.object({ min: finite, max: finite }).strict()
    .refine((r) => r.min < r.max, { message: 'expected min < max', path: ['max'] }).optional(),
  description: z.string().optional(),
}).strict();

export type RewardTransform = z.infer<typeof transformSchema>;
export type RewardComponentSpec = z.infer<typeof componentSchema>;
/** A validated reward spec (defaults filled in). */
export type RewardSpec = z.infer<typeof rewardSpecSchema>;
/** A reward spec as written (defaults optional). */
export type RewardSpecInput = z.input<typeof rewardSpecSchema>;

/** Raised for an invalid spec; `issues` lists every problem, `message` has one line per problem. */
export class RewardSpecError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid reward spec:\n  ${issues.join('\n  ')}`);
    this.name = 'RewardSpecError';
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function at(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(spec)';
}

/** One line per zod issue: the field, the value found and what was expected. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const field = at(issue.path);
  const got = show(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      return `${field}: got ${got}, expected ${issue.expected === 'int' ? 'an integer' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}`;
    case 'too_small':
      return `${field}: got ${got}, expected ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `${field}: got ${got}, expected ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `${field}: got ${got}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union': {
      const u = issue as z.core.$ZodIssueInvalidUnion & { options?: unknown[]; discriminator?: string };
      if (u.discriminator) {
        const v = issue.input && typeof issue.input === 'object' ? (issue.input as Record<string, unknown>)[u.discriminator] : issue.input;
        return `${field}: got ${show(v)}, expected one of ${(u.options ?? []).map((o) => JSON.stringify(o)).join(', ')}`;
      }
      return `${field}: got ${got}, ${issue.message}`;
    }
    case 'invalid_format':
      return `${field}: got ${got}, ${issue.message.replace(/^Invalid string: must match pattern .*/, 'expected a snake_case name (a-z, 0-9, _)')}`;
    case 'invalid_key':
      return `${field}: key ${show(issue.input)} is invalid: ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'custom': {
      // A refinement on an object reports the object; show the field it points at instead.
      const key = issue.path[issue.path.length - 1];
      const inObject = issue.input && typeof issue.input === 'object' && key !== undefined && key in (issue.input as object);
      return `${field}: got ${inObject ? show((issue.input as Record<PropertyKey, unknown>)[key as PropertyKey]) : got}, ${issue.message}`;
    }
    default:
      return `${field}: got ${got}, ${issue.message}`;
  }
}

const parsed = new WeakSet<object>();

/** Validates a spec, filling in defaults; throws RewardSpecError naming every bad field. */
export function parseRewardSpec(input: unknown): RewardSpec {
  const r = rewardSpecSchema.safeParse(input, { reportInput: true });
  if (!r.success) throw new RewardSpecError(r.error.issues.map(describeIssue));
  parsed.add(r.data);
  return r.data;
}

/** Whether `spec` came out of parseRewardSpec. */
export function isParsedRewardSpec(spec: unknown): spec is RewardSpec {
  return typeof spec === 'object' && spec !== null && parsed.has(spec);
}
