/**
 * The `config` of a deployment of kind `bandit`, validated. Example:
 *
 *   {
 *     "learner": { "kind": "linucb", "params": { "alpha": 1, "lambda": 1 } },
 *     "exploration": { "kind": "epsilon-greedy", "epsilon": 0.05 },
 *     "arms": [{ "name": "gpt-4o" }, { "name": "haiku" }],
 *     "features": ["complexity", "length"],          // context names, in order
 *     "intercept": true,                              // prepend x₀ = 1 (linear learners; default true)
 *     "rewardSpec": { "version": 1, "components": { … } },   // ml/rewards, optional
 *     "decisionTtlSeconds": 86400,                   // how long a decision can be rewarded
 *     "rewardRange": [0, 1],                         // rewards accepted (default [-1e6, 1e6])
 *     "stateKey": "model-router"                     // Redis state name (default: the deployment)
 *   }
 *
 * Errors name the field (`config.learner.kind`), the value and what was expected.
 */
import { learnerFromJSON } from './index';
import type { BanditPolicy } from './types';
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
  exploration: { kind: 'none' } | { kind: 'epsilon-greedy'; epsilon: number } | { kind: 'softmax'; temperature: number };
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

const KEYS = ['learner', 'exploration', 'arms', 'features', 'intercept', 'rewardSpec', 'decisionTtlSeconds', 'stateKey', 'rewardRange'];

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
  if (config.exploration !== undefined && config.exploration !== null) {
    const e = config.exploration;
    if (!isObject(e)) throw new BanditConfigError('config.exploration', e, 'an object { kind: epsilon-greedy, epsilon } or { kind: softmax, temperature }');
    if (e.kind === 'epsilon-greedy') {
      if (typeof e.epsilon !== 'number' || !(e.epsilon > 0 && e.epsilon <= 1)) throw new BanditConfigError('config.exploration.epsilon', e.epsilon, 'a number in (0, 1]');
      exploration = { kind: 'epsilon-greedy', epsilon: e.epsilon };
    } else if (e.kind === 'softmax') {
      if (typeof e.temperature !== 'number' || !(e.temperature > 0)) throw new BanditConfigError('config.exploration.temperature', e.temperature, 'a number > 0');
      exploration = { kind: 'softmax', temperature: e.temperature };
    } else if (e.kind !== 'none') {
      throw new BanditConfigError('config.exploration.kind', e.kind, 'one of none, epsilon-greedy, softmax');
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
  const out: BanditConfig = { learnerKind, learnerParams: params, exploration, arms, features, intercept, d, rewardSpec, decisionTtlSeconds: ttl, stateKey, rewardRange };
  buildLearner(out); // hyperparameters are checked by the learner's constructor
  return out;
}

/** A fresh learner (wrapped in its exploration rule) for the config. */
export function buildLearner(c: BanditConfig): BanditPolicy {
  const base = { kind: c.learnerKind, config: { ...c.learnerParams, nArms: c.arms.length, ...(isContextual(c.learnerKind) ? { d: c.d } : {}) } };
  const json = c.exploration.kind === 'none' ? base : { kind: c.exploration.kind, config: c.exploration.kind === 'epsilon-greedy' ? { epsilon: c.exploration.epsilon } : { temperature: c.exploration.temperature }, base };
  try {
    return learnerFromJSON(json, 'config.learner');
  } catch (err) {
    throw new BanditConfigError('config.learner.params', c.learnerParams, (err as Error).message);
  }
}
