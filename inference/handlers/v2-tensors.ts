/**
 * KServe v2 (Open Inference Protocol) JSON tensors ⇄ onnxruntime tensors, for every element type both
 * know: the v2 `datatype` names (BOOL, UINT8…UINT64, INT8…INT64, FP16, FP32, FP64, BYTES), inputs
 * built as the typed array the model declares, outputs written as JSON values.
 *
 * Inputs are checked element by element against their datatype's range (an integer in range for the
 * integer types, a finite number the float type can hold, a boolean, a string): nothing is silently
 * rounded, wrapped or turned into infinity. INT64/UINT64 travel as JSON numbers, so both ways they must
 * be safe integers (|v| ≤ 2^53 − 1); an output value beyond that is an error naming the output.
 */
import * as ort from 'onnxruntime-node';
import { badRequest, describeValue } from '../http/errors';

/** v2 datatype names by onnxruntime element type. */
const V2_DATATYPE: Partial<Record<string, string>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

/** The v2 datatype of an onnxruntime element type (unknown types as their own name, upper-cased). */
export function v2Datatype(type: string): string {
  return V2_DATATYPE[type] ?? type.toUpperCase();
}

/** Most elements one input may have (all inputs of a request are limited by the body size too). */
export const MAX_ELEMENTS = 1_000_000;

const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT16_MAX = 65504;

/**
 * The leaves of a flat or nested (row-major) array, appended to `out`; `field` names it in errors.
 * Leaves are not checked here: the datatype's converter does that.
 */
function flatten(data: unknown, out: unknown[], field: string, depth: number): void {
  if (!Array.isArray(data)) throw badRequest(`${field} must be an array, got ${describeValue(data)}`, field, 'a flat or nested array of the datatype\'s values');
  if (depth > 8) throw badRequest(`${field} is nested more than 8 levels deep`, field, 'a flat or nested array of at most 8 levels');
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Array.isArray(v)) flatten(v, out, field, depth + 1);
    else {
      out.push(v);
      if (out.length > MAX_ELEMENTS) throw badRequest(`${field} has more than ${MAX_ELEMENTS} elements`, field, `at most ${MAX_ELEMENTS} elements`);
    }
  }
}

