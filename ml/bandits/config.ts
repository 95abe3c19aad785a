/**
 * The `config` of a deployment of kind `bandit`, validated. Example:
 *
 *   {
 *     "learner": { "kind": "linucb", "params": { "alpha": 1, "lambda": 1 } },
 *     "exploration": { "kind": "epsilon-greedy", "epsilon": 0.05 },
 *       // or { "kind": "meta", "epsilon0": 0.2, "minEpsilon": 0.01, "neighbours": 5, "task": { "rewardScale": 1 },
 *       //      "snapshots": [past deployments, ml/bandits/meta-exploration.ts] }: warm-start priors + ε decayed by uncertainty
 *     "arms": [{ "name": "gpt-4o" }, { "name": "haiku" }],
 *     "features": ["complexity", "length"],          // context names, in order
 *     "intercept": true,                              // prepend x₀ = 1 (linear learners; default true)
 *     "rewardSpec": { "version": 1, "components": { … } },   // ml/rewards, optional
 *     "decisionTtlSeconds": 86400,                   // how long a decision can be rewarded
 *     "rewardRange": [0, 1],                         // rewards accepted (default [-1e6, 1e6])
 *     "stateKey": "model-router",                    // Redis state name (default: the deployment)
 *     "priors": { "gpt-4o": { "mean": 0.8, "strength": 20 } },   // per-arm prior mean reward, worth `strength` observations
 *     "segments": {                                  // per-segment constraints (ml/bandits/constraints.ts)
 *       "field": "segment",                          // the decide request's features.<field> names the segment
 *       "rules": { "acme/code": { "arms": ["gpt-4o", "haiku"], "maxShare": { "gpt-4o": 0.4 } } },
 *       "default": {}                                // rule of segments not listed (absent: such requests are refused)
 *     },
 *     "circuitBreaker": { "failureComponent": "failed", "consecutiveFailures": 5, "cooldownMs": 30000 }  // per-arm breakers (ml/routing)
 *   }
 *
 * Errors name the field (`config.learner.kind`), the value and what was expected.
 */
import { capacityOf, CAP_SUM_TOLERANCE, type SegmentRule } from './constraints';
import { learnerFromJSON } from './index';
import type { ArmPrior, BanditPolicy } from './types';
import { parseCircuitBreaker, type CircuitBreakerConfig } from '../routing/circuit-breaker';
import { checkTask, metaWarmStart, type DeploymentSnapshot, type MetaWarmStart, type TaskFeatures } from './meta-exploration';
import { parseRewardSpec, type RewardSpec } from '../rewards';

/** A JSON value (an arm's payload is handed back with each decision as sent). */
export type ArmPayload = null | boolean | number | string | ArmPayload[] | { [key: string]: ArmPayload };

export const BASE_LEARNERS = ['linucb', 'lints', 'beta-ts', 'gaussian-ts'] as const;
export type BaseLearnerKind = (typeof BASE_LEARNERS)[number];

export interface BanditArm {
  name: string;
  /** Anything the caller wants back with the decision (e.g. the model id, the prompt template). */
  payload: ArmPayload;
}

export interface BanditConfig {
  learnerKind: BaseLearnerKind;
  learnerParams: Record<string, number>;
  exploration: { kind: 'none' } | { kind: 'epsilon-greedy'; epsilon: number } | { kind: 'softmax'; temperature: number } | MetaExploration;
  arms: BanditArm[];
  /** Context feature names (empty for non-contextual learners). */
  features: string[];
  intercept: boolean;
  /** Context dimension the learner sees (features + intercept; 0 for non-contextual learners). */
  d: number;
  rewardSpec: RewardSpec | null;
  decisionTtlSeconds: number;
  stateKey: string;
  /** [lo, hi]: the scalar rewards accepted (after a reward spec, if any); others are refused before the learner sees them. */
  rewardRange: RewardRange;
  /** Per-arm priors on the mean reward, by arm index (null: the learner's default prior). */
  priors: (ArmPrior | null)[];
  /** Per-segment constraints (null: none). */
  segments: BanditSegments | null;
  /** Per-arm circuit breaking (routing, ml/routing/circuit-breaker.ts; null: none). */
  circuitBreaker: CircuitBreakerConfig | null;
}

