/**
 * Lag polynomials as coefficient arrays c[0] + c[1]B + c[2]B² + …, and the checks ARIMA needs.
 */

/** The product of two lag polynomials. */
export function multiply(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j] += a[i] * b[j];
  return out;
}

/** 1 − φ_1 B − … − φ_p B^p as coefficients (the AR side's sign convention). */
export function arPolynomial(phi: readonly number[], lag = 1): number[] {
  const out = new Array<number>(phi.length * lag + 1).fill(0);
  out[0] = 1;
  for (let i = 0; i < phi.length; i++) out[(i + 1) * lag] = -phi[i];
  return out;
}

/** 1 + θ_1 B + … + θ_q B^q as coefficients (the MA side's sign convention). */
export function maPolynomial(theta: readonly number[], lag = 1): number[] {
  const out = new Array<number>(theta.length * lag + 1).fill(0);
  out[0] = 1;
  for (let i = 0; i < theta.length; i++) out[(i + 1) * lag] = theta[i];
  return out;
}

/** (1 − B)^d (1 − B^m)^D. */
export function differencingPolynomial(d: number, D: number, m: number): number[] {
  let p = [1];
  for (let i = 0; i < d; i++) p = multiply(p, [1, -1]);
  for (let i = 0; i < D; i++) p = multiply(p, arPolynomial([1], m));
  return p;
}

/**
 * Whether all roots of 1 − φ_1 z − … − φ_p z^p lie outside the unit circle (stationarity of an AR
 * part; invertibility of an MA part when called with −θ), by the step-down (Schur–Cohn / reverse
 * Durbin–Levinson) recursion: the polynomial is stable iff every partial autocorrelation
 * a_k = φ_k^{(k)} has |a_k| < 1, where φ_j^{(k−1)} = (φ_j^{(k)} + a_k φ_{k−j}^{(k)}) / (1 − a_k²).
 */
export function isStable(phi: readonly number[], margin = 1e-6): boolean {
  let c = [...phi];
  while (c.length > 0 && c[c.length - 1] === 0) c.pop();
  for (let k = c.length; k >= 1; k--) {
    const a = c[k - 1];
    if (!(Math.abs(a) < 1 - margin)) return false;
    const next = new Array<number>(k - 1);
    for (let j = 0; j < k - 1; j++) next[j] = (c[j] + a * c[k - 2 - j]) / (1 - a * a);
    c = next;
  }
  return true;
}