/** Integers in [min, max] into `out`. */
function integers<A extends { [i: number]: number; length: number }>(out: A, leaves: unknown[], field: string, min: number, max: number, datatype: string): A {
  for (let i = 0; i < leaves.length; i++) {
    const v = leaves[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badValue(field, i, v, `integers in ${min}..${max} (${datatype})`);
    out[i] = v;
  }
  return out;
}

/** Finite numbers of at most `limit` in magnitude into `out`. */
function floats<A extends { [i: number]: number; length: number }>(out: A, leaves: unknown[], field: string, limit: number, datatype: string): A {
  for (let i = 0; i < leaves.length; i++) {
    const v = leaves[i];
    if (typeof v !== 'number' || !(Math.abs(v) <= limit)) throw badValue(field, i, v, `finite numbers within ±${limit} (${datatype})`);
    out[i] = v;
  }
  return out;
}

function badValue(field: string, index: number, value: unknown, expected: string) {
  return badRequest(`${field} contains ${describeValue(value)} at element ${index}`, field, expected);
}

/**
 * The onnxruntime tensor of one v2 input whose `datatype` the caller checked against the model's
 * declared element `type`: `data` (flat or nested) must have exactly `count` elements of that type.
 */
export function inputTensor(type: ort.Tensor.Type, data: unknown, shape: number[], count: number, field: string): ort.Tensor {
  const leaves: unknown[] = [];
  flatten(data, leaves, field, 0);
  if (leaves.length !== count) throw badRequest(`${field} has ${leaves.length} elements but shape ${JSON.stringify(shape)} needs ${count}`, field, `${count} values`);
  const n = leaves.length;
  const datatype = v2Datatype(type);
  switch (type) {
    case 'float32':
      return new ort.Tensor(type, floats(new Float32Array(n), leaves, field, FLOAT32_MAX, datatype), shape);
    case 'float64':
      return new ort.Tensor(type, floats(new Float64Array(n), leaves, field, Number.MAX_VALUE, datatype), shape);
    case 'float16': {
      const bits = new Uint16Array(n);
      const values = floats(new Float64Array(n), leaves, field, FLOAT16_MAX, datatype);
      for (let i = 0; i < n; i++) bits[i] = toHalf(values[i]);
      return new ort.Tensor(type, bits, shape);
    }
    case 'int8':
      return new ort.Tensor(type, integers(new Int8Array(n), leaves, field, -0x80, 0x7f, datatype), shape);
    case 'int16':
      return new ort.Tensor(type, integers(new Int16Array(n), leaves, field, -0x8000, 0x7fff, datatype), shape);
    case 'int32':
      return new ort.Tensor(type, integers(new Int32Array(n), leaves, field, -0x80000000, 0x7fffffff, datatype), shape);
    case 'uint8':
      return new ort.Tensor(type, integers(new Uint8Array(n), leaves, field, 0, 0xff, datatype), shape);
    case 'uint16':
      return new ort.Tensor(type, integers(new Uint16Array(n), leaves, field, 0, 0xffff, datatype), shape);
    case 'uint32':
      return new ort.Tensor(type, integers(new Uint32Array(n), leaves, field, 0, 0xffffffff, datatype), shape);
    case 'int64': {
      const values = integers(new Float64Array(n), leaves, field, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, datatype);
      return new ort.Tensor(type, BigInt64Array.from(values, BigInt), shape);
    }
    case 'uint64': {
      const values = integers(new Float64Array(n), leaves, field, 0, Number.MAX_SAFE_INTEGER, datatype);
      return new ort.Tensor(type, BigUint64Array.from(values, BigInt), shape);
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = leaves[i];
        if (typeof v !== 'boolean') throw badValue(field, i, v, 'true or false (BOOL)');
        out[i] = v ? 1 : 0;
      }
      return new ort.Tensor(type, out, shape);
    }
    case 'string': {
      for (let i = 0; i < n; i++) if (typeof leaves[i] !== 'string') throw badValue(field, i, leaves[i], 'strings (BYTES)');
      return new ort.Tensor(type, leaves as string[], shape);
    }
    default:
      throw badRequest(`${field}: the model's input has element type ${type}, which KServe v2 cannot carry`, field, 'a model input of a v2 datatype');
  }
}

/** One output as the v2 response carries it: datatype, shape and flat row-major data as JSON values. */
export function outputTensor(name: string, t: ort.Tensor): { name: string; datatype: string; shape: number[]; data: unknown[] } {
  return { name, datatype: v2Datatype(t.type), shape: [...t.dims], data: outputData(name, t) };
}

function outputData(name: string, t: ort.Tensor): unknown[] {
  switch (t.type) {
    case 'float32':
    case 'float64':
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32':
      return Array.from(t.data as ArrayLike<number>);
    case 'float16': {
      // onnxruntime-node hands float16 over as its bits (a Uint16Array).
      const d = t.data as ArrayLike<number>;
      if (!(d instanceof Uint16Array)) return Array.from(d);
      const out = new Array<number>(d.length);
      for (let i = 0; i < d.length; i++) out[i] = fromHalf(d[i]);
      return out;
    }
    case 'int64':
    case 'uint64': {
      const d = t.data as BigInt64Array | BigUint64Array;
      const out = new Array<number>(d.length);
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (v > MAX_SAFE || v < MIN_SAFE) {
          throw new Error(`output ${name} (${v2Datatype(t.type)}) holds ${v} at element ${i}, beyond the integers a JSON number carries exactly (±${Number.MAX_SAFE_INTEGER})`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'bool':
      return Array.from(t.data as Uint8Array, (b) => b !== 0);
    case 'string':
      return [...(t.data as string[])];
    default:
      throw new Error(`output ${name} has element type ${t.type}, which KServe v2 cannot carry`);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

// ---- IEEE 754 half precision ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-precision bits nearest to `v` (ties to even; the caller keeps |v| ≤ 65504). */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    // subnormal (or zero): the implicit bit joins the mantissa, shifted by how far below the normal range
    if (exp < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - exp;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = sign | (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa rounds up into the exponent, as it should.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return half;
}

/** The number whose half-precision bits are `h`. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
