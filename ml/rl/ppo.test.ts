import { Rng } from '../rng';
import { computeGae } from './gae';
import { parsePpoHyperparameters, derivePpoSizes } from './hyperparameters';
import { ActorCritic } from './actor-critic';
import { createPpoOptimizer, explainedVariance, optimizerFromJSON, optimizerToJSON, ppoUpdate } from './ppo';
import { collectRollout } from './rollout';
import { BEST_ARM, BEST_W, ContextualBandit, Corridor } from './toy-envs';
import { trainPpo } from './train';

describe('PPO hyperparameters', () => {
  it('fills R-TUNER-PPO / CleanRL defaults and derives sizes', () => {
    const hp = parsePpoHyperparameters({});
    expect(hp).toMatchObject({ gamma: 0.99, gae_lambda: 0.95, clip_coef: 0.2, learning_rate: 1e-4, num_minibatches: 4, target_kl: 0.02, max_grad_norm: 0.5 });
    expect(derivePpoSizes(parsePpoHyperparameters({ num_envs: 4, num_steps: 512, num_minibatches: 4, total_timesteps: 20480 })))
      .toEqual({ batch_size: 2048, minibatch_size: 512, num_iterations: 10 });
  });

  it.each([
    [{ gamma: 1.5 }, 'ppo.gamma = 1.5: expected a number in [0, 1]'],
    [{ num_envs: 0 }, 'ppo.num_envs = 0: expected an integer ≥ 1'],
    [{ num_steps: 2.5 }, 'ppo.num_steps = 2.5: expected an integer ≥ 1'],
    [{ learning_rate: '3e-4' }, 'ppo.learning_rate = "3e-4": expected a number > 0'],
    [{ clip_coef: -0.1 }, 'ppo.clip_coef = -0.1: expected a number > 0'],
    [{ target_kl: 0 }, 'ppo.target_kl = 0: expected a number > 0 or null'],
    [{ anneal_lr: 'yes' }, 'ppo.anneal_lr = "yes": expected true or false'],
    [{ hidden_sizes: [64, 0] }, 'ppo.hidden_sizes.1 = 0: expected an integer ≥ 1'],
    [{ clipcoef: 0.2 }, 'ppo.clipcoef: unknown field'],
    [{ num_envs: 1, num_steps: 2, num_minibatches: 4, total_timesteps: 100 }, 'ppo.num_minibatches = 4: expected at most batch_size = num_envs × num_steps = 2'],
    [{ kl_adaptive_lr: true, target_kl: null }, 'ppo.kl_adaptive_lr = true: expected target_kl to be set'],
  ])('rejects %j with "%s"', (input, message) => {
    expect(() => parsePpoHyperparameters(input)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() => parsePpoHyperparameters({ gamma: 2, vf_coef: -1 })).toThrow(/ppo\.gamma = 2[^]*ppo\.vf_coef = -1/);
  });
});

describe('GAE', () => {
  it('matches the recursion computed by hand, cutting at episode boundaries', () => {
    const rewards = [1, 0, 2], values = [0.5, 0.4, 0.3], dones = [0, 0, 1]; // obs[2] starts a new episode
    const adv = new Float64Array(3), ret = new Float64Array(3);
    const g = 0.9, l = 0.8;
    computeGae(rewards, values, dones, 0.7, 0, g, l, adv, ret);
    const d2 = 2 + g * 0.7 - 0.3;
    const d1 = 0 + 0 - 0.4; // next obs is a reset: no bootstrap
    const d0 = 1 + g * 0.4 - 0.5;
    expect(adv[2]).toBeCloseTo(d2, 14);
    expect(adv[1]).toBeCloseTo(d1, 14);
    expect(adv[0]).toBeCloseTo(d0 + g * l * d1, 14);
    expect(Array.from(ret)).toEqual(Array.from(adv, (a, i) => a + values[i]));
  });

  it('does not bootstrap when the last step ended an episode', () => {
    const adv = new Float64Array(1), ret = new Float64Array(1);
    computeGae([1], [0.2], [0], 5, 1, 0.99, 0.95, adv, ret);
    expect(adv[0]).toBeCloseTo(0.8, 14);
  });
});

