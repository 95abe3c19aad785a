/**
 * The per-example FTRL-Proximal / AdaGrad updates of a batch of labels computed on a COPY of the coordinates
 * it touches, so the served model is left as it is until the batch is committed (./state.ts): every
 * touched coordinate gets a slot (first-seen order) in a scratch learner of ml/online built with the
 * deployment's algorithm, loss and parameters, its two state values are copied there, and the rows are
 * learnt by that learner's own `update` with slot numbers for indices. Same code, same arithmetic, same
 * order as the learner run on the whole model: the result is bit for bit the sequential learner's
 * (delta.test.ts checks it). The outcome is the touched coordinates' records, `<Idd` each (./state.ts).
 */
import { buildOnlineLearner, stateArrays, type OnlineModelConfig, type OnlineModelLearner, type SparseBatch } from '../../ml/online';

/** Bytes of one coordinate's record: uint32 index, two float64 (little-endian). */
export const RECORD_BYTES = 20;

export class ScratchDelta {
  /** Open addressing: coordinate → slot (keys −1 when empty). */
  private keys = new Int32Array(0);
  private slots = new Int32Array(0);
  private mask = 0;
  /** The coordinate of each slot, first-seen order. */
  private coord = new Int32Array(0);
  private count = 0;
  /** Indices of the rows rewritten as slots. */
  private slotIdx = new Int32Array(0);
  private scratch: OnlineModelLearner | null = null;

  constructor(private readonly config: Pick<OnlineModelConfig, 'algorithm' | 'loss' | 'ftrl' | 'adagrad'>) {}

  /**
   * Learns `batches` (in order, each row in order) on a copy of `model`'s touched coordinates; returns their
   * records after the last row, `<Idd` each, in first-seen order. `model` is only read.
   */
  compute(model: OnlineModelLearner, batches: readonly SparseBatch[]): Buffer {
    let nnz = 0;
    for (const b of batches) nnz += b.offsets[b.rows] - b.offsets[0];
    this.reset(nnz);
    const scratch = this.scratchFor(nnz);
    const [A, B] = stateArrays(model);
    const [SA, SB] = stateArrays(scratch);
    for (const b of batches) {
      const from = b.offsets[0];
      const to = b.offsets[b.rows];
      if (this.slotIdx.length < to) this.slotIdx = new Int32Array(Math.max(to, 2 * this.slotIdx.length));
      const slotIdx = this.slotIdx;
      for (let k = from; k < to; k++) {
        const i = b.idx[k];
        let h = Math.imul(i, 0x9e3779b1) & this.mask;
        for (;;) {
          const key = this.keys[h];
          if (key === i) {
            slotIdx[k] = this.slots[h];
            break;
          }
          if (key === -1) {
            const s = this.count++;
            this.keys[h] = i;
            this.slots[h] = s;
            this.coord[s] = i;
            SA[s] = A[i];
            SB[s] = B[i];
            slotIdx[k] = s;
            break;
          }
          h = (h + 1) & this.mask;
        }
      }
      for (let r = 0; r < b.rows; r++) scratch.update(slotIdx, b.val, b.offsets[r], b.offsets[r + 1], b.y[r]);
    }
    const out = Buffer.allocUnsafe(this.count * RECORD_BYTES);
    const view = new DataView(out.buffer, out.byteOffset, out.length);
    for (let s = 0, o = 0; s < this.count; s++, o += RECORD_BYTES) {
      view.setUint32(o, this.coord[s], true);
      view.setFloat64(o + 4, SA[s], true);
      view.setFloat64(o + 12, SB[s], true);
    }
    return out;
  }

  /** Empties the coordinate → slot table for up to `nnz` pairs. */
  private reset(nnz: number): void {
    const need = Math.max(16, 1 << Math.ceil(Math.log2(2 * nnz + 1)));
    if (need > this.keys.length) {
      this.keys = new Int32Array(need);
      this.slots = new Int32Array(need);
      this.coord = new Int32Array(need >> 1);
    }
    this.mask = this.keys.length - 1;
    this.keys.fill(-1);
    this.count = 0;
  }

  /** A scratch learner of at least `slots` coordinates (kept and grown; its values are overwritten per batch). */
  private scratchFor(slots: number): OnlineModelLearner {
    if (this.scratch === null || this.scratch.size < slots) {
      const bits = Math.max(6, Math.ceil(Math.log2(Math.max(1, slots))));
      if (bits > 30) throw new Error(`a commit of ${slots} (index, value) pairs; expected at most 2^30`);
      this.scratch = buildOnlineLearner({ ...this.config, bits });
    }
    return this.scratch;
  }
}
