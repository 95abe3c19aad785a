/**
 * A stand-in LLM judge for tests (no external model is reachable): an OpenAI-compatible HTTP server
 * answering `POST /v1/chat/completions` as a judge model would, with the reviewing rule's verdict
 * (ml/policy-data/judge.ts). It reads the incident and the policy's answer from the prompt Oumi's rubric
 * judge sends (the facts as renderUserPrompt writes them, one per line), and answers in the format the
 * system instruction asks for (a flat JSON object, or XML tags), one label and explanation per criterion.
 *
 * The rule is sure of its call except on borderline items — an action whose confidence is within
 * `borderline` of the rule's 0.4 floor — where it calls both answers `questionable` / `partly_accurate`
 * (equal scores: below any margin, so no pair). Requests without `Authorization: Bearer <apiKey>` get a
 * 401 when a key is set. Every request is counted; the last one's body is kept for inspection.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTION_TYPES, ANOMALY_KINDS, type DecisionInput, type ProposedAction } from '../../../ml/policy-data/decision';
import { judge, MIN_CONFIDENCE } from '../../../ml/policy-data/judge';

export interface RuleJudgeServer {
  url: string;
  requests: number;
  unauthorized: number;
  /** Authorization headers seen (to check the key is the one the worker's environment holds). */
  authorizations: Set<string>;
  close(): Promise<void>;
}

export interface ParsedPrompt {
  input: DecisionInput;
  actions: ProposedAction[];
  verdict: 'APPROVE' | 'FLAG';
}

/** The incident, its actions and the answer's verdict, from the judge prompt's text. */
export function parseJudgePrompt(text: string): ParsedPrompt {
  const lines = text.split('\n').map((l) => l.trim());
  const severities = '(low|medium|high|critical)';
  const primary = lines.map((l) => new RegExp(`^primary (\\w+) ${severities}$`).exec(l)).find((m) => m !== null);
  const others = lines.map((l) => new RegExp(`^also (\\w+) ${severities}$`).exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const flags = lines.map((l) => /^recent_deploy=(yes|no) blast_radius=(\w+) risk=(low|medium|high)$/.exec(l)).find((m) => m !== null);
  const actions = lines.map((l) => /^action (\w+) for .* confidence=([\d.]+) auto_approved=(yes|no)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const answered = lines.findIndex((l) => l === 'The policy answered:');
  const verdict = answered >= 0 ? lines[answered + 1] : undefined;
  if (!primary || !flags || actions.length === 0 || (verdict !== 'APPROVE' && verdict !== 'FLAG')) {
    throw new Error(`rule judge: the prompt does not state an incident, its actions and an APPROVE/FLAG answer: ${JSON.stringify(text.slice(0, 300))}`);
  }
  const anomalies = [primary, ...others];
  for (const a of anomalies) if (!(ANOMALY_KINDS as readonly string[]).includes(a[1])) throw new Error(`rule judge: unknown anomaly ${a[1]}`);
  for (const a of actions) if (!(ACTION_TYPES as readonly string[]).includes(a[1])) throw new Error(`rule judge: unknown action ${a[1]}`);
  return {
    input: {
      snapshot_id: 'judged',
      service: 'judged',
      environment: 'prod',
      anomalies: anomalies.map((a) => ({ kind: a[1] as DecisionInput['anomalies'][number]['kind'], severity: a[2] as 'low', metrics: {} })),
      analysis: { root_cause: '', recent_deploy: flags[1] === 'yes', blast_radius: flags[2] as 'pod', risk_level: flags[3] as 'low' },
    },
    actions: actions.map((a, i) => ({ id: String(i), type: a[1] as ProposedAction['type'], confidence: Number(a[2]), auto_approved: a[3] === 'yes', reasoning: '' })),
    verdict,
  };
}

/** The rule's labels for one answer: sure (appropriate/inappropriate) or, on a borderline item, unsure. */
export function ruleJudgement(p: ParsedPrompt, borderline: number): { action_appropriateness: string; risk_assessment_accuracy: string; explanation: string } {
  const rule = judge(p.input, p.actions);
  if (p.actions.some((a) => Math.abs(a.confidence - MIN_CONFIDENCE) < borderline)) {
    return { action_appropriateness: 'questionable', risk_assessment_accuracy: 'partly_accurate', explanation: `a confidence this close to ${MIN_CONFIDENCE} could go either way` };
  }
  const right = rule.good === (p.verdict === 'APPROVE');
  return { action_appropriateness: right ? 'appropriate' : 'inappropriate', risk_assessment_accuracy: right ? 'accurate' : 'inaccurate', explanation: rule.reason };
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

export async function startRuleJudgeServer(options: { apiKey?: string; borderline?: number } = {}): Promise<RuleJudgeServer> {
  const borderline = options.borderline ?? 0.03;
  const state = { requests: 0, unauthorized: 0, authorizations: new Set<string>() };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const reply = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return reply(404, { error: { message: `no route ${req.method} ${req.url}` } });
      state.requests++;
      const auth = req.headers.authorization ?? '';
      state.authorizations.add(auth);
      if (options.apiKey !== undefined && auth !== `Bearer ${options.apiKey}`) {
        state.unauthorized++;
        return reply(401, { error: { message: 'invalid api key' } });
      }
      const request = JSON.parse(await body(req)) as { model: string; messages: { role: string; content: string }[] };
      const system = request.messages.find((m) => m.role === 'system')?.content ?? '';
      const user = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      let judgement: ReturnType<typeof ruleJudgement>;
      try {
        judgement = ruleJudgement(parseJudgePrompt(user), borderline);
      } catch (err) {
        return reply(400, { error: { message: (err as Error).message } });
      }
      const fields: Record<string, string> = {
        action_appropriateness_explanation: judgement.explanation,
        action_appropriateness: judgement.action_appropriateness,
        risk_assessment_accuracy_explanation: judgement.explanation,
        risk_assessment_accuracy: judgement.risk_assessment_accuracy,
      };
      const xml = /XML format/.test(system + user);
      const content = xml ? Object.entries(fields).map(([k, v]) => `<${k}>${v}</${k}>`).join('\n') : JSON.stringify(fields);
      reply(200, {
        id: `chatcmpl-${state.requests}`,
        object: 'chat.completion',
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: Math.ceil((system.length + user.length) / 4), completion_tokens: Math.ceil(content.length / 4) },
      });
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    get requests() { return state.requests; },
    get unauthorized() { return state.unauthorized; },
    authorizations: state.authorizations,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
