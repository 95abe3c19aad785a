import { onnx } from 'onnx-proto';
import type { ActorCritic } from '../rl/actor-critic';
import type { HeadSignature, PolicySignature } from './signature';

/**
 * Writes a trained `ActorCritic` as an ONNX model (IR 8, opset 17) straight from TypeScript with the
 * `onnx-proto` schema, plus its `PolicySignature`.
 *
 * Graph: obs → [Sub(mean) → Div(√(var+ε)) → Clip(±clip_obs), when the policy normalises observations]
 * → [Gemm(transB=1) → Tanh] × hidden layers → h, then per head
 *   categorical/integer: Gemm → Softmax(axis=−1)             → `<name>_probs`  [batch, n]
 *   bernoulli:           Gemm → Sigmoid                       → `<name>_prob`   [batch, 1]
 *   continuous:          Gemm                                 → `<name>_mean`   [batch, 1]
 *                        Expand(log_std, [batch, 1])          → `<name>_log_std` [batch, 1]
 *   value:               Gemm (on h, or on the critic's own trunk when the policy does not share layers) → `value` [batch, 1] (under norm_value the value statistics are folded into this Gemm's weights)
 * Weights are the float64 parameters rounded to float32 (stored [out, in], as the trainer's layout).
 */
export const ONNX_OPSET = 17;
const IR_VERSION = 8;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export interface ExportOptions {
  /** Graph name (e.g. the model name in the registry). */
  graphName?: string;
  /** Observation feature names, kept in the signature. */
  observationNames?: string[];
  /** Free text stored as the model's doc string (e.g. run id, config hash). */
  docString?: string;
  /** Extra metadata_props (string → string) written into the model. */
  metadata?: Record<string, string>;
}

export interface ExportedPolicy {
  /** The serialized ModelProto (write it as `policy.onnx`). */
  model: Uint8Array;
  signature: PolicySignature;
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  const f = Float32Array.from(values as ArrayLike<number>);
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  const b = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(b.buffer) };
}

function floatInfo(name: string, width: number): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } } } };
}

