/**
 * The candidate's ONNX model on an activity worker: loaded once per version and checksum (the
 * registry stream verifies the sha256), kept in a small LRU cache, and run with onnxruntime-node on
 * the logged features in batches to turn one page of decisions into one `ScoredChunk`.
 */
import * as ort from 'onnxruntime-node';
import { parsePolicySignature, type PolicySignature } from '../../ml/onnx/signature';
import type { DecisionWithReward } from '../../decision-log';
import {
  headProbabilities,
  jointDistribution,
  jointIndex,
  loggedActionIndexes,
  opeActionSpace,
  readFeatures,
  type OpeActionSpace,
} from './action-space';
import type { SkipReason } from '../../contracts/off-policy-evaluation';
import type { ScoredChunk } from './chunk';

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** Rows per onnxruntime call: big enough to amortise the call, small enough to bound the tensors. */
export const SCORE_BATCH = 2048;

export interface CandidateModel {
  key: string;
  sha256: string;
  signature: PolicySignature;
  space: OpeActionSpace;
  session: ort.InferenceSession;
}

/** Loads a candidate's ONNX bytes into a session, keyed by model/version@sha256; keeps the last `capacity`. */
export class CandidateCache {
  private readonly entries = new Map<string, Promise<CandidateModel>>();

  constructor(private readonly capacity = 4) {}

  get(key: string, load: () => Promise<{ bytes: Uint8Array; sha256: string; signature: unknown; maxJointActions: number }>): Promise<CandidateModel> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const p = (async () => {
      const { bytes, sha256, signature, maxJointActions } = await load();
      const sig = parsePolicySignature(signature);
      const space = opeActionSpace(sig, maxJointActions);
      const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
      if (!session.inputNames.includes(sig.input.name)) {
        throw new Error(`the candidate's ONNX graph has inputs ${session.inputNames.join(', ')}, but its signature names "${sig.input.name}"`);
      }
      for (const h of space.discrete) {
        if (!session.outputNames.includes(h.output)) throw new Error(`the candidate's ONNX graph has no output "${h.output}" (head ${h.name}); outputs: ${session.outputNames.join(', ')}`);
      }
      return { key, sha256, signature: sig, space, session };
    })();
    void p.catch(() => this.entries.delete(key));
    this.entries.set(key, p);
    while (this.entries.size > this.capacity) {
      const [oldest, old] = this.entries.entries().next().value as [string, Promise<CandidateModel>];
      this.entries.delete(oldest);
      void old.then((m) => m.session.release()).catch(() => undefined);
    }
    return p;
  }

  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const p of all) await p.then((m) => m.session.release()).catch(() => undefined);
  }
}

/**
 * The logging policy's per-head propensities of a row (`metadata.headPropensities`, written by the
 * policy server since it logs them) into out[offset .. offset + H); NaN for every head when the row
 * lacks any of them or one is not a probability in (0, 1] (older rows, other writers).
 */
export function loggedHeadPropensities(space: OpeActionSpace, metadata: unknown, out: Float64Array, offset: number): void {
  const H = space.discrete.length;
  const hp = metadata !== null && typeof metadata === 'object' ? (metadata as { headPropensities?: unknown }).headPropensities : undefined;
  let ok = hp !== null && typeof hp === 'object' && !Array.isArray(hp);
  for (let h = 0; ok && h < H; h++) {
    const v = (hp as Record<string, unknown>)[space.discrete[h].name];
    if (typeof v === 'number' && v > 0 && v <= 1) out[offset + h] = v;
    else ok = false;
  }
  if (!ok) out.fill(NaN, offset, offset + H);
}

export interface ScoreResult {
  chunk: ScoredChunk;
  skipped: Record<SkipReason, number>;
}

/**
 * Scores one page of logged decisions (rewarded rows only) with the candidate. Rows that cannot be
 * rounds — no logged propensity, features the model cannot read, an action outside the candidate's
 * action space — are counted by reason and left out.
 */
export async function scoreRows(model: CandidateModel, rows: readonly DecisionWithReward[], onBatch?: (done: number) => void): Promise<ScoreResult> {
  const { space } = model;
  const d = space.observationSize;
  const K = space.enumerated ? space.jointSize : 0;
  const H = space.discrete.length;
  const skipped: Record<SkipReason, number> = { no_propensity: 0, features_invalid: 0, action_not_in_candidate_space: 0 };

  // Pass 1: keep the usable rows, their features (float32, the model's input) and logged indexes.
  const n0 = rows.length;
  const context = new Float32Array(n0 * d);
  const idx = new Int32Array(n0 * H);
  const keep = new Int32Array(n0);
  const one = new Int32Array(H);
  let n = 0;
  for (let r = 0; r < n0; r++) {
    const row = rows[r];
    if (row.reward === null || row.reward === undefined || !Number.isFinite(row.reward)) continue; // not a round (rewardedOnly pages have none)
    if (row.propensity === null || !(row.propensity > 0)) { skipped.no_propensity++; continue; }
    const why = loggedActionIndexes(space, row.action, one);
    if (why !== null) { skipped[why]++; continue; }
    if (!readFeatures(space, row.features, context, n * d)) { skipped.features_invalid++; continue; }
    idx.set(one, n * H);
    keep[n++] = r;
  }

  const S = space.discrete.reduce((sum, h) => sum + h.size, 0);
  const chunk: ScoredChunk = {
    nRounds: n,
    nFeatures: d,
    nActions: K,
    reward: new Float64Array(n),
    pscore: new Float64Array(n),
    pe: new Float64Array(n),
    action: new Int32Array(n),
    context: context.slice(0, n * d),
    actionDist: new Float64Array(n * K),
    nHeads: H,
    nHeadValues: S,
    heads: idx.slice(0, n * H),
    headPe: new Float64Array(n * H),
    headPscore: new Float64Array(n * H),
    headProbs: new Float64Array(n * S),
  };
  const probs = space.discrete.map((h) => new Float64Array(h.size));
  const fetches = space.discrete.map((h) => h.output);
  for (let start = 0; start < n; start += SCORE_BATCH) {
    const b = Math.min(SCORE_BATCH, n - start);
    const input = new ort.Tensor('float32', chunk.context.subarray(start * d, (start + b) * d), [b, d]);
    const result = await model.session.run({ [space.inputName]: input }, fetches);
    const outputs: Record<string, ArrayLike<number>> = {};
    for (const name of fetches) outputs[name] = result[name].data as Float32Array;
    for (let j = 0; j < b; j++) {
      const i = start + j;
      const row = rows[keep[i]];
      headProbabilities(space, outputs, j, probs);
      let pe = 1;
      for (let h = 0, off = 0; h < H; h++) {
        const ph = probs[h][idx[i * H + h]];
        pe *= ph;
        chunk.headPe[i * H + h] = ph;
        chunk.headProbs.set(probs[h], i * S + off);
        off += space.discrete[h].size;
      }
      loggedHeadPropensities(space, row.metadata, chunk.headPscore, i * H);
      chunk.reward[i] = row.reward as number;
      chunk.pscore[i] = row.propensity as number;
      chunk.pe[i] = pe;
      if (K > 0) {
        chunk.action[i] = jointIndex(space, idx.subarray(i * H, (i + 1) * H));
        jointDistribution(space, probs, chunk.actionDist, i * K);
      } else {
        chunk.action[i] = -1;
      }
    }
    for (const name of fetches) result[name].dispose?.();
    onBatch?.(start + b);
  }
  return { chunk, skipped };
}
