import { verdictPair } from './counterfactual';
import { toSftConversation } from './examples';
import { generateDecisions } from './generate';
import { renderChatML, SYSTEM_PROMPT, verdictFor } from './prompt';

describe('training examples', () => {
  const records = generateDecisions({ n: 200, seed: 9, labelNoise: 0.1 });

  it('SFT: system, user, then an assistant answer that starts with the label\'s verdict', () => {
    for (const r of records) {
      const { messages } = toSftConversation(r);
      expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(messages[0].content).toBe(SYSTEM_PROMPT);
      const primary = r.input.anomalies[0];
      expect(messages[1].content).toContain(`action ${r.output.actions[0].type} for ${primary.kind} ${primary.severity} `);
      const [verdict, reason] = messages[2].content.split('\n');
      expect(verdict).toBe(r.label === 'good' ? 'APPROVE' : 'FLAG');
      expect(reason.length).toBeGreaterThan(5);
    }
  });

  it("DPO: the pair's prompt is the SFT prompt in ChatML up to the assistant's turn; the answers are the verdicts alone", () => {
    for (const r of records) {
      const sft = toSftConversation(r);
      const pair = verdictPair(r, verdictFor(r.label));
      expect(pair.prompt).toBe(renderChatML(sft.messages.slice(0, 2), true));
      expect(pair.prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
      expect(pair.chosen).toBe(sft.messages[2].content.split('\n')[0]);
      expect(pair.rejected).toBe(r.label === 'good' ? 'FLAG' : 'APPROVE');
    }
  });

  it('renders ChatML as the tiny model\'s chat template does', () => {
    expect(renderChatML([{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }], false))
      .toBe('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n');
  });
});
