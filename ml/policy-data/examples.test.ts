import { toPreferencePair, toSftConversation } from './examples';
import { generateDecisions } from './generate';
import { IM_END, renderChatML, SYSTEM_PROMPT } from './prompt';

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

  it('DPO: the chosen answer agrees with the label, the rejected one does not; the prompt is the SFT prompt in ChatML', () => {
    for (const r of records) {
      const pair = toPreferencePair(r);
      const sft = toSftConversation(r);
      expect(pair.prompt).toBe(renderChatML(sft.messages.slice(0, 2), true));
      expect(pair.prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
      expect(pair.chosen).toBe(sft.messages[2].content + IM_END);
      expect(pair.chosen.split('\n')[0]).not.toBe(pair.rejected.split('\n')[0]);
      expect(pair.rejected.startsWith(r.label === 'good' ? 'FLAG\n' : 'APPROVE\n')).toBe(true);
      expect(pair.rejected.slice(pair.rejected.indexOf('\n'))).toBe(pair.chosen.slice(pair.chosen.indexOf('\n')));
    }
  });

  it('renders ChatML as the tiny model\'s chat template does', () => {
    expect(renderChatML([{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }], false))
      .toBe('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n');
  });
});
