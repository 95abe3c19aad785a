import { DEFAULT_PROMPT_TEMPLATE } from '../judge-config';
import { generateDecisions } from '../../../ml/policy-data/generate';
import { judge } from '../../../ml/policy-data/judge';
import { JUDGED_ANSWER } from '../../../ml/policy-data/judging';
import { renderUserPrompt } from '../../../ml/policy-data/prompt';
import { parseJudgePrompt, ruleJudgement } from './rule-judge-server';

describe('the rule-backed stand-in judge', () => {
  it("reads back from the judge prompt every fact the reviewing rule uses, and calls the rule's verdict appropriate", () => {
    for (const r of generateDecisions({ n: 200, seed: 8 })) {
      for (const verdict of ['APPROVE', 'FLAG'] as const) {
        const prompt = DEFAULT_PROMPT_TEMPLATE.replace('{request}', renderUserPrompt(r.input, r.output.actions)).replace('{response}', JUDGED_ANSWER[verdict]);
        const parsed = parseJudgePrompt(prompt);
        expect(parsed.verdict).toBe(verdict);
        expect(judge(parsed.input, parsed.actions)).toEqual(judge(r.input, r.output.actions));
        const right = judge(r.input, r.output.actions).good === (verdict === 'APPROVE');
        expect(ruleJudgement(parsed, 0).action_appropriateness).toBe(right ? 'appropriate' : 'inappropriate');
      }
    }
  });

  it('refuses a prompt without an incident or an answer', () => {
    expect(() => parseJudgePrompt('hello')).toThrow('the prompt does not state an incident');
  });
});
