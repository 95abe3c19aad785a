/**
 * The policy model's prompt, one rendering for training, evaluation and serving.
 *
 * The user turn states the snapshot and the proposed actions compactly; the assistant answers with the
 * verdict as its FIRST word (`APPROVE` — safe to run unattended — or `FLAG` — a human must review),
 * then a newline and a one-line reason. The server scores the decision from the first answer token's
 * logits (APPROVE vs FLAG), so nothing before the verdict may vary.
 *
 * Chat format: ChatML (`<|im_start|>role\n…<|im_end|>\n`), the template of the tiny model built by
 * python/build_tiny_model.py and of SmolLM2/Qwen base models. Pure.
 */
import type { DecisionInput, Label, ProposedAction } from './decision';

/** Short on purpose: it is in every training sequence, and the tiny model's CPU time grows with length. */
export const SYSTEM_PROMPT = 'Review: APPROVE or FLAG, then why.';

export type Verdict = 'APPROVE' | 'FLAG';
export const VERDICTS: readonly Verdict[] = ['APPROVE', 'FLAG'];

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

/**
 * The user turn: the facts a reviewer decides on, one line each: the primary anomaly (the one the actions
 * must address), any other anomaly, the analysis's flags, then one line per proposed action that restates
 * the primary anomaly and the flags next to the action's own confidence and approval ("facts before the
 * verdict": each action's check reads one line). The service name, the metrics' values and the root-cause
 * text are left out: the review does not turn on them, and every token costs the tiny model CPU time
 * (48 tokens with the chat markers, against ~145 when they were in; bench/RESULTS.md).
 */
export function renderUserPrompt(input: DecisionInput, actions: readonly ProposedAction[]): string {
  const [primary, ...others] = input.anomalies;
  const a = input.analysis;
  const flags = `recent_deploy=${yesNo(a.recent_deploy)} blast_radius=${a.blast_radius} risk=${a.risk_level}`;
  const lines = [`primary ${primary.kind} ${primary.severity}`];
  for (const other of others) lines.push(`also ${other.kind} ${other.severity}`);
  lines.push(flags);
  for (const action of actions) {
    lines.push(`action ${action.type} for ${primary.kind} ${primary.severity} ${flags} confidence=${action.confidence.toFixed(2)} auto_approved=${yesNo(action.auto_approved)}`);
  }
  return lines.join('\n');
}

export function verdictFor(label: Label): Verdict {
  return label === 'good' ? 'APPROVE' : 'FLAG';
}

export function labelFor(verdict: Verdict): Label {
  return verdict === 'APPROVE' ? 'good' : 'bad';
}

/** The assistant turn: the verdict first, then the reason. */
export function renderAnswer(verdict: Verdict, reason: string): string {
  return `${verdict}\n${reason}`;
}

/** The prompt messages (system + user) for one snapshot and its proposed actions. */
export function promptMessages(input: DecisionInput, actions: readonly ProposedAction[]): ChatMessage[] {
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: renderUserPrompt(input, actions) },
  ];
}

/** ChatML text of `messages`, ending with the assistant generation prompt when asked (as HF's
 *  `apply_chat_template(..., add_generation_prompt=True)` renders the tiny model's template). */
export function renderChatML(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  let text = '';
  for (const m of messages) text += `${IM_START}${m.role}\n${m.content}${IM_END}\n`;
  if (addGenerationPrompt) text += `${IM_START}assistant\n`;
  return text;
}
