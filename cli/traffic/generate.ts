/**
 * A traffic generator that closes the loop against a running inference server: simulated RAG
 * sessions (the RAG simulator, each session its own seeded episode) ask `/v1/decide` which
 * config to use for their next batch, run that batch in the simulator, and report the tuner's
 * reward to `/v1/rewards`. Used by `make demo` and the canary end-to-end runs; loopback only.
 *
 * The reward's components are the batch's whole evaluation (faithfulness, relevancy, latency_p50_ms,
 * latency_p95_ms, cost_usd, error_rate, faithfulness_std, relevancy_std, policy_violation_rate), so an
 * exported snapshot of this traffic replays (envs/evaluators/snapshot.ts): with the category of each
 * decision read from the observation's one-hot (a contextual policy config shows the category of the
 * batch the decision is evaluated on), replaying a logged config gives back its logged reward.
 */
import { loadConfig } from '../../config/load';
import { policyConfigSchema, type PolicyConfig } from '../../envs/config';
import { SimulatedRagEvaluator } from '../../envs/evaluators/simulator';
import { RagTuningEnvironment } from '../../envs/rag-env';
import type { Evaluation, Evaluator } from '../../envs/types';
import type { Action } from '../../ml/rl/environment';

export interface TrafficOptions {
  server: string;
  deployment: string;
  /** Decisions to make in total. */
  requests: number;
  /** Sessions running at once. */
  concurrency: number;
  /** Policy config (datasets, reward weights) the simulated sessions use. */
  configFile: string;
  seed: number;
  /** Stop early after this many milliseconds (0 = no limit). */
  durationMs?: number;
  /** Called every ~250 ms with the running totals. */
  onProgress?: (s: TrafficSummary) => void;
  /** API key sent as `Authorization: Bearer …` (null: none, for a server with --auth off). */
  apiKey?: string | null;
}

export interface ArmSummary {
  decisions: number;
  rewardSum: number;
  meanReward: number;
  versions: Record<string, number>;
}

export interface TrafficSummary {
  decisions: number;
  rewards: number;
  errors: number;
  fallbacks: number;
  elapsedMs: number;
  byArm: Record<string, ArmSummary>;
  lastError?: string;
}

interface DecideResponse {
  decisionId: string;
  version: number | null;
  arm: string;
  action: Action;
  fallback: boolean;
}

async function postJson(url: string, body: unknown, apiKey: string | null): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: apiKey === null ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify(body) });
  const text = await res.text();
  try {
    return { status: res.status, json: text ? JSON.parse(text) : null };
  } catch {
    return { status: res.status, json: { error: text } };
  }
}

/** A batch evaluation as reward components (named numbers; the optional parts when present). */
export function rewardComponents(e: Evaluation): Record<string, number> {
  return {
    faithfulness: e.faithfulness,
    relevancy: e.relevancy,
    latency_p50_ms: e.latency_ms.p50,
    latency_p95_ms: e.latency_ms.p95,
    cost_usd: e.cost_usd,
    error_rate: e.error_rate,
    ...(e.faithfulness_std !== undefined ? { faithfulness_std: e.faithfulness_std } : {}),
    ...(e.relevancy_std !== undefined ? { relevancy_std: e.relevancy_std } : {}),
    ...(e.policy_violation_rate !== undefined ? { policy_violation_rate: e.policy_violation_rate } : {}),
  };
}

export async function generateTraffic(opts: TrafficOptions): Promise<TrafficSummary> {
  if (!(opts.requests >= 1)) throw new Error(`--requests must be ≥ 1, got ${opts.requests}`);
  if (!(opts.concurrency >= 1)) throw new Error(`--concurrency must be ≥ 1, got ${opts.concurrency}`);
  const config: PolicyConfig = loadConfig(policyConfigSchema, opts.configFile);
  const base = opts.server.replace(/\/$/, '');
  const apiKey = opts.apiKey ?? null;
  const started = Date.now();
  const summary: TrafficSummary = { decisions: 0, rewards: 0, errors: 0, fallbacks: 0, elapsedMs: 0, byArm: {} };
  let issued = 0;
  let session = 0;
  let lastProgress = 0;
  const deadline = opts.durationMs ? started + opts.durationMs : Infinity;

  const report = () => {
    summary.elapsedMs = Date.now() - started;
    if (opts.onProgress && Date.now() - lastProgress > 250) {
      lastProgress = Date.now();
      opts.onProgress(summary);
    }
  };

  async function runSession(): Promise<void> {
    while (issued < opts.requests && Date.now() < deadline) {
      const id = session++;
      // The simulator, remembering the last batch's evaluation (the reward components: all of it, not only what the step's info shows).
      const simulator = new SimulatedRagEvaluator();
      let evaluated: Evaluation | null = null;
      const evaluator: Evaluator = { name: simulator.name, evaluate: async (...a) => (evaluated = await simulator.evaluate(...a)) };
      const env = new RagTuningEnvironment({ evaluator, config });
      let obs = env.reset(opts.seed * 100_003 + id);
      let done = false;
      while (!done && issued < opts.requests && Date.now() < deadline) {
        issued++;
        const decide = await postJson(`${base}/v1/decide`, { deployment: opts.deployment, features: Array.from(obs), unit: `session-${opts.seed}-${id}` }, apiKey).catch((err: Error) => ({ status: 0, json: { error: err.message } }));
        if (decide.status !== 200) {
          summary.errors++;
          summary.lastError = `decide: HTTP ${decide.status} ${JSON.stringify(decide.json)}`;
          report();
          continue;
        }
        const d = decide.json as DecideResponse;
        summary.decisions++;
        if (d.fallback) summary.fallbacks++;
        const step = await env.step(d.action);
        const arm = (summary.byArm[d.arm] ??= { decisions: 0, rewardSum: 0, meanReward: 0, versions: {} });
        arm.decisions++;
        arm.versions[String(d.version)] = (arm.versions[String(d.version)] ?? 0) + 1;
        const e = evaluated as Evaluation | null;
        if (e === null) throw new Error('traffic generator: the environment stepped without evaluating a batch');
        const reward = await postJson(`${base}/v1/rewards`, {
          decisionId: d.decisionId,
          reward: step.reward,
          components: rewardComponents(e),
        }, apiKey).catch((err: Error) => ({ status: 0, json: { error: err.message } }));
        if (reward.status >= 200 && reward.status < 300) {
          summary.rewards++;
          arm.rewardSum += step.reward;
          arm.meanReward = arm.rewardSum / arm.decisions;
        } else {
          summary.errors++;
          summary.lastError = `rewards: HTTP ${reward.status} ${JSON.stringify(reward.json)}`;
        }
        obs = step.observation;
        done = step.done;
        report();
      }
    }
  }

  await Promise.all(Array.from({ length: opts.concurrency }, () => runSession()));
  summary.elapsedMs = Date.now() - started;
  return summary;
}
