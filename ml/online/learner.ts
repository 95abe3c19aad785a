/**
 * What the online linear learners share: the loss (logistic → a probability, squared → a value), a
 * sparse row and a CSR batch in typed arrays, and the learner interface the server and the bench use.
 */

export type OnlineLoss = 'logistic' | 'squared';
export const ONLINE_LOSSES: readonly OnlineLoss[] = ['logistic', 'squared'];

/** Margins are clipped to ±MARGIN_LIMIT before the sigmoid (σ(±35) is 1 − 6e-16 / 6e-16: log loss stays finite). */
export const MARGIN_LIMIT = 35;

/** σ(m) for logistic, m for squared. */
export function link(loss: OnlineLoss, margin: number): number {
  if (loss === 'squared') return margin;
  const m = margin > MARGIN_LIMIT ? MARGIN_LIMIT : margin < -MARGIN_LIMIT ? -MARGIN_LIMIT : margin;
  return 1 / (1 + Math.exp(-m));
}

/**
 * Rows in compressed sparse row form: row r has the pairs (idx[k], val[k]) for k in
 * [offsets[r], offsets[r + 1]) and the label y[r] (0/1 for logistic, a number for squared).
 */
export interface SparseBatch {
  rows: number;
  offsets: Int32Array;
  idx: Int32Array;
  val: Float64Array;
  y: Float64Array;
}

/** A CSR batch from rows of (indices, values, label); for tests and loaders, not the hot path. */
export function sparseBatch(rows: readonly { idx: readonly number[]; val: readonly number[]; y: number }[]): SparseBatch {
  const nnz = rows.reduce((s, r) => s + r.idx.length, 0);
  const b: SparseBatch = { rows: rows.length, offsets: new Int32Array(rows.length + 1), idx: new Int32Array(nnz), val: new Float64Array(nnz), y: new Float64Array(rows.length) };
  let k = 0;
  rows.forEach((r, i) => {
    if (r.idx.length !== r.val.length) throw new Error(`row ${i}: ${r.idx.length} indices and ${r.val.length} values; expected as many of each`);
    for (let j = 0; j < r.idx.length; j++) {
      b.idx[k] = r.idx[j];
      b.val[k++] = r.val[j];
    }
    b.offsets[i + 1] = k;
    b.y[i] = r.y;
  });
  return b;
}

export interface OnlineLearner {
  readonly loss: OnlineLoss;
  /** Number of coordinates (2^bits). */
  readonly size: number;
  /** Prediction of the row idx[from..to), val[from..to): a probability (logistic) or a value (squared). */
  predict(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number): number;
  /** One per-example update with label y; returns the prediction made before it (progressive validation). */
  update(idx: ArrayLike<number>, val: ArrayLike<number>, from: number, to: number, y: number): number;
  /** Per-example updates of every row of `batch`, in order; returns the summed loss of the predictions made before each. */
  updateEach(batch: SparseBatch): number;
  /**
   * One mini-batch step: every row's gradient at the current weights, summed per coordinate, then one
   * update per touched coordinate with the summed gradient. Returns the summed loss before the step.
   */
  updateMiniBatch(batch: SparseBatch): number;
  /** The current weight of coordinate i. */
  weight(i: number): number;
}

/** The loss of prediction p for label y: log loss (p clipped to [1e-15, 1 − 1e-15]) or ½(p − y)². */
export function lossOf(loss: OnlineLoss, p: number, y: number): number {
  if (loss === 'squared') return 0.5 * (p - y) * (p - y);
  const q = p < 1e-15 ? 1e-15 : p > 1 - 1e-15 ? 1 - 1e-15 : p;
  return y > 0.5 ? -Math.log(q) : -Math.log(1 - q);
}

export function checkLabel(loss: OnlineLoss, y: number, field = 'label'): void {
  if (loss === 'logistic' ? y !== 0 && y !== 1 : !Number.isFinite(y)) {
    throw new Error(`${field} is ${y}; expected ${loss === 'logistic' ? '0 or 1 (logistic loss)' : 'a finite number (squared loss)'}`);
  }
}

export function checkIndex(i: number, size: number): void {
  if (!(i >= 0 && i < size && Number.isInteger(i))) throw new Error(`feature index ${i} is outside [0, ${size})`);
}

/**
 * Per-coordinate gradient sums of one mini-batch: an open-addressing table sized to the batch (not to the
 * 2^bits coordinates), so the scratch stays in cache; `touched` lists the coordinates in first-seen order.
 * Grows (reallocates) only when a batch touches more coordinates than any before.
 */
export class GradientSums {
  keys = new Int32Array(0);
  sums = new Float64Array(0);
  touched = new Int32Array(0);
  count = 0;
  private mask = 0;

  /** Empties the table for a batch of up to `nnz` (index, value) pairs. */
  reset(nnz: number): void {
    const need = Math.max(16, 1 << Math.ceil(Math.log2(2 * nnz + 1)));
    if (need > this.keys.length) {
      this.keys = new Int32Array(need);
      this.sums = new Float64Array(need);
      this.touched = new Int32Array(need >> 1);
    }
    this.mask = this.keys.length - 1;
    this.keys.fill(-1);
    this.count = 0;
  }

  add(i: number, g: number): void {
    const { keys, mask } = this;
    let h = Math.imul(i, 0x9e3779b1) & mask;
    for (;;) {
      const k = keys[h];
      if (k === i) {
        this.sums[h] += g;
        return;
      }
      if (k === -1) {
        keys[h] = i;
        this.sums[h] = g;
        this.touched[this.count++] = i;
        return;
      }
      h = (h + 1) & mask;
    }
  }

  get(i: number): number {
    const { keys, mask } = this;
    let h = Math.imul(i, 0x9e3779b1) & mask;
    while (keys[h] !== i) h = (h + 1) & mask;
    return this.sums[h];
  }
}
