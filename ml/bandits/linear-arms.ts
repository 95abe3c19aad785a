/**
 * Per-arm ridge-regression state shared by disjoint LinUCB and linear Thompson sampling
 * (Li et al. 2010, Algorithm 1; Agrawal & Goyal 2013):
 *
 *   A_a = λI + Σ x xᵀ,   b_a = Σ r x,   θ̂_a = A_a⁻¹ b_a
 *
 * The sums (`xx`, `xr`, packed) are the additive statistics; A⁻¹ is derived: kept current by
 * Sherman–Morrison on each local update (O(d²)) and recomputed exactly (Cholesky, O(d³)) whenever
 * statistics arrive in bulk (`applyStats`, `setStats`), which also washes out Sherman–Morrison's
 * round-off.
 *
 * An arm with a prior (`{ mean: m, strength: s }`, e.g. from a budget allocation) puts a Gaussian prior
 * on its intercept coefficient θ₀ (x₀ = 1): mean m, precision λ + s (the other coefficients keep
 * mean 0, precision λ), i.e. A_a = λI + s e₀e₀ᵀ + Σ x xᵀ and b_a = (λ + s) m e₀ + Σ r x — with no data
 * θ̂_a = m e₀, so the intercept-only context scores m.
 */
import {
  cholesky, invertSpd, matVec, packedAddOuter, packedLength, quadForm, shermanMorrisonUpdate, dot, unpackSymmetric,
} from './linalg';
import { addArmStats, ArmPrior, ArmStats, checkArm, checkReward, checkStats, emptyArmStats, LearnerKind, StatsDelta, BanditStats } from './types';

export class LinearArms {
  readonly stats: ArmStats[];
  /** A_a⁻¹, row-major d×d. */
  readonly ainv: Float64Array[];
  private readonly theta: Float64Array[];
  private readonly thetaFresh: boolean[];
  private readonly chol: (Float64Array | null)[];
  private readonly work: Float64Array;
  /** b₀ of each arm with a prior (null: 0). */
  private readonly b0: (Float64Array | null)[];
  private readonly bWork: Float64Array;

  constructor(readonly kind: LearnerKind, readonly nArms: number, readonly d: number, readonly lambda: number, readonly priors: (ArmPrior | null)[] = new Array<ArmPrior | null>(nArms).fill(null)) {
    this.stats = [];
    this.ainv = [];
    this.theta = [];
    this.thetaFresh = [];
    this.chol = [];
    this.b0 = [];
    for (let a = 0; a < nArms; a++) {
      this.stats.push(emptyArmStats(d));
      const prior = priors[a];
      const ai = new Float64Array(d * d);
      for (let i = 0; i < d; i++) ai[i * d + i] = 1 / lambda;
      if (prior) ai[0] = 1 / (lambda + prior.strength);
      let b0: Float64Array | null = null;
      if (prior) {
        b0 = new Float64Array(d);
        b0[0] = (lambda + prior.strength) * prior.mean;
      }
      this.b0.push(b0);
      this.ainv.push(ai);
      this.theta.push(new Float64Array(d));
      this.thetaFresh.push(prior === null);
      this.chol.push(null);
    }
    this.work = new Float64Array(d);
    this.bWork = new Float64Array(d);
  }

  /** Checks a context vector's length and values. */
  checkContext(x: ArrayLike<number> | undefined, where: string): ArrayLike<number> {
    if (!x || typeof x.length !== 'number') throw new Error(`${where}: context must be an array of ${this.d} numbers, got ${String(x)}`);
    if (x.length !== this.d) throw new Error(`${where}: context has ${x.length} features, expected ${this.d}`);
    for (let i = 0; i < this.d; i++) {
      if (!Number.isFinite(x[i])) throw new Error(`${where}: context[${i}] must be a finite number, got ${x[i]}`);
    }
    return x;
  }

