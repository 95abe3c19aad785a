/**
 * When an estimate cannot be trusted, said with every estimate.
 *
 * Importance-weighted estimators assume (1) SUPPORT: wherever the target policy π_e puts mass, the
 * logging policy π_b had a propensity > 0; and (2) weights that are not so extreme that a handful of
 * rounds carry the estimate. DM assumes a correct reward model, which is an extrapolation exactly
 * where (1) or (2) fail. Neither is visible in a point estimate or even in a bootstrap interval
 * (a bootstrap of a few heavy rounds is confidently wrong), so each estimate carries:
 *
 *   ESS = (Σ_i w_i)² / Σ_i w_i²    (Kish's effective sample size of the weights the estimator uses;
 *                                     n when all weights are equal, 1 when one round carries all)
 *   unsupported mass = (1/n) Σ_i Σ_{a: π_b(a|x_i) = 0} π_e(a | x_i)
 *
 * The unsupported mass is known where the logging rule was deterministic — a logged propensity of 1
 * (greedy serving) means every other action had π_b = 0, so the round contributes 1 − π_e(a_i | x_i);
 * with per-head propensities, each head logged with propensity 1 contributes its own factor.
 * Where logging explored (propensity < 1) the support is taken as full.
 *
 * References: L. Kish, "Survey Sampling", 1965 (ESS); A. Owen, "Monte Carlo theory, methods and
 * examples", 2013, ch. 9 (ESS for importance sampling); Y. Sachdeva, Y. Su, T. Joachims, "Off-policy
 * Bandits with Deficient Support", KDD 2020.
 */

/** A flag on an estimate: what assumption failed, in words a person can act on. */
export interface OpeWarning {
  code: 'no_support' | 'low_effective_sample_size';
  message: string;
}

export interface WeightDiagnostics {
  /** Kish's ESS of the weights the estimator uses, (Σw)²/Σw²; 0 when every weight is 0. */
  effectiveSampleSize: number;
  /** ESS / n. */
  essFraction: number;
  meanWeight: number;
  maxWeight: number;
  /** Mean over rounds of the target's probability on actions the logging policy could not take. */
  unsupportedMass: number;
  /** Rounds with unsupported mass > 0. */
  unsupportedRounds: number;
  warnings: OpeWarning[];
}

export interface DiagnosticsOptions {
  /** Warn when the ESS is below this. Default 100 (fewer effective rounds than that and a 95% interval is not to be trusted). */
  minEffectiveSampleSize?: number;
  /** Per-round unsupported mass (from `unsupportedMass`); omitted: support is not checked. */
  unsupported?: Float64Array;
  /** What the weights are for, in messages (e.g. "dr"). */
  estimator?: string;
  /** True for the direct method: the weights measure how far its reward model extrapolates, not its variance. */
  directMethod?: boolean;
}

export const DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE = 100;

