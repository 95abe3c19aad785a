/**
 * A seeded family of bandit tasks for meta-learned exploration (meta-exploration.ts): what "similar past
 * deployments" means, made concrete. A task belongs to one of three clusters that differ in reward scale,
 * level, spread of arm means and noise (in units of the scale S):
 *
 *   cluster   S     level μ   spread τ   noise σ    σ²/τ²
 *   0         1      0.5      0.10       0.30        9      (quality scores in [0, 1])
 *   1         20    −0.3      0.30       0.50        2.8    (a margin in cents)
 *   2         300    0.8      0.05       0.20       16      (a latency-like reward in ms, near-equal arms)
 *
 * Each task: K ∈ 3..8 arms, context dimension d ∈ 1..3 (x = [1, u₁, …], u ~ U(−½, ½)), intercept of arm
 * a ~ N(μS, (τS)²), slopes ~ N(0, (τS/2)²), rewards xᵀθ_a + N(0, (σS)²). Its features are
 * { nArms, rewardScale: S·e^{N(0, 0.1²)}, contextDim: d }. Past deployments are snapshots of tasks of the
 * family after `pullsPerArm` uniform pulls per arm.
 */
import { Rng } from '../rng';
import type { DeploymentSnapshot, TaskFeatures } from './meta-exploration';
import type { BanditPolicy } from './types';

export const FAMILY_CLUSTERS = [
  { scale: 1, level: 0.5, spread: 0.1, noise: 0.3 },
  { scale: 20, level: -0.3, spread: 0.3, noise: 0.5 },
  { scale: 300, level: 0.8, spread: 0.05, noise: 0.2 },
] as const;

export interface FamilyTask {
  name: string;
  cluster: number;
  task: TaskFeatures;
  /** θ_a (K × d). */
  theta: number[][];
  /** Observation noise sd (absolute). */
  noiseSd: number;
}

/** Draws one task of the family. */
export function drawFamilyTask(rng: Rng, name: string): FamilyTask {
  const cluster = rng.int(FAMILY_CLUSTERS.length);
  const c = FAMILY_CLUSTERS[cluster];
  const K = 3 + rng.int(6);
  const d = 1 + rng.int(3);
  const S = c.scale;
  const theta = Array.from({ length: K }, () => [c.level * S + c.spread * S * rng.normal(), ...Array.from({ length: d - 1 }, () => (c.spread * S * rng.normal()) / 2)]);
  return { name, cluster, task: { nArms: K, rewardScale: S * Math.exp(0.1 * rng.normal()), contextDim: d }, theta, noiseSd: c.noise * S };
}

/** A context of the task (intercept first). */
export function familyContext(t: FamilyTask, rng: Rng): number[] {
  return [1, ...Array.from({ length: t.task.contextDim - 1 }, () => rng.uniform() - 0.5)];
}

/** Expected reward of each arm in context x. */
export function familyMeans(t: FamilyTask, x: number[]): number[] {
  return t.theta.map((th) => th.reduce((s, v, i) => s + v * x[i], 0));
}

/** Snapshots of `n` past deployments of the family, each after `pullsPerArm` uniform pulls per arm. Arm names are unique per deployment. */
export function familySnapshots(seed: number, n: number, pullsPerArm: number): DeploymentSnapshot[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, j) => {
    const t = drawFamilyTask(rng, `past-${j}`);
    const arms = t.theta.map((_, a) => ({ name: `${t.name}/arm-${a}`, n: 0, rSum: 0, rSqSum: 0 }));
    for (let i = 0; i < pullsPerArm; i++) {
      for (let a = 0; a < arms.length; a++) {
        const r = familyMeans(t, familyContext(t, rng))[a] + t.noiseSd * rng.normal();
        arms[a].n++;
        arms[a].rSum += r;
        arms[a].rSqSum += r * r;
      }
    }
    return { name: t.name, task: t.task, arms };
  });
}

export interface FamilyRun {
  /** Cumulative regret of the policy after each step (expected regret: best mean − chosen arm's mean). */
  regret: Float64Array;
  /** Cumulative regret a uniformly random policy would have had on the same contexts. */
  uniformRegret: Float64Array;
  /** Smallest propensity the policy logged. */
  minPropensity: number;
}

/** Plays `policy` on task `t` for `T` steps (contexts and noise from `seed`, the policy's draws from `seed + 1`). */
export function playFamilyTask(t: FamilyTask, policy: BanditPolicy, T: number, seed: number): FamilyRun {
  const env = new Rng(seed), rng = new Rng(seed + 1);
  const regret = new Float64Array(T), uniformRegret = new Float64Array(T);
  let r = 0, u = 0, minPropensity = 1;
  for (let i = 0; i < T; i++) {
    const x = familyContext(t, env);
    const means = familyMeans(t, x);
    const best = Math.max(...means);
    const dec = policy.select(x, rng);
    minPropensity = Math.min(minPropensity, dec.propensity);
    policy.update(x, dec.arm, means[dec.arm] + t.noiseSd * env.normal());
    r += best - means[dec.arm];
    u += best - means.reduce((s, m) => s + m, 0) / means.length;
    regret[i] = r;
    uniformRegret[i] = u;
  }
  return { regret, uniformRegret, minPropensity };
}

/**
 * Steps to reach the target: the first step t after which the cumulative regret stays at or below
 * `share` × the uniform policy's cumulative regret on the same contexts (R_s ≤ share·U_s for every s ≥ t)
 * up to the horizon; the horizon T + 1 when it is above at the end (not reached).
 */
export function stepsToTarget(run: FamilyRun, share: number): number {
  const T = run.regret.length;
  if (run.regret[T - 1] > share * run.uniformRegret[T - 1]) return T + 1;
  for (let i = T - 1; i >= 0; i--) if (run.regret[i] > share * run.uniformRegret[i]) return i + 2;
  return 1;
}
