/**
 * FTRL-Proximal (McMahan et al. 2013, "Ad Click Prediction: a View from the Trenches", Algorithm 1)
 * with per-coordinate learning rates, for logistic (a probability) or squared loss (a value).
 *
 * Per coordinate i, two accumulators: z_i and n_i (the sum of squared gradients). The weight is lazy,
 * computed from them when a row touches i:
 *
 *   w_i = 0                                                   if |z_i| ≤ λ1
 *   w_i = −(z_i − sgn(z_i)·λ1) / ((β + √n_i)/α + λ2)          otherwise
 *
 * For a row x with label y: p = σ(x·w) (logistic) or x·w (squared); for every i with x_i ≠ 0:
 *
 *   g_i = (p − y)·x_i
 *   σ_i = (√(n_i + g_i²) − √n_i) / α
 *   z_i ← z_i + g_i − σ_i·w_i
 *   n_i ← n_i + g_i²
 *
 * State and scratch are typed arrays allocated once; predict and update allocate nothing (a scratch grows
 * only when a row is longer than any before).
 */
import { GradientSums, MARGIN_LIMIT, checkLabel, lossOf, type OnlineLearner, type OnlineLoss, type SparseBatch } from './learner';

export interface FtrlParams {
  /** α: the per-coordinate learning-rate scale. */
  alpha: number;
  /** β: added to √n_i (the paper: β = 1 is usually good enough). */
  beta: number;
  /** λ1: L1 strength (sparsity: |z_i| ≤ λ1 ⇒ w_i = 0). */
  l1: number;
  /** λ2: L2 strength. */
  l2: number;
}

export const DEFAULT_FTRL: FtrlParams = { alpha: 0.1, beta: 1, l1: 0, l2: 0 };

export function checkFtrlParams(p: FtrlParams, field = 'ftrl'): FtrlParams {
  const need = (name: keyof FtrlParams, ok: (v: number) => boolean, expected: string) => {
    const v = p[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`${field}.${name} is ${JSON.stringify(v)}; expected ${expected}`);
  };
  need('alpha', (v) => v > 0, 'a number > 0');
  need('beta', (v) => v >= 0, 'a number ≥ 0');
  need('l1', (v) => v >= 0, 'a number ≥ 0');
  need('l2', (v) => v >= 0, 'a number ≥ 0');
  return p;
}

/** w_i from (z_i, n_i) — the paper's closed form (see the file comment). */
export function ftrlWeight(z: number, n: number, p: FtrlParams): number {
  if (z <= p.l1 && z >= -p.l1) return 0;
  return -(z - (z > 0 ? p.l1 : -p.l1)) / ((p.beta + Math.sqrt(n)) / p.alpha + p.l2);
}

export class FtrlProximal implements OnlineLearner {
  readonly size: number;
  readonly z: Float64Array;
  readonly n: Float64Array;
  readonly params: FtrlParams;
  private w = new Float64Array(64);
  private readonly sums = new GradientSums();

  constructor(
    readonly loss: OnlineLoss,
    bits: number,
    params: Partial<FtrlParams> = {},
  ) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 30) throw new Error(`bits is ${bits}; expected an integer from 1 to 30`);
    this.params = checkFtrlParams({ ...DEFAULT_FTRL, ...params });
    this.size = 1 << bits;
    this.z = new Float64Array(this.size);
    this.n = new Float64Array(this.size);
  }

  weight(i: number): number {
    return ftrlWeight(this.z[i], this.n[i], this.params);
  }

  /** Writes the row's lazy weights into the scratch and returns the margin x·w. */
  private margin(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number): number {
    if (to - from > this.w.length) this.w = new Float64Array(Math.max(to - from, this.w.length * 2));
    const { z, n, w } = this;
    const { alpha, beta, l1, l2 } = this.params;
    let m = 0;
    for (let k = from; k < to; k++) {
      const i = idx[k];
      const zi = z[i];
      let wi = 0;
      if (zi > l1) wi = -(zi - l1) / ((beta + Math.sqrt(n[i])) / alpha + l2);
      else if (zi < -l1) wi = -(zi + l1) / ((beta + Math.sqrt(n[i])) / alpha + l2);
      w[k - from] = wi;
      m += wi * val[k];
    }
    return m;
  }

  private out(m: number): number {
    if (this.loss === 'squared') return m;
    const c = m > MARGIN_LIMIT ? MARGIN_LIMIT : m < -MARGIN_LIMIT ? -MARGIN_LIMIT : m;
    return 1 / (1 + Math.exp(-c));
  }

  predict(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number): number {
    return this.out(this.margin(idx, val, from, to));
  }

  update(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number, y: number): number {
    const p = this.out(this.margin(idx, val, from, to));
    const r = p - y;
    const { z, n, w } = this;
    const alpha = this.params.alpha;
    for (let k = from; k < to; k++) {
      const i = idx[k];
      const g = r * val[k];
      const ni = n[i];
      const nNew = ni + g * g;
      const sigma = (Math.sqrt(nNew) - Math.sqrt(ni)) / alpha;
      z[i] += g - sigma * w[k - from];
      n[i] = nNew;
    }
    return p;
  }

  updateEach(b: SparseBatch): number {
    let total = 0;
    for (let r = 0; r < b.rows; r++) {
      const y = b.y[r];
      total += lossOf(this.loss, this.update(b.idx, b.val, b.offsets[r], b.offsets[r + 1], y), y);
    }
    return total;
  }

  updateMiniBatch(b: SparseBatch): number {
    const sums = this.sums;
    sums.reset(b.offsets[b.rows] - b.offsets[0]);
    let total = 0;
    for (let r = 0; r < b.rows; r++) {
      const from = b.offsets[r];
      const to = b.offsets[r + 1];
      const y = b.y[r];
      const p = this.out(this.margin(b.idx, b.val, from, to));
      total += lossOf(this.loss, p, y);
      const res = p - y;
      for (let k = from; k < to; k++) sums.add(b.idx[k], res * b.val[k]);
    }
    const { z, n } = this;
    const alpha = this.params.alpha;
    for (let t = 0; t < sums.count; t++) {
      const i = sums.touched[t];
      const g = sums.get(i);
      const wi = ftrlWeight(z[i], n[i], this.params);
      const nNew = n[i] + g * g;
      z[i] += g - ((Math.sqrt(nNew) - Math.sqrt(n[i])) / alpha) * wi;
      n[i] = nNew;
    }
    return total;
  }


  /** The label checked for this loss (0/1 for logistic), for callers that take labels from outside. */
  checkLabel(y: number, field = 'label'): void {
    checkLabel(this.loss, y, field);
  }
}
