/**
 * Meta-learned exploration (docs/requirements.md, UC5 "exploration management"): a new deployment's
 * exploration is chosen from similar past deployments and then adapted online.
 *
 * 1. Warm start (empirical Bayes over the k nearest past deployments). A past deployment is summarised
 *    by a `DeploymentSnapshot`: its task features (number of arms, reward scale, context dimension, any
 *    other numbers) and its per-arm statistics (n, Σr, Σr² — what the shared learner state holds). In
 *    units of its own reward scale S, snapshot j gives
 *
 *      μ̂_j = mean over arms of r̄_a                       (the level of its arms)
 *      σ̂²_j = pooled within-arm variance of r            (observation noise)
 *      τ̂²_j = max(var over arms of r̄_a − mean_a σ̂²_j/n_a, floor)   (spread of arm means, de-biased)
 *
 *    The k snapshots nearest to the new task (Euclidean distance on features standardised over all
 *    snapshots, log scale for counts and scales, optionally weighted per feature) are averaged, and every arm of the new task gets the
 *    Normal–Normal prior  mean = S·μ̄,  strength = σ̄²/τ̄²  (a prior worth σ²/τ² observations is exactly a
 *    N(μ, τ²) prior on the arm's mean under N(·, σ²) noise). An arm whose *name* appears in neighbours'
 *    snapshots (the same model or provider deployed before) takes the neighbours' mean of that arm
 *    instead of the level μ̄.
 *
 * 2. Online adaptation: ε decayed by the posterior's uncertainty (`UncertaintyEpsilon`):
 *
 *      ε_t = max(ε_min, ε₀ · (1/K) Σ_a √(s_a / (s_a + n_a)))
 *
 *    with s_a the arm's prior strength: √(s_a/(s_a+n_a)) is the arm's posterior sd of its mean over its
 *    prior sd, so ε falls as every arm's mean becomes known relative to the spread of arm means (a
 *    calibrated strength from step 1 makes the decay as fast as the task family allows; an arm the
 *    greedy learner starves keeps ε up). The served distribution is
 *
 *      π(a | x) = (1 − ε_t) π_base(a | x) + ε_t / K
 *
 *    computed from the statistics the decision is made with, so the logged propensity is exact.
 */
import type { ArmStats, ArmPrior, BanditPolicy, BanditStats } from './types';
import { ExplorationWrapper } from './exploration';
import type { ActionDist, Context } from './types';
import type { Rng } from '../rng';

/** Numbers describing a deployment's task; all snapshots compared must share the keys. */
export interface TaskFeatures {
  /** Number of arms K. */
  nArms: number;
  /** Typical magnitude of a reward (e.g. the reward range's width); rewards are compared in units of it. */
  rewardScale: number;
  /** Context dimension the learner sees (1: intercept only). */
  contextDim: number;
  /** Any further numeric descriptors (traffic per day, share of code prompts…). */
  [extra: string]: number;
}

/** What a past deployment leaves behind: its task and per-arm statistics (ml/bandits `ArmStats`). */
export interface DeploymentSnapshot {
  name: string;
  task: TaskFeatures;
  arms: { name: string; n: number; rSum: number; rSqSum: number }[];
}

/** The warm start chosen for a new task. */
export interface MetaWarmStart {
  /** One prior per arm of the new task. */
  priors: ArmPrior[];
  /** The snapshots it came from, nearest first. */
  neighbours: { name: string; distance: number }[];
  /** Level, noise variance and spread of arm means, in units of the reward scale (averaged over the neighbours). */
  level: number;
  noiseVar: number;
  spreadVar: number;
}

export interface MetaWarmStartOptions {
  /** How many nearest snapshots to pool (default 5). */
  neighbours?: number;
  /** Prior strengths are kept in [min, max] observations (default [0.5, 200]). */
  minStrength?: number;
  maxStrength?: number;
  /** Weight of each feature in the distance (default 1 each), e.g. { rewardScale: 3 } where the scale tells tasks apart. */
  weights?: Record<string, number>;
}

