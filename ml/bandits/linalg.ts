/**
 * Small dense linear algebra for the linear bandits (d of a few dozen at most). Matrices are
 * row-major `Float64Array`s of length d·d; nothing here allocates in the hot paths except where it
 * returns a new array. Symmetric d×d matrices are also stored "packed": the upper triangle row by
 * row, length d(d+1)/2, element (i, j) with i ≤ j at `packedIndex(d, i, j)`.
 */

/** The d×d identity times `scale`. */
export function identity(d: number, scale = 1): Float64Array {
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m[i * d + i] = scale;
  return m;
}

/** xᵀy. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>, d = x.length): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += x[i] * y[i];
  return s;
}

/** out = M x for a row-major d×d M. */
export function matVec(m: Float64Array, x: ArrayLike<number>, d: number, out: Float64Array = new Float64Array(d)): Float64Array {
  for (let i = 0; i < d; i++) {
    let s = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) s += m[row + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** xᵀ M x. */
export function quadForm(m: Float64Array, x: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    let r = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) r += m[row + j] * x[j];
    s += x[i] * r;
  }
  return s;
}

/**
 * Sherman–Morrison, in place: given Ainv = A⁻¹, overwrite it with (A + x xᵀ)⁻¹ =
 * A⁻¹ − (A⁻¹x)(A⁻¹x)ᵀ / (1 + xᵀA⁻¹x). Uses that A⁻¹ is symmetric. O(d²). `work` is scratch of length d.
 */
export function shermanMorrisonUpdate(ainv: Float64Array, x: ArrayLike<number>, d: number, work: Float64Array = new Float64Array(d)): void {
  const u = matVec(ainv, x, d, work); // A⁻¹x
  const denom = 1 + dot(x, u, d);
  for (let i = 0; i < d; i++) {
    const ui = u[i] / denom;
    const row = i * d;
    for (let j = 0; j < d; j++) ainv[row + j] -= ui * u[j];
  }
}

/**
 * Cholesky factor of a symmetric positive-definite matrix: the lower-triangular L with L Lᵀ = M
 * (row-major, zeros above the diagonal). Throws naming the pivot when M is not positive definite.
 */
export function cholesky(m: Float64Array, d: number, out: Float64Array = new Float64Array(d * d)): Float64Array {
  out.fill(0);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = m[i * d + j];
      for (let k = 0; k < j; k++) s -= out[i * d + k] * out[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`cholesky: matrix is not positive definite (pivot ${i} is ${s}, expected > 0)`);
        out[i * d + i] = Math.sqrt(s);
      } else {
        out[i * d + j] = s / out[j * d + j];
      }
    }
  }
  return out;
}

/** Inverse of a symmetric positive-definite matrix through its Cholesky factor. O(d³). */
export function invertSpd(m: Float64Array, d: number): Float64Array {
  const l = cholesky(m, d);
  // Linv: inverse of the lower-triangular L by forward substitution.
  const linv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    linv[i * d + i] = 1 / l[i * d + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * d + k] * linv[k * d + j];
      linv[i * d + j] = s / l[i * d + i];
    }
  }
  // M⁻¹ = L⁻ᵀ L⁻¹.
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += linv[k * d + i] * linv[k * d + j];
      inv[i * d + j] = s;
      inv[j * d + i] = s;
    }
  }
  return inv;
}

/**
 * Inverse of a general square matrix by Gauss–Jordan elimination with partial pivoting. O(d³).
 * The naive reference the benchmark compares Sherman–Morrison against; also a check in tests.
 */
export function invertGaussJordan(m: Float64Array, d: number): Float64Array {
  const a = Float64Array.from(m);
  const inv = identity(d);
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(a[r * d + c]) > Math.abs(a[p * d + c])) p = r;
    if (a[p * d + c] === 0) throw new Error(`invertGaussJordan: matrix is singular (column ${c} has no non-zero pivot)`);
    if (p !== c) {
      for (let k = 0; k < d; k++) {
        let t = a[c * d + k]; a[c * d + k] = a[p * d + k]; a[p * d + k] = t;
        t = inv[c * d + k]; inv[c * d + k] = inv[p * d + k]; inv[p * d + k] = t;
      }
    }
    const piv = a[c * d + c];
    for (let k = 0; k < d; k++) { a[c * d + k] /= piv; inv[c * d + k] /= piv; }
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = a[r * d + c];
      if (f === 0) continue;
      for (let k = 0; k < d; k++) { a[r * d + k] -= f * a[c * d + k]; inv[r * d + k] -= f * inv[c * d + k]; }
    }
  }
  return inv;
}

/** Index of (i, j), i ≤ j, in the packed upper triangle of a symmetric d×d matrix. */
export function packedIndex(d: number, i: number, j: number): number {
  return i * d - (i * (i - 1)) / 2 + (j - i);
}

/** Length of the packed upper triangle: d(d+1)/2. */
export function packedLength(d: number): number {
  return (d * (d + 1)) / 2;
}

/** Adds `scale`·x xᵀ to a packed symmetric matrix in place. */
export function packedAddOuter(packed: Float64Array | number[], x: ArrayLike<number>, d: number, scale = 1): void {
  let k = 0;
  for (let i = 0; i < d; i++) {
    const xi = x[i] * scale;
    for (let j = i; j < d; j++) packed[k++] += xi * x[j];
  }
}

/** Expands a packed symmetric matrix into a full row-major one, adding `diag` on the diagonal. */
export function unpackSymmetric(packed: ArrayLike<number>, d: number, diag = 0): Float64Array {
  const m = new Float64Array(d * d);
  let k = 0;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = packed[k++];
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
    m[i * d + i] += diag;
  }
  return m;
}
