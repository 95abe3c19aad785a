/**
 * A reward model over ACTION FEATURES, for DM and the DR family on large and mixed action spaces
 * (a policy with several discrete heads, e.g. the RAG tuner's variant × k × rerank × prompt = 360
 * joint actions), where one regression per joint action (`RegressionModel`) has too little data per
 * action and the n × K table of predictions is too big.
 *
 * Model: a ridge regression on the tensor product of the (standardised) context and the action's
 * features,
 *
 *   q̂(x, a) = θᵀ (x̃ ⊗ ψ(a)),   x̃ = [1, z(x)],   ψ(a) = [1, e_1(a_1), …, e_H(a_H), t_h(a_h), t_h(a_h)², …]
 *
 * where e_h is the one-hot of head h's value and, for ordinal (integer) heads, t_h ∈ [0, 1] is the
 * value's position in its range (so neighbouring values of `k` share strength). Every coefficient
 * but the intercept x̃_0ψ_0 carries the penalty α‖θ‖². Joint actions are never enumerated: each
 * round contributes the outer product of its sparse features, O(nnz²) per round.
 *
 * q̂ is LINEAR in ψ(a), so for a target policy that factorises over heads,
 * π_e(a | x) = Π_h π_e,h(a_h | x), the expected prediction is exact without enumeration:
 *
 *   q̂(x, π_e) = Σ_a π_e(a | x) q̂(x, a) = θᵀ (x̃ ⊗ E_{π_e}[ψ(a)]),   E[e_h] = π_e,h(· | x),  E[t_h] = Σ_v π_e,h(v | x) t_h(v).
 *
 * Predictions are not clipped: clipping per action would break that identity, and DR needs the DM
 * term and its control variate q̂(x_i, a_i) to come from the same q̂.
 *
 * Cross-fitting (nFolds > 1, default 5) as in `RegressionModel`: each round's predictions come
 * from the model fitted on the other folds (per-fold Gram matrices are accumulated once).
 *
 * References: M. Dudík, D. Erhan, J. Langford, L. Li, "Doubly Robust Policy Evaluation and
 * Optimization", Statistical Science 2014 (DR with any reward model); Y. Saito and T. Joachims,
 * "Off-Policy Evaluation for Large Action Spaces via Embeddings", ICML 2022 (action features).
 */
import { Rng } from '../rng';
import { OpeInputError } from './errors';
import { solveSymmetric, type FitPredictOptions } from './regression-model';
import type { Matrix } from './types';

/** One discrete head of a factored action. */
export interface ActionHead {
  name: string;
  /** Number of values. */
  size: number;
  /** True for an ordered head (an integer range): adds the value's position t and t² as features. */
  ordinal?: boolean;
}

export interface ActionFeatureModelOptions {
  heads: readonly ActionHead[];
  /** Ridge penalty α ≥ 0 (on standardised contexts). Default 1. */
  alpha?: number;
}

/** Cross-fitted predictions of `fitPredict`, one per round. */
export interface ActionFeaturePredictions {
  /** q̂(x_i, a_i): at the logged action. */
  atLogged: Float64Array;
  /** q̂(x_i, π_e) = Σ_a π_e(a | x_i) q̂(x_i, a), for the factorised target policy. */
  underPolicy: Float64Array;
  /** Number of coefficients (context terms × action features). */
  nFeatures: number;
}

export class ActionFeatureRewardModel {
  readonly heads: readonly ActionHead[];
  readonly alpha: number;
  /** Length of ψ(a). */
  readonly actionFeatureSize: number;
  /** Offset of each head's one-hot in ψ, and of its ordinal pair (−1 when nominal). */
  private readonly oneHotAt: number[];
  private readonly ordinalAt: number[];
  /** Offset of each head's probabilities in a round's concatenated head distribution. */
  readonly headOffsets: number[];
  /** Σ_h size_h. */
  readonly headValues: number;

