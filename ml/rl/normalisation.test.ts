import { createHash } from 'node:crypto';
import { Rng } from '../rng';
import { ActorCritic } from './actor-critic';
import { actorCriticSpecFor, parsePpoHyperparameters } from './hyperparameters';
import { createPpoOptimizer, optimizerFromJSON, optimizerToJSON, ppoUpdate, scaleRewards } from './ppo';
import { collectRollout, collectRollouts, type RolloutBatch } from './rollout';
import { RunningMeanStd } from './running-mean-std';
import { ContextualBandit, Corridor } from './toy-envs';
import { trainPpo } from './train';

const sha = (p: ActorCritic): string => createHash('sha256').update(Buffer.from(p.params.data.buffer)).digest('hex');

describe('RunningMeanStd', () => {
  it('merging batches gives the population mean/variance of everything seen, with SB3\'s pseudo-sample (count 1e-4, mean 0, var 1)', () => {
    const rng = new Rng(1);
    const xs = Float64Array.from({ length: 2 * 50 }, (_, i) => (i % 2 ? 3 : -1) + (i % 2 ? 2 : 0.5) * rng.normal());
    const rms = new RunningMeanStd(2);
    rms.update(xs.subarray(0, 2 * 20), 20);
    rms.update(xs.subarray(2 * 20), 30);
    const eps = 1e-4;
    for (let j = 0; j < 2; j++) {
      let s = 0;
      for (let i = 0; i < 50; i++) s += xs[i * 2 + j];
      const mean = s / (50 + eps);
      let ss = eps * (1 + mean * mean);
      for (let i = 0; i < 50; i++) ss += (xs[i * 2 + j] - mean) ** 2;
      expect(rms.mean[j]).toBeCloseTo(mean, 12);
      expect(rms.var[j]).toBeCloseTo(ss / (50 + eps), 11);
    }
    expect(rms.count).toBeCloseTo(50 + eps, 12);
    expect(() => rms.load({ ...rms.toJSON(), count: 0 })).toThrow('RunningMeanStd.load: count = 0, expected a number > 0');
  });
});