/** Kish's effective sample size (Σw)² / Σw² (0 when Σw² = 0). */
export function effectiveSampleSize(w: ArrayLike<number>): number {
  let s = 0, s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/**
 * Per-round probability mass of the target on actions the logging policy gave probability 0, where
 * that is known: for round i, Π over heads logged with propensity 1 of π_e,h(a_ih | x_i) is the mass
 * the target keeps on the supported values; 1 minus it is unsupported. Without per-head values
 * (`headPscore` null or NaN for the round) the joint propensity decides: pscore 1 → 1 − π_e(a_i | x_i).
 *
 * Shapes: pscore, pe (n,); headPscore, headPe n × H (per-head logged propensity and the target's
 * probability of the logged value), or null.
 */
export function unsupportedMass(pscore: Float64Array, pe: Float64Array, headPscore: Float64Array | null = null, headPe: Float64Array | null = null, nHeads = 0): Float64Array {
  const n = pscore.length;
  const out = new Float64Array(n);
  const deterministic = (p: number) => p >= 1 - 1e-12;
  for (let i = 0; i < n; i++) {
    let perHead = headPscore !== null && headPe !== null && nHeads > 0;
    if (perHead) for (let h = 0; h < nHeads; h++) if (!(headPscore![i * nHeads + h] > 0)) perHead = false;
    if (perHead) {
      let kept = 1;
      for (let h = 0; h < nHeads; h++) if (deterministic(headPscore![i * nHeads + h])) kept *= headPe![i * nHeads + h];
      out[i] = Math.max(0, 1 - kept);
    } else {
      out[i] = deterministic(pscore[i]) ? Math.max(0, 1 - pe[i]) : 0;
    }
  }
  return out;
}

/** The diagnostics of weights `w` (the ones an estimator uses), with its warnings. */
export function weightDiagnostics(w: ArrayLike<number>, options: DiagnosticsOptions = {}): WeightDiagnostics {
  const n = w.length;
  const minEss = options.minEffectiveSampleSize ?? DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE;
  const who = options.estimator ? `${options.estimator}: ` : '';
  let s = 0, maxW = 0;
  for (let i = 0; i < n; i++) {
    s += w[i];
    if (w[i] > maxW) maxW = w[i];
  }
  const ess = effectiveSampleSize(w);
  let mass = 0, rounds = 0;
  if (options.unsupported) {
    for (let i = 0; i < options.unsupported.length; i++) {
      mass += options.unsupported[i];
      if (options.unsupported[i] > 1e-12) rounds++;
    }
    mass /= Math.max(1, options.unsupported.length);
  }
  const warnings: OpeWarning[] = [];
  if (rounds > 0) {
    warnings.push({
      code: 'no_support',
      message: options.directMethod
        ? `${who}the target policy puts ${(100 * mass).toFixed(1)}% of its mass on actions the logging policy never took (${rounds} of ${n} rounds logged deterministically): the reward model extrapolates there, nothing in the data checks it`
        : `${who}the target policy puts ${(100 * mass).toFixed(1)}% of its mass on actions the logging policy never took (${rounds} of ${n} rounds logged deterministically): importance weights cannot see that mass, so the estimate is biased (log with exploration: deployment exploration ε > 0)`,
    });
  }
  if (ess < minEss) {
    warnings.push({
      code: 'low_effective_sample_size',
      message: options.directMethod
        ? `${who}effective sample size ${ess.toFixed(1)} of ${n} rounds (< ${minEss}): few logged rounds took the target's actions, so the reward model is trusted where it saw little data`
        : `${who}effective sample size ${ess.toFixed(1)} of ${n} rounds (< ${minEss}; largest weight ${maxW.toPrecision(3)}): a few rounds carry the estimate, its interval is not to be trusted`,
    });
  }
  return { effectiveSampleSize: ess, essFraction: n > 0 ? ess / n : 0, meanWeight: n > 0 ? s / n : 0, maxWeight: maxW, unsupportedMass: mass, unsupportedRounds: rounds, warnings };
}

/**
 * Factored importance weights of a policy whose heads are independent given x:
 *
 *   w_i = Π_h π_e,h(a_ih | x_i) / π_b,h(a_ih | x_i)
 *
 * equal to the joint weight π_e(a_i | x_i) / π_b(a_i | x_i) when both policies factorise over the
 * heads (the joint probabilities are the products). Shapes: headPe, headPb n × H.
 */
export function factoredImportanceWeights(headPe: Float64Array, headPb: Float64Array, nHeads: number): Float64Array {
  return marginalizedImportanceWeights(headPe, headPb, nHeads, Array.from({ length: nHeads }, (_, h) => h));
}

/**
 * Marginalized importance weights over a subset S of the heads (the action "embedding" a_S):
 *
 *   w_i^S = Π_{h ∈ S} π_e,h(a_ih | x_i) / π_b,h(a_ih | x_i) = p(a_S | x_i, π_e) / p(a_S | x_i, π_b)
 *
 * unbiased for the target's value when the reward depends on the action only through a_S given x
 * ("no direct effect" of the other heads), with a variance that no longer grows with the heads left
 * out (Saito & Joachims, "Off-Policy Evaluation for Large Action Spaces via Embeddings", ICML 2022).
 * Per head (S = {h}) it shows which head makes the joint weights extreme.
 */
export function marginalizedImportanceWeights(headPe: Float64Array, headPb: Float64Array, nHeads: number, heads: readonly number[]): Float64Array {
  if (headPe.length !== headPb.length || headPe.length % nHeads !== 0) {
    throw new RangeError(`marginalizedImportanceWeights: head_pe has ${headPe.length} values and head_pb ${headPb.length}, expected the same n_rounds × ${nHeads}`);
  }
  const n = headPe.length / nHeads;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let r = 1;
    for (const h of heads) {
      if (!(h >= 0 && h < nHeads)) throw new RangeError(`marginalizedImportanceWeights: head ${h}, expected an index in [0, ${nHeads})`);
      const pb = headPb[i * nHeads + h];
      if (!(pb > 0 && pb <= 1)) throw new RangeError(`head_pb[${i}, ${h}]: got ${pb}, expected a propensity in (0, 1]`);
      r *= headPe[i * nHeads + h] / pb;
    }
    w[i] = r;
  }
  return w;
}

/**
 * The "logged action versus the rest" encoding of a large action space: every round becomes a
 * two-action problem — action 0 is the logged action a_i, action 1 stands for every other action —
 * with π_e(0 | x_i) = π_e(a_i | x_i), q̂(x_i, 0) = q̂(x_i, a_i) and q̂(x_i, 1) the target's mean
 * prediction over the other actions,
 *
 *   q̂(x_i, 1) = (q̂(x_i, π_e) − π_e(a_i | x_i) q̂(x_i, a_i)) / (1 − π_e(a_i | x_i)).
 *
 * Everything IPW, SNIPW, DM and the DR family read is then exact — π_e(a_i | x_i), q̂(x_i, a_i) and
 * Σ_a π_e(a | x_i) q̂(x_i, a) — with n × 2 arrays instead of n × K.
 */
export function loggedVersusRest(pe: Float64Array, qLogged: Float64Array | null, qPolicy: Float64Array | null): {
  action: Int32Array;
  actionDist: { data: Float64Array; nRounds: number; nActions: 2; lenList: 1 };
  estimatedRewardsByRegModel?: { data: Float64Array; nRounds: number; nActions: 2; lenList: 1 };
} {
  const n = pe.length;
  const dist = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    dist[2 * i] = pe[i];
    dist[2 * i + 1] = Math.max(0, 1 - pe[i]);
  }
  const out: ReturnType<typeof loggedVersusRest> = { action: new Int32Array(n), actionDist: { data: dist, nRounds: n, nActions: 2, lenList: 1 } };
  if (qLogged !== null && qPolicy !== null) {
    const q = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      q[2 * i] = qLogged[i];
      const rest = 1 - pe[i];
      q[2 * i + 1] = rest > 1e-12 ? (qPolicy[i] - pe[i] * qLogged[i]) / rest : qLogged[i];
    }
    out.estimatedRewardsByRegModel = { data: q, nRounds: n, nActions: 2, lenList: 1 };
  }
  return out;
}
