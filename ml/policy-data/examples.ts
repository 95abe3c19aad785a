/**
 * Training examples from labelled decisions (R-APPROVAL-PREP):
 *  - SFT: an Oumi conversation `{ messages: [system, user, assistant] }` whose assistant turn is the
 *    verdict matching the human label, then the reason;
 *  - DPO: the shape of a preference pair `{ prompt, chosen, rejected }`; the pairs themselves are the
 *    verdict alone (counterfactual.ts, verdictPair). The prompt is pre-rendered ChatML, as Oumi's
 *    `text_dpo_jsonl` dataset expects (it does not apply the chat template again). Pure.
 */
import type { LabeledDecision } from './decision';
import { judge } from './judge';
import { promptMessages, renderAnswer, verdictFor, type ChatMessage } from './prompt';

export interface SftConversation {
  messages: ChatMessage[];
}

export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
}

/** The reason given with the label: the reviewing rule's, or the reviewer's own call when the label
 *  disagrees with the rule (a noisy label). */
export function reasonFor(record: LabeledDecision): string {
  const judgement = judge(record.input, record.output.actions);
  if (judgement.good === (record.label === 'good')) return judgement.reason;
  return record.label === 'good' ? 'the reviewer accepted these actions' : 'the reviewer rejected these actions';
}

/** `reason`: the reviewer's own words (human feedback), instead of reasonFor(record). */
export function toSftConversation(record: LabeledDecision, reason?: string): SftConversation {
  const answer = renderAnswer(verdictFor(record.label), reason ?? reasonFor(record));
  return { messages: [...promptMessages(record.input, record.output.actions), { role: 'assistant', content: answer }] };
}

