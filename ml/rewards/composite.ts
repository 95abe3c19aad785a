/**
 * The scalar reward of one decision from its reported components, under a reward spec (spec.ts):
 *
 *   reward = clip( Σ_k w_k · s_k · f_k(x_k) )
 *
 * Reports must carry every required component and nothing the spec does not name.
 */
import { isParsedRewardSpec, parseRewardSpec, RewardSpec, RewardSpecInput, RewardTransform } from './spec';

export interface CompositeReward {
  /** The scalar reward. */
  reward: number;
  /** Version of the spec that produced it (log it with the reward). */
  version: number;
  /** w_k · s_k · f_k(x_k) per component (before the final clip). */
  contributions: Record<string, number>;
}

/** Raised for a components report that does not fit the spec. */
export class RewardComponentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RewardComponentsError';
  }
}

function hasOwn(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** f(x) for one transform. */
export function applyTransform(t: RewardTransform, x: number): number {
  switch (t.kind) {
    case 'identity': return x;
    case 'linear': return t.scale * x + t.offset;
    case 'clip': return Math.min(Math.max(x, t.min), t.max);
    case 'ratio': return t.cap === undefined ? x / t.target : Math.min(x / t.target, t.cap);
    case 'log1p': {
      if (x / t.scale <= -1) throw new RewardComponentsError(`log1p transform needs x > −scale (${-t.scale}), got ${x}`);
      return Math.log1p(x / t.scale);
    }
    case 'threshold': return (t.below ? x <= t.threshold : x >= t.threshold) ? 1 : 0;
  }
}

/**
 * The composite reward. `spec` may be a parsed spec (fast path) or raw JSON (validated here).
 * Throws RewardComponentsError naming missing required components, unknown components and bad values.
 */
export function compositeReward(spec: RewardSpec | RewardSpecInput, components: Readonly<Record<string, number>>): CompositeReward {
  const s = isParsedRewardSpec(spec) ? spec : parseRewardSpec(spec);
  if (!components || typeof components !== 'object' || Array.isArray(components)) {
    throw new RewardComponentsError(`reward components must be an object of name → number, got ${JSON.stringify(components)}`);
  }
  const names = Object.keys(s.components);
  // Own properties only, on both sides: "toString" or "constructor" is a component only when the spec names it.
  const unknown = Object.keys(components).filter((k) => !hasOwn(s.components, k));
  if (unknown.length) {
    throw new RewardComponentsError(`unknown reward component${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} for reward spec version ${s.version} (expected: ${names.join(', ')})`);
  }
  const missing = names.filter((k) => s.components[k].required && !hasOwn(components, k));
  if (missing.length) {
    throw new RewardComponentsError(`missing required reward component${missing.length > 1 ? 's' : ''} ${missing.map((k) => JSON.stringify(k)).join(', ')} (reward spec version ${s.version})`);
  }
  const contributions: Record<string, number> = {};
  let total = 0;
  for (const name of names) {
    const c = s.components[name];
    let x = hasOwn(components, name) ? components[name] : undefined;
    if (x === undefined) {
      if (c.default === undefined) continue;
      x = c.default;
    }
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new RewardComponentsError(`reward component "${name}" must be a finite number, got ${JSON.stringify(x) ?? String(x)}`);
    }
    if (c.range && (x < c.range.min || x > c.range.max)) {
      throw new RewardComponentsError(`reward component "${name}" is ${x}, expected a value in [${c.range.min}, ${c.range.max}]`);
    }
    const v = c.weight * (c.direction === 'penalty' ? -1 : 1) * applyTransform(c.transform, x);
    contributions[name] = v;
    total += v;
  }
  const reward = s.clip ? Math.min(Math.max(total, s.clip.min), s.clip.max) : total;
  return { reward, version: s.version, contributions };
}