  constructor(options: ActionFeatureModelOptions) {
    const { heads, alpha = 1 } = options;
    if (!Array.isArray(heads) || heads.length === 0) throw new OpeInputError('heads', JSON.stringify(heads), 'at least one discrete head { name, size }');
    if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new OpeInputError('alpha', String(alpha), 'a finite ridge penalty ≥ 0');
    let m = 1, off = 0;
    this.oneHotAt = [];
    this.ordinalAt = [];
    this.headOffsets = [];
    for (const h of heads) {
      if (!Number.isInteger(h.size) || h.size < 1) throw new OpeInputError(`heads.${h.name}.size`, String(h.size), 'a positive integer');
      this.oneHotAt.push(m);
      m += h.size;
      this.headOffsets.push(off);
      off += h.size;
    }
    for (const h of heads) {
      if (h.ordinal && h.size > 1) {
        this.ordinalAt.push(m);
        m += 2;
      } else this.ordinalAt.push(-1);
    }
    this.heads = heads;
    this.alpha = alpha;
    this.actionFeatureSize = m;
    this.headValues = off;
  }

  /**
   * ψ̄ = E_π[ψ(a)] for per-head distributions `probs` (the round's Σ_h size_h values, head after
   * head), written into `out`. A one-hot distribution gives ψ(a) itself.
   */
  expectedActionFeatures(probs: ArrayLike<number>, probsOffset: number, out: Float64Array): void {
    out.fill(0);
    out[0] = 1;
    for (let h = 0; h < this.heads.length; h++) {
      const size = this.heads[h].size;
      const src = probsOffset + this.headOffsets[h];
      let t1 = 0, t2 = 0;
      for (let v = 0; v < size; v++) {
        const p = probs[src + v];
        out[this.oneHotAt[h] + v] = p;
        if (this.ordinalAt[h] >= 0) {
          const t = v / (size - 1);
          t1 += p * t;
          t2 += p * t * t;
        }
      }
      if (this.ordinalAt[h] >= 0) {
        out[this.ordinalAt[h]] = t1;
        out[this.ordinalAt[h] + 1] = t2;
      }
    }
  }

  /** Nonzero entries of ψ(a) for per-head value indexes `idx[offset .. offset + H)`: indexes into `nzIdx`, values into `nzVal`; returns the count. */
  private actionFeatures(idx: Int32Array, offset: number, nzIdx: Int32Array, nzVal: Float64Array, where: number): number {
    let k = 0;
    nzIdx[k] = 0; nzVal[k++] = 1;
    for (let h = 0; h < this.heads.length; h++) {
      const v = idx[offset + h];
      const size = this.heads[h].size;
      if (!(v >= 0 && v < size)) throw new OpeInputError(`head_actions[${where}, ${h}]`, String(v), `an index in [0, ${size}) of head ${this.heads[h].name}`);
      nzIdx[k] = this.oneHotAt[h] + v; nzVal[k++] = 1;
    }
    for (let h = 0; h < this.heads.length; h++) {
      if (this.ordinalAt[h] < 0) continue;
      const t = idx[offset + h] / (this.heads[h].size - 1);
      nzIdx[k] = this.ordinalAt[h]; nzVal[k++] = t;
      nzIdx[k] = this.ordinalAt[h] + 1; nzVal[k++] = t * t;
    }
    return k;
  }

  /**
   * Fits on the logged rounds and predicts, cross-fitted over `nFolds` folds, q̂ at each logged
   * action and under the target policy. Shapes: context n × d; headActions n × H (each head's value
   * index); reward (n,); targetHeadProbs n × Σ_h size_h (π_e,h(· | x_i), head after head).
   */
  fitPredict(context: Matrix, headActions: Int32Array, reward: Float64Array, targetHeadProbs: Float64Array, options: FitPredictOptions = {}): ActionFeaturePredictions {
    const n = context.rows, d = context.cols, H = this.heads.length, m = this.actionFeatureSize;
    const { nFolds = 5, randomState = 0 } = options;
    if (context.data.length !== n * d) throw new OpeInputError('context', `${context.data.length} values`, `n_rounds × n_features = ${n}×${d}`);
    if (headActions.length !== n * H) throw new OpeInputError('head_actions', `${headActions.length} values`, `n_rounds × n_heads = ${n}×${H}`);
    if (reward.length !== n) throw new OpeInputError('reward', `${reward.length} rounds`, `n_rounds = ${n} (the rows of context)`);
    if (targetHeadProbs.length !== n * this.headValues) throw new OpeInputError('target_head_probs', `${targetHeadProbs.length} values`, `n_rounds × Σ head sizes = ${n}×${this.headValues}`);
    if (!Number.isInteger(nFolds) || nFolds < 1 || nFolds > n) throw new OpeInputError('n_folds', String(nFolds), `an integer in [1, n_rounds = ${n}]`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(reward[i])) throw new OpeInputError(`reward[${i}]`, String(reward[i]), 'a finite number');

    // Standardised context (mean 0, sd 1 per column; a constant column becomes 0). Uses no reward,
    // so cross-fitting keeps its meaning.
    const mean = new Float64Array(d), sd = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let u = 0; u < d; u++) {
      const v = context.data[i * d + u];
      if (!Number.isFinite(v)) throw new OpeInputError(`context[${i}, ${u}]`, String(v), 'a finite number');
      mean[u] += v;
    }
    for (let u = 0; u < d; u++) mean[u] /= n;
    for (let i = 0; i < n; i++) for (let u = 0; u < d; u++) sd[u] += (context.data[i * d + u] - mean[u]) ** 2;
    for (let u = 0; u < d; u++) sd[u] = Math.sqrt(sd[u] / n);
    const p = d + 1;
    const xt = new Float64Array(p);
    const xTilde = (i: number): Float64Array => {
      xt[0] = 1;
      for (let u = 0; u < d; u++) xt[u + 1] = sd[u] > 1e-12 ? (context.data[i * d + u] - mean[u]) / sd[u] : 0;
      return xt;
    };