describe('collectRollout', () => {
  it('records CleanRL buffers, resets after done and carries unfinished episodes', async () => {
    const env = new Corridor(3);
    const policy = ActorCritic.create({ observationSize: 1, actionSpace: env.actionSpace, hidden: [8] }, 1);
    const b = await collectRollout(env, policy, 40, new Rng(2));
    expect(b.obs).toHaveLength(40);
    expect(b.actions.every((a) => a === 0 || a === 1)).toBe(true);
    // an observation marked done is a reset one (position 0) and follows a terminal step
    for (let t = 1; t < 40; t++) if (b.dones[t] === 1) expect(b.obs[t]).toBe(0);
    const ended = b.episodes.reduce((s, e) => s + e.length, 0);
    expect(ended + b.carry.episodeLength).toBe(40);
    const total = b.rewards.reduce((s, r) => s + r, 0);
    expect(b.episodes.reduce((s, e) => s + e.return, 0) + b.carry.episodeReturn).toBeCloseTo(total, 12);
    // JSON round trip is exact (the batch is a plain object)
    expect(JSON.parse(JSON.stringify(b))).toEqual(b);
    // the carry continues the same env
    const b2 = await collectRollout(env, policy, 5, new Rng(3), { start: b.carry });
    expect(b2.obs[0]).toBe(b.carry.observation[0]);
  });

  it('rejects an env whose action space differs from the policy', async () => {
    const policy = ActorCritic.create({ observationSize: 1, actionSpace: [{ kind: 'bernoulli', name: 'left' }], hidden: [4] }, 1);
    await expect(collectRollout(new Corridor(), policy, 4, new Rng(1))).rejects.toThrow('env action space [bernoulli:right] differs from the policy\'s [bernoulli:left]');
  });
});

