/**
 * Accuracy and calibration of predictions against what was realised (pure). Each metric is a sum over
 * (predicted p_i, observed y_i) pairs, kept as additive statistics so a pair can be added (`update`) and
 * taken out again (`revert`) — River's `update`/`revert` shape, which makes the rolling versions
 * (./rolling.ts) exact windows:
 *
 *   log loss   = −(1/N) Σ [ y ln p + (1 − y) ln(1 − p) ],  p clipped to [ε, 1 − ε], ε = 1e-15 (scikit-learn's)
 *                (defined while every p and y lies in [0, 1]: a probability and a 0/1 label or a rate)
 *   Brier      = (1/N) Σ (p − y)²                          (Brier 1950; the mean squared error for values)
 *   ECE        = Σ_b (n_b / N) |ȳ_b − p̄_b|                 (Naeini et al. 2015; Guo et al. 2017), B equal-width bins
 *   MCE        = max_b |ȳ_b − p̄_b|  over non-empty bins
 *   Pearson r  = C_py / √(C_pp C_yy)                        (co-moments, Welford's update and its inverse)
 *
 * The reliability table (DeGroot & Fienberg 1983) is the bins themselves: count, mean predicted p̄_b and
 * mean observed ȳ_b. `binnedCorrelation` is the count-weighted Pearson r of (p̄_b, ȳ_b) over the bins:
 * with 0/1 outcomes the per-pair r is capped by the outcome noise (p ∈ {0.2, 0.7} and y ~ Bernoulli(p)
 * give r ≈ 0.5 even for a perfect model), while the binned one measures whether predicted levels
 * track realised ones.
 */

/** ε of the log loss clip (scikit-learn's `log_loss` default). */
export const LOG_LOSS_EPS = 1e-15;

export interface CalibrationOptions {
  /** Number of equal-width bins of the reliability table (default 10). */
  bins?: number;
  /** The range [lo, hi] of the predictions the bins split (default [0, 1]); values outside fall in the end bins. */
  range?: [number, number];
}

/** One row of the reliability table. */
export interface ReliabilityBin {
  /** The bin's predicted-value interval [lo, hi) ([lo, hi] for the last). */
  lo: number;
  hi: number;
  count: number;
  /** p̄_b; null in an empty bin. */
  meanPredicted: number | null;
  /** ȳ_b; null in an empty bin. */
  meanObserved: number | null;
}

export interface CalibrationReport {
  /** Pairs counted. */
  n: number;
  /** Mean observed value ȳ and mean predicted value p̄. */
  meanPredicted: number | null;
  meanObserved: number | null;
  /** null without pairs, or while a prediction or an outcome lies outside [0, 1]. */
  logLoss: number | null;
  /** Mean squared error (the Brier score for probabilities and 0/1 outcomes); null without pairs. */
  brier: number | null;
  /** Expected calibration error over the bins; null without pairs. */
  ece: number | null;
  /** Maximum calibration error over the non-empty bins; null without pairs. */
  mce: number | null;
  /** Pearson r of predicted vs observed; null when fewer than 2 pairs or either side is constant. */
  correlation: number | null;
  /** Count-weighted Pearson r of the bins' (p̄_b, ȳ_b); null with fewer than 2 non-empty bins or a constant side. */
  binnedCorrelation: number | null;
  bins: ReliabilityBin[];
}

function checkOptions(opts: CalibrationOptions): { bins: number; lo: number; hi: number } {
  const bins = opts.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1 || bins > 1000) throw new Error(`calibration: bins must be an integer in [1, 1000], got ${JSON.stringify(opts.bins)}`);
  const [lo, hi] = opts.range ?? [0, 1];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new Error(`calibration: range must be two finite numbers [lo, hi] with hi > lo, got ${JSON.stringify(opts.range)}`);
  return { bins, lo, hi };
}

function checkPair(p: number, y: number): void {
  if (typeof p !== 'number' || !Number.isFinite(p)) throw new Error(`calibration: predicted must be a finite number, got ${String(p)}`);
  if (typeof y !== 'number' || !Number.isFinite(y)) throw new Error(`calibration: observed must be a finite number, got ${String(y)}`);
}

