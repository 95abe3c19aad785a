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

export const SYSTEM_PROMPT =
  'You review automated remediation decisions for production incidents. ' +
  'Answer APPROVE if the proposed actions are safe to run automatically, or FLAG if a human must review them, ' +
  'then give a one-line reason.';

export type Verdict = 'APPROVE' | 'FLAG';
export const VERDICTS: readonly Verdict[] = ['APPROVE', 'FLAG'];

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';

function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
}

/** The user turn: the snapshot (anomalies, analysis) and the proposed actions, one fact per line. */
export function renderUserPrompt(input: DecisionInput, actions: readonly ProposedAction[]): string {
  const lines = [`service ${input.service} (${input.environment})`];
  for (const anomaly of input.anomalies) {
    const metrics = Object.entries(anomaly.metrics).map(([k, v]) => `${k}=${formatMetric(v)}`).join(' ');
    lines.push(`anomaly ${anomaly.kind} ${anomaly.severity}: ${metrics}`);
  }
  const a = input.analysis;
  lines.push(`analysis: ${a.root_cause}; recent_deploy=${a.recent_deploy ? 'yes' : 'no'} blast_radius=${a.blast_radius} risk=${a.risk_level}`);
  for (const action of actions) {
    lines.push(`action ${action.type} confidence=${action.confidence.toFixed(2)} auto_approved=${action.auto_approved ? 'yes' : 'no'}`);
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
