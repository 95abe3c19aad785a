/**
 * Preference pairs that teach what SFT gets wrong (issue "Oumi policy" item 2): the SFT model scores
 * its own training split, and DPO trains on the items it answers wrongly or barely right (p_approve
 * within `margin` of its threshold), each as a pair whose chosen answer is the labelled verdict and whose
 * rejected answer is the other verdict — for a wrong item, exactly the model's own verdict. The answers
 * are the verdict alone (counterfactual.ts, verdictPair: with the reason after it, DPO learns the text
 * after the verdict instead of the verdict). As many confidently right items, drawn with the seed, keep
 * DPO from drifting on what SFT already gets right. Pure.
 */
import { Rng } from '../rng';
import type { LabeledDecision } from './decision';
import { verdictPair } from './counterfactual';
import type { PreferencePair } from './examples';
import { verdictFor, type Verdict } from './prompt';

export interface ScoredItem {
  /** The label as evaluate_policy.py read it from the conversation (checks the alignment). */
  label: Verdict;
  p_approve: number;
}

export interface MiningOptions {
  /** The SFT model's decision threshold (approve when p ≥ it). */
  threshold: number;
  /** |p − threshold| below this is a barely-right item, mined too. Default 0.1. */
  margin?: number;
  seed: number;
}

export interface MinedPairs {
  pairs: PreferencePair[];
  /** Items the SFT model answers wrongly, barely right, and the confidently right ones drawn to balance them. */
  errors: number;
  marginal: number;
  easy: number;
}

export function minePreferencePairs(records: readonly LabeledDecision[], scored: readonly ScoredItem[], options: MiningOptions): MinedPairs {
  const { threshold, seed } = options;
  const margin = options.margin ?? 0.1;
  if (records.length !== scored.length) throw new Error(`minePreferencePairs: ${records.length} records but ${scored.length} scores; expected one score per record, in order`);
  if (!(threshold > 0 && threshold < 1)) throw new Error(`minePreferencePairs: threshold must be in (0, 1), got ${threshold}`);
  if (!(margin >= 0 && margin < 1)) throw new Error(`minePreferencePairs: margin must be in [0, 1), got ${margin}`);
  const hard: number[] = [];
  const easy: number[] = [];
  let errors = 0;
  records.forEach((r, i) => {
    const s = scored[i];
    const verdict = verdictFor(r.label);
    if (s.label !== verdict) throw new Error(`minePreferencePairs: score ${i} is for a ${s.label} item but record ${i} is labelled ${verdict}; the scores are not of these records`);
    const wrong = (s.p_approve >= threshold) !== (verdict === 'APPROVE');
    if (wrong) errors++;
    if (wrong || Math.abs(s.p_approve - threshold) < margin) hard.push(i);
    else easy.push(i);
  });
  // Seeded Fisher–Yates over the easy items, then the first |hard| of them.
  new Rng(seed).shuffle(easy);
  const drawn = easy.slice(0, hard.length);
  const chosen = [...hard, ...drawn].sort((a, b) => a - b);
  return { pairs: chosen.map((i) => verdictPair(records[i], verdictFor(records[i].label))), errors, marginal: hard.length - errors, easy: drawn.length };
}
