/**
 * What the server needs to know about a policy version to serve it, distilled once at load time from
 * the version's registry signature: the ONNX input (name, width, feature names for object-keyed
 * features) and, per action part, which ONNX outputs hold its distribution's parameters.
 */
import type { ActionPart } from '../../ml/rl/environment';

export interface HeadBinding {
  part: ActionPart;
  /** categorical / integer: logits output (width = choices / max − min + 1); bernoulli: the logit (width 1). */
  logits?: string;
  /** continuous: mean of the pre-squash Gaussian (width 1). */
  mean?: string;
  /** continuous: log standard deviation (width 1). */
  logStd?: string;
}

export interface PolicyBinding {
  input: {
    /** ONNX input name, e.g. `obs`. */
    name: string;
    /** Number of features (the input is [batch, size] float32). */
    size: number;
    /** Feature names in input order, for `features: { name: value }` and Redis lookups (null: array only). */
    features: string[] | null;
  };
  /** One binding per action part, in action order. Empty for a plain model (KServe only). */
  heads: HeadBinding[];
  /** Every ONNX output with its width, as the session reports them. */
  outputs: string[];
}
