/**
 * Dense Cholesky factorisation and triangular solves on row-major Float64Arrays, the only linear
 * algebra the GP needs (Rasmussen & Williams, "Gaussian Processes for Machine Learning", 2006,
 * Algorithm 2.1 and Appendix A.4).
 */

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
        out[rowI + i] = Math.sqrt(s);
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

/** A⁻¹ from its Cholesky factor: L⁻ᵀ L⁻¹, symmetric, row-major. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const linv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    linv[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let k = j; k < i; k++) s -= l[row + k] * linv[k * n + j];
      linv[row + j] = s / l[row + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += linv[k * n + i] * linv[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}
