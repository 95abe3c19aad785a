/**
 * Builds small policy MLPs as ONNX bytes for tests and the bench (an input `obs` [N, inputs], tanh
 * hidden layers, one Gemm per output head). Weights come from a seeded Rng so a model is reproducible.
 * Also returns a pure-TS forward pass over the same weights, so tests can compare ORT's outputs.
 */
import { onnx } from 'onnx-proto';
import { Rng } from '../../ml/rng';

export interface HeadSpec {
  /** ONNX output name. */
  output: string;
  /** Output width. */
  size: number;
}

export interface PolicyModelSpec {
  inputs: number;
  hidden: number[];
  heads: HeadSpec[];
  seed: number;
  /** Name of the single float input. */
  inputName?: string;
  /** Scales every weight (larger → sharper softmax heads). */
  weightScale?: number;
}

export interface BuiltPolicyModel {
  bytes: Buffer;
  /** Reference forward pass: obs (length `inputs`) → outputs by name. */
  forward(obs: ArrayLike<number>): Record<string, Float32Array>;
}

interface Dense {
  w: Float32Array; // [in, out] row-major
  b: Float32Array;
  inSize: number;
  outSize: number;
}

function dense(rng: Rng, inSize: number, outSize: number, scale: number): Dense {
  const w = new Float32Array(inSize * outSize);
  const s = scale / Math.sqrt(inSize);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * s;
  const b = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) b[i] = rng.normal() * 0.1;
  return { w, b, inSize, outSize };
}

function apply(d: Dense, x: Float32Array, tanh: boolean): Float32Array {
  const y = new Float32Array(d.outSize);
  for (let j = 0; j < d.outSize; j++) {
    let acc = d.b[j];
    for (let i = 0; i < d.inSize; i++) acc += x[i] * d.w[i * d.outSize + j];
    y[j] = tanh ? Math.tanh(acc) : acc;
  }
  return y;
}

function tensor(name: string, dims: number[], data: Float32Array): onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function valueInfo(name: string, width: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] },
      },
    },
  };
}

export function buildPolicyModel(spec: PolicyModelSpec): BuiltPolicyModel {
  const rng = new Rng(spec.seed);
  const scale = spec.weightScale ?? 1;
  const inputName = spec.inputName ?? 'obs';
  const layers: Dense[] = [];
  let prev = spec.inputs;
  for (const h of spec.hidden) {
    layers.push(dense(rng, prev, h, scale));
    prev = h;
  }
  const heads = spec.heads.map((h) => ({ spec: h, d: dense(rng, prev, h.size, scale) }));

  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  let cur = inputName;
  layers.forEach((d, i) => {
    inits.push(tensor(`W${i}`, [d.inSize, d.outSize], d.w), tensor(`b${i}`, [d.outSize], d.b));
    nodes.push({ opType: 'Gemm', input: [cur, `W${i}`, `b${i}`], output: [`z${i}`], name: `gemm${i}` });
    nodes.push({ opType: 'Tanh', input: [`z${i}`], output: [`h${i}`], name: `tanh${i}` });
    cur = `h${i}`;
  });
  heads.forEach(({ spec: h, d }, i) => {
    inits.push(tensor(`HW${i}`, [d.inSize, d.outSize], d.w), tensor(`Hb${i}`, [d.outSize], d.b));
    nodes.push({ opType: 'Gemm', input: [cur, `HW${i}`, `Hb${i}`], output: [h.output], name: `head${i}` });
  });

  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'autopilot-inference-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'policy',
      node: nodes,
      initializer: inits,
      input: [valueInfo(inputName, spec.inputs)],
      output: spec.heads.map((h) => valueInfo(h.output, h.size)),
    },
  };
  const bytes = Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());

  return {
    bytes,
    forward(obs) {
      let x: Float32Array = Float32Array.from(obs);
      for (const d of layers) x = apply(d, x, true);
      const out: Record<string, Float32Array> = {};
      for (const { spec: h, d } of heads) out[h.output] = apply(d, x, false);
      return out;
    },
  };
}
