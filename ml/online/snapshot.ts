/**
 * A learner built from its deployment config, its two per-coordinate state arrays, and the snapshot
 * format (a registry version's JSON artifact): the non-zero coordinates of both arrays at one `seq`.
 *
 * FTRL's arrays are (z, n); AdaGrad's are (w, G). Numbers are JSON doubles (shortest round-trip text),
 * so a snapshot restores the state bit for bit.
 */
import { AdaGrad } from './adagrad';
import type { OnlineModelConfig } from './config';
import { FtrlProximal } from './ftrl';

export const SNAPSHOT_FORMAT = 'autopilot-online-model/1';

export type OnlineModelLearner = FtrlProximal | AdaGrad;

export function buildOnlineLearner(c: Pick<OnlineModelConfig, 'algorithm' | 'loss' | 'bits' | 'ftrl' | 'adagrad'>): OnlineModelLearner {
  return c.algorithm === 'ftrl' ? new FtrlProximal(c.loss, c.bits, c.ftrl) : new AdaGrad(c.loss, c.bits, c.adagrad);
}

/** The learner's two state arrays: (z, n) for FTRL, (w, G) for AdaGrad. */
export function stateArrays(l: OnlineModelLearner): [Float64Array, Float64Array] {
  return l instanceof FtrlProximal ? [l.z, l.n] : [l.w, l.g2];
}

export interface OnlineSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  algorithm: OnlineModelConfig['algorithm'];
  loss: OnlineModelConfig['loss'];
  bits: number;
  hashSeed: number;
  bias: boolean;
  params: Record<string, number>;
  /** Labels applied to the state when it was taken. */
  seq: number;
  /** Coordinates with a non-zero state, ascending, and both arrays' values there. */
  index: number[];
  a: number[];
  b: number[];
}

export function snapshotOf(l: OnlineModelLearner, c: OnlineModelConfig, seq: number): OnlineSnapshot {
  const [A, B] = stateArrays(l);
  const index: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < A.length; i++) {
    if (A[i] !== 0 || B[i] !== 0) {
      index.push(i);
      a.push(A[i]);
      b.push(B[i]);
    }
  }
  const params = c.algorithm === 'ftrl' ? { ...c.ftrl } : { ...c.adagrad };
  return { format: SNAPSHOT_FORMAT, algorithm: c.algorithm, loss: c.loss, bits: c.bits, hashSeed: c.hashSeed, bias: c.bias, params, seq, index, a, b };
}

/** A snapshot read back, checked against the config that will serve it (same algorithm, loss, bits and hashing). */
export function parseSnapshot(json: unknown, c: OnlineModelConfig, what: string): OnlineSnapshot {
  const s = json as Partial<OnlineSnapshot> | null;
  if (s === null || typeof s !== 'object' || s.format !== SNAPSHOT_FORMAT) throw new Error(`${what} is not an online-model snapshot (format ${JSON.stringify(s?.format)}; expected ${SNAPSHOT_FORMAT})`);
  for (const k of ['algorithm', 'loss', 'bits', 'hashSeed', 'bias'] as const) {
    if (s[k] !== c[k]) throw new Error(`${what} has ${k} ${JSON.stringify(s[k])}; the deployment's config has ${JSON.stringify(c[k])} (they must be equal to start from it)`);
  }
  const size = 1 << c.bits;
  if (!Array.isArray(s.index) || !Array.isArray(s.a) || !Array.isArray(s.b) || s.a.length !== s.index.length || s.b.length !== s.index.length) throw new Error(`${what}: index, a and b must be arrays of one length`);
  for (let k = 0; k < s.index.length; k++) {
    const i = s.index[k];
    if (!Number.isInteger(i) || i < 0 || i >= size) throw new Error(`${what}: index[${k}] is ${i}; expected an integer in [0, ${size})`);
    if (!Number.isFinite(s.a[k]) || !Number.isFinite(s.b[k])) throw new Error(`${what}: the state at coordinate ${i} is not finite`);
  }
  if (typeof s.seq !== 'number' || !Number.isInteger(s.seq) || s.seq < 0) throw new Error(`${what}: seq is ${JSON.stringify(s.seq)}; expected an integer ≥ 0`);
  return s as OnlineSnapshot;
}