/** Features that count and scale (compared on a log scale). */
const LOG_FEATURES = new Set(['nArms', 'rewardScale']);

/** A snapshot from a learner's statistics (e.g. `SharedLearner.learner.getStats()` of a finished deployment). */
export function snapshotFromStats(name: string, task: TaskFeatures, armNames: string[], stats: BanditStats): DeploymentSnapshot {
  if (stats.arms.length !== armNames.length) throw new Error(`snapshotFromStats: ${armNames.length} arm names for ${stats.arms.length} arms in stats`);
  return { name, task: { ...task }, arms: stats.arms.map((a: ArmStats, i) => ({ name: armNames[i], n: a.n, rSum: a.rSum, rSqSum: a.rSqSum })) };
}

/** Checks a snapshot; the message names the field. */
export function checkSnapshot(s: DeploymentSnapshot, where: string): void {
  if (!s || typeof s !== 'object') throw new Error(`${where}: expected a snapshot { name, task, arms }, got ${JSON.stringify(s)}`);
  if (typeof s.name !== 'string' || s.name.length === 0) throw new Error(`${where}.name: expected a non-empty string, got ${JSON.stringify(s.name)}`);
  checkTask(s.task, `${where}.task`);
  if (!Array.isArray(s.arms) || s.arms.length < 2) throw new Error(`${where}.arms: expected at least 2 arms { name, n, rSum, rSqSum }, got ${JSON.stringify(s.arms)}`);
  s.arms.forEach((a, i) => {
    if (typeof a?.name !== 'string') throw new Error(`${where}.arms.${i}.name: expected a string, got ${JSON.stringify(a?.name)}`);
    for (const f of ['n', 'rSum', 'rSqSum'] as const) {
      if (typeof a[f] !== 'number' || !Number.isFinite(a[f]) || (f !== 'rSum' && a[f] < 0)) throw new Error(`${where}.arms.${i}.${f}: expected a finite number${f === 'rSum' ? '' : ' >= 0'}, got ${JSON.stringify(a[f])}`);
    }
  });
}

