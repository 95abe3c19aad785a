/**
 * ADWIN, ADaptive WINdowing (Bifet & Gavaldà 2007, "Learning from time-changing data with adaptive
 * windowing"), with River's parameters and defaults (`river.drift.ADWIN`).
 *
 * The window is kept as an exponential histogram: row i holds buckets that each summarise 2^i
 * consecutive values (their total and their sum of squared deviations); when a row has more than
 * `max_buckets` buckets its two oldest merge into one bucket of the next row. Every `clock` values
 * (once the window holds more than `grace_period`), every split of the window into an older W₀ and
 * a newer W₁ at a bucket boundary with both parts ≥ `min_window_length` is tested:
 *
 *   δ' = ln(2 ln|W| / δ),   1/m = 1/(n₀ − ℓ + 1) + 1/(n₁ − ℓ + 1)   (ℓ = min_window_length)
 *   ε_cut = √(2 (1/m) σ²_W δ') + (2/3) δ' (1/m),   drift  ⇔  |μ̂₀ − μ̂₁| > ε_cut
 *
 * with σ²_W the variance of the whole window. While a split is significant the oldest bucket is
 * dropped and the splits are re-tested. As in River, after an update that reports a drift the next
 * update starts again from an empty window.
 */
import { checkParam, checkValue, DriftDetector, withDefaults } from './detector';

export interface ADWINParams {
  /** Significance value δ ∈ (0, 1) (default 0.002). */
  delta?: number;
  /** Test for change every `clock` values (default 32). */
  clock?: number;
  /** Buckets of each size kept before two merge (default 5). */
  max_buckets?: number;
  /** Minimum length of each sub-window (default 5). */
  min_window_length?: number;
  /** No test until the window holds more than this many values (default 10). */
  grace_period?: number;
}

export const ADWIN_DEFAULTS: Required<ADWINParams> = { delta: 0.002, clock: 32, max_buckets: 5, min_window_length: 5, grace_period: 10 };

interface Row {
  /** Bucket totals, oldest first. */
  total: number[];
  /** Bucket sums of squared deviations from the bucket mean, oldest first. */
  m2: number[];
}

export class ADWIN implements DriftDetector {
  readonly params: Required<ADWINParams>;
  private rows: Row[] = [];
  private tick = 0;
  private _width = 0;
  private _total = 0;
  /** Sum of squared deviations from the window mean. */
  private _variance = 0;
  private _driftDetected = false;
  private _nDetections = 0;

  constructor(params: ADWINParams = {}) {
    const p = withDefaults('ADWIN', ADWIN_DEFAULTS, params);
    checkParam('ADWIN', 'delta', p.delta, 'a number in (0, 1)', typeof p.delta === 'number' && p.delta > 0 && p.delta < 1);
    checkParam('ADWIN', 'clock', p.clock, 'a positive integer', Number.isInteger(p.clock) && p.clock >= 1);
    checkParam('ADWIN', 'max_buckets', p.max_buckets, 'a positive integer', Number.isInteger(p.max_buckets) && p.max_buckets >= 1);
    checkParam('ADWIN', 'min_window_length', p.min_window_length, 'a positive integer', Number.isInteger(p.min_window_length) && p.min_window_length >= 1);
    checkParam('ADWIN', 'grace_period', p.grace_period, 'an integer >= 0', Number.isInteger(p.grace_period) && p.grace_period >= 0);
    this.params = p;
  }

  /** Number of values in the window. */
  get width(): number { return this._width; }
  /** Sum of the values in the window. */
  get total(): number { return this._total; }
  /** Variance of the values in the window. */
  get variance(): number { return this._width > 0 ? this._variance / this._width : 0; }
  /** Mean of the window (River's `estimation`). */
  get estimation(): number { return this._width > 0 ? this._total / this._width : 0; }
  get driftDetected(): boolean { return this._driftDetected; }
  get nDetections(): number { return this._nDetections; }
  /** Number of buckets in the histogram (memory is O(max_buckets · log width)). */
  get nBuckets(): number { return this.rows.reduce((s, r) => s + r.total.length, 0); }

