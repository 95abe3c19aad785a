import { maxRelativeError, numericalGradient } from '../nn/gradcheck';
import { Rng } from '../rng';
import type { ActionPart, ActionSpace } from './environment';
import { parsePpoHyperparameters } from './hyperparameters';
import { ActorCritic, type ActorCriticSpec } from './actor-critic';
import { ppoLoss, type Minibatch } from './ppo';

const OBS = 5;
const HEADS: Record<string, ActionPart> = {
  categorical: { kind: 'categorical', name: 'variant', choices: ['A', 'B', 'C'] },
  integer: { kind: 'integer', name: 'k', min: 3, max: 8 },
  bernoulli: { kind: 'bernoulli', name: 'rerank' },
  continuous: { kind: 'continuous', name: 'fusion', min: 0, max: 1 },
};
const ALL: ActionSpace = Object.values(HEADS);

/** A policy with weights large enough that every head's output matters (the 0.01 head init would make the check trivial). */
function randomPolicy(space: ActionSpace, seed: number, extra: Partial<ActorCriticSpec> = {}): ActorCritic {
  const p = ActorCritic.create({ observationSize: OBS, actionSpace: space, hidden: [7, 6], ...extra }, seed);
  const rng = new Rng(seed + 100);
  for (let i = 0; i < p.params.length; i++) p.params.data[i] = 0.7 * rng.normal();
  // statistics that move every feature (mean ≠ 0, var ≠ 1) while keeping the inputs inside the clip
  if (p.obsRms) p.obsRms.update(Float64Array.from({ length: 40 * OBS }, (_, i) => 0.5 * (i % OBS) + (1 + (i % OBS) / 2) * rng.normal()), 40);
  // value statistics far from (0, 1), so the head's scale matters
  if (p.valueRms) p.valueRms.update(Float64Array.from({ length: 30 }, () => 4 + 3 * rng.normal()), 30);
  return p;
}

function randomObs(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n * OBS }, () => rng.normal());
}

/** Actions sampled from the policy itself, so they are typical (and continuous u values are finite). */
function sampledActions(p: ActorCritic, obs: Float64Array, n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * p.numHeads), out = new Float64Array(p.numHeads);
  for (let i = 0; i < n; i++) {
    p.sample(obs.subarray(i * OBS, (i + 1) * OBS), rng, out);
    a.set(out, i * p.numHeads);
  }
  return a;
}