/** Checks task features: nArms ≥ 2, rewardScale > 0, contextDim ≥ 1, every value finite. */
export function checkTask(t: TaskFeatures, where: string): void {
  if (!t || typeof t !== 'object') throw new Error(`${where}: expected { nArms, rewardScale, contextDim, … }, got ${JSON.stringify(t)}`);
  if (!Number.isInteger(t.nArms) || t.nArms < 2) throw new Error(`${where}.nArms: expected an integer >= 2, got ${JSON.stringify(t.nArms)}`);
  if (typeof t.rewardScale !== 'number' || !(t.rewardScale > 0) || !Number.isFinite(t.rewardScale)) throw new Error(`${where}.rewardScale: expected a finite number > 0, got ${JSON.stringify(t.rewardScale)}`);
  if (!Number.isInteger(t.contextDim) || t.contextDim < 1) throw new Error(`${where}.contextDim: expected an integer >= 1, got ${JSON.stringify(t.contextDim)}`);
  for (const [k, v] of Object.entries(t)) if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}.${k}: expected a finite number, got ${JSON.stringify(v)}`);
}

/** μ̂, σ̂², τ̂² of one snapshot in units of its reward scale (arms with n < 2 only count towards μ̂ if n ≥ 1). */
export function snapshotMoments(s: DeploymentSnapshot): { level: number; noiseVar: number; spreadVar: number } {
  const S = s.task.rewardScale;
  const means: number[] = [];
  let within = 0, dof = 0, meanNoiseOverN = 0, counted = 0;
  for (const a of s.arms) {
    if (a.n < 1) continue;
    const m = a.rSum / a.n / S;
    means.push(m);
    if (a.n >= 2) {
      const ss = Math.max(0, a.rSqSum / (S * S) - a.n * m * m);
      within += ss;
      dof += a.n - 1;
    }
  }
  if (means.length < 2) throw new Error(`snapshot ${s.name}: at least two arms with observations are needed, got ${means.length}`);
  const noiseVar = dof > 0 ? within / dof : 0;
  for (const a of s.arms) if (a.n >= 1) { meanNoiseOverN += noiseVar / a.n; counted++; }
  meanNoiseOverN /= counted;
  const level = means.reduce((x, y) => x + y, 0) / means.length;
  const between = means.reduce((x, m) => x + (m - level) ** 2, 0) / (means.length - 1);
  const spreadVar = Math.max(between - meanNoiseOverN, 1e-6 * Math.max(noiseVar, 1e-12));
  return { level, noiseVar, spreadVar };
}

/** Feature vector of a task on the comparison scale (log for counts and scales). */
function featureVector(t: TaskFeatures, keys: string[]): number[] {
  return keys.map((k) => (LOG_FEATURES.has(k) ? Math.log(t[k]) : t[k]));
}

/** The snapshots nearest to `task` (distance on features standardised over the snapshots), nearest first. */
export function nearestSnapshots(task: TaskFeatures, snapshots: DeploymentSnapshot[], k: number, weights: Record<string, number> = {}): { snapshot: DeploymentSnapshot; distance: number }[] {
  checkTask(task, 'task');
  for (const [key, w] of Object.entries(weights)) {
    if (!(key in task)) throw new Error(`weights.${key}: not a feature of the task (${Object.keys(task).join(', ')})`);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new Error(`weights.${key}: expected a finite number >= 0, got ${JSON.stringify(w)}`);
  }
  if (snapshots.length === 0) throw new Error('nearestSnapshots: no snapshots to choose from');
  const keys = Object.keys(task).sort();
  snapshots.forEach((s, i) => {
    checkSnapshot(s, `snapshots.${i}`);
    for (const key of keys) if (!(key in s.task)) throw new Error(`snapshots.${i}.task.${key}: missing; every snapshot must describe the features of the task (${keys.join(', ')})`);
  });
  const X = snapshots.map((s) => featureVector(s.task, keys));
  const mean = keys.map((_, j) => X.reduce((acc, x) => acc + x[j], 0) / X.length);
  const sd = keys.map((_, j) => Math.sqrt(X.reduce((acc, x) => acc + (x[j] - mean[j]) ** 2, 0) / X.length) || 1);
  const q = featureVector(task, keys);
  const w = keys.map((key) => weights[key] ?? 1);
  const scored = snapshots.map((snapshot, i) => ({ snapshot, distance: Math.sqrt(keys.reduce((acc, _, j) => acc + (w[j] * (X[i][j] - q[j]) / sd[j]) ** 2, 0)) }));
  scored.sort((a, b) => a.distance - b.distance || a.snapshot.name.localeCompare(b.snapshot.name));
  return scored.slice(0, Math.min(k, scored.length));
}

/** Priors for the arms of a new task from the nearest past deployments (see the header). */
export function metaWarmStart(task: TaskFeatures, armNames: string[], snapshots: DeploymentSnapshot[], options: MetaWarmStartOptions = {}): MetaWarmStart {
  const k = options.neighbours ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new Error(`metaWarmStart: neighbours must be an integer >= 1, got ${k}`);
  const lo = options.minStrength ?? 0.5, hi = options.maxStrength ?? 200;
  if (!(lo > 0 && hi >= lo)) throw new Error(`metaWarmStart: strengths must satisfy 0 < minStrength <= maxStrength, got [${lo}, ${hi}]`);
  if (armNames.length !== task.nArms) throw new Error(`metaWarmStart: task.nArms is ${task.nArms} but ${armNames.length} arm names were given`);
  const near = nearestSnapshots(task, snapshots, k, options.weights);
  const moments = near.map((n) => snapshotMoments(n.snapshot));
  const avg = (f: (m: (typeof moments)[number]) => number) => moments.reduce((acc, m) => acc + f(m), 0) / moments.length;
  const level = avg((m) => m.level), noiseVar = avg((m) => m.noiseVar), spreadVar = avg((m) => m.spreadVar);
  const strength = Math.min(hi, Math.max(lo, noiseVar / spreadVar));
  const S = task.rewardScale;
  const priors = armNames.map((name): ArmPrior => {
    const seen = near.flatMap((n) => n.snapshot.arms.filter((a) => a.name === name && a.n >= 1).map((a) => a.rSum / a.n / n.snapshot.task.rewardScale));
    const m = seen.length > 0 ? seen.reduce((x, y) => x + y, 0) / seen.length : level;
    return { mean: S * m, strength };
  });
  return { priors, neighbours: near.map((n) => ({ name: n.snapshot.name, distance: n.distance })), level, noiseVar, spreadVar };
}

export interface UncertaintyEpsilonConfig {
  /** ε₀ in (0, 1]: the exploration rate before any observation (default 0.2). */
  epsilon0?: number;
  /** ε_min in (0, ε₀]: the floor, so every arm keeps a propensity ≥ ε_min/K (default 0.01). */
  minEpsilon?: number;
  /** s_a per arm: the prior strength (observations) the arm's uncertainty is measured against (default 1 each). */
  strengths?: number[];
}

/** ε-greedy whose ε falls with the posterior's uncertainty (see the header); exact propensities. */
export class UncertaintyEpsilon extends ExplorationWrapper {
  readonly kind = 'uncertainty-epsilon' as const;
  readonly epsilon0: number;
  readonly minEpsilon: number;
  readonly strengths: number[];

  constructor(base: BanditPolicy, config: UncertaintyEpsilonConfig = {}) {
    super(base);
    const e0 = config.epsilon0 ?? 0.2;
    const emin = config.minEpsilon ?? Math.min(0.01, e0);
    if (typeof e0 !== 'number' || !(e0 > 0 && e0 <= 1)) throw new Error(`UncertaintyEpsilon: epsilon0 must be a number in (0, 1], got ${String(e0)}`);
    if (typeof emin !== 'number' || !(emin > 0 && emin <= e0)) throw new Error(`UncertaintyEpsilon: minEpsilon must be a number in (0, epsilon0 = ${e0}] so that every arm keeps a propensity > 0, got ${String(emin)}`);
    const s = config.strengths ?? new Array<number>(this.nArms).fill(1);
    if (!Array.isArray(s) || s.length !== this.nArms || s.some((v) => typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))) {
      throw new Error(`UncertaintyEpsilon: strengths must be ${this.nArms} finite numbers > 0 (one per arm), got ${JSON.stringify(s)}`);
    }
    this.epsilon0 = e0;
    this.minEpsilon = emin;
    this.strengths = [...s];
  }

  /** ε_t for the current statistics. */
  epsilon(): number {
    const arms = this.base.getStats().arms;
    let u = 0;
    for (let a = 0; a < this.nArms; a++) u += Math.sqrt(this.strengths[a] / (this.strengths[a] + arms[a].n));
    return Math.max(this.minEpsilon, (this.epsilon0 * u) / this.nArms);
  }

  actionDist(context: Context, rng: Rng): ActionDist {
    const b = this.base.actionDist(context, rng);
    const eps = this.epsilon();
    const dist = new Float64Array(this.nArms);
    for (let a = 0; a < this.nArms; a++) dist[a] = (1 - eps) * b.dist[a] + eps / this.nArms;
    return { dist, scores: b.scores };
  }

  toJSON(): { kind: 'uncertainty-epsilon'; config: Required<UncertaintyEpsilonConfig>; base: unknown } {
    return { kind: this.kind, config: { epsilon0: this.epsilon0, minEpsilon: this.minEpsilon, strengths: this.strengths }, base: this.base.toJSON() };
  }
}