describe('vf_share_layers, norm_obs: the network and its checkpoint', () => {
  const env = new ContextualBandit(2, true);
  const hp = (extra: object) => parsePpoHyperparameters({ hidden_sizes: [8], ...extra });

  it('maps the hyperparameters to the spec: shared trunk or a critic trunk; normalisation inside the network', () => {
    const shared = ActorCritic.create(actorCriticSpecFor(5, env.actionSpace, hp({ vf_share_layers: true })), 1);
    const separate = ActorCritic.create(actorCriticSpecFor(5, env.actionSpace, hp({ vf_share_layers: false, norm_obs: true, clip_obs: 4 })), 1);
    expect(shared.sharesLayers).toBe(true);
    expect(shared.obsRms).toBeNull();
    expect(shared.params.layout.map((t) => t.name).filter((n) => n.startsWith('critic'))).toEqual([]);
    expect(separate.sharesLayers).toBe(false);
    expect(separate.params.layout.map((t) => t.name).filter((n) => n.startsWith('critic'))).toEqual(['critic.0.weight', 'critic.0.bias']);
    expect(separate.spec.obsNorm).toEqual({ clip: 4, epsilon: 1e-8 });
    // a shared policy's weights are those the pre-switch code drew for the same seed (the critic is drawn last)
    const legacy = ActorCritic.create({ observationSize: 5, actionSpace: env.actionSpace, hidden: [8] }, 1);
    expect(sha(shared)).toBe(sha(legacy));
  });

  it('normalises as clip((obs − mean)/√(var + ε), ±clip) from the running statistics', () => {
    const p = ActorCritic.create({ observationSize: 2, actionSpace: env.actionSpace, hidden: [4], obsNorm: { clip: 2, epsilon: 1e-8 } }, 1);
    p.obsRms!.load({ ...new RunningMeanStd(2).toJSON(), mean: Buffer.from(Float64Array.of(1, -2).buffer).toString('base64'), var: Buffer.from(Float64Array.of(4, 0.25).buffer).toString('base64'), count: 10 });
    const x = p.normalizedInput(Float64Array.of(2, -2, 100, -5), 2);
    expect(x[0]).toBeCloseTo(0.5, 7);
    expect(x[1]).toBe(0);
    expect(x[2]).toBe(2);
    expect(x[3]).toBe(-2);
  });

  it('round-trips weights and statistics bit for bit; a checkpoint without the new fields loads as the shared, unnormalised network', () => {
    const p = ActorCritic.create({ observationSize: 5, actionSpace: env.actionSpace, hidden: [8], shareLayers: false, obsNorm: { clip: 10, epsilon: 1e-8 } }, 3);
    p.obsRms!.update(Float64Array.from({ length: 50 }, (_, i) => i * 0.37), 10);
    const q = ActorCritic.fromJSON(JSON.parse(JSON.stringify(p.toJSON())));
    expect(sha(q)).toBe(sha(p));
    expect(q.obsRms!.toJSON()).toEqual(p.obsRms!.toJSON());
    const obs = Float64Array.from({ length: 15 }, (_, i) => Math.sin(i) * 20);
    p.forward(obs, 3);
    const v = Array.from(p.values());
    q.forward(obs, 3);
    expect(Array.from(q.values())).toEqual(v);
    // a checkpoint as written before issue 26 (no shareLayers, no obsNorm, no obsRms)
    const old = ActorCritic.create({ observationSize: 5, actionSpace: env.actionSpace, hidden: [8] }, 3).toJSON();
    expect(Object.keys(old).sort()).toEqual(['format', 'layout', 'params', 'spec']);
    const loaded = ActorCritic.fromJSON(old);
    expect(loaded.sharesLayers).toBe(true);
    expect(loaded.obsRms).toBeNull();
    const { obsRms: _dropped, ...noStats } = p.toJSON();
    expect(() => ActorCritic.fromJSON(noStats)).toThrow('Policy.fromJSON: spec.obsNorm is set but the checkpoint has no obsRms');
    expect(() => ActorCritic.create({ observationSize: 5, actionSpace: env.actionSpace, hidden: [8], obsNorm: { clip: 0, epsilon: 1e-8 } }, 1)).toThrow('policy spec: obsNorm.clip = 0, expected a number > 0');
  });

  it('ppoUpdate merges the iteration\'s observations into the statistics after the update (rollout and update see one normalisation)', async () => {
    const h = hp({ num_envs: 1, num_steps: 64, norm_obs: true, total_timesteps: 128 });
    const policy = ActorCritic.create(actorCriticSpecFor(env.observationSize, env.actionSpace, h), 1);
    const opt = createPpoOptimizer(policy, h);
    const batch = await collectRollout(env, policy, 64, new Rng(2));
    const before = policy.obsRms!.toJSON();
    // before the update the policy scores the batch exactly as it acted (same statistics): every ratio is 1
    const H = policy.numHeads;
    const scored = policy.evaluate(Float64Array.from(batch.obs), Float64Array.from(batch.actions), 64).logProb;
    for (let t = 0; t < 64; t++) expect(scored[t]).toBe(batch.logprobs[t]);
    expect(H).toBe(4);
    ppoUpdate(policy, opt, [batch], h, new Rng(3));
    expect(before.count).toBe(1e-4);
    const mean0 = batch.obs.filter((_, i) => i % env.observationSize === 0).reduce((a, b) => a + b, 0) / 64;
    expect(policy.obsRms!.count).toBeCloseTo(64 + 1e-4, 10);
    expect(policy.obsRms!.mean[0]).toBeCloseTo((mean0 * 64) / (64 + 1e-4), 12);
  });
});

