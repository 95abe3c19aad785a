/**
 * Stratified, seeded train/eval split: records are grouped by stratum (label × first action type by
 * default), each group shuffled with its own seeded Fisher–Yates pass, and round(fraction × size) of
 * each group goes to eval, so both splits keep the label and action mix. Pure.
 */
import { Rng } from '../rng';
import type { LabeledDecision } from './decision';

export interface SplitOptions {
  /** Fraction of each stratum held out for evaluation, in (0, 1). */
  evalFraction: number;
  seed: number;
  stratum?: (record: LabeledDecision) => string;
}

export interface Split<T> {
  train: T[];
  eval: T[];
}

export const labelAndAction = (r: LabeledDecision): string => `${r.label}/${r.output.actions[0].type}`;

export function stratifiedSplit(records: readonly LabeledDecision[], options: SplitOptions): Split<LabeledDecision> {
  const { evalFraction, seed } = options;
  if (!(evalFraction > 0 && evalFraction < 1)) throw new Error(`stratifiedSplit: evalFraction must be in (0, 1), got ${evalFraction}`);
  const stratum = options.stratum ?? labelAndAction;
  const groups = new Map<string, number[]>();
  records.forEach((r, i) => {
    const key = stratum(r);
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const rng = new Rng(seed);
  const evalIndex = new Set<number>();
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key) as number[];
    rng.shuffle(group);
    const take = Math.round(evalFraction * group.length);
    for (let i = 0; i < take; i++) evalIndex.add(group[i]);
  }
  const split: Split<LabeledDecision> = { train: [], eval: [] };
  records.forEach((r, i) => (evalIndex.has(i) ? split.eval : split.train).push(r));
  return split;
}
