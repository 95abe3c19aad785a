/**
 * The Matérn 5/2 kernel with automatic relevance determination (one length scale per input):
 *
 *   r² = Σ_i (x_i − x'_i)² / ℓ_i²
 *   k(x, x') = σ_f² (1 + √5 r + 5r²/3) exp(−√5 r)
 *
 * and its derivatives with respect to the log hyperparameters, used by the marginal-likelihood
 * gradient:
 *
 *   ∂k/∂log ℓ_i  = σ_f² (5/3) (1 + √5 r) exp(−√5 r) · (x_i − x'_i)² / ℓ_i²
 *   ∂k/∂log σ_f² = k
 *
 * (Rasmussen & Williams 2006, eq. 4.17; Snoek, Larochelle & Adams, "Practical Bayesian
 * Optimization of Machine Learning Algorithms", NeurIPS 2012.)
 */

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { sqrt, exp } = Math;
const SQRT5 = sqrt(5);

/** r² = Σ_i (x_i − x'_i)² / ℓ_i². */
export function scaledSquaredDistance(x: ArrayLike<number>, xp: ArrayLike<number>, lengthScales: ArrayLike<number>): number {
  let r2 = 0;
  for (let i = 0; i < lengthScales.length; i++) {
    const t = (x[i] - xp[i]) / lengthScales[i];
    r2 += t * t;
  }
  return r2;
}

/** k(r) = σ_f² (1 + √5 r + 5r²/3) exp(−√5 r), from r². */
export function matern52(r2: number, signalVariance: number): number {
  const r = sqrt(r2);
  return signalVariance * (1 + SQRT5 * r + (5 / 3) * r2) * exp(-SQRT5 * r);
}

/** σ_f² (5/3)(1 + √5 r) exp(−√5 r): multiply by (x_i − x'_i)²/ℓ_i² for ∂k/∂log ℓ_i. */
export function matern52LengthScaleFactor(r2: number, signalVariance: number): number {
  const r = sqrt(r2);
  return signalVariance * (5 / 3) * (1 + SQRT5 * r) * exp(-SQRT5 * r);
}

/** k(r), also writing σ_f² (5/3)(1 + √5 r) exp(−√5 r) to factors[index]: one sqrt and one exp for both. */
export function matern52AndFactor(r2: number, signalVariance: number, factors: Float64Array, index: number): number {
  const r = sqrt(r2);
  const e = signalVariance * exp(-SQRT5 * r);
  factors[index] = e * (5 / 3) * (1 + SQRT5 * r);
  return e * (1 + SQRT5 * r + (5 / 3) * r2);
}
