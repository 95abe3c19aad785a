/**
 * PPO trainer benchmark. Run: node -r ./scripts/register-ts.js bench/ppo.ts
 *
 * Prints, on a toy environment with the RAG tuner's action space (16 inputs, five heads: variant,
 * k ∈ [3, 32], rerank, fusion_weight ∈ [0, 1], prompt template) and a 2×64 tanh MLP:
 *   - environment steps/s of collectRollout (policy sampling + env), and the env alone as baseline;
 *   - the time of one ppoUpdate (2,048 samples, 10 epochs, 4 minibatches, no KL stop), and as
 *     baseline the forward pass alone over the same 10 × 2,048 samples (ratio = update / forward);
 *   - exportOnnx time, and onnxruntime's forward on 2,048 rows against the TypeScript one.
 * Each figure is the median of several timed runs after a warm-up.
 */
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../ml/onnx/export';
import type { Action, ActionSpace, Environment, StepResult } from '../ml/rl/environment';
import { parsePpoHyperparameters } from '../ml/rl/hyperparameters';
import { ActorCritic } from '../ml/rl/actor-critic';
import { createPpoOptimizer, ppoUpdate } from '../ml/rl/ppo';
import { collectRollout, type RolloutBatch } from '../ml/rl/rollout';
import { Rng } from '../ml/rng';

const OBS = 16;
const SPACE: ActionSpace = [
  { kind: 'categorical', name: 'variant', choices: ['A', 'B'] },
  { kind: 'integer', name: 'k', min: 3, max: 32 },
  { kind: 'bernoulli', name: 'rerank' },
  { kind: 'continuous', name: 'fusion_weight', min: 0, max: 1 },
  { kind: 'categorical', name: 'prompt', choices: ['p0', 'p1', 'p2', 'p3'] },
];