/** −[y ln p + (1 − y) ln(1 − p)] with p clipped to [ε, 1 − ε]. */
export function pairLogLoss(p: number, y: number): number {
  const q = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, p));
  return -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
}

const inUnit = (v: number) => v >= 0 && v <= 1;

/**
 * Additive statistics of (predicted, observed) pairs: every metric of `CalibrationReport` at any time,
 * `update` adds a pair, `revert` removes one that was added.
 */
export class CalibrationStats {
  readonly bins: number;
  readonly lo: number;
  readonly hi: number;
  n = 0;
  private logLossSum = 0;
  /** Pairs with p or y outside [0, 1] (the log loss is undefined while any is counted). */
  private outsideUnit = 0;
  private sqErrSum = 0;
  // Welford means and co-moments: C_pp, C_yy, C_py.
  private meanP = 0;
  private meanY = 0;
  private cpp = 0;
  private cyy = 0;
  private cpy = 0;
  private readonly count: Float64Array;
  private readonly sumP: Float64Array;
  private readonly sumY: Float64Array;

  constructor(opts: CalibrationOptions = {}) {
    const o = checkOptions(opts);
    this.bins = o.bins;
    this.lo = o.lo;
    this.hi = o.hi;
    this.count = new Float64Array(o.bins);
    this.sumP = new Float64Array(o.bins);
    this.sumY = new Float64Array(o.bins);
  }

  /** The bin of a prediction: floor((p − lo) / width), clamped to [0, B − 1]. */
  binOf(p: number): number {
    const b = Math.floor(((p - this.lo) / (this.hi - this.lo)) * this.bins);
    return b < 0 ? 0 : b >= this.bins ? this.bins - 1 : b;
  }

  update(p: number, y: number): this {
    checkPair(p, y);
    this.n++;
    if (inUnit(p) && inUnit(y)) this.logLossSum += pairLogLoss(p, y);
    else this.outsideUnit++;
    this.sqErrSum += (p - y) ** 2;
    const dp = p - this.meanP;
    const dy = y - this.meanY;
    this.meanP += dp / this.n;
    this.meanY += dy / this.n;
    this.cpp += dp * (p - this.meanP);
    this.cyy += dy * (y - this.meanY);
    this.cpy += dp * (y - this.meanY);
    const b = this.binOf(p);
    this.count[b]++;
    this.sumP[b] += p;
    this.sumY[b] += y;
    return this;
  }

  /** Removes a pair `update` added (the inverse of each step above, in reverse order). */
  revert(p: number, y: number): this {
    checkPair(p, y);
    if (this.n === 0) throw new Error('calibration: revert with no pair counted');
    const b = this.binOf(p);
    this.count[b]--;
    this.sumP[b] -= p;
    this.sumY[b] -= y;
    if (this.count[b] === 0) {
      this.sumP[b] = 0;
      this.sumY[b] = 0;
    }
    if (inUnit(p) && inUnit(y)) this.logLossSum -= pairLogLoss(p, y);
    else this.outsideUnit--;
    this.sqErrSum -= (p - y) ** 2;
    if (this.n === 1) {
      this.n = 0;
      this.logLossSum = this.sqErrSum = this.meanP = this.meanY = this.cpp = this.cyy = this.cpy = 0;
      return this;
    }
    // m_{n−1} = m_n − (x − m_n)/(n − 1); C_{n−1} = C_n − (x − m_{n−1})(x' − m'_n).
    const prevP = this.meanP - (p - this.meanP) / (this.n - 1);
    const prevY = this.meanY - (y - this.meanY) / (this.n - 1);
    this.cpp -= (p - prevP) * (p - this.meanP);
    this.cyy -= (y - prevY) * (y - this.meanY);
    this.cpy -= (p - prevP) * (y - this.meanY);
    this.meanP = prevP;
    this.meanY = prevY;
    this.n--;
    return this;
  }

  logLoss(): number | null {
    return this.n === 0 || this.outsideUnit > 0 ? null : this.logLossSum / this.n;
  }

