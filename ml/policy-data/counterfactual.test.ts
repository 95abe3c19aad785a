import { drawOneFactChanges, flippingVariants, flipPairs, judgedVerdictPairs, matchedEasyItems, minePool, oneFactChanges, verdictPair, type JudgeGood } from './counterfactual';
import { generateDecisions } from './generate';
import { judge } from './judge';
import { promptMessages, renderChatML } from './prompt';
import { Rng } from '../rng';
import type { LabeledDecision } from './decision';

const rule: JudgeGood = (input, actions) => judge(input, actions).good;

/** The facts a variant may change, flattened, to count how many differ. */
function facts(r: Pick<LabeledDecision, 'input' | 'output'>): string[] {
  const a = r.input.analysis;
  return [a.blast_radius, a.risk_level, String(a.recent_deploy), ...r.output.actions.flatMap((x) => [x.type, String(x.auto_approved), x.confidence.toFixed(2)])];
}

describe('counterfactual verdict pairs', () => {
  const records = generateDecisions({ n: 300, seed: 11, labelNoise: 0 });

  it('each variant changes one fact and flips the judge\'s verdict; the label is the judge\'s', () => {
    let total = 0;
    for (const r of records.slice(0, 60)) {
      const variants = flippingVariants(r, rule, new Rng(3));
      const base = rule(r.input, r.output.actions);
      for (const v of variants) {
        const before = facts(r);
        const after = facts(v);
        expect(after).toHaveLength(before.length);
        expect(after.filter((x, i) => x !== before[i])).toHaveLength(1);
        expect(rule(v.input, v.output.actions)).toBe(!base);
        expect(v.label).toBe(base ? 'bad' : 'good');
        expect(v.input.anomalies).toEqual(r.input.anomalies);
      }
      total += variants.length;
      expect(flippingVariants(r, rule, new Rng(3))).toEqual(variants);
    }
    expect(total).toBeGreaterThan(60); // most decisions have several facts the verdict turns on
    // a judge that never changes its mind has no flipping variant
    expect(flippingVariants(records[0], () => true, new Rng(1))).toEqual([]);
  });

  it('lists every one-fact change: 2 blast radii, 2 risk levels, the deploy flag, and per action its approval, a confidence across 0.4 and 7 other types', () => {
    for (const r of records.slice(0, 20)) {
      const changes = oneFactChanges(r, new Rng(1));
      expect(changes).toHaveLength(5 + 9 * r.output.actions.length);
      for (const c of changes) expect(facts(c).filter((x, i) => x !== facts(r)[i])).toHaveLength(1);
      const confidences = changes.flatMap((c) => c.output.actions.map((a, j) => [a.confidence, r.output.actions[j].confidence])).filter(([a, b]) => a !== b);
      for (const [changed, was] of confidences) expect(changed >= 0.4).toBe(was < 0.4);
    }
  });

  it('a verdict pair is the SFT prompt with the verdict alone chosen over the other', () => {
    const pair = verdictPair(records[0], 'FLAG');
    expect(pair).toEqual({ prompt: renderChatML(promptMessages(records[0].input, records[0].output.actions), true), chosen: 'FLAG', rejected: 'APPROVE' });
    expect(verdictPair(records[0], 'APPROVE')).toMatchObject({ chosen: 'APPROVE', rejected: 'FLAG' });
  });

  it('mines the model\'s errors and near-misses against the judge, their flips, and a right item of the other verdict each', () => {
    const good = records.map((r) => rule(r.input, r.output.actions));
    // A model wrong on items 0..9, barely right on 10..14, confidently right elsewhere.
    const p = good.map((g, i) => (i < 10 ? (g ? 0.1 : 0.9) : i < 15 ? (g ? 0.55 : 0.45) : g ? 0.97 : 0.03));
    const mined = judgedVerdictPairs(records, p, rule, { variants: 2, seed: 4 });
    expect(mined).toMatchObject({ errors: 10, marginal: 5, easy: 15 });
    expect(mined.variants).toBeGreaterThan(15);
    expect(mined.variants).toBeLessThanOrEqual(30);
    expect(mined.pairs).toHaveLength(15 + mined.variants + 15);
    expect(mined.approve + mined.flag).toBe(mined.pairs.length);
    const byPrompt = new Map(mined.pairs.map((x) => [x.prompt, x.chosen]));
    for (let i = 0; i < 15; i++) {
      // the chosen verdict is the judge's, whatever the model said
      expect(byPrompt.get(verdictPair(records[i], 'APPROVE').prompt)).toBe(good[i] ? 'APPROVE' : 'FLAG');
    }
    // the mined items and their matches prefer each verdict equally often
    const minedAndMatched = mined.pairs.filter((x) => records.some((r) => verdictPair(r, 'APPROVE').prompt === x.prompt));
    expect(minedAndMatched).toHaveLength(30);
    expect(minedAndMatched.filter((x) => x.chosen === 'APPROVE')).toHaveLength(15);
    // seeded
    expect(judgedVerdictPairs(records, p, rule, { variants: 2, seed: 4 })).toEqual(mined);
    expect(judgedVerdictPairs(records, p, rule, { variants: 2, seed: 5 }).pairs).not.toEqual(mined.pairs);
    expect(judgedVerdictPairs(records, p, rule, { variants: 0, seed: 4 }).pairs).toHaveLength(30);
  });

  it('splits a judged pool into hard items (wrong or barely right at 0.5) and easy ones, leaving out what the judge did not decide', () => {
    const p = [0.9, 0.1, 0.55, 0.45, 0.97, 0.02, 0.95, 0.6, 0.3];
    const v = ['FLAG', 'APPROVE', 'APPROVE', 'FLAG', 'APPROVE', 'FLAG', null, 'FLAG', 'FLAG'] as const;
    const mining = minePool(p, v);
    expect(mining).toEqual({ hard: [0, 1, 2, 3, 7], errors: 3, easyApprove: [4], easyFlag: [5, 8], undecided: 1 });
    expect(minePool(p, v, { at: 0.5, margin: 0 }).hard).toEqual([0, 1, 7]);
    // 2 hard APPROVE items ask for 2 easy FLAG ones, 3 hard FLAG items for 3 easy APPROVE ones (only 1 exists)
    const drawn = matchedEasyItems(mining, v, new Rng(2));
    expect([...drawn].sort()).toEqual([4, 5, 8]);
    expect(() => minePool(p, v.slice(1))).toThrow('minePool: 8 verdicts but 9 scores');
    expect(() => minePool(p, v, { margin: 1 })).toThrow('minePool: margin must be in [0, 1), got 1');
  });

  it('draws up to n one-fact changes per item, seeded, and keeps as pairs the changes the judge decided the other way, at most perItem per item', () => {
    const changes = drawOneFactChanges(records, [0, 1], 6, new Rng(5));
    expect(changes.map((c) => c.of)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(drawOneFactChanges(records, [0, 1], 6, new Rng(5))).toEqual(changes);
    expect(drawOneFactChanges(records, [0], 1000, new Rng(5))).toHaveLength(5 + 9 * records[0].output.actions.length);
    const verdicts: ('APPROVE' | 'FLAG' | null)[] = ['FLAG', 'FLAG', 'FLAG', 'APPROVE', null, 'FLAG', 'APPROVE', 'APPROVE', 'APPROVE', 'APPROVE', 'APPROVE', 'APPROVE'];
    // item 0 was APPROVE: four changes decided FLAG, at most 2 kept; item 1 undecided: none kept
    const { rows, pairs } = flipPairs(changes, verdicts, (of) => (of === 0 ? 'APPROVE' : null), 2);
    expect(rows.map((r) => r.pair)).toEqual([true, true, false, false, false, false, false, false, false, false, false, false]);
    expect(pairs).toEqual([verdictPair(changes[0].record, 'FLAG'), verdictPair(changes[1].record, 'FLAG')]);
    expect(rows[4]).toMatchObject({ of: 0, judged: null, item: 'APPROVE', pair: false });
    expect(() => flipPairs(changes, verdicts.slice(1), () => 'APPROVE', 2)).toThrow('flipPairs: 11 verdicts for 12 changes');
  });

  it('refuses scores that do not fit', () => {
    const p = records.map(() => 0.5);
    expect(() => judgedVerdictPairs(records.slice(1), p, rule, { seed: 1 })).toThrow('299 records but 300 scores');
    expect(() => judgedVerdictPairs(records, p.map((x, i) => (i === 7 ? 1.5 : x)), rule, { seed: 1 })).toThrow("minePool: score 7 is 1.5; expected p_approve in [0, 1]");
    expect(() => judgedVerdictPairs(records, p, rule, { seed: 1, at: 0 })).toThrow("minePool: at must be in (0, 1), got 0");
    expect(() => judgedVerdictPairs(records, p, rule, { seed: 1, variants: 1.5 })).toThrow('variants must be an integer ≥ 0, got 1.5');
  });
});
