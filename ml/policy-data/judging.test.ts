import { verdictPair } from './counterfactual';
import { verdictFor } from './prompt';
import { generateDecisions } from './generate';
import { agreement, candidatePair, judgePair, JUDGED_ANSWER, mergePreferencePairs, preferences, selectJudgedItems, type JudgedAnswer } from './judging';
import { renderUserPrompt } from './prompt';

const answer = (score: number | null, explanation = 'why'): JudgedAnswer => ({ score, criteria: { action_appropriateness: { score, explanation }, risk_assessment_accuracy: { score, explanation: null } } });

describe('LLM-as-judge preferences', () => {
  const records = generateDecisions({ n: 6, seed: 4 });

  it("selects the SFT model's errors first, then the items nearest its threshold, at most maxItems", () => {
    const scored = [
      { label: 'APPROVE' as const, p_approve: 0.9 }, // right, far
      { label: 'FLAG' as const, p_approve: 0.52 }, // wrong, near
      { label: 'APPROVE' as const, p_approve: 0.55 }, // right, near
      { label: 'APPROVE' as const, p_approve: 0.1 }, // wrong, far
      { label: 'FLAG' as const, p_approve: 0.45 }, // right, near
    ];
    expect(selectJudgedItems(scored, 0.5, 10)).toEqual([1, 3, 4, 2, 0]);
    expect(selectJudgedItems(scored, 0.5, 3)).toEqual([1, 3, 4]);
    expect(() => selectJudgedItems(scored, 1, 3)).toThrow('threshold must be in (0, 1), got 1');
    expect(() => selectJudgedItems(scored, 0.5, 0)).toThrow('maxItems must be an integer ≥ 1, got 0');
  });

  it("pairs the policy's answer with the other verdict on the same facts, without a reason that would give the label away", () => {
    const [a, b] = candidatePair(3, records[0], 'FLAG');
    expect(a).toMatchObject({ item: 3, source: 'sft', verdict: 'FLAG', response: JUDGED_ANSWER.FLAG });
    expect(b).toMatchObject({ item: 3, source: 'alternative', verdict: 'APPROVE', response: JUDGED_ANSWER.APPROVE });
    expect(a.request).toBe(renderUserPrompt(records[0].input, records[0].output.actions));
    expect(b.request).toBe(a.request);
  });

  it('prefers the higher-scored answer by at least the margin; ties, small gaps and unscored answers give no pair', () => {
    const candidates = [0, 1, 2, 3].flatMap((i) => candidatePair(i, records[i], 'APPROVE'));
    const answers = [answer(1, 'fits'), answer(0), answer(0.25), answer(0.75, 'risky'), answer(0.5), answer(0.25), answer(null), answer(1)];
    expect(preferences(candidates, answers, 0.5)).toEqual([
      { item: 0, chosen: 'APPROVE', margin: 1, explanation: 'fits' },
      { item: 1, chosen: 'FLAG', margin: 0.5, explanation: 'risky' },
      { item: 2, chosen: null, margin: 0.25, explanation: null },
      { item: 3, chosen: null, margin: null, explanation: null },
    ]);
    expect(preferences(candidates.slice(0, 2), [answer(0.5), answer(0.5)], 0)).toEqual([{ item: 0, chosen: null, margin: 0, explanation: null }]);
    expect(() => preferences(candidates, answers.slice(1), 0.5)).toThrow('8 candidates but 7 judged answers');
    expect(() => preferences(candidates, answers, 1.5)).toThrow('margin must be in [0, 1], got 1.5');
  });

  it("writes a judged item as a DPO pair: the judge's verdict alone chosen over the other", () => {
    const r = records[1];
    const pair = judgePair(r, { item: 1, chosen: 'FLAG', margin: 1, explanation: 'restart across several services is too disruptive\nmore' });
    expect(pair).toEqual({ prompt: verdictPair(r, 'FLAG').prompt, chosen: 'FLAG', rejected: 'APPROVE' });
    expect(judgePair(r, { item: 1, chosen: 'APPROVE', margin: 1, explanation: null })).toMatchObject({ chosen: 'APPROVE', rejected: 'FLAG' });
    expect(() => judgePair(r, { item: 1, chosen: null, margin: 0, explanation: null })).toThrow('item 1 has no preferred answer');
  });

  it('merges: an agreeing judge pair is kept once, a contradicting one drops both, a new prompt is added', () => {
    const [a, b, c] = records.slice(0, 3).map((r) => verdictPair(r, verdictFor(r.label)));
    const flip = (p: typeof a) => ({ ...p, chosen: p.rejected, rejected: p.chosen });
    const merged = mergePreferencePairs([a, b], [a, flip(b), c]);
    expect(merged).toEqual({ pairs: [a, c], added: 1, conflicts: 1 });
  });

  it("agreement: the share of decided items where the judge's verdict is the people's, and Cohen's kappa", () => {
    // decided 4: agree 3; judge APPROVE 2/4, people APPROVE 1/4 → p_e = 0.5·0.25 + 0.5·0.75 = 0.5, κ = (0.75 − 0.5)/0.5 = 0.5
    expect(agreement(['APPROVE', 'APPROVE', 'FLAG', 'FLAG', null], ['APPROVE', 'FLAG', 'FLAG', 'FLAG', 'APPROVE'])).toEqual({ n: 5, decided: 4, agree: 3, agreement: 0.75, kappa: 0.5 });
    expect(agreement([null], ['FLAG'])).toEqual({ n: 1, decided: 0, agree: 0, agreement: null, kappa: null });
    // one class on both sides: chance agreement is 1 and kappa is undefined
    expect(agreement(['FLAG', 'FLAG'], ['FLAG', 'FLAG'])).toMatchObject({ agreement: 1, kappa: null });
  });
});
