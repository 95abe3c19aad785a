import { createHash } from 'node:crypto';
import { ActorCritic } from '../../ml/rl/actor-critic';
import { actorCriticSpecFor, parsePpoHyperparameters } from '../../ml/rl/hyperparameters';
import { createPpoOptimizer, ppoUpdate } from '../../ml/rl/ppo';
import { collectRollout, type RolloutBatch } from '../../ml/rl/rollout';
import { Rng } from '../../ml/rng';
import { Acrobot, acrobotDerivatives, angleNormalize, CartPole, CLASSIC_CONTROL, Pendulum, wrap } from './index';

describe('CartPole-v1', () => {
  it('takes the Euler step of the published equations (hand-computed from x=0.01, ẋ=−0.2, θ=0.1, θ̇=0.3, push right)', () => {
    const env = new CartPole();
    env.reset(1);
    env.state.set([0.01, -0.2, 0.1, 0.3]);
    const { observation, reward, done } = env.step({ push: 'right' });
    // temp = (10 + 0.05·0.3²·sin 0.1)/1.1; θ̈ = (9.8 sin 0.1 − cos 0.1·temp)/(0.5(4/3 − 0.1 cos²0.1/1.1));
    // ẍ = temp − 0.05·θ̈·cos 0.1/1.1; then x += 0.02ẋ, ẋ += 0.02ẍ, θ += 0.02θ̇, θ̇ += 0.02θ̈
    expect(observation[0]).toBeCloseTo(0.006, 15);
    expect(observation[1]).toBeCloseTo(-0.006435048799632775, 14);
    expect(observation[2]).toBeCloseTo(0.106, 15);
    expect(observation[3]).toBeCloseTo(0.04045412544986271, 14);
    expect(reward).toBe(1);
    expect(done).toBe(false);
  });

  it('pushes left with −10 N: the mirror image of pushing right from the mirrored state', () => {
    const a = new CartPole(), b = new CartPole();
    a.reset(1);
    b.reset(1);
    a.state.set([0.01, -0.2, 0.1, 0.3]);
    b.state.set([-0.01, 0.2, -0.1, -0.3]);
    const ra = a.step({ push: 'right' }).observation, rb = b.step({ push: 'left' }).observation;
    for (let i = 0; i < 4; i++) expect(rb[i]).toBeCloseTo(-ra[i], 15);
  });

  it('ends past 12° or 2.4 m with reward 1 on that step, truncates at 500 steps, resets within ±0.05 by seed', () => {
    const env = new CartPole();
    const o1 = env.reset(42), o2 = new CartPole().reset(42), o3 = new CartPole().reset(43);
    expect(Array.from(o1)).toEqual(Array.from(o2));
    expect(Array.from(o1)).not.toEqual(Array.from(o3));
    for (const v of o1) expect(Math.abs(v)).toBeLessThan(0.05);
    env.state.set([0, 0, 0.2093, 1]);
    const fell = env.step({ push: 'right' });
    expect(fell).toMatchObject({ reward: 1, done: true, info: { terminated: true, truncated: false } });
    env.reset(3);
    env.state.set([2.399, 1, 0, 0]);
    expect(env.step({ push: 'right' }).info).toEqual({ terminated: true, truncated: false });
    // a cart held still by alternating pushes is truncated at step 500, not before
    env.reset(5);
    let steps = 0, last;
    do {
      env.state.set([0, 0, 0, 0]);
      last = env.step({ push: steps % 2 ? 'left' : 'right' });
      steps++;
    } while (!last.done);
    expect(steps).toBe(500);
    expect(last.info).toEqual({ terminated: false, truncated: true });
    expect(() => env.step({ push: 'up' })).toThrow('CartPole.step: action.push = "up", expected "left" or "right"');
  });
});

