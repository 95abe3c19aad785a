/**
 * All trainable tensors of a network live in ONE flat Float64Array (`data`), with a parallel
 * gradient buffer (`grad`) of the same layout. Optimisers, gradient clipping and checkpoints then
 * work on plain vectors, and a checkpoint restores weights bit-identically.
 */
export interface TensorLayout {
  /** Unique name, e.g. `trunk.0.weight`, `head.k.bias`, `head.fusion.log_std`. */
  name: string;
  /** Start index in the flat vector. */
  offset: number;
  /** Row-major shape; a weight of a linear layer is [out, in] (as PyTorch and ONNX Gemm transB=1). */
  shape: number[];
}

export class Parameters {
  readonly layout: TensorLayout[] = [];
  data: Float64Array = new Float64Array(0);
  grad: Float64Array = new Float64Array(0);
  private sealed = false;
  private size = 0;

  /** Reserves a tensor; returns its offset. Call `seal()` once all tensors are added. */
  add(name: string, shape: number[]): number {
    if (this.sealed) throw new Error(`Parameters: cannot add "${name}" after seal()`);
    if (this.layout.some((t) => t.name === name)) throw new Error(`Parameters: duplicate tensor name "${name}"`);
    const offset = this.size;
    this.layout.push({ name, offset, shape: [...shape] });
    this.size += shape.reduce((a, b) => a * b, 1);
    return offset;
  }

  seal(): void {
    this.sealed = true;
    this.data = new Float64Array(this.size);
    this.grad = new Float64Array(this.size);
  }

  get length(): number {
    return this.size;
  }

  tensor(name: string): TensorLayout {
    const t = this.layout.find((x) => x.name === name);
    if (!t) throw new Error(`Parameters: no tensor named "${name}" (have: ${this.layout.map((x) => x.name).join(', ')})`);
    return t;
  }

  /** A view (no copy) of one tensor's values. */
  view(name: string): Float64Array {
    const t = this.tensor(name);
    return this.data.subarray(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1));
  }

  zeroGrad(): void {
    this.grad.fill(0);
  }

  /** Replaces all values (bit-exact copy). */
  load(values: ArrayLike<number>): void {
    if (values.length !== this.size) {
      throw new Error(`Parameters.load: expected ${this.size} values for layout [${this.layout.map((t) => `${t.name}:${t.shape.join('x')}`).join(', ')}], got ${values.length}`);
    }
    this.data.set(values);
  }
}

/** Float64Array → base64 of its little-endian bytes: compact and bit-exact (JSON numbers are exact too, but 2–3× larger). */
export function encodeFloat64(values: Float64Array): string {
  const copy = new Float64Array(values);
  const bytes = new Uint8Array(copy.buffer);
  if (!isLittleEndian()) swapBytes8(bytes);
  return Buffer.from(bytes).toString('base64');
}

export function decodeFloat64(b64: string): Float64Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % 8 !== 0) throw new Error(`decodeFloat64: ${buf.length} bytes is not a whole number of float64 values`);
  const bytes = new Uint8Array(buf.length);
  bytes.set(buf);
  if (!isLittleEndian()) swapBytes8(bytes);
  return new Float64Array(bytes.buffer);
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function swapBytes8(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
}