/** A cheap stand-in for the tuner env: 16 features, reward peaked at a context-dependent config, 8-step episodes. */
class ToyTunerEnv implements Environment {
  readonly observationSize = OBS;
  readonly actionSpace = SPACE;
  private rng = new Rng(0);
  private obs = new Float64Array(OBS);
  private t = 0;
  reset(seed: number): Float64Array {
    this.rng = new Rng(seed);
    this.t = 0;
    for (let j = 0; j < OBS; j++) this.obs[j] = this.rng.normal();
    return this.obs;
  }
  step(a: Action): StepResult {
    this.t++;
    const c = this.obs[0] > 0 ? 1 : 0;
    const reward = (a.variant === (c ? 'B' : 'A') ? 0.5 : 0) - Math.abs((a.k as number) - (c ? 8 : 20)) / 30
      + (a.rerank ? 0.1 : 0) - ((a.fusion_weight as number) - 0.3) ** 2 + (a.prompt === 'p2' ? 0.2 : 0);
    for (let j = 0; j < OBS; j++) this.obs[j] = 0.9 * this.obs[j] + 0.1 * this.rng.normal();
    return { observation: this.obs, reward, done: this.t >= 8, info: {} };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeOnce(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Times `fn` and its `baseline` alternately (A, B, A, B, …) after a warm-up, so both see the same
 * machine load; returns the median of each and the median of the per-pair ratios fn/baseline.
 */
async function paired(fn: () => unknown | Promise<unknown>, baseline: () => unknown | Promise<unknown>, runs: number): Promise<{ ms: number; baseMs: number; ratio: number }> {
  await fn();
  await baseline();
  const a: number[] = [], b: number[] = [], r: number[] = [];
  for (let i = 0; i < runs; i++) {
    const x = await timeOnce(fn), y = await timeOnce(baseline);
    a.push(x);
    b.push(y);
    r.push(x / y);
  }
  return { ms: median(a), baseMs: median(b), ratio: median(r) };
}

async function main(): Promise<void> {
  const hp = parsePpoHyperparameters({ num_envs: 1, num_steps: 2048, num_minibatches: 4, update_epochs: 10, target_kl: null, hidden_sizes: [64, 64], total_timesteps: 2048 * 100 });
  const spec = { observationSize: OBS, actionSpace: SPACE, hidden: hp.hidden_sizes };
  const policy = ActorCritic.create(spec, 1);
  const env = new ToyTunerEnv();
  const steps = 2048;

  // 1. rollout throughput vs the env alone (random actions)
  const randomActions: Action[] = [];
  const rr = new Rng(3);
  const raw = new Float64Array(SPACE.length);
  for (let i = 0; i < 256; i++) {
    raw[0] = rr.int(2); raw[1] = rr.int(30); raw[2] = rr.int(2); raw[3] = rr.normal(); raw[4] = rr.int(4);
    randomActions.push(policy.toAction(raw));
  }
  const rollout = await paired(() => collectRollout(env, policy, steps, new Rng(2)), () => {
    env.reset(4);
    for (let i = 0; i < steps; i++) if (env.step(randomActions[i & 255]).done) env.reset(i);
  }, 7);

  // 2. one update vs the forward pass over the same samples
  const batch: RolloutBatch = await collectRollout(env, policy, steps, new Rng(5));
  const mbObs = Float64Array.from(batch.obs.slice(0, 512 * OBS)), mbAct = Float64Array.from(batch.actions.slice(0, 512 * SPACE.length));
  const update = await paired(() => {
    const p = ActorCritic.create(spec, 1);
    ppoUpdate(p, createPpoOptimizer(p, hp), [batch], hp, new Rng(6));
  }, () => {
    for (let e = 0; e < 10; e++) for (let m = 0; m < 4; m++) policy.evaluate(mbObs, mbAct, 512);
  }, 5);

  // 3. ONNX export (baseline: JSON checkpoint of the same weights), and ORT vs TypeScript forward on 2,048 rows
  const exp = await paired(() => exportOnnx(policy), () => JSON.stringify(policy.toJSON()), 21);
  const { model } = exportOnnx(policy);
  const session = await ort.InferenceSession.create(model);
  const allObs = Float64Array.from(batch.obs);
  const input = new ort.Tensor('float32', Float32Array.from(allObs), [steps, OBS]);
  const fwd = await paired(() => session.run({ obs: input }), () => policy.forward(allObs, steps), 21);
  await session.release();

  const params = policy.params.length;
  const flopsFwd = 2 * (OBS * 64 + 64 * 64 + 64 * (2 + 30 + 1 + 1 + 4 + 1)); // 2 × multiply-adds per sample
  const fmt = (x: number, d = 1): string => x.toFixed(d);
  console.log(`PPO bench — 16 inputs, 2×64 tanh MLP, five heads (${params} parameters), node ${process.version}; medians, baselines timed alternately in the same run`);
  console.log(`rollout:      ${fmt(steps / rollout.ms * 1000, 0)} env steps/s (collectRollout: ${steps} steps in ${fmt(rollout.ms)} ms)`);
  console.log(`  baseline:   ${fmt(steps / rollout.baseMs * 1000, 0)} env steps/s for the toy env alone → rollout/env time = ${fmt(rollout.ratio, 2)}×`);
  console.log(`update:       ${fmt(update.ms)} ms for one ppoUpdate (2,048 samples, 10 epochs, 4 minibatches of 512 = 40 Adam steps, ${fmt((20480 * flopsFwd * 3) / (update.ms / 1000) / 1e9, 2)} GFLOP/s)`);
  console.log(`  baseline:   ${fmt(update.baseMs)} ms for the forward pass + log-probs alone over the same 10×2,048 samples → update/forward = ${fmt(update.ratio, 2)}×`);
  console.log(`onnx export:  ${fmt(exp.ms, 2)} ms (${model.byteLength} bytes)`);
  console.log(`  baseline:   ${fmt(exp.baseMs, 2)} ms to write the JSON checkpoint of the same weights → export/checkpoint = ${fmt(exp.ratio, 2)}×`);
  console.log(`onnx forward: ${fmt(fwd.ms, 2)} ms for 2,048 rows in onnxruntime-node vs ${fmt(fwd.baseMs, 2)} ms for the TypeScript forward → ORT/TS = ${fmt(fwd.ratio, 3)}×`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
