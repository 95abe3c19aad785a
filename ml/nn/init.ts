import { Rng } from '../rng';

/**
 * Orthogonal initialisation (Saxe et al. 2014), as `torch.nn.init.orthogonal_`: draw a Gaussian
 * [rows, cols] matrix, take Q of its QR decomposition (of the transpose when rows < cols), fix the
 * signs by diag(R) so the distribution is uniform (Haar), scale by `gain`. Writes `w` row-major.
 * CleanRL's layer_init: gain √2 for hidden layers, 0.01 for policy heads, 1 for the value head, bias 0.
 */
export function orthogonalInit(w: Float64Array, rows: number, cols: number, gain: number, rng: Rng): void {
  const tall = rows >= cols;
  const m = tall ? rows : cols; // long side
  const k = tall ? cols : rows; // short side: number of orthonormal columns
  // a: m×k column-major (column j at j*m), Gaussian
  const a = new Float64Array(m * k);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  // Modified Gram–Schmidt: columns of a become Q; r_jj kept for the sign fix.
  for (let j = 0; j < k; j++) {
    const cj = j * m;
    for (let p = 0; p < j; p++) {
      const cp = p * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += a[cp + i] * a[cj + i];
      for (let i = 0; i < m; i++) a[cj + i] -= dot * a[cp + i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += a[cj + i] * a[cj + i];
    norm = Math.sqrt(norm);
    // r_jj = norm > 0, so the sign fix is the identity for MGS; Q is already Haar-distributed.
    for (let i = 0; i < m; i++) a[cj + i] /= norm;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // tall: W = Q (m=rows, k=cols) → W[r,c] = a[c*m + r]; wide: W = Qᵀ (m=cols, k=rows) → W[r,c] = a[r*m + c]
      w[r * cols + c] = gain * (tall ? a[c * m + r] : a[r * m + c]);
    }
  }
}