describe('norm_reward: rewards scaled by the running std of discounted returns', () => {
  const batch = (rewards: number[], dones: number[], nextDone: number): RolloutBatch => ({
    observationSize: 1, numHeads: 1, numSteps: rewards.length, obs: rewards.map(() => 0), actions: rewards.map(() => 0),
    logprobs: rewards.map(() => 0), rewards, dones, values: rewards.map(() => 0), nextObs: [0], nextDone, nextValue: 0,
    episodes: [], carry: { observation: [0], done: 0, episodeReturn: 0, episodeLength: 0 },
  });

  it('matches SB3\'s VecNormalize step by step (ret ← γ·ret + r; update; r/√(var+ε); ret ← 0 after a terminal step), clipped, and carries ret across iterations', () => {
    const hp = parsePpoHyperparameters({ gamma: 0.9, norm_reward: true, clip_reward: 1.5 });
    const p = ActorCritic.create({ observationSize: 1, actionSpace: [{ kind: 'bernoulli', name: 'a' }], hidden: [2] }, 1);
    const opt = createPpoOptimizer(p, hp);
    // env 0's episode ends after step 1 (dones[2] = 1); env 1's after its last step (nextDone)
    const b = [batch([1, 2, 3], [0, 0, 1], 0), batch([10, 0, -10], [0, 0, 0], 1)];
    const scaled = scaleRewards(b, hp, opt);
    // reference: the vectorised env of two, written out
    const seen: number[] = [];
    const varOf = (xs: number[]): number => {
      const n = xs.length + 1e-4, m = xs.reduce((a, v) => a + v, 0) / n;
      return (1e-4 * (1 + m * m) + xs.reduce((a, v) => a + (v - m) ** 2, 0)) / n;
    };
    const ret = [0, 0], want = [[0, 0, 0], [0, 0, 0]];
    const ends = [[0, 1, 0], [0, 0, 1]];
    for (let t = 0; t < 3; t++) {
      for (let e = 0; e < 2; e++) { ret[e] = 0.9 * ret[e] + b[e].rewards[t]; seen.push(ret[e]); }
      const sd = Math.sqrt(varOf(seen) + 1e-8);
      for (let e = 0; e < 2; e++) {
        want[e][t] = Math.max(-1.5, Math.min(1.5, b[e].rewards[t] / sd));
        if (ends[e][t]) ret[e] = 0;
      }
    }
    for (let e = 0; e < 2; e++) for (let t = 0; t < 3; t++) expect(scaled[e][t]).toBeCloseTo(want[e][t], 10);
    expect(scaled[1][0]).toBe(1.5);
    expect(opt.reward_norm!.returns).toEqual([3, 0]);
    expect(b[0].rewards).toEqual([1, 2, 3]);
    // the state survives the optimizer's checkpoint bit for bit
    const restored = optimizerFromJSON(JSON.parse(JSON.stringify(optimizerToJSON(opt))));
    expect(restored.reward_norm!.returns).toEqual([3, 0]);
    expect(restored.reward_norm!.rms.toJSON()).toEqual(opt.reward_norm!.rms.toJSON());
    expect(optimizerToJSON(createPpoOptimizer(p, hp))).not.toHaveProperty('reward_norm');
  });

  it('changes the value targets but not the episode returns in the metrics', async () => {
    const h = parsePpoHyperparameters({ num_envs: 2, num_steps: 32, hidden_sizes: [8], total_timesteps: 64 });
    const run = async (norm: boolean) => {
      const hp = { ...h, norm_reward: norm };
      const p = ActorCritic.create(actorCriticSpecFor(1, new Corridor().actionSpace, hp), 1);
      const batches = await collectRollouts([new Corridor(), new Corridor()], p, 32, [new Rng(1), new Rng(2)]);
      return ppoUpdate(p, createPpoOptimizer(p, hp), batches, hp, new Rng(3)).metrics;
    };
    const plain = await run(false), scaled = await run(true);
    expect(scaled['charts/episodic_return']).toBe(plain['charts/episodic_return']);
    expect(scaled['losses/value_loss']).not.toBeCloseTo(plain['losses/value_loss'], 3);
  });
});

