import { decodeFloat64, encodeFloat64 } from '../nn/parameters';

/**
 * Running mean and variance of a vector stream (SB3's `RunningMeanStd`, Chan et al.'s parallel
 * update): a batch of `n` rows with population mean μ_b and variance σ²_b merges into (μ, σ², N) as
 *   δ = μ_b − μ;  N' = N + n;  μ' = μ + δ·n/N'
 *   σ²' = (σ²·N + σ²_b·n + δ²·N·n/N') / N'
 * Starts at μ = 0, σ² = 1, N = 1e-4 (SB3's epsilon), so the first batch dominates at once.
 * Plain float64 loops in a fixed order: the same batches give the same bits.
 */
export class RunningMeanStd {
  mean: Float64Array;
  var: Float64Array;
  count = 1e-4;

  constructor(readonly size: number) {
    this.mean = new Float64Array(size);
    this.var = new Float64Array(size).fill(1);
  }

  /** Merges rows x[n, size] (row-major). */
  update(x: ArrayLike<number>, n: number): void {
    const S = this.size;
    if (x.length < n * S) throw new Error(`RunningMeanStd.update: x has ${x.length} values, expected ${n} × ${S}`);
    if (n < 1) return;
    const total = this.count + n;
    for (let j = 0; j < S; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += x[i * S + j];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (x[i * S + j] - m) ** 2;
      v /= n;
      const delta = m - this.mean[j];
      this.mean[j] += (delta * n) / total;
      this.var[j] = (this.var[j] * this.count + v * n + (delta * delta * this.count * n) / total) / total;
    }
    this.count = total;
  }

  toJSON(): { mean: string; var: string; count: number } {
    return { mean: encodeFloat64(this.mean), var: encodeFloat64(this.var), count: this.count };
  }

  load(json: { mean: string; var: string; count: number }): void {
    const mean = decodeFloat64(json?.mean), v = decodeFloat64(json?.var);
    if (mean.length !== this.size || v.length !== this.size) throw new Error(`RunningMeanStd.load: mean/var have ${mean.length}/${v.length} values, expected ${this.size}`);
    if (!(json.count > 0)) throw new Error(`RunningMeanStd.load: count = ${json.count}, expected a number > 0`);
    this.mean = mean;
    this.var = v;
    this.count = json.count;
  }
}