/**
 * `exploration: { kind: meta, … }` resolved (ml/bandits/meta-exploration.ts): the priors it chose are in
 * `BanditConfig.priors` (an arm's explicit `config.priors` entry wins); ε decays from `epsilon0` with the
 * posterior's uncertainty measured against `strengths`.
 */
export interface MetaExploration {
  kind: 'meta';
  epsilon0: number;
  minEpsilon: number;
  /** Prior strength per arm (observations) the uncertainty is measured against. */
  strengths: number[];
  /** The past deployments the warm start came from, nearest first. */
  neighbours: string[];
  /** Learner hyperparameters it set (LinUCB's alpha or linear TS's v = rewardScale·σ̂, unless given in learner.params). */
  params: Record<string, number>;
}

/** Per-segment constraints of a bandit deployment (ml/bandits/constraints.ts). */
export interface BanditSegments {
  /** The key of the decide request's `features` object whose (string) value names the segment. */
  field: string;
  rules: Map<string, SegmentRule>;
  /** The rule of a segment not in `rules`; null: a request of such a segment (or with none) is refused. */
  default: SegmentRule | null;
}

/** The rewards a deployment accepts, inclusive. */
export type RewardRange = readonly [number, number];

/** The reward range of a deployment that sets none: finite and within ±1e6. */
export const DEFAULT_REWARD_RANGE: RewardRange = [-1e6, 1e6];

/**
 * No reward range reaches beyond ±1e12: a learner's statistics hold squares and sums of rewards, which
 * must stay far inside float64's finite range (and exact enough to be summed) whatever is configured.
 */
export const MAX_REWARD_MAGNITUDE = 1e12;

/** `rewardRange` checked: [lo, hi] finite, lo < hi, both within ±MAX_REWARD_MAGNITUDE. */
export function parseRewardRange(v: unknown, field = 'config.rewardRange'): RewardRange {
  if (v === undefined || v === null) return DEFAULT_REWARD_RANGE;
  const ok = Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) <= MAX_REWARD_MAGNITUDE) && (v[0] as number) < (v[1] as number);
  if (!ok) throw new BanditConfigError(field, v, `[lo, hi]: two finite numbers, lo < hi, within ±${MAX_REWARD_MAGNITUDE}`);
  return [v[0] as number, v[1] as number];
}

