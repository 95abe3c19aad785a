import { Parameters } from './parameters';

/**
 * A fully connected layer y = x·Wᵀ + b on row-major batches. W is [out, in], b is [out]; both are
 * slices of a shared `Parameters` vector. No allocation: callers pass the buffers.
 */
export class Linear {
  readonly weightOffset: number;
  readonly biasOffset: number;

  constructor(
    readonly params: Parameters,
    readonly name: string,
    readonly inSize: number,
    readonly outSize: number,
  ) {
    this.weightOffset = params.add(`${name}.weight`, [outSize, inSize]);
    this.biasOffset = params.add(`${name}.bias`, [outSize]);
  }

  /** y[n, out] = x[n, in] · Wᵀ + b. */
  forward(x: Float64Array, n: number, y: Float64Array): void {
    const w = this.params.data, inS = this.inSize, outS = this.outSize, wo = this.weightOffset, bo = this.biasOffset;
    for (let i = 0; i < n; i++) {
      const xi = i * inS, yi = i * outS;
      for (let o = 0; o < outS; o++) {
        let s = w[bo + o];
        const wr = wo + o * inS;
        for (let k = 0; k < inS; k++) s += x[xi + k] * w[wr + k];
        y[yi + o] = s;
      }
    }
  }

  /**
   * Accumulates dL/dW += dyᵀ·x and dL/db += Σᵢ dy, and writes dL/dx = dy·W into `dx` (skipped when
   * null; added to what `dx` holds when `accumulate`).
   */
  backward(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null, accumulate = false): void {
    const w = this.params.data, g = this.params.grad;
    const inS = this.inSize, outS = this.outSize, wo = this.weightOffset, bo = this.biasOffset;
    if (dx && !accumulate) dx.fill(0, 0, n * inS);
    for (let i = 0; i < n; i++) {
      const xi = i * inS, yi = i * outS;
      for (let o = 0; o < outS; o++) {
        const d = dy[yi + o];
        if (d === 0) continue;
        g[bo + o] += d;
        const wr = wo + o * inS;
        for (let k = 0; k < inS; k++) g[wr + k] += d * x[xi + k];
        if (dx) for (let k = 0; k < inS; k++) dx[xi + k] += d * w[wr + k];
      }
    }
  }
}