describe('Pendulum-v1', () => {
  it('rewards −(angle_normalize(θ)² + 0.1θ̇² + 0.001u²) of the state before the step and integrates semi-implicitly', () => {
    const env = new Pendulum();
    env.reset(1);
    env.state.set([2.5, -1.5]);
    const { observation, reward, done } = env.step({ torque: 1.2 });
    // cost = 2.5² + 0.1·1.5² + 0.001·1.2² (2.5 is already in [−π, π)); θ̇' = −1.5 + (15 sin 2.5 + 3·1.2)·0.05; θ' = 2.5 + 0.05θ̇'
    expect(reward).toBeCloseTo(-(2.5 ** 2 + 0.1 * 2.25 + 0.001 * 1.44), 14);
    expect(reward).toBeCloseTo(-6.476439999999999, 14);
    expect(observation[0]).toBeCloseTo(-0.7743241702157564, 14);
    expect(observation[1]).toBeCloseTo(0.63278912713453, 14);
    expect(observation[2]).toBeCloseTo(-0.8711458919220325, 14);
    expect(done).toBe(false);
  });

  it('normalises angles as Python does, clips the torque to ±2 and the speed to ±8, and truncates at 200 steps', () => {
    expect(angleNormalize(7)).toBeCloseTo(0.7168146928204138, 14);
    expect(angleNormalize(-7)).toBeCloseTo(-0.7168146928204138, 14);
    expect(angleNormalize(Math.PI)).toBeCloseTo(-Math.PI, 14);
    const a = new Pendulum(), b = new Pendulum();
    a.reset(1);
    b.reset(1);
    a.state.set([0.3, 7.9]);
    b.state.set([0.3, 7.9]);
    const ra = a.step({ torque: 5 }), rb = b.step({ torque: 2 });
    expect(Array.from(ra.observation)).toEqual(Array.from(rb.observation));
    expect(ra.reward).toBe(rb.reward);
    expect(ra.observation[2]).toBe(8);
    const env = new Pendulum();
    env.reset(9);
    let steps = 0, last;
    do {
      last = env.step({ torque: 0 });
      steps++;
    } while (!last.done);
    expect(steps).toBe(200);
    expect(last.info).toEqual({ terminated: false, truncated: true });
  });
});

describe('Acrobot-v1', () => {
  it('has the book dynamics: at rest, hanging, a +1 torque gives θ̈₂ = 1/(1.25 − 1.75²/4.5) and θ̈₁ = −1.75·θ̈₂/4.5', () => {
    const out = new Float64Array(4);
    acrobotDerivatives([0, 0, 0, 0], 0, out);
    for (const v of out) expect(Math.abs(v)).toBeLessThan(1e-14);
    acrobotDerivatives([0, 0, 0, 0], 1, out);
    // d₁ = 0.25 + (1 + 0.25 + 1) + 2 = 4.5, d₂ = (0.25 + 0.5) + 1 = 1.75, φ₁ = φ₂ = 0 (cos(−π/2) = 0)
    const dd2 = 1 / (0.25 + 1 - 1.75 ** 2 / 4.5);
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(0);
    expect(out[3]).toBeCloseTo(dd2, 12);
    expect(out[2]).toBeCloseTo(-(1.75 * dd2) / 4.5, 12);
  });

  it('takes one RK4 step of dt = 0.2 (checked against a finer RK4 integration), wraps angles and clips speeds', () => {
    const env = new Acrobot();
    env.reset(1);
    const s0 = [0.05, -0.08, 0.3, -0.2];
    env.state.set(s0);
    const { observation, reward, done } = env.step({ torque: '+1' });
    // reference: 200 RK4 sub-steps of 0.001 s; one RK4 step of 0.2 s has a local error O(dt⁵) ≈ 2e-4 here; a wrong term would be off by ≫ 1e-3
    let y = Float64Array.from(s0);
    const k = [0, 1, 2, 3].map(() => new Float64Array(4)), t = new Float64Array(4), h = 0.001;
    for (let i = 0; i < 200; i++) {
      acrobotDerivatives(y, 1, k[0]);
      for (let j = 0; j < 4; j++) t[j] = y[j] + (h / 2) * k[0][j];
      acrobotDerivatives(t, 1, k[1]);
      for (let j = 0; j < 4; j++) t[j] = y[j] + (h / 2) * k[1][j];
      acrobotDerivatives(t, 1, k[2]);
      for (let j = 0; j < 4; j++) t[j] = y[j] + h * k[2][j];
      acrobotDerivatives(t, 1, k[3]);
      y = y.map((v, j) => v + (h / 6) * (k[0][j] + 2 * k[1][j] + 2 * k[2][j] + k[3][j]));
    }
    for (let j = 0; j < 4; j++) expect(Math.abs(env.state[j] - y[j])).toBeLessThan(1e-3);
    expect(Array.from(observation)).toEqual([Math.cos(env.state[0]), Math.sin(env.state[0]), Math.cos(env.state[1]), Math.sin(env.state[1]), env.state[2], env.state[3]]);
    expect(reward).toBe(-1);
    expect(done).toBe(false);
    expect(wrap(3 * Math.PI / 2, -Math.PI, Math.PI)).toBeCloseTo(-Math.PI / 2, 14);
    expect(wrap(-7, -Math.PI, Math.PI)).toBeCloseTo(-7 + 2 * Math.PI, 14);
  });

  it('ends with reward 0 once the tip is above 1 (−cos θ₁ − cos(θ₁+θ₂) > 1); −1 per step before', () => {
    const env = new Acrobot();
    env.reset(2);
    env.state.set([Math.PI - 0.05, 0, 0, 0]);
    expect(env.step({ torque: '0' })).toMatchObject({ reward: 0, done: true, info: { terminated: true, truncated: false } });
    expect(() => env.step({ torque: 2 })).toThrow('Acrobot.step: action.torque = 2, expected "-1", "0" or "+1"');
  });
});

