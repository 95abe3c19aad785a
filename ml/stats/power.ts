/**
 * Power analysis: how many rounds are needed to detect a difference `delta` with probability
 * `power` at significance `alpha`, given the standard deviation `sd` of the per-round outcome
 * measured in a pilot.
 *
 * Normal approximation (e.g. Chow, Shao & Wang, "Sample Size Calculations in Clinical Research",
 * 2008, §3.1–3.2):
 *   paired / one-sample:      n = ((z_{1−α/s} + z_{power}) · sd / delta)²
 *   two independent groups:   n per group = 2 · ((z_{1−α/s} + z_{power}) · sd / delta)²
 * with s = 2 for a two-sided test and 1 for one-sided. `sd` is the sd of the per-round difference
 * for the paired (within-subject) design, and the per-group sd for two groups. With
 * `tDistribution: true` the z quantiles are replaced by t quantiles with n − 1 (paired) or
 * 2n − 2 (two groups) degrees of freedom and n is iterated to a fixed point — slightly larger n,
 * the right answer for small pilots.
 */
import { normalCdf, normalQuantile } from './normal';
import { studentTQuantile } from './student-t';

export type Design = 'paired' | 'two-sample';

export interface PowerOptions {
  /** The smallest difference worth detecting (> 0, in outcome units). */
  delta: number;
  /** Standard deviation of the per-round outcome (or of the paired difference). */
  sd: number;
  /** Significance level. Default 0.05. */
  alpha?: number;
  /** Probability of detecting `delta` when it is real. Default 0.8. */
  power?: number;
  /** Two-sided (default) or one-sided test. */
  sides?: 1 | 2;
  /** Within-subject (default) or two independent groups. */
  design?: Design;
  /** Use t quantiles (iterated) instead of z. Default false. */
  tDistribution?: boolean;
}

export interface PowerResult {
  /** Rounds needed: total for paired, per group for two-sample (rounded up). */
  rounds: number;
  /** Total rounds over all groups. */
  totalRounds: number;
  /** The power actually reached with `rounds` (normal approximation). */
  achievedPower: number;
}

function validate(o: PowerOptions): Required<PowerOptions> {
  const { delta, sd, alpha = 0.05, power = 0.8, sides = 2, design = 'paired', tDistribution = false } = o;
  if (!(delta !== 0 && Number.isFinite(delta))) throw new RangeError(`delta: got ${delta}, expected a finite non-zero difference`);
  if (!(sd > 0 && Number.isFinite(sd))) throw new RangeError(`sd: got ${sd}, expected a finite standard deviation > 0`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: got ${alpha}, expected a number in (0, 1)`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power: got ${power}, expected a number in (0, 1)`);
  if (sides !== 1 && sides !== 2) throw new RangeError(`sides: got ${String(sides)}, expected 1 or 2`);
  if (design !== 'paired' && design !== 'two-sample') throw new RangeError(`design: got ${JSON.stringify(design)}, expected paired or two-sample`);
  return { delta: Math.abs(delta), sd, alpha, power, sides, design, tDistribution };
}

/** Rounds needed to detect `delta` at `power` and `alpha`. */
export function roundsForPower(options: PowerOptions): PowerResult {
  const o = validate(options);
  const groups = o.design === 'two-sample' ? 2 : 1;
  const ratio = o.sd / o.delta;
  const zA = normalQuantile(1 - o.alpha / o.sides);
  const zB = normalQuantile(o.power);
  let n = groups * ((zA + zB) * ratio) ** 2;
  if (o.tDistribution) {
    for (let i = 0; i < 100; i++) {
      const df = Math.max(1, groups * (Math.ceil(n) - 1));
      const next = groups * ((studentTQuantile(1 - o.alpha / o.sides, df) + studentTQuantile(o.power, df)) * ratio) ** 2;
      if (Math.abs(next - n) < 1e-9) break;
      n = next;
    }
  }
  const rounds = Math.max(2, Math.ceil(n - 1e-9));
  return { rounds, totalRounds: rounds * groups, achievedPower: powerForRounds({ ...o, rounds }) };
}

/** Power reached with `rounds` (per group for two-sample), normal approximation. */
export function powerForRounds(options: PowerOptions & { rounds: number }): number {
  const o = validate(options);
  if (!(options.rounds >= 1)) throw new RangeError(`rounds: got ${options.rounds}, expected a number ≥ 1`);
  const groups = o.design === 'two-sample' ? 2 : 1;
  const se = o.sd * Math.sqrt(groups / options.rounds);
  const zA = normalQuantile(1 - o.alpha / o.sides);
  const shift = o.delta / se;
  const p = normalCdf(shift - zA);
  return o.sides === 2 ? p + normalCdf(-shift - zA) : p;
}
