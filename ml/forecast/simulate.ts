/**
 * Draws a path of an ARIMA(p,d,q) process (for tests and benchmarks):
 *   w_t = μ + Σ φ_i (w_{t−i} − μ) + e_t + Σ θ_j e_{t−j},  e_t ~ N(0, σ²),  y = d-fold cumulative sum of w,
 * after a burn-in of 200 steps so the start does not matter.
 */
import type { Rng } from '../rng';

export function simulateArima(rng: Rng, n: number, spec: { phi?: number[]; theta?: number[]; d?: number; mean?: number; sigma?: number }): number[] {
  const phi = spec.phi ?? [];
  const theta = spec.theta ?? [];
  const mu = spec.mean ?? 0;
  const sigma = spec.sigma ?? 1;
  const burn = 200;
  const w: number[] = [];
  const e: number[] = [];
  for (let t = 0; t < n + burn; t++) {
    const et = sigma * rng.normal();
    let v = mu + et;
    for (let i = 0; i < phi.length; i++) if (t - 1 - i >= 0) v += phi[i] * (w[t - 1 - i] - mu);
    for (let j = 0; j < theta.length; j++) if (t - 1 - j >= 0) v += theta[j] * e[t - 1 - j];
    w.push(v);
    e.push(et);
  }
  let y = w.slice(burn);
  for (let k = 0; k < (spec.d ?? 0); k++) {
    let acc = 0;
    y = y.map((v) => (acc += v));
  }
  return y;
}
