/**
 * The shared vocabulary of the bandit learners.
 *
 * Every learner is a *policy* (`actionDist`, `select`) and a *learner* (`update`). Decisions carry
 * the exact probability the serving policy gave the chosen arm (`propensity`, OBP's `pscore`),
 * conditional on the policy's own internal randomness, so logged data feeds OPE (IPS/DR) directly.
 *
 * State is kept as *additive sufficient statistics* (see `ArmStats`): one observation adds a
 * `StatsDelta`; deltas from many server instances commute, so a shared store can apply them with
 * atomic increments (Redis HINCRBYFLOAT / a Lua script) and each instance rebuilds its derived state
 * (A⁻¹, θ̂, posteriors) from the totals with `setStats`.
 */
import type { Rng } from '../rng';

/** A context: the feature vector x for contextual learners; ignored (may be undefined) otherwise. */
export type Context = ArrayLike<number> | undefined;

/** One decision. `scores` are the per-arm numbers the decision was based on (UCB, sampled or mean value…). */
export interface Decision {
  arm: number;
  /** P(arm | context, the policy's internal draws) under the policy that served it; always > 0. */
  propensity: number;
  scores: number[];
}

/** The distribution a policy serves for one context, with the scores it came from. */
export interface ActionDist {
  /** Probability of each arm; sums to 1. */
  dist: Float64Array;
  scores: number[];
}

/**
 * Additive sufficient statistics of one arm: everything a learner's state is a function of, given
 * its (fixed) hyperparameters. All fields are sums over the arm's observations, so stats from
 * several sources add field by field.
 *  - `n`: number of observations
 *  - `rSum`: Σ r;  `rSqSum`: Σ r²
 *  - `xx`: Σ x xᵀ, packed upper triangle (length d(d+1)/2, see linalg.packedIndex) — linear learners only
 *  - `xr`: Σ r x (length d) — linear learners only
 */
export interface ArmStats {
  n: number;
  rSum: number;
  rSqSum: number;
  xx?: number[];
  xr?: number[];
}

/** Statistics of every arm of a learner, plain JSON. */
export interface BanditStats {
  kind: LearnerKind;
  /** Context dimension (0 for non-contextual learners). */
  d: number;
  arms: ArmStats[];
}

/** The increment one observation (context, arm, reward) adds to the statistics of its arm. */
export interface StatsDelta {
  arm: number;
  stats: ArmStats;
}

export type LearnerKind = 'linucb' | 'lints' | 'beta-ts' | 'gaussian-ts' | 'epsilon-greedy' | 'softmax' | 'uncertainty-epsilon';

/** What every learner (and every exploration wrapper) offers. */
export interface BanditPolicy {
  readonly kind: LearnerKind;
  readonly nArms: number;
  /** The per-arm probabilities the policy serves for `context` (exact for the draws it used). */
  actionDist(context: Context, rng: Rng): ActionDist;
  /** Draws an arm from `actionDist`; `propensity` is that arm's probability. */
  select(context: Context, rng: Rng): Decision;
  /** Deterministic per-arm scores the learner ranks arms by (UCB for LinUCB, posterior mean for TS). */
  pointScores(context: Context): Float64Array;
  /**
   * The learner's estimate of `arm`'s mean reward in `context` (posterior mean for Thompson sampling, the
   * ridge estimate xᵀθ̂_a for the linear learners): the prediction a served decision is calibrated on.
   */
  expectedReward(context: Context, arm: number): number;
  /** Learns from one observation (the incremental path: Sherman–Morrison for linear learners). */
  update(context: Context, arm: number, reward: number): void;
  /** The increment `update(context, arm, reward)` adds to the statistics; pure. */
  statsDelta(context: Context, arm: number, reward: number): StatsDelta;
  /** Adds increments (from this or another instance) to the statistics and refreshes derived state. */
  applyStats(deltas: StatsDelta | StatsDelta[]): void;
  /** The current totals. */
  getStats(): BanditStats;
  /** Replaces the totals (e.g. with those read back from a shared store) and rebuilds derived state. */
  setStats(stats: BanditStats): void;
  /** Plain-JSON state: hyperparameters and statistics (derived state is rebuilt on load). */
  toJSON(): unknown;
}

/** Draws an index from `dist` and returns the decision. */
export function decide(ad: ActionDist, rng: Rng): Decision {
  const arm = rng.categorical(ad.dist);
  return { arm, propensity: ad.dist[arm], scores: ad.scores };
}

/** Checks an arm index; the message names the value and the valid range. */
export function checkArm(arm: number, nArms: number, where: string): void {
  if (!Number.isInteger(arm) || arm < 0 || arm >= nArms) {
    throw new Error(`${where}: arm must be an integer in [0, ${nArms - 1}], got ${arm}`);
  }
}

/** Checks a reward is a finite number. */
export function checkReward(reward: number, where: string): void {
  if (typeof reward !== 'number' || !Number.isFinite(reward)) {
    throw new Error(`${where}: reward must be a finite number, got ${String(reward)}`);
  }
}