describe('ActorCritic actions and checkpoints', () => {
  const space = new ContextualBandit(0, true).actionSpace;
  const policy = ActorCritic.create({ observationSize: 3, actionSpace: space, hidden: [8] }, 2);

  it('encodes and decodes env actions (categorical index, integer offset, 0/1, pre-squash u)', () => {
    const raw = Float64Array.of(2, 0.4, 3, 1); // heads: arm, w, k, flag
    const a = policy.toAction(raw);
    expect(a).toEqual({ arm: 'c', w: expect.any(Number), k: 4, flag: true });
    expect(a.w as number).toBeCloseTo((Math.tanh(0.4) + 1) / 2, 14);
    const back = new Float64Array(4);
    policy.fromAction(a, back);
    expect([back[0], back[2], back[3]]).toEqual([2, 3, 1]);
    expect(back[1]).toBeCloseTo(0.4, 12);
  });

  it.each([
    [{ arm: 'z', w: 0.5, k: 2, flag: true }, 'Policy.fromAction: action.arm = "z", expected one of ["a","b","c"]'],
    [{ arm: 'a', w: 1.5, k: 2, flag: true }, 'Policy.fromAction: action.w = 1.5, expected a number in [0, 1]'],
    [{ arm: 'a', w: 0.5, k: 7, flag: true }, 'Policy.fromAction: action.k = 7, expected an integer in [1, 6]'],
    [{ arm: 'a', w: 0.5, k: 2, flag: 1 }, 'Policy.fromAction: action.flag = 1, expected true or false'],
  ])('rejects a bad action %j', (action, message) => {
    expect(() => policy.fromAction(action, new Float64Array(4))).toThrow(message);
  });

  it('rejects a bad spec and a checkpoint of another shape, naming the field', () => {
    expect(() => ActorCritic.create({ observationSize: 3, actionSpace: [{ kind: 'integer', name: 'k', min: 5, max: 5 }], hidden: [8] }, 1))
      .toThrow('policy spec: actionSpace[0].min/max = [5,5], expected integers with min < max');
    expect(() => ActorCritic.create({ observationSize: 0, actionSpace: space, hidden: [8] }, 1)).toThrow('policy spec: observationSize = 0, expected a positive integer');
    const json = policy.toJSON();
    json.spec = { ...json.spec, hidden: [9] };
    expect(() => ActorCritic.fromJSON(json)).toThrow(/checkpoint layout \[trunk\.0\.weight:8x3, .*\] does not match the spec's layout \[trunk\.0\.weight:9x3/);
  });

  it('rejects a rollout batch with an out-of-range action', async () => {
    const hp = parsePpoHyperparameters({ num_envs: 1, num_steps: 8, num_minibatches: 2 });
    const b = await collectRollout(new ContextualBandit(0, true), policy, 8, new Rng(1));
    b.actions[2] = 9;
    expect(() => ppoUpdate(policy.clone(), createPpoOptimizer(policy, hp), [b], hp, new Rng(1)))
      .toThrow('ppoUpdate: batches[0].actions[2] (step 0, head "k") = 9, expected a valid raw integer action');
  });
});

describe('PPO', () => {
  const hpSmall = { num_envs: 2, num_steps: 64, num_minibatches: 4, update_epochs: 4, learning_rate: 3e-3, hidden_sizes: [16, 16], seed: 7 };

  it('is deterministic: the same seed gives bit-identical weights; another seed does not', async () => {
    const make = (): ContextualBandit => new ContextualBandit(2, true);
    const a = await trainPpo(make, hpSmall, 3);
    const b = await trainPpo(make, hpSmall, 3);
    const c = await trainPpo(make, { ...hpSmall, seed: 8 }, 3);
    expect(Buffer.from(a.policy.params.data.buffer).equals(Buffer.from(b.policy.params.data.buffer))).toBe(true);
    expect(Buffer.from(a.policy.params.data.buffer).equals(Buffer.from(c.policy.params.data.buffer))).toBe(false);
    expect(a.history).toEqual(b.history);
  });

  it('checkpoints restore weights and optimizer bit for bit, so a resumed run equals an uninterrupted one', async () => {
    const hp = parsePpoHyperparameters({ ...hpSmall, total_timesteps: 3 * 128 });
    const env = new ContextualBandit(0, true);
    const policy = ActorCritic.create({ observationSize: 3, actionSpace: env.actionSpace, hidden: [16, 16] }, 1);
    const opt = createPpoOptimizer(policy, hp);
    const batch1 = await collectRollout(env, policy, 128, new Rng(10));
    ppoUpdate(policy, opt, [batch1], hp, new Rng(11));
    // save, restore through JSON text
    const saved = JSON.parse(JSON.stringify({ policy: policy.toJSON(), opt: optimizerToJSON(opt) }));
    const p2 = ActorCritic.fromJSON(saved.policy), o2 = optimizerFromJSON(saved.opt);
    const batch2 = await collectRollout(new ContextualBandit(0, true), policy, 128, new Rng(12));
    const m1 = ppoUpdate(policy, opt, [batch2], hp, new Rng(13)).metrics;
    const m2 = ppoUpdate(p2, o2, [batch2], hp, new Rng(13)).metrics;
    expect(Buffer.from(p2.params.data.buffer).equals(Buffer.from(policy.params.data.buffer))).toBe(true);
    expect(m2).toEqual(m1);
    expect(m1['charts/iteration']).toBe(2);
  });

  it('reports CleanRL metrics, anneals the learning rate and stops early at target_kl', async () => {
    const { history } = await trainPpo(() => new ContextualBandit(0), { ...hpSmall, learning_rate: 0.05, target_kl: 0.001, update_epochs: 10 }, 4);
    const m = history[0];
    for (const k of ['charts/learning_rate', 'losses/value_loss', 'losses/policy_loss', 'losses/entropy', 'losses/old_approx_kl', 'losses/approx_kl', 'losses/clipfrac', 'losses/explained_variance', 'charts/episodic_return']) {
      expect(Number.isFinite(m[k as keyof typeof m])).toBe(true);
    }
    history.forEach((h, i) => expect(h['charts/learning_rate']).toBeCloseTo(0.05 * (1 - i / 4), 15));
    // a large step overshoots the tiny KL target: the epochs stop early, and approx_kl is then above it
    expect(history.some((h) => h['charts/epochs'] < 10 && h['losses/approx_kl'] > 0.001)).toBe(true);
  });

  it('adapts the learning rate to KL when kl_adaptive_lr is on', async () => {
    const { history, optimizer } = await trainPpo(() => new ContextualBandit(0), { ...hpSmall, anneal_lr: false, kl_adaptive_lr: true, learning_rate: 0.05, target_kl: 0.001 }, 3);
    expect(history[1]['charts/learning_rate']).toBeLessThan(history[0]['charts/learning_rate']);
    expect(optimizer.learning_rate).toBeGreaterThanOrEqual(0.05 / 100);
  });

  it('explained variance is 1 for perfect values and NaN for constant returns', () => {
    expect(explainedVariance(Float64Array.of(1, 2, 3), Float64Array.of(1, 2, 3))).toBe(1);
    expect(explainedVariance(Float64Array.of(1, 2, 3), Float64Array.of(2, 2, 2))).toBeNaN();
  });

  it('learns a contextual bandit with a categorical and a continuous part to near-optimal return', async () => {
    const { policy, history } = await trainPpo(() => new ContextualBandit(0), {
      num_envs: 4, num_steps: 64, num_minibatches: 4, update_epochs: 4, learning_rate: 1e-2, ent_coef: 0.0, hidden_sizes: [32, 32], seed: 3, target_kl: null,
    }, 40);
    const first = history[0]['charts/episodic_return'], last = history[history.length - 1]['charts/episodic_return'];
    expect(first).toBeLessThan(0.5);
    expect(last).toBeGreaterThan(0.85); // optimum 1
    // the deterministic policy picks each context's best arm and a fusion weight near the optimum
    const out = new Float64Array(2);
    for (let c = 0; c < 3; c++) {
      const obs = new Float64Array(3);
      obs[c] = 1;
      policy.mode(obs, out);
      const a = policy.toAction(out);
      expect(a.arm).toBe(BEST_ARM[c]);
      expect(Math.abs((a.w as number) - BEST_W[c])).toBeLessThan(0.1);
    }
  });

  it('learns a multi-step task (corridor): reaches the goal in the minimum number of steps', async () => {
    const { history } = await trainPpo(() => new Corridor(4), {
      num_envs: 2, num_steps: 128, num_minibatches: 4, update_epochs: 4, learning_rate: 1e-2, hidden_sizes: [16], seed: 5, gamma: 0.99,
    }, 25);
    const last = history[history.length - 1];
    expect(last['charts/episodic_length']).toBeLessThan(4.5);
    expect(last['charts/episodic_return']).toBeGreaterThan(0.6); // optimum 1 − 3·0.1 = 0.7
  });
});