function attrInt(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

export function exportOnnx(policy: ActorCritic, options: ExportOptions = {}): ExportedPolicy {
  const spec = policy.spec, data = policy.params.data;
  if (options.observationNames && options.observationNames.length !== spec.observationSize) {
    throw new Error(`exportOnnx: observationNames has ${options.observationNames.length} names, expected observationSize = ${spec.observationSize}`);
  }
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const outputs: onnx.IValueInfoProto[] = [];
  const heads: HeadSignature[] = [];
  const slice = (off: number, len: number): Float64Array => data.subarray(off, off + len);
  const gemm = (input: string, wName: string, bName: string, output: string, nodeName: string): void => {
    nodes.push({ name: nodeName, opType: 'Gemm', input: [input, wName, bName], output: [output], attribute: [attrInt('transB', 1)] });
  };

  // observation normalisation (spec.obsNorm): the same transform the trainer applies before its trunks
  let input = 'obs';
  if (policy.obsRms) {
    const rms = policy.obsRms, { clip, epsilon } = policy.spec.obsNorm!;
    inits.push(floatTensor('obs_norm.mean', [spec.observationSize], rms.mean));
    inits.push(floatTensor('obs_norm.std', [spec.observationSize], Array.from(rms.var, (v) => Math.sqrt(v + epsilon))));
    inits.push(floatTensor('obs_norm.clip_min', [], [-clip]), floatTensor('obs_norm.clip_max', [], [clip]));
    nodes.push(
      { name: 'obs_norm_sub', opType: 'Sub', input: ['obs', 'obs_norm.mean'], output: ['/obs_norm/centred'] },
      { name: 'obs_norm_div', opType: 'Div', input: ['/obs_norm/centred', 'obs_norm.std'], output: ['/obs_norm/scaled'] },
      { name: 'obs_norm_clip', opType: 'Clip', input: ['/obs_norm/scaled', 'obs_norm.clip_min', 'obs_norm.clip_max'], output: ['/obs_norm/clipped'] },
    );
    input = '/obs_norm/clipped';
  }
  const mlp = (trunk: typeof policy.trunk, prefix: string): string => {
    let x = input;
    trunk.layers.forEach((l, i) => {
      inits.push(floatTensor(`${l.name}.weight`, [l.outSize, l.inSize], slice(l.weightOffset, l.outSize * l.inSize)));
      inits.push(floatTensor(`${l.name}.bias`, [l.outSize], slice(l.biasOffset, l.outSize)));
      gemm(x, `${l.name}.weight`, `${l.name}.bias`, `/${prefix}/${i}/gemm`, `${prefix}_${i}_gemm`);
      nodes.push({ name: `${prefix}_${i}_tanh`, opType: 'Tanh', input: [`/${prefix}/${i}/gemm`], output: [`/${prefix}/${i}/tanh`] });
      x = `/${prefix}/${i}/tanh`;
    });
    return x;
  };
  const h = mlp(policy.trunk, 'trunk');
  const hValue = policy.critic ? mlp(policy.critic, 'critic') : h;

  let needBatchShape = false;
  for (const head of policy.heads) {
    const l = head.layer, part = head.part, n = part.name;
    inits.push(floatTensor(`${l.name}.weight`, [l.outSize, l.inSize], slice(l.weightOffset, l.outSize * l.inSize)));
    inits.push(floatTensor(`${l.name}.bias`, [l.outSize], slice(l.biasOffset, l.outSize)));
    if (part.kind === 'categorical' || part.kind === 'integer') {
      const out = `${n}_probs`;
      gemm(h, `${l.name}.weight`, `${l.name}.bias`, `/head/${n}/logits`, `head_${n}_gemm`);
      nodes.push({ name: `head_${n}_softmax`, opType: 'Softmax', input: [`/head/${n}/logits`], output: [out], attribute: [attrInt('axis', -1)] });
      outputs.push(floatInfo(out, head.dim));
      heads.push(part.kind === 'categorical'
        ? { kind: 'categorical', name: n, choices: [...part.choices], output: out }
        : { kind: 'integer', name: n, min: part.min, max: part.max, output: out });
    } else if (part.kind === 'bernoulli') {
      const out = `${n}_prob`;
      gemm(h, `${l.name}.weight`, `${l.name}.bias`, `/head/${n}/logit`, `head_${n}_gemm`);
      nodes.push({ name: `head_${n}_sigmoid`, opType: 'Sigmoid', input: [`/head/${n}/logit`], output: [out] });
      outputs.push(floatInfo(out, 1));
      heads.push({ kind: 'bernoulli', name: n, output: out });
    } else {
      const mean = `${n}_mean`, logStd = `${n}_log_std`;
      gemm(h, `${l.name}.weight`, `${l.name}.bias`, mean, `head_${n}_gemm`);
      inits.push(floatTensor(`${l.name}.log_std`, [1, 1], [data[head.logStdOffset]]));
      needBatchShape = true;
      nodes.push({ name: `head_${n}_log_std`, opType: 'Expand', input: [`${l.name}.log_std`, '/batch_by_1'], output: [logStd] });
      outputs.push(floatInfo(mean, 1), floatInfo(logStd, 1));
      heads.push({ kind: 'continuous', name: n, min: part.min, max: part.max, squash: 'tanh', mean, logStd });
    }
  }
  if (needBatchShape) {
    // [batch, 1] as an int64 shape: Shape(obs)[0:1] ++ [1]
    inits.push(int64Tensor('/const/one', [1]));
    nodes.unshift(
      { name: 'batch_dim', opType: 'Shape', input: ['obs'], output: ['/batch'], attribute: [attrInt('start', 0), attrInt('end', 1)] },
      { name: 'batch_by_1', opType: 'Concat', input: ['/batch', '/const/one'], output: ['/batch_by_1'], attribute: [attrInt('axis', 0)] },
    );
  }
  const v = policy.valueHead;
  // norm_value: V = std · (head output) + mean, folded into the exported head (float64, then float32)
  const vs = policy.valueScale() ?? { mean: 0, std: 1 };
  inits.push(floatTensor('value.weight', [1, v.inSize], slice(v.weightOffset, v.inSize).map((w) => w * vs.std)));
  inits.push(floatTensor('value.bias', [1], [slice(v.biasOffset, 1)[0] * vs.std + vs.mean]));
  gemm(hValue, 'value.weight', 'value.bias', 'value', 'value_gemm');
  outputs.push(floatInfo('value', 1));

  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'autopilot',
    producerVersion: '1',
    docString: options.docString ?? 'Autopilot PPO policy (see the PolicySignature stored with it)',
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: options.graphName ?? 'policy',
      node: nodes,
      initializer: inits,
      input: [floatInfo('obs', spec.observationSize)],
      output: outputs,
    },
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`exportOnnx: the ModelProto is malformed: ${err}`);
  const bytes = onnx.ModelProto.encode(model).finish();

  const signature: PolicySignature = {
    format: 'autopilot.policy-signature/v1',
    opset: ONNX_OPSET,
    input: { name: 'obs', dtype: 'float32', shape: ['batch', spec.observationSize] },
    observation: { size: spec.observationSize, ...(options.observationNames ? { names: [...options.observationNames] } : {}) },
    heads,
    value: { output: 'value' },
  };
  return { model: bytes, signature };
}

/**
 * The outputs the exported model computes, by output name, from the TypeScript forward pass in
 * float64 (obs [n, observationSize] row-major). The reference for the ONNX parity test.
 */
export function referenceOutputs(policy: ActorCritic, obs: Float64Array, n: number): Record<string, Float64Array> {
  policy.forward(obs, n);
  const out: Record<string, Float64Array> = {};
  policy.heads.forEach((head, hi) => {
    const z = policy.headOutput(hi), part = head.part, dim = head.dim, name = part.name;
    if (part.kind === 'categorical' || part.kind === 'integer') {
      const p = new Float64Array(n * dim);
      for (let i = 0; i < n; i++) {
        let max = -Infinity, s = 0;
        for (let j = 0; j < dim; j++) max = Math.max(max, z[i * dim + j]);
        for (let j = 0; j < dim; j++) s += (p[i * dim + j] = Math.exp(z[i * dim + j] - max));
        for (let j = 0; j < dim; j++) p[i * dim + j] /= s;
      }
      out[`${name}_probs`] = p;
    } else if (part.kind === 'bernoulli') {
      out[`${name}_prob`] = Float64Array.from(z, (l) => 1 / (1 + Math.exp(-l)));
    } else {
      out[`${name}_mean`] = Float64Array.from(z);
      out[`${name}_log_std`] = new Float64Array(n).fill(policy.logStd(hi));
    }
  });
  out.value = Float64Array.from(policy.values());
  return out;
}