describe('norm_value: the value head learns standardised returns', () => {
  /** The Corridor with its rewards multiplied by `scale` (returns in the hundreds for scale 100). */
  class ScaledCorridor extends Corridor {
    constructor(readonly scale: number) {
      super();
    }
    override step(action: Parameters<Corridor['step']>[0]) {
      const r = super.step(action);
      return { ...r, reward: r.reward * this.scale };
    }
  }

  it('values() are the head output × √(σ² + ε) + μ; ppoUpdate merges the iteration\'s returns before its epochs; checkpoint round trip', async () => {
    const h = parsePpoHyperparameters({ num_envs: 1, num_steps: 64, hidden_sizes: [8], norm_value: true, total_timesteps: 128 });
    const policy = ActorCritic.create(actorCriticSpecFor(1, new Corridor().actionSpace, h), 1);
    expect(policy.spec.valueNorm).toEqual({ epsilon: 1e-8 });
    expect(policy.valueRms!.count).toBe(1e-4);
    const batch = await collectRollout(new ScaledCorridor(100), policy, 64, new Rng(2));
    const { metrics } = ppoUpdate(policy, createPpoOptimizer(policy, h), [batch], h, new Rng(3));
    expect(metrics['charts/iteration']).toBe(1);
    const rms = policy.valueRms!;
    expect(rms.count).toBeCloseTo(64 + 1e-4, 10);
    // the returns of a corridor paying −10 per step and +100 at the goal: far from N(0, 1)
    expect(Math.abs(rms.mean[0]) + Math.sqrt(rms.var[0])).toBeGreaterThan(5);
    const obs = Float64Array.from({ length: 6 }, (_, i) => i / 5);
    policy.forward(obs, 6);
    const std = Math.sqrt(rms.var[0] + 1e-8);
    const head = Array.from(policy.valueOutputs()), values = Array.from(policy.values());
    for (let i = 0; i < 6; i++) expect(values[i]).toBe(head[i] * std + rms.mean[0]);
    expect(policy.valueScale()).toEqual({ mean: rms.mean[0], std });

    const back = ActorCritic.fromJSON(JSON.parse(JSON.stringify(policy.toJSON())));
    expect(back.valueRms!.toJSON()).toEqual(rms.toJSON());
    back.forward(obs, 6);
    expect(Array.from(back.values())).toEqual(values);
    expect(Array.from(policy.clone().valueRms!.mean)).toEqual(Array.from(rms.mean));
    const { valueRms: _dropped, ...noStats } = policy.toJSON();
    expect(() => ActorCritic.fromJSON(noStats)).toThrow('Policy.fromJSON: spec.valueNorm is set but the checkpoint has no valueRms');
    const plain = ActorCritic.create(actorCriticSpecFor(1, new Corridor().actionSpace, { ...h, norm_value: false }), 1);
    expect(() => ActorCritic.fromJSON({ ...plain.toJSON(), valueRms: rms.toJSON() })).toThrow('Policy.fromJSON: the checkpoint has valueRms but spec.valueNorm is absent');
    expect(() => ActorCritic.create({ ...plain.spec, valueNorm: { epsilon: 0 } }, 1)).toThrow('policy spec: valueNorm.epsilon = 0, expected a number > 0');
  });

  it('keeps the value loss at one scale whatever the rewards\' (×1 and ×1000), which the raw loss is not', async () => {
    const base = { num_envs: 2, num_steps: 64, num_minibatches: 2, update_epochs: 2, hidden_sizes: [8], seed: 4, vf_share_layers: true, target_kl: null };
    const run = (scale: number, norm: boolean) => trainPpo(() => new ScaledCorridor(scale), { ...base, norm_value: norm }, 4);
    const [a1, a1000, b1, b1000] = await Promise.all([run(1, true), run(1000, true), run(1, false), run(1000, false)]);
    const vloss = (r: Awaited<ReturnType<typeof run>>): number => r.history[r.history.length - 1]['losses/value_loss'];
    // normalised: the same order of magnitude whatever the scale; raw: ~10⁶ times larger at ×1000
    expect(vloss(a1000) / vloss(a1)).toBeLessThan(10);
    expect(vloss(a1000) / vloss(a1)).toBeGreaterThan(0.1);
    expect(vloss(b1000) / vloss(b1)).toBeGreaterThan(1e4);
    // while the statistics carry the scale
    expect(a1000.policy.valueRms!.mean[0] / a1.policy.valueRms!.mean[0]).toBeGreaterThan(100);
    expect(b1.policy.valueRms).toBeNull();
  });
});