/** Checks a positive-number hyperparameter. */
export function checkPositive(name: string, value: unknown, where: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${where}: ${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}`);
  }
  return value;
}

/** Checks a positive integer hyperparameter. */
export function checkPositiveInt(name: string, value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Empty statistics for one arm. */
export function emptyArmStats(d: number): ArmStats {
  const s: ArmStats = { n: 0, rSum: 0, rSqSum: 0 };
  if (d > 0) {
    s.xx = new Array<number>((d * (d + 1)) / 2).fill(0);
    s.xr = new Array<number>(d).fill(0);
  }
  return s;
}

/** Adds `delta` into `into`, field by field. */
export function addArmStats(into: ArmStats, delta: ArmStats): void {
  into.n += delta.n;
  into.rSum += delta.rSum;
  into.rSqSum += delta.rSqSum;
  if (delta.xx) {
    if (!into.xx || into.xx.length !== delta.xx.length) throw new Error(`applyStats: xx has length ${delta.xx.length}, expected ${into.xx?.length ?? 0}`);
    for (let i = 0; i < delta.xx.length; i++) into.xx[i] += delta.xx[i];
  }
  if (delta.xr) {
    if (!into.xr || into.xr.length !== delta.xr.length) throw new Error(`applyStats: xr has length ${delta.xr.length}, expected ${into.xr?.length ?? 0}`);
    for (let i = 0; i < delta.xr.length; i++) into.xr[i] += delta.xr[i];
  }
}

/** Validates a `BanditStats` object against a learner's kind, arm count and dimension. */
export function checkStats(stats: BanditStats, kind: LearnerKind, nArms: number, d: number): void {
  if (!stats || typeof stats !== 'object') throw new Error(`setStats: stats must be an object, got ${String(stats)}`);
  if (stats.kind !== kind) throw new Error(`setStats: stats.kind is '${stats.kind}', expected '${kind}'`);
  if (stats.d !== d) throw new Error(`setStats: stats.d is ${stats.d}, expected ${d}`);
  if (!Array.isArray(stats.arms) || stats.arms.length !== nArms) {
    throw new Error(`setStats: stats.arms has ${Array.isArray(stats.arms) ? stats.arms.length : 'no'} entries, expected ${nArms}`);
  }
  const pl = (d * (d + 1)) / 2;
  stats.arms.forEach((a, i) => {
    for (const f of ['n', 'rSum', 'rSqSum'] as const) {
      if (typeof a[f] !== 'number' || !Number.isFinite(a[f])) throw new Error(`setStats: arms[${i}].${f} must be a finite number, got ${String(a[f])}`);
    }
    if (d > 0) {
      if (!Array.isArray(a.xx) || a.xx.length !== pl) throw new Error(`setStats: arms[${i}].xx must have length ${pl} (packed d×d), got ${a.xx?.length}`);
      if (!Array.isArray(a.xr) || a.xr.length !== d) throw new Error(`setStats: arms[${i}].xr must have length ${d}, got ${a.xr?.length}`);
    }
  });
}

/** Index of the largest value; ties → all tied indices. */
export function argmaxAll(scores: ArrayLike<number>, tol = 0): number[] {
  let best = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > best) best = scores[i];
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] >= best - tol) out.push(i);
  return out;
}

/**
 * An informative prior on one arm's mean reward: `mean`, worth `strength` observations. Each learner
 * reads it in its own conjugate form (Beta(m·s, (1 − m)·s); Normal–Gamma μ₀ = m, κ₀ = s; for the linear
 * learners a Gaussian prior on the intercept coefficient with mean m and precision λ + s).
 */
export interface ArmPrior {
  mean: number;
  strength: number;
}

/** Checks per-arm priors (one entry per arm, null: the learner's default prior); the message names the arm. */
export function checkArmPriors(priors: unknown, nArms: number, where: string): (ArmPrior | null)[] {
  if (priors === undefined || priors === null) return new Array<ArmPrior | null>(nArms).fill(null);
  if (!Array.isArray(priors) || priors.length !== nArms) throw new Error(`${where}: priors must be an array of ${nArms} entries (one per arm, null for none), got ${JSON.stringify(priors)}`);
  return priors.map((p, a) => {
    if (p === null || p === undefined) return null;
    const { mean, strength } = p as ArmPrior;
    if (typeof mean !== 'number' || !Number.isFinite(mean)) throw new Error(`${where}: priors[${a}].mean must be a finite number, got ${String(mean)}`);
    if (typeof strength !== 'number' || !Number.isFinite(strength) || !(strength > 0)) throw new Error(`${where}: priors[${a}].strength must be a finite number > 0, got ${String(strength)}`);
    return { mean, strength };
  });
}

/** `{ priors }` for a learner's JSON when some arm has one, else nothing (the JSON of a learner without priors is unchanged). */
export function priorsJSON(priors: (ArmPrior | null)[]): { priors?: (ArmPrior | null)[] } {
  return priors.some((p) => p !== null) ? { priors } : {};
}
