/**
 * Windowed calibration metrics (River's `utils.Rolling` over a metric): the last `windowSize` pairs,
 * kept in a ring buffer; each new pair past the window reverts the oldest from the statistics, so the
 * report is exactly that of the window's pairs. Allocates nothing per update.
 */
import { CalibrationStats, type CalibrationOptions, type CalibrationReport } from './metrics';

export class RollingCalibration {
  readonly windowSize: number;
  readonly stats: CalibrationStats;
  private readonly p: Float64Array;
  private readonly y: Float64Array;
  private next = 0;
  private size = 0;
  /** Pairs ever seen (the window holds the last min(total, windowSize)). */
  total = 0;

  constructor(windowSize: number, opts: CalibrationOptions = {}) {
    if (!Number.isInteger(windowSize) || windowSize < 1) throw new Error(`RollingCalibration: windowSize must be an integer >= 1, got ${JSON.stringify(windowSize)}`);
    this.windowSize = windowSize;
    this.stats = new CalibrationStats(opts);
    this.p = new Float64Array(windowSize);
    this.y = new Float64Array(windowSize);
  }

  get n(): number {
    return this.size;
  }

  update(p: number, y: number): this {
    if (this.size === this.windowSize) this.stats.revert(this.p[this.next], this.y[this.next]);
    this.stats.update(p, y);
    this.p[this.next] = p;
    this.y[this.next] = y;
    this.next = (this.next + 1) % this.windowSize;
    if (this.size < this.windowSize) this.size++;
    this.total++;
    return this;
  }

  report(): CalibrationReport {
    return this.stats.report();
  }
}
