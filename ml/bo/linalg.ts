/**
 * Dense Cholesky factorisation and triangular solves on row-major Float64Arrays, the only linear
 * algebra the GP needs (Rasmussen & Williams, "Gaussian Processes for Machine Learning", 2006,
 * Algorithm 2.1 and Appendix A.4).
 */

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { sqrt } = Math;

/**
 * L with L Lᵀ = A (lower triangle, row-major n×n); returns null when A is not numerically positive
 * definite so the caller can add jitter and name what it was fitting.
 */
export function cholesky(a: Float64Array, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array | null {
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= out[rowI + k] * out[rowJ + k];
      if (i === j) {
        if (!(s > 0)) return null;
        out[rowI + i] = sqrt(s);
      } else {
        out[rowI + j] = s / out[rowJ + j];
      }
    }
    for (let j = i + 1; j < n; j++) out[rowI + j] = 0;
  }
  return out;
}

/** Solves L z = b by forward substitution (L lower triangular). */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) s -= l[row + k] * out[k];
    out[i] = s / l[row + i];
  }
  return out;
}

/** Solves Lᵀ z = b by back substitution (L lower triangular). */
export function solveUpperTransposed(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** A⁻¹ from its Cholesky factor: X = L⁻¹ (row by row, L X = I), then A⁻¹ = XᵀX; row-major throughout. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    // X[i, :] = (e_i − Σ_{k<i} L[i,k] X[k, :]) / L[i,i]; X[k, :] is zero beyond column k.
    for (let k = 0; k < i; k++) {
      const lik = l[rowI + k];
      if (lik === 0) continue;
      const rowK = k * n;
      for (let j = 0; j <= k; j++) x[rowI + j] -= lik * x[rowK + j];
    }
    x[rowI + i] += 1;
    const d = 1 / l[rowI + i];
    for (let j = 0; j <= i; j++) x[rowI + j] *= d;
  }
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rowK = k * n;
    for (let i = 0; i <= k; i++) {
      const xki = x[rowK + i];
      if (xki === 0) continue;
      const rowI = i * n;
      for (let j = 0; j <= i; j++) inv[rowI + j] += xki * x[rowK + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) inv[j * n + i] = inv[i * n + j];
  return inv;
}
