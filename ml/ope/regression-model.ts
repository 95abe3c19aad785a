/**
 * A reward model q̂(x, a, k) ≈ E[r | x, a, k] for DM and the DR family, when the caller has none
 * (OBP: `RegressionModel` with `fitting_method='normal'`).
 *
 * Model: one ridge regression per (action, position) on the logged context features plus an
 * unpenalised intercept, β = argmin Σ (r_i − β₀ − x_iᵀβ)² + α‖β‖², solved exactly by Cholesky on
 * the (d + 1)² normal equations. An (action, position) with no training rounds predicts the mean
 * training reward. Predictions are clipped to the range of the training rewards (a ridge line can
 * overshoot a bounded reward; clipping only moves it towards the truth).
 *
 * Cross-fitting (n_folds > 1, default 5): rounds are shuffled with the seed and split into k folds;
 * each fold's predictions come from the model fitted on the other k − 1 folds, so q̂ never sees the
 * round it predicts — the condition under which DR keeps its guarantees with a learned q̂
 * (Chernozhukov et al., "Double/debiased machine learning", Econometrics Journal 2018; Narita,
 * Yasui, Yata, "Off-policy Bandit and Reinforcement Learning", 2020). Per-fold sufficient statistics
 * are accumulated once, so fitting costs O(n·d²) for any k.
 */
import { Rng } from '../rng';
import { OpeInputError } from './errors';
import type { ActionArray, Matrix } from './types';

export interface RegressionModelOptions {
  /** Number of actions. */
  nActions: number;
  /** Number of positions (slots) per round. Default 1. */
  lenList?: number;
  /** Ridge penalty α ≥ 0 on the non-intercept coefficients. Default 1 (scikit-learn's Ridge). */
  alpha?: number;
}

export interface FitPredictOptions {
  /** Number of cross-fitting folds; 1 fits and predicts on all rounds. Default 5. */
  nFolds?: number;
  /** Seed of the fold assignment. Default 0. */
  randomState?: number;
}

export class RegressionModel {
  readonly nActions: number;
  readonly lenList: number;
  readonly alpha: number;

  constructor(options: RegressionModelOptions) {
    const { nActions, lenList = 1, alpha = 1 } = options;
    if (!Number.isInteger(nActions) || nActions < 1) throw new OpeInputError('n_actions', String(nActions), 'a positive integer');
    if (!Number.isInteger(lenList) || lenList < 1) throw new OpeInputError('len_list', String(lenList), 'a positive integer');
    if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new OpeInputError('alpha', String(alpha), 'a finite ridge penalty ≥ 0');
    this.nActions = nActions;
    this.lenList = lenList;
    this.alpha = alpha;
  }

