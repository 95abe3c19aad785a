/**
 * Early stopping of bad trials from their learning curves (R-USE-CASES, experiment design: a trial is a training run
 * that reports its objective after every step). Both rules are pure functions of the curves, so the
 * orchestrator can keep the curves wherever it keeps trial history. A curve is the objective after
 * step 1, 2, …; `direction` says whether larger or smaller is better.
 *
 * Median stopping rule (Golovin et al., "Google Vizier: A Service for Black-Box Optimization",
 * KDD 2017, §3.2.2): stop trial i at step s when its best value so far is worse than the median,
 * over the completed trials j, of their running averages  ō_j(s) = (1/s) Σ_{t≤s} y_j(t).
 *
 * Successive halving, asynchronous (Jamieson & Talwalkar, AISTATS 2016; Li et al., "A System for
 * Massively Parallel Hyperparameter Tuning", MLSys 2020): rungs at steps r_k = r_min η^k; a trial
 * reaching rung k continues only if its value there is among the top max(1, ⌊n_k/η⌋) of the n_k
 * trials (itself included) that have reached rung k so far.
 */
import type { Direction } from './optimizer';

export interface StoppingRule {
  readonly name: string;
  /** Whether the trial with learning curve `curve` should stop now, given the other trials' curves. */
  shouldStop(curve: readonly number[], others: readonly (readonly number[])[]): boolean;
}

export class MedianStoppingRule implements StoppingRule {
  readonly name = 'median';
  readonly direction: Direction;
  /** Steps every trial runs before it can be stopped. */
  readonly gracePeriod: number;
  /** Completed trials needed before the rule stops anything. */
  readonly minCompletedTrials: number;

  constructor(options: { direction: Direction; gracePeriod?: number; minCompletedTrials?: number }) {
    this.direction = checkDirection(options.direction, 'MedianStoppingRule');
    this.gracePeriod = options.gracePeriod ?? 1;
    this.minCompletedTrials = options.minCompletedTrials ?? 3;
    if (!(Number.isInteger(this.gracePeriod) && this.gracePeriod >= 1)) throw new Error(`MedianStoppingRule: gracePeriod is ${this.gracePeriod}, expected an integer >= 1`);
    if (!(Number.isInteger(this.minCompletedTrials) && this.minCompletedTrials >= 1)) throw new Error(`MedianStoppingRule: minCompletedTrials is ${this.minCompletedTrials}, expected an integer >= 1`);
  }

  /** `others` are the completed trials' curves. */
  shouldStop(curve: readonly number[], completed: readonly (readonly number[])[]): boolean {
    const s = curve.length;
    if (s < this.gracePeriod) return false;
    const averages: number[] = [];
    for (const other of completed) {
      if (other.length < s) continue;
      let sum = 0;
      for (let t = 0; t < s; t++) sum += other[t];
      averages.push(sum / s); // ō_j(s)
    }
    if (averages.length < this.minCompletedTrials) return false;
    const med = median(averages);
    const best = this.direction === 'maximize' ? Math.max(...curve) : Math.min(...curve);
    return this.direction === 'maximize' ? best < med : best > med;
  }
}

export class SuccessiveHalving implements StoppingRule {
  readonly name = 'successive-halving';
  readonly direction: Direction;
  /** r_min: the first rung's step. */
  readonly minResource: number;
  /** η: the fraction 1/η of trials continues at each rung. */
  readonly reductionFactor: number;

  constructor(options: { direction: Direction; minResource?: number; reductionFactor?: number }) {
    this.direction = checkDirection(options.direction, 'SuccessiveHalving');
    this.minResource = options.minResource ?? 1;
    this.reductionFactor = options.reductionFactor ?? 3;
    if (!(Number.isInteger(this.minResource) && this.minResource >= 1)) throw new Error(`SuccessiveHalving: minResource is ${this.minResource}, expected an integer >= 1`);
    if (!(Number.isInteger(this.reductionFactor) && this.reductionFactor >= 2)) throw new Error(`SuccessiveHalving: reductionFactor is ${this.reductionFactor}, expected an integer >= 2`);
  }

  /** The rung index of step s (1-based), or −1 when s is not a rung r_min η^k. */
  rungOf(step: number): number {
    let r = this.minResource;
    for (let k = 0; r <= step; k++, r *= this.reductionFactor) if (r === step) return k;
    return -1;
  }

  /** `others` are every other trial's curve, running or finished. */
  shouldStop(curve: readonly number[], others: readonly (readonly number[])[]): boolean {
    const s = curve.length;
    if (this.rungOf(s) < 0) return false;
    const mine = curve[s - 1];
    const competing = [mine];
    for (const other of others) if (other.length >= s) competing.push(other[s - 1]);
    const topK = Math.max(1, Math.floor(competing.length / this.reductionFactor));
    competing.sort((a, b) => (this.direction === 'maximize' ? b - a : a - b));
    const threshold = competing[topK - 1];
    return this.direction === 'maximize' ? mine < threshold : mine > threshold;
  }
}

function checkDirection(direction: Direction, who: string): Direction {
  if (direction !== 'maximize' && direction !== 'minimize') throw new Error(`${who}: direction is ${JSON.stringify(direction)}, expected "maximize" or "minimize"`);
  return direction;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
