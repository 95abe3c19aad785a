/**
 * Page–Hinkley test (Page 1954, "Continuous inspection schemes"), with River's parameters and
 * defaults (`river.drift.PageHinkley`), two-sided as in River (`mode`):
 *
 *   x̄_t = running mean,  m⁺_t = α m⁺_{t−1} + (x_t − x̄_t − δ),   m⁻_t = α m⁻_{t−1} + (x_t − x̄_t + δ)
 *   PH⁺_t = m⁺_t − min_{s≤t} m⁺_s  (increase),   PH⁻_t = max_{s≤t} m⁻_s − m⁻_t  (decrease)
 *
 * drift when, after `min_instances` values, PH⁺ > λ (mode 'up'), PH⁻ > λ ('down') or either ('both');
 * λ = `threshold`, α = forgetting factor. After a drift the next update starts afresh.
 * (River starts the running maximum of m⁻ at −1; this starts it at −∞, the test as published.)
 */
import { checkParam, checkValue, DriftDetector, withDefaults } from './detector';

export type PageHinkleyMode = 'up' | 'down' | 'both';

export interface PageHinkleyParams {
  /** Values seen before a drift can be signalled (default 30). */
  min_instances?: number;
  /** Magnitude of change tolerated, δ (default 0.005). */
  delta?: number;
  /** Detection threshold λ (default 50). */
  threshold?: number;
  /** Forgetting factor α ∈ (0, 1] applied to the cumulative sums (default 1 − 0.0001). */
  alpha?: number;
  /** Which changes to detect: 'up', 'down' or 'both' (default 'both'). */
  mode?: PageHinkleyMode;
}

export const PAGE_HINKLEY_DEFAULTS: Required<PageHinkleyParams> = { min_instances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both' };

export class PageHinkley implements DriftDetector {
  readonly params: Required<PageHinkleyParams>;
  private n = 0;
  private mean = 0;
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Infinity;
  private maxDecrease = -Infinity;
  private _driftDetected = false;
  private _nDetections = 0;

  constructor(params: PageHinkleyParams = {}) {
    const p = withDefaults('PageHinkley', PAGE_HINKLEY_DEFAULTS, params);
    checkParam('PageHinkley', 'min_instances', p.min_instances, 'a positive integer', Number.isInteger(p.min_instances) && p.min_instances >= 1);
    checkParam('PageHinkley', 'delta', p.delta, 'a finite number >= 0', typeof p.delta === 'number' && Number.isFinite(p.delta) && p.delta >= 0);
    checkParam('PageHinkley', 'threshold', p.threshold, 'a finite number > 0', typeof p.threshold === 'number' && Number.isFinite(p.threshold) && p.threshold > 0);
    checkParam('PageHinkley', 'alpha', p.alpha, 'a number in (0, 1]', typeof p.alpha === 'number' && p.alpha > 0 && p.alpha <= 1);
    checkParam('PageHinkley', 'mode', p.mode, "one of 'up', 'down', 'both'", p.mode === 'up' || p.mode === 'down' || p.mode === 'both');
    this.params = p;
  }

  get driftDetected(): boolean { return this._driftDetected; }
  get nDetections(): number { return this._nDetections; }
  /** The two test statistics (PH⁺, PH⁻) after the last update. */
  get statistics(): { increase: number; decrease: number } {
    return { increase: this.sumIncrease - this.minIncrease, decrease: this.maxDecrease - this.sumDecrease };
  }

  reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Infinity;
    this.maxDecrease = -Infinity;
    this._driftDetected = false;
  }

  update(x: number): { driftDetected: boolean } {
    checkValue('PageHinkley', x);
    if (this._driftDetected) this.reset();
    this.n += 1;
    this.mean += (x - this.mean) / this.n;
    const dev = x - this.mean;
    const { alpha, delta, threshold, mode } = this.params;
    this.sumIncrease = alpha * this.sumIncrease + dev - delta;
    this.sumDecrease = alpha * this.sumDecrease + dev + delta;
    if (this.sumIncrease < this.minIncrease) this.minIncrease = this.sumIncrease;
    if (this.sumDecrease > this.maxDecrease) this.maxDecrease = this.sumDecrease;
    let drift = false;
    if (this.n >= this.params.min_instances) {
      const up = this.sumIncrease - this.minIncrease > threshold;
      const down = this.maxDecrease - this.sumDecrease > threshold;
      drift = mode === 'up' ? up : mode === 'down' ? down : up || down;
    }
    this._driftDetected = drift;
    if (drift) this._nDetections++;
    return { driftDetected: drift };
  }
}
