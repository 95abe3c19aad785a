/**
 * Small non-policy ONNX models with inputs and outputs of several element types, for the KServe v2
 * tests (built in memory by ml/onnx/graph.ts; nothing is downloaded).
 */
import { buildOnnxModel, elementTypeCode } from '../../ml/onnx/graph';

/**
 * One float32 input `x` [batch, 4] (so it binds like any plain model) and two INT64 outputs:
 * `best` = ArgMax(x, axis 1) [batch], and `scaled` = Cast(x, int64) · 2^60 [batch, 4], which holds
 * integers beyond JSON's safe range whenever x has a value ≥ 1.
 */
export function argmaxModel(): Buffer {
  return Buffer.from(
    buildOnnxModel({
      name: 'argmax',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }],
      outputs: [
        { name: 'best', type: 'int64', shape: ['batch'] },
        { name: 'scaled', type: 'int64', shape: ['batch', 4] },
      ],
      initializers: [{ name: 'two_to_60', type: 'int64', dims: [], values: [2 ** 60] }],
      nodes: [
        { op: 'ArgMax', inputs: ['x'], outputs: ['best'], attributes: { axis: 1, keepdims: 0 } },
        { op: 'Cast', inputs: ['x'], outputs: ['x_int'], attributes: { to: elementTypeCode('int64') } },
        { op: 'Mul', inputs: ['x_int', 'two_to_60'], outputs: ['scaled'] },
      ],
    }),
  );
}

/**
 * Inputs of four types, each [batch, 2] but `tag` [batch]: `ids` INT64, `w` FP64, `mask` BOOL,
 * `tag` BYTES; outputs `ids2` = ids + ids (INT64), `w2` = w · w (FP64), `flipped` = not mask (BOOL),
 * `ids32` = ids as INT32, `half` = w as FP16, `tag_out` = tag (BYTES).
 */
export function typedInputsModel(): Buffer {
  return Buffer.from(
    buildOnnxModel({
      name: 'typed',
      inputs: [
        { name: 'ids', type: 'int64', shape: ['batch', 2] },
        { name: 'w', type: 'float64', shape: ['batch', 2] },
        { name: 'mask', type: 'bool', shape: ['batch', 2] },
        { name: 'tag', type: 'string', shape: ['batch'] },
      ],
      outputs: [
        { name: 'ids2', type: 'int64', shape: ['batch', 2] },
        { name: 'w2', type: 'float64', shape: ['batch', 2] },
        { name: 'flipped', type: 'bool', shape: ['batch', 2] },
        { name: 'ids32', type: 'int32', shape: ['batch', 2] },
        { name: 'half', type: 'float16', shape: ['batch', 2] },
        { name: 'tag_out', type: 'string', shape: ['batch'] },
      ],
      nodes: [
        { op: 'Add', inputs: ['ids', 'ids'], outputs: ['ids2'] },
        { op: 'Mul', inputs: ['w', 'w'], outputs: ['w2'] },
        { op: 'Not', inputs: ['mask'], outputs: ['flipped'] },
        { op: 'Cast', inputs: ['ids'], outputs: ['ids32'], attributes: { to: elementTypeCode('int32') } },
        { op: 'Cast', inputs: ['w'], outputs: ['half'], attributes: { to: elementTypeCode('float16') } },
        { op: 'Identity', inputs: ['tag'], outputs: ['tag_out'] },
      ],
    }),
  );
}
