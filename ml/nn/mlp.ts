import { Linear } from './linear';
import { Parameters } from './parameters';

/**
 * A multilayer perceptron: Linear → tanh → … → Linear [→ tanh]. `sizes` = [in, h1, …, out].
 * `outputActivation: 'tanh'` makes every layer tanh (an encoder/trunk); `'identity'` leaves the
 * last layer linear. Activations of the last forward pass are kept for `backward`; buffers grow to
 * the largest batch seen and are reused (no allocation per call at a steady batch size).
 */
export class Mlp {
  readonly layers: Linear[] = [];
  private capacity = 0;
  /** acts[0] is the caller's input; acts[l+1] is the output of layer l (after its activation). */
  private acts: Float64Array[] = [];
  private grads: Float64Array[] = [];

  constructor(
    readonly params: Parameters,
    readonly name: string,
    readonly sizes: number[],
    readonly outputActivation: 'tanh' | 'identity' = 'tanh',
  ) {
    if (sizes.length < 2) throw new Error(`Mlp "${name}": sizes must list at least [in, out], got [${sizes.join(', ')}]`);
    for (const s of sizes) if (!Number.isInteger(s) || s < 1) throw new Error(`Mlp "${name}": every size must be a positive integer, got [${sizes.join(', ')}]`);
    for (let l = 0; l + 1 < sizes.length; l++) this.layers.push(new Linear(params, `${name}.${l}`, sizes[l], sizes[l + 1]));
  }

  get inSize(): number {
    return this.sizes[0];
  }

  get outSize(): number {
    return this.sizes[this.sizes.length - 1];
  }

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    this.capacity = Math.max(n, this.capacity * 2);
    this.acts = [new Float64Array(0), ...this.layers.map((l) => new Float64Array(this.capacity * l.outSize))];
    this.grads = [new Float64Array(this.capacity * this.inSize), ...this.layers.map((l) => new Float64Array(this.capacity * l.outSize))];
  }

  /** Forward pass on x[n, in]; returns a view [n, out] valid until the next forward. */
  forward(x: Float64Array, n: number): Float64Array {
    this.ensure(n);
    this.acts[0] = x;
    const last = this.layers.length - 1;
    for (let l = 0; l <= last; l++) {
      this.layers[l].forward(this.acts[l], n, this.acts[l + 1], l < last || this.outputActivation === 'tanh');
    }
    return this.acts[this.layers.length].subarray(0, n * this.outSize);
  }

  /**
   * Backward from dL/d(output)[n, out] of the last forward; accumulates parameter gradients and
   * returns dL/d(input) [n, in] (a view valid until the next call). With `inputGradient` false the
   * first layer's dL/d(input) is not computed (an encoder of observations needs none) and the
   * returned view holds nothing meaningful.
   */
  backward(dOut: Float64Array, n: number, inputGradient = true): Float64Array {
    const last = this.layers.length - 1;
    let d = this.grads[last + 1];
    d.set(dOut.subarray(0, n * this.outSize));
    for (let l = last; l >= 0; l--) {
      if (l < last || this.outputActivation === 'tanh') {
        const y = this.acts[l + 1];
        const m = n * this.layers[l].outSize;
        for (let j = 0; j < m; j++) d[j] *= 1 - y[j] * y[j];
      }
      const dx = this.grads[l];
      this.layers[l].backward(this.acts[l], d, n, l > 0 || inputGradient ? dx : null);
      d = dx;
    }
    return d.subarray(0, n * this.inSize);
  }
}
