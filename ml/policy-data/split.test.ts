import { generateDecisions } from './generate';
import { labelAndAction, stratifiedSplit } from './split';

describe('stratified split', () => {
  const records = generateDecisions({ n: 1000, seed: 5 });

  it('partitions the records, reproducibly from the seed', () => {
    const split = stratifiedSplit(records, { evalFraction: 0.2, seed: 1 });
    expect(split.train.length + split.eval.length).toBe(records.length);
    expect(new Set([...split.train, ...split.eval]).size).toBe(records.length);
    expect(stratifiedSplit(records, { evalFraction: 0.2, seed: 1 })).toEqual(split);
    expect(stratifiedSplit(records, { evalFraction: 0.2, seed: 2 }).eval).not.toEqual(split.eval);
  });

  it('keeps each stratum\'s share in the eval split', () => {
    const split = stratifiedSplit(records, { evalFraction: 0.2, seed: 1 });
    const count = (rs: typeof records): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of rs) m.set(labelAndAction(r), (m.get(labelAndAction(r)) ?? 0) + 1);
      return m;
    };
    const all = count(records);
    const held = count(split.eval);
    for (const [key, n] of all) expect(held.get(key) ?? 0).toBe(Math.round(0.2 * n));
  });

  it('rejects an eval fraction outside (0, 1)', () => {
    expect(() => stratifiedSplit(records, { evalFraction: 1, seed: 1 })).toThrow(/evalFraction must be in \(0, 1\), got 1/);
  });
});
