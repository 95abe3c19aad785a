/**
 * Feature hashing (Weinberger et al. 2009, "the hashing trick"; Vowpal Wabbit's way of reading sparse
 * and categorical features): a feature name is hashed with MurmurHash3 (x86, 32-bit; Appleby) and its
 * low `bits` bits are its coordinate. A numeric feature `name: x` is coordinate h(name) with value x; a
 * categorical one `name: "v"` is coordinate h("name=v") with value 1 (one-hot without a dictionary).
 *
 * Hand-written: no MurmurHash3 package is a dependency of this project, and this one hashes the UTF-8
 * bytes written into one preallocated buffer (TextEncoder.encodeInto), so hashing allocates nothing.
 * Checked against scikit-learn's `murmurhash3_32` (the C++ reference through Cython) in
 * ml/online/vw-compare.int.test.ts and against the published test vectors in hash.test.ts; speed in
 * bench/online-learners.ts.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3_x86_32 of `bytes[0..len)` with `seed`, as an unsigned 32-bit integer. */
export function murmur3_32(bytes: Uint8Array, len: number, seed: number): number {
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2] << 16;
    if (tail >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** MurmurHash3_x86_32 of the UTF-8 bytes of `s` (no allocation unless `s` is longer than any before). */
export function hashString(s: string, seed = 0): number {
  if (s.length * 3 > scratch.length) scratch = new Uint8Array(s.length * 3);
  const { written } = encoder.encodeInto(s, scratch);
  return murmur3_32(scratch, written, seed);
}

/** A sparse vector in preallocated typed arrays: `count` (index, value) pairs. Grows only when a row is longer than any before. */
export class SparseVector {
  idx: Int32Array;
  val: Float64Array;
  count = 0;

  constructor(capacity = 64) {
    this.idx = new Int32Array(capacity);
    this.val = new Float64Array(capacity);
  }

  clear(): this {
    this.count = 0;
    return this;
  }

  push(i: number, v: number): void {
    if (this.count === this.idx.length) {
      const idx = new Int32Array(this.idx.length * 2);
      idx.set(this.idx);
      const val = new Float64Array(this.val.length * 2);
      val.set(this.val);
      this.idx = idx;
      this.val = val;
    }
    this.idx[this.count] = i;
    this.val[this.count++] = v;
  }
}

/** Named features as a request or a label carries them: numbers (numeric), strings (categorical) and booleans (1 when true). */
export type NamedFeatures = Readonly<Record<string, number | string | boolean>>;

export interface FeatureHasherOptions {
  /** Coordinates are the low `bits` bits of the hash (2^bits weights). */
  bits: number;
  /** MurmurHash3 seed (default 0). */
  seed?: number;
  /** Add the constant feature (the intercept) at coordinate h("^bias") (default true). */
  bias?: boolean;
}

export const BIAS_FEATURE = '^bias';

/** Named features → hashed sparse vector. Errors name the feature and what was expected. */
export class FeatureHasher {
  readonly bits: number;
  readonly mask: number;
  readonly seed: number;
  readonly bias: boolean;
  private readonly biasIndex: number;

  constructor(opts: FeatureHasherOptions) {
    if (!Number.isInteger(opts.bits) || opts.bits < 1 || opts.bits > 30) throw new Error(`bits is ${opts.bits}; expected an integer from 1 to 30`);
    this.bits = opts.bits;
    this.mask = (1 << opts.bits) - 1;
    this.seed = (opts.seed ?? 0) >>> 0;
    this.bias = opts.bias ?? true;
    this.biasIndex = hashString(BIAS_FEATURE, this.seed) & this.mask;
  }

  /** The coordinate of a numeric feature `name`, or of the categorical value `name=value`. */
  index(name: string, value?: string): number {
    return hashString(value === undefined ? name : `${name}=${value}`, this.seed) & this.mask;
  }

  /** Writes `features` (plus the bias) into `out` (cleared first); `field` names the object in errors. Zero values are skipped. */
  hash(features: NamedFeatures, out: SparseVector, field = 'features'): SparseVector {
    out.clear();
    if (this.bias) out.push(this.biasIndex, 1);
    for (const name in features) {
      const v = features[name];
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new FeatureError(`${field}.${name}`, v, 'a finite number, a string (categorical) or a boolean');
        if (v !== 0) out.push(hashString(name, this.seed) & this.mask, v);
      } else if (typeof v === 'string') {
        out.push(hashString(`${name}=${v}`, this.seed) & this.mask, 1);
      } else if (typeof v === 'boolean') {
        if (v) out.push(hashString(name, this.seed) & this.mask, 1);
      } else {
        throw new FeatureError(`${field}.${name}`, v, 'a finite number, a string (categorical) or a boolean');
      }
    }
    return out;
  }
}

export class FeatureError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field} is ${JSON.stringify(value) ?? String(value)}; expected ${expected}`);
  }
}