export class BanditConfigError extends Error {
  constructor(readonly field: string, value: unknown, expected: string) {
    super(`${field}: got ${JSON.stringify(value) ?? 'nothing'}, expected ${expected}`);
    this.name = 'BanditConfigError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,127}$/;

export function isContextual(kind: BaseLearnerKind): boolean {
  return kind === 'linucb' || kind === 'lints';
}

const KEYS = ['learner', 'exploration', 'arms', 'features', 'intercept', 'rewardSpec', 'decisionTtlSeconds', 'stateKey', 'rewardRange', 'priors', 'segments', 'circuitBreaker'];

/** `config.priors`: { <arm>: { mean, strength } } → one entry per arm (null where none). */
function parsePriors(v: unknown, arms: BanditArm[], learnerKind: BaseLearnerKind, intercept: boolean): (ArmPrior | null)[] {
  const out = new Array<ArmPrior | null>(arms.length).fill(null);
  if (v === undefined || v === null) return out;
  if (!isObject(v)) throw new BanditConfigError('config.priors', v, 'an object { <arm>: { mean, strength } }');
  if (isContextual(learnerKind) && !intercept && Object.keys(v).length > 0) throw new BanditConfigError('config.priors', v, `no priors for ${learnerKind} without an intercept (a prior is on the intercept coefficient): set intercept: true`);
  const index = new Map(arms.map((a, i) => [a.name, i]));
  for (const [name, p] of Object.entries(v)) {
    const i = index.get(name);
    if (i === undefined) throw new BanditConfigError(`config.priors.${name}`, p, `a prior of an arm of this deployment (${arms.map((a) => a.name).join(', ')})`);
    if (!isObject(p)) throw new BanditConfigError(`config.priors.${name}`, p, '{ mean, strength }');
    for (const k of Object.keys(p)) if (k !== 'mean' && k !== 'strength') throw new BanditConfigError(`config.priors.${name}.${k}`, p[k], 'no such setting (known: mean, strength)');
    const range = learnerKind === 'beta-ts' ? 'in (0, 1) for beta-ts' : 'finite';
    if (typeof p.mean !== 'number' || !Number.isFinite(p.mean) || (learnerKind === 'beta-ts' && !(p.mean > 0 && p.mean < 1))) throw new BanditConfigError(`config.priors.${name}.mean`, p.mean, `a number ${range}: the arm's prior mean reward`);
    if (typeof p.strength !== 'number' || !Number.isFinite(p.strength) || !(p.strength > 0)) throw new BanditConfigError(`config.priors.${name}.strength`, p.strength, 'a number > 0: how many observations the prior is worth');
    out[i] = { mean: p.mean, strength: p.strength };
  }
  return out;
}

const META_KEYS = ['kind', 'epsilon0', 'minEpsilon', 'neighbours', 'weights', 'task', 'snapshots'];

/**
 * `config.exploration: { kind: meta, epsilon0?, minEpsilon?, neighbours?, weights?, task?, snapshots }`: priors
 * from the nearest snapshots (`metaWarmStart`; the task's nArms and contextDim follow from the config,
 * `task` gives rewardScale (default 1) and any extra features the snapshots describe),
 * the ε schedule, and the learner's exploration scale (LinUCB's alpha, linear TS's v) = rewardScale·σ̂ (the
 * neighbours' noise sd) unless `learner.params` sets it. Explicit `config.priors` entries are kept.
 */
function parseMetaExploration(e: Record<string, unknown>, arms: BanditArm[], learnerKind: BaseLearnerKind, params: Record<string, number>, intercept: boolean, d: number, explicit: (ArmPrior | null)[]): { exploration: MetaExploration; priors: (ArmPrior | null)[] } {
  const at = 'config.exploration';
  for (const k of Object.keys(e)) if (!META_KEYS.includes(k)) throw new BanditConfigError(`${at}.${k}`, e[k], `no such setting (known: ${META_KEYS.join(', ')})`);
  if (isContextual(learnerKind) && !intercept) throw new BanditConfigError(`${at}.kind`, 'meta', `intercept: true for ${learnerKind} (meta priors are on the intercept coefficient)`);
  const epsilon0 = e.epsilon0 ?? 0.2;
  if (typeof epsilon0 !== 'number' || !(epsilon0 > 0 && epsilon0 <= 1)) throw new BanditConfigError(`${at}.epsilon0`, epsilon0, 'a number in (0, 1]');
  const minEpsilon = e.minEpsilon ?? Math.min(0.01, epsilon0);
  if (typeof minEpsilon !== 'number' || !(minEpsilon > 0 && minEpsilon <= epsilon0)) throw new BanditConfigError(`${at}.minEpsilon`, minEpsilon, `a number in (0, epsilon0 = ${epsilon0}]: every arm keeps a propensity ≥ minEpsilon/K`);
  const k = e.neighbours ?? 5;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 100) throw new BanditConfigError(`${at}.neighbours`, k, 'an integer in 1..100');
  const taskIn = e.task ?? {};
  if (!isObject(taskIn)) throw new BanditConfigError(`${at}.task`, taskIn, '{ rewardScale?, <feature>: number … }');
  for (const key of ['nArms', 'contextDim']) if (key in taskIn) throw new BanditConfigError(`${at}.task.${key}`, taskIn[key], 'nothing: it follows from arms and features');
  const task = { nArms: arms.length, contextDim: Math.max(1, d), rewardScale: 1, ...taskIn } as TaskFeatures;
  const weights = e.weights ?? {};
  if (!isObject(weights) || Object.values(weights).some((w) => typeof w !== 'number' || !Number.isFinite(w) || w < 0)) throw new BanditConfigError(`${at}.weights`, weights, '{ <task feature>: weight >= 0 } (distance weights, default 1)');
  if (!Array.isArray(e.snapshots) || e.snapshots.length === 0) throw new BanditConfigError(`${at}.snapshots`, e.snapshots, 'a non-empty array of past deployments { name, task: { nArms, rewardScale, contextDim, … }, arms: [{ name, n, rSum, rSqSum }] }');
  let warm: MetaWarmStart;
  try {
    checkTask(task, `${at}.task`);
    warm = metaWarmStart(task, arms.map((a) => a.name), e.snapshots as DeploymentSnapshot[], { neighbours: k, weights: weights as Record<string, number> });
  } catch (err) {
    throw new BanditConfigError(`${at}.snapshots`, `(${e.snapshots.length} snapshots)`, (err as Error).message);
  }
  const priors = warm.priors.map((p, i) => explicit[i] ?? p);
  if (learnerKind === 'beta-ts') {
    priors.forEach((p, i) => {
      if (!(p.mean > 0 && p.mean < 1)) throw new BanditConfigError(`${at}.snapshots`, `(prior mean ${p.mean} for arm ${arms[i].name})`, 'snapshots whose rewards give prior means in (0, 1) for beta-ts');
    });
  }
  // The learner's own exploration scale in reward units, from the neighbours' noise: LinUCB's α, linear TS's v.
  const scale = task.rewardScale * Math.sqrt(warm.noiseVar);
  const scaleParam = learnerKind === 'linucb' ? 'alpha' : learnerKind === 'lints' ? 'v' : null;
  const setParams = scaleParam !== null && params[scaleParam] === undefined && scale > 0 ? { [scaleParam]: scale } : {};
  return { exploration: { kind: 'meta', epsilon0, minEpsilon, strengths: priors.map((p) => p.strength), neighbours: warm.neighbours.map((n) => n.name), params: setParams }, priors };
}

/** One segment's rule `{ arms?, maxShare? }` at `field`. */
function parseSegmentRule(v: unknown, field: string, arms: BanditArm[]): SegmentRule {
  if (!isObject(v)) throw new BanditConfigError(field, v, '{ arms?: [arm names], maxShare?: { <arm>: share in [0, 1] } }');
  for (const k of Object.keys(v)) if (k !== 'arms' && k !== 'maxShare') throw new BanditConfigError(`${field}.${k}`, v[k], 'no such setting (known: arms, maxShare)');
  const index = new Map(arms.map((a, i) => [a.name, i]));
  const known = arms.map((a) => a.name).join(', ');
  const allowed = new Array<boolean>(arms.length).fill(v.arms === undefined);
  if (v.arms !== undefined) {
    if (!Array.isArray(v.arms) || v.arms.length === 0) throw new BanditConfigError(`${field}.arms`, v.arms, `a non-empty array of arm names (${known})`);
    v.arms.forEach((name, j) => {
      const i = typeof name === 'string' ? index.get(name) : undefined;
      if (i === undefined) throw new BanditConfigError(`${field}.arms.${j}`, name, `an arm of this deployment (${known})`);
      allowed[i] = true;
    });
  }
  const maxShare = new Array<number>(arms.length).fill(1);
  if (v.maxShare !== undefined) {
    if (!isObject(v.maxShare)) throw new BanditConfigError(`${field}.maxShare`, v.maxShare, '{ <arm>: share in [0, 1] }');
    for (const [name, c] of Object.entries(v.maxShare)) {
      const i = index.get(name);
      if (i === undefined) throw new BanditConfigError(`${field}.maxShare.${name}`, c, `a cap of an arm of this deployment (${known})`);
      if (typeof c !== 'number' || !(c >= 0 && c <= 1)) throw new BanditConfigError(`${field}.maxShare.${name}`, c, 'a share in [0, 1]');
      maxShare[i] = c;
    }
  }
  const rule = { allowed, maxShare };
  const capacity = capacityOf(rule);
  if (capacity < 1 - CAP_SUM_TOLERANCE) throw new BanditConfigError(field, v, `caps of the allowed arms summing to at least 1 (they sum to ${capacity}): every decision must be able to pick an arm`);
  return rule;
}

/** `config.segments`: { field, rules: { <segment>: rule }, default? }. */
function parseSegments(v: unknown, arms: BanditArm[], features: string[]): BanditSegments | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new BanditConfigError('config.segments', v, '{ field, rules: { <segment>: { arms?, maxShare? } }, default? }');
  for (const k of Object.keys(v)) if (!['field', 'rules', 'default'].includes(k)) throw new BanditConfigError(`config.segments.${k}`, v[k], 'no such setting (known: field, rules, default)');
  const field = v.field;
  if (typeof field !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.]{0,63}$/.test(field) || field === 'entity' || features.includes(field)) {
    throw new BanditConfigError('config.segments.field', field, 'a context field name (letters, digits, _ .) that is not "entity" nor one of the learner\'s features');
  }
  if (!isObject(v.rules)) throw new BanditConfigError('config.segments.rules', v.rules, '{ <segment>: { arms?, maxShare? } }');
  const rules = new Map<string, SegmentRule>();
  for (const [name, r] of Object.entries(v.rules)) {
    if (!/^.{1,128}$/su.test(name)) throw new BanditConfigError('config.segments.rules', name, 'segment names of 1 to 128 characters');
    rules.set(name, parseSegmentRule(r, `config.segments.rules.${name}`, arms));
  }
  const def = v.default === undefined || v.default === null ? null : parseSegmentRule(v.default, 'config.segments.default', arms);
  return { field, rules, default: def };
}

