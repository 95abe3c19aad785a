/**
 * AdaGrad (Duchi, Hazan & Singer 2011; diagonal form) for logistic or squared loss — Vowpal Wabbit's
 * `--adaptive` update (power_t = 0.5, neither normalized nor invariant):
 *
 *   p = σ(x·w) or x·w;  for every i with x_i ≠ 0:
 *   g_i = (p − y)·x_i + λ2·w_i
 *   G_i ← G_i + g_i²
 *   w_i ← w_i − η·g_i / √G_i
 *
 * State (w, G) and scratch are typed arrays allocated once; predict and update allocate nothing.
 */
import { GradientSums, MARGIN_LIMIT, lossOf, type OnlineLearner, type OnlineLoss, type SparseBatch } from './learner';

export interface AdaGradParams {
  /** η: the learning rate (VW's -l, default 0.5). */
  eta: number;
  /** λ2: L2 strength (default 0). */
  l2: number;
}

export const DEFAULT_ADAGRAD: AdaGradParams = { eta: 0.5, l2: 0 };

export function checkAdaGradParams(p: AdaGradParams, field = 'adagrad'): AdaGradParams {
  if (typeof p.eta !== 'number' || !Number.isFinite(p.eta) || p.eta <= 0) throw new Error(`${field}.eta is ${JSON.stringify(p.eta)}; expected a number > 0`);
  if (typeof p.l2 !== 'number' || !Number.isFinite(p.l2) || p.l2 < 0) throw new Error(`${field}.l2 is ${JSON.stringify(p.l2)}; expected a number ≥ 0`);
  return p;
}

export class AdaGrad implements OnlineLearner {
  readonly size: number;
  readonly w: Float64Array;
  readonly g2: Float64Array;
  readonly params: AdaGradParams;
  private readonly sums = new GradientSums();

  constructor(
    readonly loss: OnlineLoss,
    bits: number,
    params: Partial<AdaGradParams> = {},
  ) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 30) throw new Error(`bits is ${bits}; expected an integer from 1 to 30`);
    this.params = checkAdaGradParams({ ...DEFAULT_ADAGRAD, ...params });
    this.size = 1 << bits;
    this.w = new Float64Array(this.size);
    this.g2 = new Float64Array(this.size);
  }

  weight(i: number): number {
    return this.w[i];
  }

  private out(m: number): number {
    if (this.loss === 'squared') return m;
    const c = m > MARGIN_LIMIT ? MARGIN_LIMIT : m < -MARGIN_LIMIT ? -MARGIN_LIMIT : m;
    return 1 / (1 + Math.exp(-c));
  }

  private margin(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number): number {
    const w = this.w;
    let m = 0;
    for (let k = from; k < to; k++) m += w[idx[k]] * val[k];
    return m;
  }

  predict(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number): number {
    return this.out(this.margin(idx, val, from, to));
  }

  /** One coordinate's step with gradient g (the L2 term added here). */
  private step(i: number, g0: number): void {
    const g = g0 + this.params.l2 * this.w[i];
    const G = this.g2[i] + g * g;
    this.g2[i] = G;
    if (G > 0) this.w[i] -= (this.params.eta * g) / Math.sqrt(G);
  }

  update(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number, y: number): number {
    const p = this.out(this.margin(idx, val, from, to));
    const r = p - y;
    for (let k = from; k < to; k++) this.step(idx[k], r * val[k]);
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
    for (let t = 0; t < sums.count; t++) {
      const i = sums.touched[t];
      this.step(i, sums.get(i));
    }
    return total;
  }

}