describe('gradient check (central differences, float64): policy heads', () => {
  it.each([...Object.keys(HEADS), 'all four'])('%s head(s): ∂/∂θ of Σ cL·log π + cH·H + cV·V, relative error < 1e-5', (kind) => {
    const space = kind === 'all four' ? ALL : [HEADS[kind]];
    const rng = new Rng(11);
    const p = randomPolicy(space, 21);
    const n = 6;
    const obs = randomObs(n, rng), actions = sampledActions(p, obs, n, rng);
    const cL = Float64Array.from({ length: n }, () => rng.normal());
    const cH = Float64Array.from({ length: n }, () => rng.normal());
    const cV = Float64Array.from({ length: n }, () => rng.normal());
    const f = (): number => {
      const { logProb, entropy, value } = p.evaluate(obs, actions, n);
      let s = 0;
      for (let i = 0; i < n; i++) s += cL[i] * logProb[i] + cH[i] * entropy[i] + cV[i] * value[i];
      return s;
    };
    f();
    p.params.zeroGrad();
    p.backward(cL, cH, cV);
    const analytic = Float64Array.from(p.params.grad);
    const numeric = numericalGradient(f, p.params.data);
    // every parameter takes part (no silently dead tensor)
    for (const t of p.params.layout) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      expect(analytic.subarray(t.offset, t.offset + size).some((g) => g !== 0)).toBe(true);
    }
    const { error, index } = maxRelativeError(analytic, numeric);
    expect({ error: error < 1e-5 ? 'ok' : error, index }).toEqual({ error: 'ok', index: expect.any(Number) });
  });

  it('log π of each head matches the distribution written out by hand', () => {
    const p = randomPolicy(ALL, 4);
    const rng = new Rng(5);
    const obs = randomObs(1, rng);
    const a = Float64Array.from([2, 4, 1, 0.3]);
    const { logProb, entropy } = p.evaluate(obs, a, 1);
    const z0 = Array.from(p.headOutput(0)), z1 = Array.from(p.headOutput(1)), l = p.headOutput(2)[0], mu = p.headOutput(3)[0];
    const lse = (z: number[]): number => Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    const sig = 1 / (1 + Math.exp(-l)), sd = Math.exp(p.logStd(3));
    const t = Math.tanh(0.3);
    const gauss = -0.5 * ((0.3 - mu) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
    const jac = Math.log(0.5 * (1 - t * t)); // da/du for [0, 1]
    const expected = z0[2] - lse(z0) + (z1[4] - lse(z1)) + Math.log(sig) + gauss - jac;
    expect(logProb[0]).toBeCloseTo(expected, 10);
    const catH = (z: number[]): number => -z.reduce((s, v) => { const q = Math.exp(v - lse(z)); return s + q * Math.log(q); }, 0);
    const bernH = -(sig * Math.log(sig) + (1 - sig) * Math.log(1 - sig));
    expect(entropy[0]).toBeCloseTo(catH(z0) + catH(z1) + bernH + 0.5 + 0.5 * Math.log(2 * Math.PI) + Math.log(sd), 10);
  });
});

describe('gradient check (central differences, float64): the full PPO loss', () => {
  it.each([
    ['clip_vloss, norm_adv', { clip_vloss: true, norm_adv: true }],
    ['no value clipping, raw advantages', { clip_vloss: false, norm_adv: false }],
  ])('%s: ∂loss/∂θ relative error < 1e-5, with clipped and unclipped samples present', (_name, flags) => {
    const hp = parsePpoHyperparameters({ ent_coef: 0.05, vf_coef: 0.5, clip_coef: 0.2, ...flags });
    const rng = new Rng(31);
    const p = randomPolicy(ALL, 41);
    const n = 24;
    const obs = randomObs(n, rng), actions = sampledActions(p, obs, n, rng);
    const { logProb, value } = p.evaluate(obs, actions, n);
    // old log-probs and values of a slightly different policy, so some ratios/values fall outside the clip range
    const mb: Minibatch = {
      n, obs, actions,
      logprobs: Float64Array.from(logProb, (l) => l + 0.3 * rng.normal()),
      advantages: Float64Array.from({ length: n }, () => rng.normal()),
      returns: Float64Array.from(value, (v) => v + rng.normal()),
      values: Float64Array.from(value, (v) => v + 0.3 * rng.normal()),
    };
    // the check is only meaningful away from the kinks of clip/max: every sample is ≥ 1e-3 from one
    const ratios = Array.from(logProb, (l, i) => Math.exp(l - mb.logprobs[i]));
    expect(ratios.every((r) => Math.abs(r - 0.8) > 1e-3 && Math.abs(r - 1.2) > 1e-3)).toBe(true);
    expect(ratios.some((r) => r < 0.8 || r > 1.2)).toBe(true);
    expect(ratios.some((r) => r > 0.8 && r < 1.2)).toBe(true);
    const dv = Array.from(value, (v, i) => v - mb.values[i]);
    expect(dv.every((d) => Math.abs(Math.abs(d) - 0.2) > 1e-3)).toBe(true);
    expect(dv.some((d) => Math.abs(d) > 0.2)).toBe(true);

    p.params.zeroGrad();
    const stats = ppoLoss(p, mb, hp, true);
    expect(stats.clipfrac).toBeGreaterThan(0);
    expect(stats.clipfrac).toBeLessThan(1);
    const analytic = Float64Array.from(p.params.grad);
    const numeric = numericalGradient(() => ppoLoss(p, mb, hp, false).loss, p.params.data);
    expect(maxRelativeError(analytic, numeric).error).toBeLessThan(1e-5);
  });
});

