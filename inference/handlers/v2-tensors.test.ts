import * as ort from 'onnxruntime-node';
import { ClientError } from '../http/errors';
import { fromHalf, inputTensor, outputTensor, toHalf, v2Datatype } from './v2-tensors';

function clientError(fn: () => unknown): ClientError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ClientError) return err;
    throw err;
  }
  throw new Error('expected a ClientError');
}

describe('v2 tensors', () => {
  it('names every onnxruntime element type with its v2 datatype', () => {
    const types = ['bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64', 'string'];
    expect(types.map(v2Datatype)).toEqual(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);
  });

  it('builds the typed array the model declares, from flat or nested data', () => {
    const cases: [ort.Tensor.Type, unknown[], unknown[]][] = [
      ['float32', [[0.5, -2], [3, 1e-3]], [0.5, -2, 3, Math.fround(1e-3)]],
      ['float64', [0.1, -1e300, 2, 3], [0.1, -1e300, 2, 3]],
      ['int64', [[1, -2], [9007199254740991, 0]], [1n, -2n, 9007199254740991n, 0n]],
      ['uint64', [1, 2, 3, 9007199254740991], [1n, 2n, 3n, 9007199254740991n]],
      ['int32', [-2147483648, 2147483647, 0, 7], [-2147483648, 2147483647, 0, 7]],
      ['int8', [-128, 127, 0, 1], [-128, 127, 0, 1]],
      ['uint8', [0, 255, 1, 2], [0, 255, 1, 2]],
      ['uint16', [0, 65535, 1, 2], [0, 65535, 1, 2]],
      ['int16', [-32768, 32767, 1, 2], [-32768, 32767, 1, 2]],
      ['uint32', [0, 4294967295, 1, 2], [0, 4294967295, 1, 2]],
      ['bool', [[true, false], [false, true]], [1, 0, 0, 1]],
      ['string', ['a', '', 'é', 'x y'], ['a', '', 'é', 'x y']],
    ];
    for (const [type, data, want] of cases) {
      const t = inputTensor(type, data, [2, 2], 4, 'inputs.0.data');
      expect(t.type).toBe(type);
      expect(t.dims).toEqual([2, 2]);
      expect(Array.from(t.data as ArrayLike<unknown>)).toEqual(want);
    }
    const half = inputTensor('float16', [1, -2.5, 65504, 0.1], [4], 4, 'f');
    expect(half.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(half.data as Uint16Array, fromHalf)).toEqual([1, -2.5, 65504, 0.0999755859375]);
  });

  it.each([
    ['float32', [1, 'a'], 'inputs.0.data contains "a" at element 1', 'finite numbers within ±3.4028234663852886e+38 (FP32)'],
    ['float32', [1, 1e39], 'inputs.0.data contains 1e+39 at element 1', 'finite numbers within ±3.4028234663852886e+38 (FP32)'],
    ['float16', [70000, 1], 'inputs.0.data contains 70000 at element 0', 'finite numbers within ±65504 (FP16)'],
    ['int64', [1.5, 1], 'inputs.0.data contains 1.5 at element 0', `integers in -${Number.MAX_SAFE_INTEGER}..${Number.MAX_SAFE_INTEGER} (INT64)`],
    ['int64', [1, 2 ** 60], `inputs.0.data contains ${2 ** 60} at element 1`, `integers in -${Number.MAX_SAFE_INTEGER}..${Number.MAX_SAFE_INTEGER} (INT64)`],
    ['uint64', [-1, 1], 'inputs.0.data contains -1 at element 0', `integers in 0..${Number.MAX_SAFE_INTEGER} (UINT64)`],
    ['int8', [128, 1], 'inputs.0.data contains 128 at element 0', 'integers in -128..127 (INT8)'],
    ['uint8', [1, -1], 'inputs.0.data contains -1 at element 1', 'integers in 0..255 (UINT8)'],
    ['bool', [true, 1], 'inputs.0.data contains 1 at element 1', 'true or false (BOOL)'],
    ['string', ['a', 2], 'inputs.0.data contains 2 at element 1', 'strings (BYTES)'],
  ] as [ort.Tensor.Type, unknown[], string, string][])('refuses %s data %j, naming the element', (type, data, message, expected) => {
    const err = clientError(() => inputTensor(type, data, [2], 2, 'inputs.0.data'));
    expect(err.toJSON()).toEqual({ error: message, field: 'inputs.0.data', expected });
    expect(err.status).toBe(400);
  });

  it('refuses data of the wrong size or shape', () => {
    expect(clientError(() => inputTensor('float32', [1, 2, 3], [1, 2], 2, 'inputs.0.data')).toJSON()).toEqual({ error: 'inputs.0.data has 3 elements but shape [1,2] needs 2', field: 'inputs.0.data', expected: '2 values' });
    expect(clientError(() => inputTensor('float32', 3, [1], 1, 'inputs.0.data')).message).toBe('inputs.0.data must be an array, got 3');
  });

  it('writes every output type as JSON values with its v2 datatype', () => {
    const out = (t: ort.Tensor) => JSON.parse(JSON.stringify(outputTensor('y', t)));
    expect(out(new ort.Tensor('int64', BigInt64Array.from([3n, -9007199254740991n]), [2]))).toEqual({ name: 'y', datatype: 'INT64', shape: [2], data: [3, -9007199254740991] });
    expect(out(new ort.Tensor('uint64', BigUint64Array.from([7n]), [1, 1]))).toEqual({ name: 'y', datatype: 'UINT64', shape: [1, 1], data: [7] });
    expect(out(new ort.Tensor('bool', Uint8Array.from([1, 0]), [2]))).toEqual({ name: 'y', datatype: 'BOOL', shape: [2], data: [true, false] });
    expect(out(new ort.Tensor('int32', Int32Array.from([-1, 2]), [2]))).toEqual({ name: 'y', datatype: 'INT32', shape: [2], data: [-1, 2] });
    expect(out(new ort.Tensor('float64', Float64Array.from([0.1]), [1]))).toEqual({ name: 'y', datatype: 'FP64', shape: [1], data: [0.1] });
    expect(out(new ort.Tensor('float16', Uint16Array.from([0x3c00, 0xc100, 0x0001]), [3]))).toEqual({ name: 'y', datatype: 'FP16', shape: [3], data: [1, -2.5, 2 ** -24] });
    expect(out(new ort.Tensor('string', ['a', 'b'], [2]))).toEqual({ name: 'y', datatype: 'BYTES', shape: [2], data: ['a', 'b'] });
  });

  it('refuses an INT64 output beyond the safe integers, naming the output', () => {
    const t = new ort.Tensor('int64', BigInt64Array.from([1n, 2n ** 60n]), [2]);
    expect(() => outputTensor('scaled', t)).toThrow(`output scaled (INT64) holds ${2n ** 60n} at element 1, beyond the integers a JSON number carries exactly (±9007199254740991)`);
  });

  it('rounds to half precision to the nearest, ties to even, with subnormals', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -14, 0x0400], [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [65519, 0x7bff], [65520, 0x7c00],
    ];
    for (const [v, bits] of cases) expect([v, toHalf(v)]).toEqual([v, bits]);
    for (let h = 0; h < 0x7c00; h += 37) expect(toHalf(fromHalf(h))).toBe(h);
    expect(fromHalf(0x7c00)).toBe(Infinity);
    expect(fromHalf(0x7e00)).toBeNaN();
  });
});