describe('the suite', () => {
  it('offers a discrete long-episode, a continuous and a sparse task behind the Environment interface, replayable by reset seed', () => {
    expect(Object.keys(CLASSIC_CONTROL)).toEqual(['CartPole-v1', 'Pendulum-v1', 'Acrobot-v1']);
    const kinds = Object.values(CLASSIC_CONTROL).map((make) => make().actionSpace[0].kind);
    expect(kinds).toEqual(['categorical', 'continuous', 'categorical']);
    for (const make of Object.values(CLASSIC_CONTROL)) {
      const a = make(), b = make();
      expect(Array.from(a.reset(7) as Float64Array)).toEqual(Array.from(b.reset(7) as Float64Array));
    }
  });
});

const sha = (p: ActorCritic): string => createHash('sha256').update(Buffer.from(p.params.data.buffer)).digest('hex');

describe('PPO on a time-limited task (bootstrap_truncated): a time limit is not a terminal state', () => {
  it('records V(s_final) where the env reports info.truncated and adds γ·V to that reward in the update (equal to doing it by hand)', async () => {
    const hp = parsePpoHyperparameters({ num_envs: 1, num_steps: 210, num_minibatches: 2, update_epochs: 2, hidden_sizes: [8], total_timesteps: 420 });
    const policy = ActorCritic.create(actorCriticSpecFor(3, new Pendulum().actionSpace, hp), 1);
    const batch = await collectRollout(new Pendulum(), policy, 210, new Rng(5));
    expect(batch.truncations?.map((x) => x.t)).toEqual([199]);
    expect(batch.dones[200]).toBe(1);
    const byHand: RolloutBatch = { ...batch, rewards: batch.rewards.map((r, t) => (t === 199 ? r + hp.gamma * batch.truncations![0].value : r)), truncations: undefined };
    const a = policy.clone(), b = policy.clone(), c = policy.clone();
    ppoUpdate(a, createPpoOptimizer(a, hp), [batch], hp, new Rng(6));
    ppoUpdate(b, createPpoOptimizer(b, hp), [byHand], { ...hp, bootstrap_truncated: false }, new Rng(6));
    ppoUpdate(c, createPpoOptimizer(c, hp), [batch], { ...hp, bootstrap_truncated: false }, new Rng(6));
    expect(sha(a)).toBe(sha(b));
    expect(sha(a)).not.toBe(sha(c));
    expect(() => ppoUpdate(c, createPpoOptimizer(c, hp), [{ ...batch, truncations: [{ t: 210, value: 0 }] }], hp, new Rng(6)))
      .toThrow('ppoUpdate: batches[0].truncations[0] = {"t":210,"value":0}, expected { t: an integer in [0, 210), value: a finite number }');
  });
});