describe('gradient check: vf_share_layers and observation normalisation', () => {
  it.each([
    ['shared trunk', { shareLayers: true }],
    ['separate actor and critic trunks', { shareLayers: false }],
    ['separate trunks, normalised observations', { shareLayers: false, obsNorm: { clip: 10, epsilon: 1e-8 } }],
    ['shared trunk, normalised observations', { shareLayers: true, obsNorm: { clip: 10, epsilon: 1e-8 } }],
    ['separate trunks, normalised value targets', { shareLayers: false, valueNorm: { epsilon: 1e-8 } }],
    ['shared trunk, normalised observations and value targets', { shareLayers: true, obsNorm: { clip: 10, epsilon: 1e-8 }, valueNorm: { epsilon: 1e-8 } }],
  ] as [string, Partial<ActorCriticSpec>][])('%s: the full PPO loss, relative error < 1e-5, every tensor reached', (_name, extra) => {
    const hp = parsePpoHyperparameters({ ent_coef: 0.05 });
    const rng = new Rng(32);
    const p = randomPolicy(ALL, 42, extra);
    const n = 16;
    const obs = randomObs(n, rng), actions = sampledActions(p, obs, n, rng);
    const { logProb, value } = p.evaluate(obs, actions, n);
    const mb: Minibatch = {
      n, obs, actions,
      logprobs: Float64Array.from(logProb, (l) => l + 0.3 * rng.normal()),
      advantages: Float64Array.from({ length: n }, () => rng.normal()),
      returns: Float64Array.from(value, (v) => v + rng.normal()),
      values: Float64Array.from(value, (v) => v + 0.3 * rng.normal()),
    };
    p.params.zeroGrad();
    ppoLoss(p, mb, hp, true);
    const analytic = Float64Array.from(p.params.grad);
    for (const t of p.params.layout) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      expect({ tensor: t.name, reached: analytic.subarray(t.offset, t.offset + size).some((g) => g !== 0) }).toEqual({ tensor: t.name, reached: true });
    }
    const numeric = numericalGradient(() => ppoLoss(p, mb, hp, false).loss, p.params.data);
    expect(maxRelativeError(analytic, numeric).error).toBeLessThan(1e-5);
  });

  it('separate trunks: the value loss reaches only the critic and the value head; the policy terms never reach them', () => {
    const p = randomPolicy(ALL, 43, { shareLayers: false });
    const rng = new Rng(44);
    const n = 5, obs = randomObs(n, rng), actions = sampledActions(p, obs, n, rng);
    const ones = new Float64Array(n).fill(1), zeros = new Float64Array(n);
    const touched = (cL: Float64Array, cH: Float64Array, cV: Float64Array): string[] => {
      p.evaluate(obs, actions, n);
      p.params.zeroGrad();
      p.backward(cL, cH, cV);
      return p.params.layout.filter((t) => p.params.grad.subarray(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1)).some((g) => g !== 0)).map((t) => t.name.split('.')[0]);
    };
    expect(new Set(touched(zeros, zeros, ones))).toEqual(new Set(['critic', 'value']));
    expect(new Set(touched(ones, ones, zeros))).toEqual(new Set(['trunk', 'head']));
    const shared = randomPolicy(ALL, 43, { shareLayers: true });
    shared.evaluate(obs, actions, n);
    shared.params.zeroGrad();
    shared.backward(zeros, zeros, ones);
    expect(shared.params.grad.subarray(0, shared.params.tensor('trunk.0.weight').shape.reduce((a, b) => a * b, 1)).some((g) => g !== 0)).toBe(true);
    expect(shared.params.layout.some((t) => t.name.startsWith('critic'))).toBe(false);
  });
});
