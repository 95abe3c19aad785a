/** A rendered policy prompt from the synthetic generator, for tests. */
import { generateDecisions } from '../../../ml/policy-data/generate';
import { promptMessages, renderChatML } from '../../../ml/policy-data/prompt';

export function buildSampleDecision(seed = 1): string {
  const [d] = generateDecisions({ n: 1, seed });
  return renderChatML(promptMessages(d.input, d.output.actions), true);
}
