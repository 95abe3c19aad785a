/**
 * The `config` of a deployment of kind `policy` (an ONNX policy):
 *
 *   { "shadowVersion": 4 }   // a version scored on a mirror of champion traffic, never served (optional)
 *
 * Other keys are kept as the deployment's annotations (e.g. `owner`), unread by the server.
 */
import { ConfigFieldError } from './errors';

export interface PolicyConfig {
  /** The shadow version, or null when none. */
  shadowVersion: number | null;
}

export function parsePolicyConfig(config: Readonly<Record<string, unknown>>): PolicyConfig {
  const v = config.shadowVersion;
  if (v === undefined || v === null) return { shadowVersion: null };
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ConfigFieldError('config.shadowVersion', v, 'a version number (an integer >= 1), or null for none');
  return { shadowVersion: v };
}
