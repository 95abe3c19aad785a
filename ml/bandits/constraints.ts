/**
 * Per-segment constraints on what a bandit serves (e.g. from a budget allocation, ml/lp): in segment
 * s only the arms of A_s may be chosen, and arm a at most with probability c_{s,a} (its cap on the
 * segment's share of traffic). The learner's distribution π(· | x) is projected onto
 *
 *   { p : p_a = 0 for a ∉ A_s,  0 ≤ p_a ≤ c_{s,a},  Σ_a p_a = 1 }
 *
 * by proportional water-filling: arms over their cap are set to it, and the mass they give up (and the
 * mass of the disallowed arms) goes to the other allowed arms in proportion to π — the closest point to
 * π in KL divergence when those arms have probability under π — or equally among them where π gives them
 * none. Caps bind per decision, so the expected share of an arm in a segment is at most its cap, and the
 * logged propensity is the projected distribution's probability of the chosen arm: exact, as OPE needs.
 */
import type { Rng } from '../rng';

/** One segment's rule: which arms may be chosen, and each arm's largest probability (1: no cap). */
export interface SegmentRule {
  allowed: boolean[];
  maxShare: number[];
}

/** Tolerance of Σ caps ≥ 1 (caps written from an LP's shares sum to 1 within round-off). */
export const CAP_SUM_TOLERANCE = 1e-9;

/** Σ_{a allowed} min(cap_a, 1): at least 1 (within CAP_SUM_TOLERANCE) for a rule every decision can meet. */
export function capacityOf(rule: SegmentRule): number {
  let c = 0;
  for (let a = 0; a < rule.allowed.length; a++) if (rule.allowed[a]) c += Math.min(1, rule.maxShare[a]);
  return c;
}

/** π projected onto the rule's constraints (see the header); sums to 1, zero outside the allowed arms. */
export function constrainActionDist(dist: ArrayLike<number>, rule: SegmentRule): Float64Array {
  const k = dist.length;
  if (rule.allowed.length !== k || rule.maxShare.length !== k) throw new Error(`constrainActionDist: the rule covers ${rule.allowed.length} arms, the distribution ${k}`);
  const cap = new Float64Array(k);
  for (let a = 0; a < k; a++) cap[a] = rule.allowed[a] ? Math.min(1, Math.max(0, rule.maxShare[a])) : 0;
  const out = new Float64Array(k);
  const fixed = new Uint8Array(k);
  for (let a = 0; a < k; a++) if (cap[a] === 0) fixed[a] = 1;
  // Each pass fixes at least one more arm at its cap, so at most k passes.
  for (let pass = 0; pass <= k; pass++) {
    let rest = 1;
    let weight = 0;
    let open = 0;
    for (let a = 0; a < k; a++) {
      if (fixed[a]) rest -= out[a];
      else {
        weight += dist[a];
        open++;
      }
    }
    if (open === 0) break;
    let over = false;
    for (let a = 0; a < k; a++) {
      if (fixed[a]) continue;
      out[a] = weight > 0 ? (rest * dist[a]) / weight : rest / open;
      if (out[a] > cap[a]) over = true;
    }
    if (!over) break;
    for (let a = 0; a < k; a++) {
      if (!fixed[a] && out[a] > cap[a]) {
        out[a] = cap[a];
        fixed[a] = 1;
      }
    }
  }
  // Caps summing to 1 within round-off may leave ~1e-12 unplaced: normalise.
  let total = 0;
  for (let a = 0; a < k; a++) total += out[a];
  if (!(total > 0)) throw new Error('constrainActionDist: the rule allows no arm');
  for (let a = 0; a < k; a++) out[a] /= total;
  return out;
}

/** Draws an arm from `dist`; never one of probability 0 (round-off in the last step falls on the last arm with probability > 0). */
export function drawArm(dist: ArrayLike<number>, rng: Rng): number {
  let r = rng.uniform();
  let last = -1;
  for (let a = 0; a < dist.length; a++) {
    if (dist[a] <= 0) continue;
    last = a;
    r -= dist[a];
    if (r < 0) return a;
  }
  if (last < 0) throw new Error('drawArm: no arm has a probability > 0');
  return last;
}