  reset(): void {
    this.rows = [];
    this.tick = 0;
    this._width = 0;
    this._total = 0;
    this._variance = 0;
    this._driftDetected = false;
  }

  update(x: number): { driftDetected: boolean } {
    checkValue('ADWIN', x);
    if (this._driftDetected) {
      const n = this._nDetections;
      this.reset();
      this._nDetections = n;
    }
    this.insert(x);
    this._driftDetected = this.detectChange();
    if (this._driftDetected) this._nDetections++;
    return { driftDetected: this._driftDetected };
  }

  private insert(x: number): void {
    if (this.rows.length === 0) this.rows.push({ total: [], m2: [] });
    this.rows[0].total.push(x);
    this.rows[0].m2.push(0);
    this._width += 1;
    if (this._width > 1) {
      const prevMean = this._total / (this._width - 1);
      this._variance += ((this._width - 1) * (x - prevMean) * (x - prevMean)) / this._width;
    }
    this._total += x;
    this.compress();
  }

  /** Merges the two oldest buckets of any row holding more than max_buckets into the next row. */
  private compress(): void {
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i];
      if (row.total.length <= this.params.max_buckets) break;
      if (i + 1 === this.rows.length) this.rows.push({ total: [], m2: [] });
      const n = 2 ** i;
      const u1 = row.total.shift() as number, u2 = row.total.shift() as number;
      const v1 = row.m2.shift() as number, v2 = row.m2.shift() as number;
      const d = u1 / n - u2 / n;
      this.rows[i + 1].total.push(u1 + u2);
      this.rows[i + 1].m2.push(v1 + v2 + (n * n * d * d) / (2 * n));
    }
  }

  /** Drops the oldest bucket. */
  private deleteOldest(): void {
    const i = this.rows.length - 1;
    const row = this.rows[i];
    const n = 2 ** i;
    const u = row.total.shift() as number;
    const v = row.m2.shift() as number;
    if (row.total.length === 0) this.rows.pop();
    this._width -= n;
    this._total -= u;
    if (this._width === 0) {
      this._total = 0;
      this._variance = 0;
      return;
    }
    const muBucket = u / n;
    const muWindow = this._total / this._width;
    this._variance = Math.max(0, this._variance - (v + (n * this._width * (muBucket - muWindow) ** 2) / (n + this._width)));
  }

  private detectChange(): boolean {
    this.tick += 1;
    if (this.tick % this.params.clock !== 0 || this._width <= this.params.grace_period) return false;
    let detected = false;
    while (this._width > 0 && this.significantCut()) {
      detected = true;
      this.deleteOldest();
    }
    return detected;
  }

  /** Whether some split W₀ | W₁ at a bucket boundary has |μ̂₀ − μ̂₁| > ε_cut. */
  private significantCut(): boolean {
    const l = this.params.min_window_length;
    const width = this._width;
    const varianceW = this._variance / width;
    const deltaPrime = Math.log((2 * Math.log(width)) / this.params.delta);
    let n0 = 0, u0 = 0;
    for (let i = this.rows.length - 1; i >= 0; i--) {
      const size = 2 ** i;
      const totals = this.rows[i].total;
      for (let k = 0; k < totals.length; k++) {
        n0 += size;
        u0 += totals[k];
        const n1 = width - n0;
        if (n1 <= 0) return false; // the newest bucket: no W₁ left
        if (n0 < l || n1 < l) continue;
        const mRecip = 1 / (n0 - l + 1) + 1 / (n1 - l + 1);
        const eps = Math.sqrt(2 * mRecip * varianceW * deltaPrime) + (2 / 3) * deltaPrime * mRecip;
        if (Math.abs(u0 / n0 - (this._total - u0) / n1) > eps) return true;
      }
    }
    return false;
  }
}