export function parseBanditConfig(config: Readonly<Record<string, unknown>>, deployment: string): BanditConfig {
  for (const key of Object.keys(config)) {
    if (!KEYS.includes(key)) throw new BanditConfigError(`config.${key}`, config[key], `no such setting (known: ${KEYS.join(', ')})`);
  }
  const learner = config.learner;
  if (!isObject(learner)) throw new BanditConfigError('config.learner', learner, 'an object { kind, params? }');
  const kind = learner.kind;
  if (typeof kind !== 'string' || !(BASE_LEARNERS as readonly string[]).includes(kind)) {
    throw new BanditConfigError('config.learner.kind', kind, `one of ${BASE_LEARNERS.join(', ')}`);
  }
  const learnerKind = kind as BaseLearnerKind;
  const params: Record<string, number> = {};
  if (learner.params !== undefined) {
    if (!isObject(learner.params)) throw new BanditConfigError('config.learner.params', learner.params, 'an object of hyperparameters');
    for (const [k, v] of Object.entries(learner.params)) {
      if (k === 'nArms' || k === 'd') throw new BanditConfigError(`config.learner.params.${k}`, v, 'nothing: it follows from arms and features');
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new BanditConfigError(`config.learner.params.${k}`, v, 'a finite number');
      params[k] = v;
    }
  }
  let exploration: BanditConfig['exploration'] = { kind: 'none' };
  let metaIn: Record<string, unknown> | null = null;
  if (config.exploration !== undefined && config.exploration !== null) {
    const e = config.exploration;
    if (!isObject(e)) throw new BanditConfigError('config.exploration', e, 'an object { kind: epsilon-greedy, epsilon } or { kind: softmax, temperature }');
    if (e.kind === 'epsilon-greedy') {
      if (typeof e.epsilon !== 'number' || !(e.epsilon > 0 && e.epsilon <= 1)) throw new BanditConfigError('config.exploration.epsilon', e.epsilon, 'a number in (0, 1]');
      exploration = { kind: 'epsilon-greedy', epsilon: e.epsilon };
    } else if (e.kind === 'softmax') {
      if (typeof e.temperature !== 'number' || !(e.temperature > 0)) throw new BanditConfigError('config.exploration.temperature', e.temperature, 'a number > 0');
      exploration = { kind: 'softmax', temperature: e.temperature };
    } else if (e.kind === 'meta') {
      metaIn = e;
    } else if (e.kind !== 'none') {
      throw new BanditConfigError('config.exploration.kind', e.kind, 'one of none, epsilon-greedy, softmax, meta');
    }
  }
  const armsIn = config.arms;
  if (!Array.isArray(armsIn) || armsIn.length < 2 || armsIn.length > 256) throw new BanditConfigError('config.arms', armsIn, 'an array of 2 to 256 arms { name }');
  const seen = new Set<string>();
  const arms = armsIn.map((a, i): BanditArm => {
    const name = typeof a === 'string' ? a : isObject(a) ? a.name : undefined;
    if (typeof name !== 'string' || !NAME.test(name)) throw new BanditConfigError(`config.arms.${i}.name`, name, 'a name of 1 to 128 letters, digits, _ . : - /');
    if (seen.has(name)) throw new BanditConfigError(`config.arms.${i}.name`, name, 'a name not used by another arm');
    seen.add(name);
    return { name, payload: isObject(a) && a.payload !== undefined ? (a.payload as ArmPayload) : null };
  });
  const featuresIn = config.features ?? [];
  if (!Array.isArray(featuresIn)) throw new BanditConfigError('config.features', featuresIn, 'an array of feature names');
  const features = featuresIn.map((f, i) => {
    if (typeof f !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.]{0,63}$/.test(f) || f === 'entity') throw new BanditConfigError(`config.features.${i}`, f, 'a feature name (letters, digits, _ .; not "entity")');
    return f;
  });
  if (new Set(features).size !== features.length) throw new BanditConfigError('config.features', features, 'distinct names');
  const contextual = isContextual(learnerKind);
  if (!contextual && features.length > 0) throw new BanditConfigError('config.features', features, `no features for the non-contextual learner ${learnerKind}`);
  const intercept = config.intercept === undefined ? true : config.intercept;
  if (typeof intercept !== 'boolean') throw new BanditConfigError('config.intercept', intercept, 'true or false');
  const d = contextual ? features.length + (intercept ? 1 : 0) : 0;
  if (contextual && d === 0) throw new BanditConfigError('config.features', features, `at least one feature (or intercept: true) for ${learnerKind}`);
  let rewardSpec: RewardSpec | null = null;
  if (config.rewardSpec !== undefined && config.rewardSpec !== null) {
    try {
      rewardSpec = parseRewardSpec(config.rewardSpec);
    } catch (err) {
      throw new BanditConfigError('config.rewardSpec', config.rewardSpec, (err as Error).message);
    }
  }
  const ttl = config.decisionTtlSeconds ?? 86_400;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 86_400) throw new BanditConfigError('config.decisionTtlSeconds', ttl, 'an integer number of seconds in 1..2592000');
  const stateKey = config.stateKey ?? deployment;
  if (typeof stateKey !== 'string' || !NAME.test(stateKey)) throw new BanditConfigError('config.stateKey', stateKey, 'a name of 1 to 128 letters, digits, _ . : - /');
  const rewardRange = parseRewardRange(config.rewardRange);
  let priors = parsePriors(config.priors, arms, learnerKind, intercept);
  if (metaIn !== null) {
    const meta = parseMetaExploration(metaIn, arms, learnerKind, params, intercept, d, priors);
    exploration = meta.exploration;
    priors = meta.priors;
    Object.assign(params, meta.exploration.params);
  }
  const segments = parseSegments(config.segments, arms, features);
  let circuitBreaker: CircuitBreakerConfig | null = null;
  if (config.circuitBreaker !== undefined && config.circuitBreaker !== null) {
    circuitBreaker = parseCircuitBreaker(config.circuitBreaker, 'config.circuitBreaker', (f, v, e) => new BanditConfigError(f, v, e));
    const names = rewardSpec === null ? [] : Object.keys(rewardSpec.components);
    if (!names.includes(circuitBreaker.failureComponent)) throw new BanditConfigError('config.circuitBreaker.failureComponent', circuitBreaker.failureComponent, rewardSpec === null ? 'a rewardSpec with a failure component (outcomes reach the breaker as reward components)' : `a component of config.rewardSpec (${names.join(', ')})`);
  }
  const out: BanditConfig = { learnerKind, learnerParams: params, exploration, arms, features, intercept, d, rewardSpec, decisionTtlSeconds: ttl, stateKey, rewardRange, priors, segments, circuitBreaker };
  buildLearner(out); // hyperparameters are checked by the learner's constructor
  return out;
}

/** A fresh learner (wrapped in its exploration rule) for the config. */
export function buildLearner(c: BanditConfig): BanditPolicy {
  const priors = c.priors;
  const base = { kind: c.learnerKind, config: { ...c.learnerParams, nArms: c.arms.length, ...(isContextual(c.learnerKind) ? { d: c.d } : {}), ...(priors.some((p) => p !== null) ? { priors } : {}) } };
  const e = c.exploration;
  const json = e.kind === 'none' ? base
    : e.kind === 'meta' ? { kind: 'uncertainty-epsilon', config: { epsilon0: e.epsilon0, minEpsilon: e.minEpsilon, strengths: e.strengths }, base }
      : { kind: e.kind, config: e.kind === 'epsilon-greedy' ? { epsilon: e.epsilon } : { temperature: e.temperature }, base };
  try {
    return learnerFromJSON(json, 'config.learner');
  } catch (err) {
    throw new BanditConfigError('config.learner.params', c.learnerParams, (err as Error).message);
  }
}
