/**
 * Served traffic for the loop's and the canary OPE gate's integration tests: contexts of
 * activities/ope/testing/logged-bandit.ts (known reward model) sent to a real inference server's
 * /v1/decide, the reward μ(x, a) drawn for the action it served and posted to /v1/rewards. The
 * policies are that module's ONNX candidates, registered as versions of one model.
 */
import type { InferenceServer } from '../../inference/server';
import { postJson, waitFor, type ServingFixture } from '../../inference/testing/fixture';
import { LoggedBandit } from '../../activities/ope/testing/logged-bandit';
import { exportOnnx } from '../../ml/onnx/export';
import type { ActorCritic } from '../../ml/rl/actor-critic';
import { Rng } from '../../ml/rng';
import type { Signature } from '../../registry/types';

export const BANDIT_CHOICES = ['a0', 'a1', 'a2', 'a3', 'a4'];

export function testBandit(seed = 7): LoggedBandit {
  return new LoggedBandit({ nFeatures: 6, choices: BANDIT_CHOICES, epsilon: 0.3, staleness: 0.8, seed });
}

/** Registers `policy` as the next version of `model` (ONNX, with its signature). */
export async function registerBanditPolicy(fx: ServingFixture, model: string, policy: ActorCritic, description: string): Promise<number> {
  const exported = exportOnnx(policy, { graphName: model });
  const v = await fx.registry.registerVersion({
    model, artifact: { buffer: Buffer.from(exported.model) }, format: 'onnx', createModel: true, description,
    signature: JSON.parse(JSON.stringify(exported.signature)) as Signature, actor: 'test',
  });
  return v.version;
}

/**
 * Sends `count` decide + reward pairs (`concurrency` callers) and waits until the decision log holds
 * them all with their rewards. Returns the mean reward observed.
 */
export async function sendBanditTraffic(server: InferenceServer, fx: ServingFixture, bandit: LoggedBandit, model: string, count: number, seed: number, concurrency = 8): Promise<{ meanReward: number }> {
  await waitFor(() => server.manager.get(model) !== undefined && server.manager.get(model) !== null, 30_000, `the inference server to serve ${model}`);
  const rng = new Rng(seed);
  const before = await rewardedCount(fx, model);
  let next = 0;
  let sum = 0;
  const one = async () => {
    while (next < count) {
      next++;
      const x = Array.from({ length: bandit.d }, () => Math.fround(rng.normal()));
      const d = await postJson(`${server.url}/v1/decide`, { deployment: model, features: x });
      if (d.status !== 200) throw new Error(`decide ${model}: HTTP ${d.status} ${JSON.stringify(d.body)}`);
      const a = BANDIT_CHOICES.indexOf(d.body.action.variant);
      if (a < 0) throw new Error(`decide ${model}: action ${JSON.stringify(d.body.action)} is not one of ${BANDIT_CHOICES.join(', ')}`);
      const reward = rng.uniform() < bandit.mu(x, a) ? 1 : 0;
      sum += reward;
      const r = await postJson(`${server.url}/v1/rewards`, { decisionId: d.body.decisionId, reward });
      if (r.status >= 300) throw new Error(`reward: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, one));
  await waitFor(async () => (await rewardedCount(fx, model)) >= before + count, 30_000, `${count} rewarded decisions of ${model} in the decision log`);
  return { meanReward: sum / count };
}

async function rewardedCount(fx: ServingFixture, model: string): Promise<number> {
  const { rows } = await fx.db.pool.query('SELECT count(*)::int AS n FROM decisions d JOIN rewards r ON r.decision_id = d.decision_id WHERE d.deployment = $1', [model]);
  return rows[0].n;
}

/** Decide + reward pairs in the background (`concurrency` callers) until `stop()`; `sent` counts the rewarded ones. */
export function startBanditTraffic(server: InferenceServer, bandit: LoggedBandit, model: string, seed: number, concurrency = 4) {
  const rng = new Rng(seed);
  let running = true;
  let sent = 0;
  const errors: string[] = [];
  const one = async () => {
    while (running) {
      const x = Array.from({ length: bandit.d }, () => Math.fround(rng.normal()));
      const d = await postJson(`${server.url}/v1/decide`, { deployment: model, features: x });
      if (d.status !== 200) {
        errors.push(`decide: HTTP ${d.status}`);
        continue;
      }
      const a = BANDIT_CHOICES.indexOf(d.body.action.variant);
      const reward = rng.uniform() < bandit.mu(x, a) ? 1 : 0;
      const r = await postJson(`${server.url}/v1/rewards`, { decisionId: d.body.decisionId, reward });
      if (r.status < 300) sent++;
    }
  };
  const loops = Array.from({ length: concurrency }, one);
  return {
    get sent() { return sent; },
    errors,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Rewarded decisions of `model` logged at or after `since`. */
export async function rewardedSince(fx: ServingFixture, model: string, since: Date): Promise<number> {
  const { rows } = await fx.db.pool.query('SELECT count(*)::int AS n FROM decisions d JOIN rewards r ON r.decision_id = d.decision_id WHERE d.deployment = $1 AND d.time >= $2', [model, since]);
  return rows[0].n;
}
