import { generateDecisions } from './generate';
import { minePreferencePairs, type ScoredItem } from './mining';
import { verdictFor } from './prompt';

describe('preference pairs mined from the SFT model\'s errors', () => {
  const records = generateDecisions({ n: 60, seed: 5 });
  // A model right on most items, wrong on items 0..5, barely right on 6..9 (within 0.1 of the threshold 0.4).
  const scored: ScoredItem[] = records.map((r, i) => {
    const good = r.label === 'good';
    const p = i < 6 ? (good ? 0.1 : 0.9) : i < 10 ? (good ? 0.45 : 0.35) : good ? 0.95 : 0.02;
    return { label: verdictFor(r.label), p_approve: p };
  });

  it('keeps every error and near-miss, balanced with as many confidently right items; the rejected verdict of an error is the model\'s own', () => {
    const mined = minePreferencePairs(records, scored, { threshold: 0.4, seed: 1 });
    expect(mined).toMatchObject({ errors: 6, marginal: 4, easy: 10 });
    expect(mined.pairs).toHaveLength(20);
    for (let i = 0; i < 10; i++) {
      const pair = mined.pairs[i]; // hard items come first here: they are the lowest indices and the pairs keep record order
      const verdict = verdictFor(records[i].label);
      expect(pair.chosen).toBe(verdict); // the verdict alone: no reason after it for DPO to learn instead
      const modelSaid = scored[i].p_approve >= 0.4 ? 'APPROVE' : 'FLAG';
      if (i < 6) expect(pair.rejected).toBe(modelSaid);
      else expect(pair.rejected).toBe(verdict === 'APPROVE' ? 'FLAG' : 'APPROVE');
    }
    // the draw of easy items depends on the seed only
    expect(minePreferencePairs(records, scored, { threshold: 0.4, seed: 1 })).toEqual(mined);
    expect(minePreferencePairs(records, scored, { threshold: 0.4, seed: 2 }).pairs).not.toEqual(mined.pairs);
  });

  it('a wider margin mines more; scores that are not of these records are refused', () => {
    expect(minePreferencePairs(records, scored, { threshold: 0.4, margin: 0.6, seed: 1 }).marginal).toBeGreaterThan(4);
    expect(() => minePreferencePairs(records.slice(1), scored, { threshold: 0.4, seed: 1 })).toThrow('59 records but 60 scores');
    const flipped = scored.map((s, i) => (i === 3 ? { ...s, label: s.label === 'APPROVE' ? ('FLAG' as const) : ('APPROVE' as const) } : s));
    expect(() => minePreferencePairs(records, flipped, { threshold: 0.4, seed: 1 })).toThrow(/score 3 is for a \w+ item but record 3 is labelled/);
    expect(() => minePreferencePairs(records, scored, { threshold: 1, seed: 1 })).toThrow('threshold must be in (0, 1), got 1');
  });
});