  brier(): number | null {
    return this.n === 0 ? null : this.sqErrSum / this.n;
  }

  /** Pearson r; null when undefined (n < 2 or a constant side; variances below 1e-12 of the mean square count as 0). */
  correlation(): number | null {
    if (this.n < 2) return null;
    const tinyP = 1e-12 * Math.max(1e-300, this.meanP * this.meanP * this.n);
    const tinyY = 1e-12 * Math.max(1e-300, this.meanY * this.meanY * this.n);
    if (!(this.cpp > tinyP) || !(this.cyy > tinyY)) return null;
    return Math.max(-1, Math.min(1, this.cpy / Math.sqrt(this.cpp * this.cyy)));
  }

  table(): ReliabilityBin[] {
    const w = (this.hi - this.lo) / this.bins;
    return Array.from({ length: this.bins }, (_, b) => {
      const c = this.count[b];
      return { lo: this.lo + b * w, hi: b === this.bins - 1 ? this.hi : this.lo + (b + 1) * w, count: c, meanPredicted: c > 0 ? this.sumP[b] / c : null, meanObserved: c > 0 ? this.sumY[b] / c : null };
    });
  }

  report(): CalibrationReport {
    const bins = this.table();
    let ece: number | null = null;
    let mce: number | null = null;
    if (this.n > 0) {
      ece = 0;
      mce = 0;
      for (const b of bins) {
        if (b.count === 0) continue;
        const gap = Math.abs(b.meanObserved! - b.meanPredicted!);
        ece += (b.count / this.n) * gap;
        mce = Math.max(mce, gap);
      }
    }
    return {
      n: this.n,
      meanPredicted: this.n > 0 ? this.meanP : null,
      meanObserved: this.n > 0 ? this.meanY : null,
      logLoss: this.logLoss(),
      brier: this.brier(),
      ece,
      mce,
      correlation: this.correlation(),
      binnedCorrelation: weightedCorrelation(bins),
      bins,
    };
  }
}

/** Count-weighted Pearson r of the non-empty bins' (p̄_b, ȳ_b). */
export function weightedCorrelation(bins: readonly ReliabilityBin[]): number | null {
  const used = bins.filter((b) => b.count > 0);
  if (used.length < 2) return null;
  const w = used.reduce((s, b) => s + b.count, 0);
  const mp = used.reduce((s, b) => s + b.count * b.meanPredicted!, 0) / w;
  const my = used.reduce((s, b) => s + b.count * b.meanObserved!, 0) / w;
  let cpp = 0, cyy = 0, cpy = 0;
  for (const b of used) {
    const dp = b.meanPredicted! - mp;
    const dy = b.meanObserved! - my;
    cpp += b.count * dp * dp;
    cyy += b.count * dy * dy;
    cpy += b.count * dp * dy;
  }
  if (!(cpp > 1e-24) || !(cyy > 1e-24)) return null;
  return Math.max(-1, Math.min(1, cpy / Math.sqrt(cpp * cyy)));
}

/**
 * The report of a batch of pairs. Without `range`, the bins split [0, 1] when every prediction lies in it
 * (probabilities), else the predictions' own [min, max] (values such as a bandit's expected reward).
 */
export function calibrationReport(predicted: ArrayLike<number>, observed: ArrayLike<number>, opts: CalibrationOptions = {}): CalibrationReport {
  if (predicted.length !== observed.length) throw new Error(`calibration: predicted has ${predicted.length} values but observed has ${observed.length}; expected one observed value per prediction`);
  let range = opts.range;
  if (range === undefined) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < predicted.length; i++) {
      lo = Math.min(lo, predicted[i]);
      hi = Math.max(hi, predicted[i]);
    }
    range = predicted.length === 0 || (lo >= 0 && hi <= 1) ? [0, 1] : hi > lo ? [lo, hi] : [lo - 0.5, lo + 0.5];
  }
  const s = new CalibrationStats({ bins: opts.bins, range });
  for (let i = 0; i < predicted.length; i++) s.update(predicted[i], observed[i]);
  return s.report();
}
