/**
 * Reads a registry version's `signature` JSON into a PolicyBinding and checks it against the ONNX
 * session's real inputs and outputs, so a version whose signature and graph disagree is refused at
 * load time instead of failing requests.
 *
 * A policy's signature is `ml/onnx`'s PolicySignature (`format: "autopilot.policy-signature/v1"`),
 * validated by its own parser. Any other signature describes a plain model: one float32 input
 * [batch, n] (n from the graph, or from `inputs[0].shape`), callable through KServe v2 but not
 * /v1/decide.
 */
import { outputNames, parsePolicySignature, type PolicySignature } from '../../ml/onnx/signature';
import type { PolicyBinding } from './binding';

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

export interface GraphNames {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** ORT's input metadata (type and shape), when available. */
  inputMetadata?: readonly { name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }[];
}

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function bindSignature(signature: unknown, graph: GraphNames): PolicyBinding {
  if (graph.inputNames.length !== 1) {
    throw new SignatureError('inputs', graph.inputNames, 'a model with exactly one float32 input [batch, features]');
  }
  const inputName = graph.inputNames[0];
  const meta = graph.inputMetadata?.find((m) => m.name === inputName);
  if (meta !== undefined && (!meta.isTensor || meta.type !== 'float32')) throw new SignatureError(`input ${inputName}`, meta.type, 'a float32 tensor input');
  const last = meta?.shape?.[meta.shape.length - 1];
  const graphWidth = typeof last === 'number' && last > 0 ? last : null;
  const outputs = [...graph.outputNames];

  let policy: PolicySignature | null = null;
  let size: number | null = graphWidth;
  let features: string[] | null = null;
  if (isObj(signature) && signature.format !== undefined) {
    policy = parsePolicySignature(signature);
    if (policy.input.name !== inputName) throw new SignatureError('input.name', policy.input.name, `the graph's input "${inputName}"`);
    if (graphWidth !== null && policy.observation.size !== graphWidth) throw new SignatureError('observation.size', policy.observation.size, `${graphWidth} (the graph's input width)`);
    for (const name of outputNames(policy)) {
      if (!outputs.includes(name)) throw new SignatureError('heads', name, `outputs the graph has (${outputs.join(', ')})`);
    }
    size = policy.observation.size;
    features = policy.observation.names ?? null;
    if (features !== null && new Set(features).size !== features.length) throw new SignatureError('observation.names', features, 'distinct feature names');
  } else if (size === null && isObj(signature) && Array.isArray(signature.inputs)) {
    const shape = (signature.inputs as any[]).find((x) => isObj(x) && x.name === inputName)?.shape;
    const w = Array.isArray(shape) ? shape[shape.length - 1] : undefined;
    if (typeof w === 'number' && w > 0) size = w;
  }
  if (size === null) throw new SignatureError(`input ${inputName}`, meta?.shape, 'a fixed feature width [batch, n] in the graph or the signature');
  return { input: { name: inputName, size, features }, policy, outputs };
}
