/**
 * What the server needs to know about a model version to serve it, distilled once at load time from
 * the version's registry signature and the ONNX graph: the input (name, width, feature names for
 * object-keyed features), and — for policies exported by `ml/onnx` — the PolicySignature that decodes
 * actions.
 */
import type { PolicySignature } from '../../ml/onnx/signature';

export interface PolicyBinding {
  input: {
    /** ONNX input name, e.g. `obs`. */
    name: string;
    /** Number of features (the input is [batch, size] float32). */
    size: number;
    /** Feature names in input order, for `features: { name: value }` and Redis lookups (null: array only). */
    features: string[] | null;
  };
  /** The policy's signature; null for a plain model (KServe v2 only, no /v1/decide). */
  policy: PolicySignature | null;
  /** Every ONNX output name, as the session reports them. */
  outputs: string[];
}
