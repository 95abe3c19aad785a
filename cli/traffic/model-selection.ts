/**
 * Traffic for seed 001's model-selection use case against a running inference server: simulated LLM
 * requests (envs/model-selection.ts) ask a bandit deployment which model to use (`/v1/decide` with the
 * raw request: the server computes the bandit's context from it with the feature set `featureSet`,
 * configs/features/model-selection.yaml by default: task category one-hot from the prompt's keywords,
 * size in thousands of tokens), the simulator answers with that model, and the quality and cost go back
 * as reward components (`/v1/rewards`). Every request's counterfactual is known, so the summary says what
 * always using the premium model would have cost and how good it would have been: the demo's line.
 */
import {
  MODEL_SELECTION_ARMS, ModelSelectionSimulator, SavingsLedger,
  type LedgerSnapshot, type ModelArm, type ModelSelectionRequest,
} from '../../envs/model-selection';

/** The feature set of configs/features/model-selection.yaml: the bandit's context, computed by the server. */
export const MODEL_SELECTION_FEATURE_SET = 'model-selection';

export interface ModelSelectionTrafficOptions {
  server: string;
  deployment: string;
  requests: number;
  concurrency: number;
  seed: number;
  /** Stop early after this many milliseconds (0 = no limit). */
  durationMs?: number;
  apiKey?: string | null;
  /** The feature set the server computes the context with (default `model-selection`). */
  featureSet?: string;
  onProgress?: (s: ModelSelectionSummary) => void;
}

export interface ModelSelectionSummary {
  decisions: number;
  rewards: number;
  errors: number;
  elapsedMs: number;
  /** All requests, and the second half only (after the bandit has learnt). */
  all: LedgerSnapshot;
  secondHalf: LedgerSnapshot;
  lastError?: string;
}

async function postJson(url: string, body: unknown, apiKey: string | null): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  try {
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    try {
      return { status: res.status, json: text ? JSON.parse(text) : null };
    } catch {
      return { status: res.status, json: { error: text } };
    }
  } catch (err) {
    return { status: 0, json: { error: (err as Error).message } };
  }
}

export async function generateModelSelectionTraffic(opts: ModelSelectionTrafficOptions): Promise<ModelSelectionSummary> {
  if (!(Number.isInteger(opts.requests) && opts.requests >= 2)) throw new Error(`requests: got ${opts.requests}, expected an integer ≥ 2`);
  if (!(Number.isInteger(opts.concurrency) && opts.concurrency >= 1)) throw new Error(`concurrency: got ${opts.concurrency}, expected an integer ≥ 1`);
  const base = opts.server.replace(/\/$/, '');
  const apiKey = opts.apiKey ?? null;
  const featureSet = opts.featureSet ?? MODEL_SELECTION_FEATURE_SET;
  // Requests and answers come from two seeded streams, so the requests do not depend on the arms chosen.
  const stream = new ModelSelectionSimulator(opts.seed);
  const answers = new ModelSelectionSimulator(opts.seed + 1_000_003);
  const all = new SavingsLedger();
  const late = new SavingsLedger();
  const half = Math.floor(opts.requests / 2);
  const started = Date.now();
  const deadline = opts.durationMs ? started + opts.durationMs : Infinity;
  const summary = (): ModelSelectionSummary => ({ decisions, rewards, errors, elapsedMs: Date.now() - started, all: all.toJSON(), secondHalf: late.toJSON(), lastError });
  let issued = 0;
  let decisions = 0;
  let rewards = 0;
  let errors = 0;
  let lastError: string | undefined;
  let lastProgress = 0;

  async function one(req: ModelSelectionRequest): Promise<void> {
    // The raw request; `expected_tokens`: the size (prompt + answer) a caller estimates before asking.
    const request = { prompt: req.prompt, tenant: req.tenant, expected_tokens: req.tokens };
    const decide = await postJson(`${base}/v1/decide`, { deployment: opts.deployment, features: { featureSet, request } }, apiKey);
    if (decide.status !== 200) {
      errors++;
      lastError = `decide: HTTP ${decide.status} ${JSON.stringify(decide.json)}`;
      return;
    }
    decisions++;
    const arm = decide.json.arm as ModelArm;
    if (!MODEL_SELECTION_ARMS.includes(arm)) {
      errors++;
      lastError = `decide: arm ${JSON.stringify(arm)} is not one of ${MODEL_SELECTION_ARMS.join(', ')} (is ${opts.deployment} the model-selection bandit?)`;
      return;
    }
    const out = answers.answer(req, arm);
    all.add(req, arm, out);
    if (req.id >= half) late.add(req, arm, out);
    const reward = await postJson(`${base}/v1/rewards`, { decisionId: decide.json.decisionId, components: { quality: out.quality, cost_usd: out.costUsd } }, apiKey);
    if (reward.status >= 200 && reward.status < 300) rewards++;
    else {
      errors++;
      lastError = `rewards: HTTP ${reward.status} ${JSON.stringify(reward.json)}`;
    }
  }

  async function worker(): Promise<void> {
    while (issued < opts.requests && Date.now() < deadline) {
      issued++;
      await one(stream.next());
      if (opts.onProgress && Date.now() - lastProgress > 250) {
        lastProgress = Date.now();
        opts.onProgress(summary());
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, () => worker()));
  return summary();
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The demo's line: cost saved and quality kept against always using the premium model. */
export function modelSelectionLine(s: ModelSelectionSummary): string {
  const a = s.all;
  const h = s.secondHalf;
  const arms = Object.entries(a.byArm).map(([arm, n]) => `${arm} ${n}`).join(', ');
  return `model selection: ${a.requests} requests (${arms}) cost $${a.costUsd.toFixed(2)} vs $${a.premiumCostUsd.toFixed(2)} always premium — `
    + `cost saved ${pct(a.costSaved)}, quality kept ${pct(a.qualityKept)} (mean ${a.meanQuality.toFixed(3)} vs ${a.premiumMeanQuality.toFixed(3)}); `
    + `after learning (second half): cost saved ${pct(h.costSaved)}, quality kept ${pct(h.qualityKept)}`;
}