  /**
   * Fits on the logged rounds and predicts q̂ for every round, action and position, cross-fitted
   * over `nFolds` folds. Shapes: context n × d, action/reward/position (n,); result
   * n × n_actions × len_list.
   */
  fitPredict(
    context: Matrix,
    action: Int32Array,
    reward: Float64Array,
    position: Int32Array | undefined,
    options: FitPredictOptions = {},
  ): ActionArray {
    const n = context.rows;
    const d = context.cols;
    const { nFolds = 5, randomState = 0 } = options;
    if (context.data.length !== n * d) throw new OpeInputError('context', `${context.data.length} values`, `n_rounds × n_features = ${n}×${d}`);
    for (let j = 0; j < context.data.length; j++) {
      if (!Number.isFinite(context.data[j])) throw new OpeInputError(`context[${Math.floor(j / d)}, ${j % d}]`, String(context.data[j]), 'a finite number');
    }
    if (action.length !== n) throw new OpeInputError('action', `${action.length} rounds`, `n_rounds = ${n} (the rows of context)`);
    if (reward.length !== n) throw new OpeInputError('reward', `${reward.length} rounds`, `n_rounds = ${n} (the rows of context)`);
    if (position !== undefined && position.length !== n) throw new OpeInputError('position', `${position.length} rounds`, `n_rounds = ${n} (the rows of context)`);
    if (!Number.isInteger(nFolds) || nFolds < 1 || nFolds > n) throw new OpeInputError('n_folds', String(nFolds), `an integer in [1, n_rounds = ${n}]`);
    const groups = this.nActions * this.lenList;
    const p = d + 1; // intercept first
    const gramSize = p * p;

    // Fold of each round: a seeded shuffle dealt round-robin, so folds differ in size by ≤ 1.
    const fold = new Int32Array(n);
    if (nFolds > 1) {
      const order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      new Rng(randomState).shuffle(order);
      for (let r = 0; r < n; r++) fold[order[r]] = r % nFolds;
    }

    // Sufficient statistics per (fold, group): X̃ᵀX̃, X̃ᵀr, and per fold the reward sum/count/range.
    const gram = new Float64Array(nFolds * groups * gramSize);
    const xty = new Float64Array(nFolds * groups * p);
    const rewardSum = new Float64Array(nFolds);
    const count = new Float64Array(nFolds);
    const rMin = new Float64Array(nFolds).fill(Infinity);
    const rMax = new Float64Array(nFolds).fill(-Infinity);
    const xt = new Float64Array(p);
    xt[0] = 1;
    for (let i = 0; i < n; i++) {
      const a = action[i], k = position ? position[i] : 0;
      if (!(a >= 0 && a < this.nActions)) throw new OpeInputError(`action[${i}]`, String(a), `an integer in [0, n_actions = ${this.nActions})`);
      if (!(k >= 0 && k < this.lenList)) throw new OpeInputError(`position[${i}]`, String(k), `an integer in [0, len_list = ${this.lenList})`);
      const f = fold[i];
      const g = f * groups + a * this.lenList + k;
      for (let u = 0; u < d; u++) xt[u + 1] = context.data[i * d + u];
      const G = g * gramSize, B = g * p, r = reward[i];
      for (let u = 0; u < p; u++) {
        const xu = xt[u];
        xty[B + u] += xu * r;
        for (let v = 0; v <= u; v++) gram[G + u * p + v] += xu * xt[v];
      }
      rewardSum[f] += r;
      count[f]++;
      if (r < rMin[f]) rMin[f] = r;
      if (r > rMax[f]) rMax[f] = r;
    }

    const out = new Float64Array(n * this.nActions * this.lenList);
    const A = new Float64Array(gramSize);
    const b = new Float64Array(p);
    const coef = new Float64Array(groups * p);
    const fitted = new Uint8Array(groups);
    for (let f = 0; f < nFolds; f++) {
      // Training set = all folds but f (all rounds when nFolds = 1).
      let sum = 0, cnt = 0, lo = Infinity, hi = -Infinity;
      for (let h = 0; h < nFolds; h++) {
        if (nFolds > 1 && h === f) continue;
        sum += rewardSum[h]; cnt += count[h];
        lo = Math.min(lo, rMin[h]); hi = Math.max(hi, rMax[h]);
      }
      const meanReward = cnt > 0 ? sum / cnt : 0;
      for (let g = 0; g < groups; g++) {
        A.fill(0); b.fill(0);
        for (let h = 0; h < nFolds; h++) {
          if (nFolds > 1 && h === f) continue;
          const G = (h * groups + g) * gramSize, B = (h * groups + g) * p;
          for (let j = 0; j < gramSize; j++) A[j] += gram[G + j];
          for (let j = 0; j < p; j++) b[j] += xty[B + j];
        }
        fitted[g] = A[0] > 0 ? 1 : 0;
        if (!fitted[g]) continue;
        for (let u = 1; u < p; u++) A[u * p + u] += this.alpha;
        solveSymmetric(A, b, p, coef, g * p);
      }
      for (let i = 0; i < n; i++) {
        if (nFolds > 1 && fold[i] !== f) continue;
        for (let a = 0; a < this.nActions; a++) {
          for (let k = 0; k < this.lenList; k++) {
            const g = a * this.lenList + k;
            let q = meanReward;
            if (fitted[g]) {
              q = coef[g * p];
              for (let u = 0; u < d; u++) q += coef[g * p + u + 1] * context.data[i * d + u];
              q = Math.min(hi, Math.max(lo, q));
            }
            out[(i * this.nActions + a) * this.lenList + k] = q;
          }
        }
      }
      if (nFolds === 1) break;
    }
    return { data: out, nRounds: n, nActions: this.nActions, lenList: this.lenList };
  }
}

/**
 * Solves A x = b for a symmetric positive (semi)definite A whose lower triangle is filled
 * (row-major p × p), by Cholesky with a tiny diagonal jitter if a pivot vanishes. Writes x into
 * out[offset .. offset + p).
 */
export function solveSymmetric(A: Float64Array, b: Float64Array, p: number, out: Float64Array, offset: number): void {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j];
      for (let k = 0; k < j; k++) s -= L[i * p + k] * L[j * p + k];
      if (i === j) L[i * p + i] = Math.sqrt(s > 1e-12 ? s : 1e-12);
      else L[i * p + j] = s / L[j * p + j];
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * p + k] * y[k];
    y[i] = s / L[i * p + i];
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= L[k * p + i] * out[offset + k];
    out[offset + i] = s / L[i * p + i];
  }
}
