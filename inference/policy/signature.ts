/**
 * Reads a registry version's `signature` JSON into a PolicyBinding and checks it against the ONNX
 * session's real input and output names, so a version whose signature and graph disagree is refused
 * at load time instead of failing requests.
 *
 * Accepted shape (what the exporter writes; KServe-like tensor lists plus the policy's head layout):
 *   {
 *     inputs:  [{ name: "obs", shape: [-1, 16], datatype: "FP32", features?: ["quality_p50", …] }],
 *     outputs: [{ name: "variant_logits", shape: [-1, 2] }, …],
 *     actionSpace?: [{ kind: "categorical", name: "variant", choices: ["A", "B"] }, …],
 *     heads?: [{ part: "variant", logits: "variant_logits" },
 *              { part: "fusion_weight", mean: "fusion_weight_mean", logStd: "fusion_weight_log_std" }, …]
 *   }
 * A signature without `heads` describes a plain model: it can be called through KServe v2 but not
 * through /v1/decide.
 */
import type { ActionPart } from '../../ml/rl/environment';
import type { HeadBinding, PolicyBinding } from './binding';

export class SignatureError extends Error {
  constructor(field: string, value: unknown, expected: string) {
    let shown: string;
    try {
      shown = JSON.stringify(value) ?? String(value);
    } catch {
      shown = String(value);
    }
    if (shown.length > 120) shown = `${shown.slice(0, 117)}...`;
    super(`signature.${field}: got ${shown}; expected ${expected}`);
    this.name = 'SignatureError';
  }
}

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

function parsePart(v: unknown, i: number): ActionPart {
  const f = `actionSpace[${i}]`;
  if (!isObj(v) || typeof v.name !== 'string') throw new SignatureError(f, v, 'an action part { kind, name, … }');
  switch (v.kind) {
    case 'categorical':
      if (!Array.isArray(v.choices) || v.choices.length < 1 || !v.choices.every((c: unknown) => typeof c === 'string')) {
        throw new SignatureError(`${f}.choices`, v.choices, 'a non-empty array of strings');
      }
      return { kind: 'categorical', name: v.name, choices: v.choices };
    case 'integer':
    case 'continuous':
      if (typeof v.min !== 'number' || typeof v.max !== 'number' || !(v.max > v.min) || (v.kind === 'integer' && !(Number.isInteger(v.min) && Number.isInteger(v.max)))) {
        throw new SignatureError(`${f}`, { min: v.min, max: v.max }, `${v.kind === 'integer' ? 'integers' : 'numbers'} min < max`);
      }
      return { kind: v.kind, name: v.name, min: v.min, max: v.max };
    case 'bernoulli':
      return { kind: 'bernoulli', name: v.name };
    default:
      throw new SignatureError(`${f}.kind`, v.kind, 'categorical, integer, bernoulli or continuous');
  }
}

/**
 * @param signature the version's signature JSON
 * @param session   the names the loaded ONNX graph really has
 */
export interface GraphNames {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** ORT's input metadata (type and shape), when available. */
  inputMetadata?: readonly { name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }[];
}

export function bindSignature(signature: unknown, session: GraphNames): PolicyBinding {
  const sig = isObj(signature) ? signature : {};
  let size = -1;
  let features: string[] | null = null;
  const inputs = Array.isArray(sig.inputs) ? sig.inputs : [];
  if (session.inputNames.length !== 1) {
    throw new SignatureError('inputs', session.inputNames, 'a model with exactly one float input [batch, features] (this graph has several)');
  }
  const inputName = session.inputNames[0];
  const declared = inputs.find((x: any) => isObj(x) && x.name === inputName) as Record<string, any> | undefined;
  if (inputs.length > 0 && declared === undefined) {
    throw new SignatureError('inputs', inputs.map((x: any) => x?.name), `an entry for the graph's input "${inputName}"`);
  }
  if (declared) {
    if (Array.isArray(declared.shape) && typeof declared.shape[declared.shape.length - 1] === 'number' && declared.shape[declared.shape.length - 1] > 0) {
      size = declared.shape[declared.shape.length - 1];
    }
    if (declared.features !== undefined) {
      if (!Array.isArray(declared.features) || !declared.features.every((n: unknown) => typeof n === 'string')) {
        throw new SignatureError(`inputs.${inputName}.features`, declared.features, 'an array of feature names');
      }
      features = declared.features;
      if (size === -1) size = features!.length;
      if (features!.length !== size) throw new SignatureError(`inputs.${inputName}.features`, features!.length, `${size} names (the input's width)`);
      if (new Set(features).size !== features!.length) throw new SignatureError(`inputs.${inputName}.features`, features, 'distinct names');
    }
  }
  const meta = session.inputMetadata?.find((m) => m.name === inputName);
  if (meta !== undefined) {
    if (!meta.isTensor || meta.type !== 'float32') throw new SignatureError(`inputs.${inputName}`, meta.type, 'a float32 tensor input');
    const last = meta.shape?.[meta.shape.length - 1];
    if (typeof last === 'number' && last > 0) {
      if (size !== -1 && size !== last) throw new SignatureError(`inputs.${inputName}.shape`, size, `${last} features (the graph's input width)`);
      size = last;
    }
  }
  if (size === -1) throw new SignatureError(`inputs.${inputName}.shape`, declared?.shape, 'a fixed feature width [batch, n] in the signature or the graph');
  const outputs = [...session.outputNames];
  const heads: HeadBinding[] = [];
  if (sig.heads !== undefined) {
    if (!Array.isArray(sig.heads)) throw new SignatureError('heads', sig.heads, 'an array of head bindings');
    if (!Array.isArray(sig.actionSpace)) throw new SignatureError('actionSpace', sig.actionSpace, 'the action parts the heads decode');
    const parts = sig.actionSpace.map(parsePart);
    const byName = new Map(parts.map((p: ActionPart) => [p.name, p]));
    const need = (name: unknown, field: string): string => {
      if (typeof name !== 'string' || !outputs.includes(name)) throw new SignatureError(field, name, `one of the graph's outputs (${outputs.join(', ')})`);
      return name;
    };
    sig.heads.forEach((h: unknown, i: number) => {
      if (!isObj(h)) throw new SignatureError(`heads[${i}]`, h, '{ part, logits } or { part, mean, logStd }');
      const part = byName.get(h.part);
      if (part === undefined) throw new SignatureError(`heads[${i}].part`, h.part, `an actionSpace name (${[...byName.keys()].join(', ')})`);
      if (part.kind === 'continuous') heads.push({ part, mean: need(h.mean, `heads[${i}].mean`), logStd: need(h.logStd, `heads[${i}].logStd`) });
      else heads.push({ part, logits: need(h.logits, `heads[${i}].logits`) });
    });
    if (heads.length !== parts.length) throw new SignatureError('heads', heads.length, `one head per action part (${parts.length})`);
  }
  return { input: { name: inputName, size, features }, heads, outputs };
}
