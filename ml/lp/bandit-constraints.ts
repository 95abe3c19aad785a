/**
 * A budget allocation as a bandit deployment's constraints and priors (ml/bandits/config.ts):
 *
 *   segments.rules[s] = { arms: { m : available_sm ∧ cap_sm > 0 },  maxShare: { m : cap_sm } },
 *     cap_sm = min(1, x_sm + headroom)
 *   priors[m] = { mean: Σ_s D_s q_sm / Σ_s D_s  (over the segments where m is available), strength }
 *
 * The caps bound each model's expected share of its segment near the LP's x_sm (the budget holds up to
 * the headroom), while the learner keeps choosing among the allowed models on what it observes; the
 * priors start each arm's posterior at the quality the plan was solved with. Pure: plain JSON out.
 */
import type { Allocation, AllocationProblem } from './budget-allocation';

export interface BanditConstraintOptions {
  /** The decide request's features field naming the segment. */
  segmentField: string;
  /** Added to each share to give its cap, in [0, 1]. */
  headroom: number;
  /** Observations each prior is worth; 0: no priors. */
  priorStrength: number;
  /** A rule for segments the plan does not list: none (refused) or unconstrained ({}). */
  unlisted: 'refuse' | 'unconstrained';
}

export interface BanditSegmentRuleJson {
  arms: string[];
  maxShare: Record<string, number>;
}

export interface BanditConstraintsJson {
  priors: Record<string, { mean: number; strength: number }>;
  segments: { field: string; rules: Record<string, BanditSegmentRuleJson>; default?: Record<string, never> };
}

export function banditConstraintsFromAllocation(problem: AllocationProblem, allocation: Allocation, o: BanditConstraintOptions): BanditConstraintsJson {
  if (!(o.headroom >= 0 && o.headroom <= 1)) throw new Error(`headroom: got ${o.headroom}, expected a share in [0, 1]`);
  if (!(o.priorStrength >= 0 && Number.isFinite(o.priorStrength))) throw new Error(`priorStrength: got ${o.priorStrength}, expected a number ≥ 0`);
  const available = (s: number, m: number) => problem.available?.[s]?.[m] !== false;
  const rules: Record<string, BanditSegmentRuleJson> = {};
  problem.segments.forEach((seg, s) => {
    const arms: string[] = [];
    const maxShare: Record<string, number> = {};
    problem.models.forEach((model, m) => {
      if (!available(s, m)) return;
      const cap = Math.min(1, (allocation.shares[seg.name]?.[model.name] ?? 0) + o.headroom);
      if (!(cap > 0)) return;
      arms.push(model.name);
      if (cap < 1) maxShare[model.name] = cap;
    });
    rules[seg.name] = { arms, maxShare };
  });
  const priors: BanditConstraintsJson['priors'] = {};
  if (o.priorStrength > 0) {
    problem.models.forEach((model, m) => {
      let dq = 0, d = 0;
      problem.segments.forEach((seg, s) => {
        if (!available(s, m)) return;
        dq += seg.demand * problem.quality[s][m];
        d += seg.demand;
      });
      if (d > 0) priors[model.name] = { mean: dq / d, strength: o.priorStrength };
    });
  }
  return { priors, segments: { field: o.segmentField, rules, ...(o.unlisted === 'unconstrained' ? { default: {} } : {}) } };
}
