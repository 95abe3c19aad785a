/**
 * Per-head distribution math for the mixed action space. Each function works on a slice of a
 * batch buffer (no allocation) and returns/writes exactly what the policy's forward/backward need.
 *
 *   categorical / integer : p = softmax(z);  log p(a) = z_a − logsumexp(z);  H = −Σ p log p
 *                            ∂log p(a)/∂z = onehot(a) − p;  ∂H/∂z_j = −p_j (log p_j + H)
 *   bernoulli             : p = σ(l);  log p(1) = −softplus(−l), log p(0) = −softplus(l)
 *                            H = softplus(l) − p·l;  ∂log p(a)/∂l = a − p;  ∂H/∂l = −p(1−p)·l
 *   squashed Gaussian     : u ~ N(μ, σ²), σ = exp(log_std) (state-independent), action
 *                            a = lo + (hi − lo)·(tanh(u) + 1)/2 ∈ (lo, hi).
 *                            log p(a) = log N(u; μ, σ) − log|da/du| (the density of the action itself),
 *                            log|da/du| = log((hi−lo)/2) + 2(log 2 − u − softplus(−2u)).
 *                            H is the entropy of the Gaussian on u, ½ + ½log 2π + log σ (the squashed
 *                            entropy has no closed form; the bonus only needs to keep σ from collapsing).
 *                            ∂log p/∂μ = (u−μ)/σ²;  ∂log p/∂log σ = ((u−μ)/σ)² − 1;  ∂H/∂log σ = 1.
 */

export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG2 = Math.log(2);

/** log(1 + eˣ) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Writes log-softmax of z[off..off+dim) into out[off..] and returns the entropy of softmax(z).
 */
export function logSoftmaxEntropy(z: Float64Array, off: number, dim: number, out: Float64Array): number {
  let max = -Infinity;
  for (let j = 0; j < dim; j++) if (z[off + j] > max) max = z[off + j];
  let sum = 0;
  for (let j = 0; j < dim; j++) sum += Math.exp(z[off + j] - max);
  const lse = max + Math.log(sum);
  let h = 0;
  for (let j = 0; j < dim; j++) {
    const lp = z[off + j] - lse;
    out[off + j] = lp;
    h -= Math.exp(lp) * lp;
  }
  return h;
}

/** u → action in (lo, hi). */
export function squash(u: number, lo: number, hi: number): number {
  return lo + (hi - lo) * 0.5 * (Math.tanh(u) + 1);
}

/** action in [lo, hi] → u (the inverse of `squash`); the ends are pulled in by 1e-7 of the range so u stays finite. */
export function unsquash(a: number, lo: number, hi: number): number {
  let y = (2 * (a - lo)) / (hi - lo) - 1;
  const lim = 1 - 1e-7;
  if (y > lim) y = lim;
  if (y < -lim) y = -lim;
  return Math.atanh(y);
}

/** log|da/du| of `squash`, computed stably for large |u|. */
export function squashLogDet(u: number, lo: number, hi: number): number {
  return Math.log((hi - lo) / 2) + 2 * (LOG2 - u - softplus(-2 * u));
}

/** log N(u; μ, σ) with σ = exp(logStd). */
export function gaussianLogPdf(u: number, mean: number, logStd: number): number {
  const z = (u - mean) * Math.exp(-logStd);
  return -0.5 * z * z - logStd - LOG_SQRT_2PI;
}

export function gaussianEntropy(logStd: number): number {
  return 0.5 + LOG_SQRT_2PI + logStd;
}
