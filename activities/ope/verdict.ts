/**
 * The gate rule a canary can use: from the paired-bootstrap interval [lower, upper] of
 * Δ = V(candidate) − V(logging policy), estimated on the same logged rounds.
 *
 *   superiority (minImprovement set):   pass if lower > minImprovement
 *   non-inferiority (default):          pass if lower ≥ −tolerance
 *   both:                               fail if upper < −tolerance
 *   otherwise:                          inconclusive (the interval straddles the margin: more data needed)
 *
 * With the defaults (tolerance 0, no minImprovement) a candidate passes when it is, at the chosen
 * confidence, no worse than what served the logged traffic, and fails when it is surely worse.
 */
import type { OpeVerdict } from '../../contracts/off-policy-evaluation';
import type { Interval } from '../../ml/stats/bootstrap';

export interface VerdictRule {
  tolerance: number;
  minImprovement: number | null;
}

export function opeVerdict(diff: Interval, rule: VerdictRule): { verdict: OpeVerdict; reason: string } {
  const { lower, upper } = diff;
  const f = (x: number): string => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(3));
  const ci = `[${f(lower)}, ${f(upper)}]`;
  if (upper < -rule.tolerance) {
    return { verdict: 'fail', reason: `the upper bound of Δ ${ci} is below −tolerance = ${f(-rule.tolerance)}: the candidate is worse than the logging policy` };
  }
  if (rule.minImprovement !== null) {
    if (lower > rule.minImprovement) return { verdict: 'pass', reason: `the lower bound of Δ ${ci} exceeds minImprovement = ${f(rule.minImprovement)}` };
    return { verdict: 'inconclusive', reason: `Δ ${ci} does not exclude improvements ≤ minImprovement = ${f(rule.minImprovement)} nor show the candidate worse than −tolerance` };
  }
  if (lower >= -rule.tolerance) return { verdict: 'pass', reason: `the lower bound of Δ ${ci} is ≥ −tolerance = ${f(-rule.tolerance)}: the candidate is not worse than the logging policy` };
  return { verdict: 'inconclusive', reason: `Δ ${ci} straddles −tolerance = ${f(-rule.tolerance)}` };
}
