/**
 * Central finite differences for gradient checks (float64):
 *   ∂f/∂θᵢ ≈ (f(θ + hεᵢ) − f(θ − hεᵢ)) / 2h
 * Used by the tests of every layer, head and the PPO loss.
 */
export function numericalGradient(f: () => number, theta: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    const old = theta[i];
    theta[i] = old + h;
    const fp = f();
    theta[i] = old - h;
    const fm = f();
    theta[i] = old;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/**
 * The worst element-wise relative error |a − n| / max(|a|, |n|), where elements with
 * max(|a|, |n|) < `floor` are compared on the absolute scale of `floor` (finite differences cannot
 * resolve relative error of ~0 gradients).
 */
export function maxRelativeError(analytic: ArrayLike<number>, numeric: ArrayLike<number>, floor = 1e-4): { error: number; index: number } {
  let worst = 0, index = -1;
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i], n = numeric[i];
    const e = Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), floor);
    if (e > worst || Number.isNaN(e)) {
      worst = Number.isNaN(e) ? Infinity : e;
      index = i;
    }
  }
  return { error: worst, index };
}