  /** θ̂_a = A_a⁻¹ b_a (cached until the arm changes). */
  thetaHat(arm: number): Float64Array {
    if (!this.thetaFresh[arm]) {
      const xr = this.stats[arm].xr as number[];
      const b0 = this.b0[arm];
      let b: ArrayLike<number> = xr;
      if (b0 !== null) {
        for (let i = 0; i < this.d; i++) this.bWork[i] = xr[i] + b0[i];
        b = this.bWork;
      }
      matVec(this.ainv[arm], b, this.d, this.theta[arm]);
      this.thetaFresh[arm] = true;
    }
    return this.theta[arm];
  }

  /** xᵀθ̂_a. */
  mean(arm: number, x: ArrayLike<number>): number {
    return dot(x, this.thetaHat(arm), this.d);
  }

  /** xᵀA_a⁻¹x. */
  variance(arm: number, x: ArrayLike<number>): number {
    return Math.max(0, quadForm(this.ainv[arm], x, this.d));
  }

  /** Lower Cholesky factor of A_a⁻¹ (cached until the arm changes). */
  cholAinv(arm: number): Float64Array {
    let l = this.chol[arm];
    if (!l) {
      l = cholesky(this.ainv[arm], this.d);
      this.chol[arm] = l;
    }
    return l;
  }

  /** Incremental update: the statistics, then A⁻¹ by Sherman–Morrison. */
  update(x: ArrayLike<number>, arm: number, reward: number, where: string): void {
    checkArm(arm, this.nArms, where);
    checkReward(reward, where);
    this.checkContext(x, where);
    const s = this.stats[arm];
    s.n += 1;
    s.rSum += reward;
    s.rSqSum += reward * reward;
    packedAddOuter(s.xx as number[], x, this.d);
    const xr = s.xr as number[];
    for (let i = 0; i < this.d; i++) xr[i] += reward * x[i];
    shermanMorrisonUpdate(this.ainv[arm], x, this.d, this.work);
    this.thetaFresh[arm] = false;
    this.chol[arm] = null;
  }

  /** The statistics one observation adds. */
  delta(x: ArrayLike<number>, arm: number, reward: number, where: string): StatsDelta {
    checkArm(arm, this.nArms, where);
    checkReward(reward, where);
    this.checkContext(x, where);
    const xx = new Array<number>(packedLength(this.d)).fill(0);
    packedAddOuter(xx, x, this.d);
    const xr = new Array<number>(this.d);
    for (let i = 0; i < this.d; i++) xr[i] = reward * x[i];
    return { arm, stats: { n: 1, rSum: reward, rSqSum: reward * reward, xx, xr } };
  }

  /** Adds deltas to the statistics; recomputes A⁻¹ exactly for the arms they touch. */
  apply(deltas: StatsDelta[]): void {
    const touched = new Set<number>();
    for (const dl of deltas) {
      checkArm(dl.arm, this.nArms, 'applyStats');
      addArmStats(this.stats[dl.arm], dl.stats);
      touched.add(dl.arm);
    }
    for (const a of touched) this.refresh(a);
  }

  /** A_a⁻¹ = (λI + s e₀e₀ᵀ + Σ x xᵀ)⁻¹ from the statistics (s: the arm's prior strength, else 0). */
  refresh(arm: number): void {
    const a = unpackSymmetric(this.stats[arm].xx as number[], this.d, this.lambda);
    const prior = this.priors[arm];
    if (prior) a[0] += prior.strength;
    this.ainv[arm].set(invertSpd(a, this.d));
    this.thetaFresh[arm] = false;
    this.chol[arm] = null;
  }

  getStats(): BanditStats {
    return {
      kind: this.kind,
      d: this.d,
      arms: this.stats.map((s) => ({ n: s.n, rSum: s.rSum, rSqSum: s.rSqSum, xx: [...(s.xx as number[])], xr: [...(s.xr as number[])] })),
    };
  }

  setStats(stats: BanditStats): void {
    checkStats(stats, this.kind, this.nArms, this.d);
    stats.arms.forEach((s, a) => {
      this.stats[a] = { n: s.n, rSum: s.rSum, rSqSum: s.rSqSum, xx: [...(s.xx as number[])], xr: [...(s.xr as number[])] };
      this.refresh(a);
    });
  }
}