    const fold = new Int32Array(n);
    if (nFolds > 1) {
      const order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      new Rng(randomState).shuffle(order);
      for (let r = 0; r < n; r++) fold[order[r]] = r % nFolds;
    }

    // Per-fold sufficient statistics of φ = x̃ ⊗ ψ(a): lower triangle of ΦᵀΦ and Φᵀr.
    const P = p * m;
    const gram: Float64Array[] = Array.from({ length: nFolds }, () => new Float64Array(P * P));
    const xty: Float64Array[] = Array.from({ length: nFolds }, () => new Float64Array(P));
    const nzA = new Int32Array(1 + H + 2 * H), nzAv = new Float64Array(1 + H + 2 * H);
    const nzIdx = new Int32Array(p * nzA.length), nzVal = new Float64Array(p * nzA.length);
    for (let i = 0; i < n; i++) {
      const x = xTilde(i);
      const ka = this.actionFeatures(headActions, i * H, nzA, nzAv, i);
      let k = 0;
      for (let u = 0; u < p; u++) {
        if (x[u] === 0) continue;
        for (let v = 0; v < ka; v++) {
          nzIdx[k] = u * m + nzA[v];
          nzVal[k++] = x[u] * nzAv[v];
        }
      }
      const G = gram[fold[i]], B = xty[fold[i]], r = reward[i];
      for (let s = 0; s < k; s++) {
        const a = nzIdx[s], va = nzVal[s];
        B[a] += va * r;
        for (let t = 0; t < k; t++) {
          const b = nzIdx[t];
          if (b <= a) G[a * P + b] += va * nzVal[t];
        }
      }
    }

    const atLogged = new Float64Array(n), underPolicy = new Float64Array(n);
    const A = new Float64Array(P * P), b = new Float64Array(P), coef = new Float64Array(P);
    const psi = new Float64Array(m), logged = new Float64Array(this.headValues);
    const predict = (x: Float64Array, features: Float64Array): number => {
      let q = 0;
      for (let u = 0; u < p; u++) {
        if (x[u] === 0) continue;
        let s = 0;
        for (let v = 0; v < m; v++) s += coef[u * m + v] * features[v];
        q += x[u] * s;
      }
      return q;
    };
    for (let f = 0; f < nFolds; f++) {
      A.fill(0); b.fill(0);
      for (let h = 0; h < nFolds; h++) {
        if (nFolds > 1 && h === f) continue;
        const G = gram[h], B = xty[h];
        for (let j = 0; j < A.length; j++) A[j] += G[j];
        for (let j = 0; j < P; j++) b[j] += B[j];
      }
      for (let j = 1; j < P; j++) A[j * P + j] += this.alpha;
      solveSymmetric(A, b, P, coef, 0);
      for (let i = 0; i < n; i++) {
        if (nFolds > 1 && fold[i] !== f) continue;
        const x = xTilde(i);
        logged.fill(0);
        for (let h = 0; h < H; h++) logged[this.headOffsets[h] + headActions[i * H + h]] = 1;
        this.expectedActionFeatures(logged, 0, psi);
        atLogged[i] = predict(x, psi);
        this.expectedActionFeatures(targetHeadProbs, i * this.headValues, psi);
        underPolicy[i] = predict(x, psi);
      }
      if (nFolds === 1) break;
    }
    return { atLogged, underPolicy, nFeatures: P };
  }
}
