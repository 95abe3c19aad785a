import { onnx } from 'onnx-proto';

/**
 * A small ONNX graph written from a plain description: typed inputs and outputs, nodes, constant
 * initializers. For models that are not policies (tests of the server's raw KServe v2 path, fixtures):
 * `exportOnnx` remains the way a trained policy is written.
 *
 *   buildOnnxModel({
 *     inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }],
 *     outputs: [{ name: 'best', type: 'int64', shape: ['batch'] }],
 *     nodes: [{ op: 'ArgMax', inputs: ['x'], outputs: ['best'], attributes: { axis: 1, keepdims: 0 } }],
 *   })
 */

/** Element types by onnxruntime's names (the names `ort.Tensor` uses). */
export type ElementType = 'float32' | 'float64' | 'float16' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool' | 'string';

const D = onnx.TensorProto.DataType;
const CODES: Record<ElementType, onnx.TensorProto.DataType> = {
  float32: D.FLOAT,
  float64: D.DOUBLE,
  float16: D.FLOAT16,
  int8: D.INT8,
  int16: D.INT16,
  int32: D.INT32,
  int64: D.INT64,
  uint8: D.UINT8,
  uint16: D.UINT16,
  uint32: D.UINT32,
  uint64: D.UINT64,
  bool: D.BOOL,
  string: D.STRING,
};

/** ONNX's code of an element type (what `Cast`'s `to` attribute takes). */
export function elementTypeCode(type: ElementType): number {
  return CODES[type];
}

export interface ValueSpec {
  name: string;
  type: ElementType;
  /** A number per fixed dimension, a name per symbolic one (`'batch'`). */
  shape: (number | string)[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer, float, integer-list or string attributes. */
  attributes?: Record<string, number | number[] | string | { float: number }>;
}

export interface InitializerSpec {
  name: string;
  type: 'float32' | 'float64' | 'int64' | 'int32';
  dims: number[];
  values: readonly number[];
}

export interface GraphSpec {
  name?: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  /** Default 17. */
  opset?: number;
}

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  const dim = v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: CODES[v.type], shape: { dim } } } };
}

function attribute(name: string, value: NonNullable<NodeSpec['attributes']>[string]): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.FLOAT, f: value.float };
}

function initializer(t: InitializerSpec): onnx.ITensorProto {
  const data =
    t.type === 'float32' ? Float32Array.from(t.values)
    : t.type === 'float64' ? Float64Array.from(t.values)
    : t.type === 'int32' ? Int32Array.from(t.values)
    : BigInt64Array.from(t.values, (v) => BigInt(v));
  return { name: t.name, dims: t.dims, dataType: CODES[t.type], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** The serialized ModelProto (IR 8) of the graph. */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'autopilot',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: spec.name ?? 'graph',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(initializer),
      node: spec.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