describe('batched rollouts (one policy forward per step for all environments)', () => {
  it('equal one collectRollout per environment, batch for batch', async () => {
    const policy = ActorCritic.create({ observationSize: 5, actionSpace: new ContextualBandit(2, true).actionSpace, hidden: [8, 8], shareLayers: false, obsNorm: { clip: 5, epsilon: 1e-8 } }, 4);
    policy.obsRms!.update(Float64Array.from({ length: 50 }, (_, i) => Math.cos(i)), 10);
    const together = await collectRollouts([0, 1, 2].map(() => new ContextualBandit(2, true)), policy, 40, [0, 1, 2].map((e) => new Rng(100 + e)));
    const apart = [];
    for (let e = 0; e < 3; e++) apart.push(await collectRollout(new ContextualBandit(2, true), policy, 40, new Rng(100 + e)));
    expect(together).toEqual(apart);
  });

  it('train the same weights, for the same seed, as the one-forward-per-environment loop did (hashes from commit 68993c4)', async () => {
    // trainPpo with vf_share_layers: true on 3 envs; the hashes were printed by the code before the
    // batched rollout (one collectRollout per env, envs one after another)
    const hp = { num_envs: 3, num_steps: 32, num_minibatches: 4, update_epochs: 2, learning_rate: 3e-3, hidden_sizes: [16, 16], seed: 5, vf_share_layers: true };
    expect(sha((await trainPpo(() => new ContextualBandit(2, true), hp, 3)).policy)).toBe('6d9ecfb5f5c8c591f0eaa9ce9c86d8013198ba7f12fcc120a398bfc977289209');
    expect(sha((await trainPpo(() => new Corridor(), hp, 3)).policy)).toBe('eea5df2f936f3feec224cc9d7162841eca03b94f502628e98df1bebdd7d3889c');
  });

  it('replay bit for bit with every new option on; each option changes the weights', async () => {
    const hp = { num_envs: 2, num_steps: 32, num_minibatches: 2, update_epochs: 2, hidden_sizes: [8], seed: 9, vf_share_layers: false, norm_obs: true, norm_reward: true };
    const make = (): ContextualBandit => new ContextualBandit(1, true);
    const a = await trainPpo(make, hp, 3), b = await trainPpo(make, hp, 3);
    expect(sha(a.policy)).toBe(sha(b.policy));
    expect(a.policy.obsRms!.toJSON()).toEqual(b.policy.obsRms!.toJSON());
    expect(a.history).toEqual(b.history);
    const c = await trainPpo(make, { ...hp, norm_reward: false }, 3);
    const d = await trainPpo(make, { ...hp, norm_obs: false }, 3);
    expect(sha(c.policy)).not.toBe(sha(a.policy));
    expect(sha(d.policy)).not.toBe(sha(a.policy));
    const e = await trainPpo(make, { ...hp, norm_value: true }, 3), f = await trainPpo(make, { ...hp, norm_value: true }, 3);
    expect(sha(e.policy)).toBe(sha(f.policy));
    expect(e.policy.valueRms!.toJSON()).toEqual(f.policy.valueRms!.toJSON());
    expect(sha(e.policy)).not.toBe(sha(a.policy));
  });
});
