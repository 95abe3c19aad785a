/** @jest-environment ./ml/onnx/ort-jest-environment.js */
import * as ort from 'onnxruntime-node';
import { Rng } from '../rng';
import type { ActionSpace } from '../rl/environment';
import { ActorCritic, type ActorCriticSpec } from '../rl/actor-critic';
import { decodeAction, scoreAction } from './decode';
import { exportOnnx, referenceOutputs } from './export';
import { actionSpaceOf, outputNames, parsePolicySignature } from './signature';

const SPACE: ActionSpace = [
  { kind: 'categorical', name: 'variant', choices: ['A', 'B'] },
  { kind: 'integer', name: 'k', min: 3, max: 32 },
  { kind: 'bernoulli', name: 'rerank' },
  { kind: 'continuous', name: 'fusion_weight', min: 0, max: 1 },
  { kind: 'categorical', name: 'prompt', choices: ['p0', 'p1', 'p2'] },
];
const OBS = 16;

/** A policy whose heads are far from uniform (the 0.01 head init would make parity trivially easy). */
function trainedLikePolicy(seed: number): ActorCritic {
  const p = ActorCritic.create({ observationSize: OBS, actionSpace: SPACE, hidden: [64, 64] }, seed);
  const rng = new Rng(seed + 1);
  for (const t of p.params.layout) {
    const v = p.params.view(t.name);
    const scale = t.name.startsWith('head') ? 0.3 : 0.05;
    for (let i = 0; i < v.length; i++) v[i] += scale * rng.normal();
  }
  p.params.view('head.fusion_weight.log_std')[0] = -0.7;
  return p;
}

function obsBatch(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n * OBS }, () => 2 * rng.normal());
}

async function run(model: Uint8Array, obs: Float64Array, n: number): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model);
  try {
    return await session.run({ obs: new ort.Tensor('float32', Float32Array.from(obs), [n, OBS]) });
  } finally {
    await session.release();
  }
}

describe('ONNX export', () => {
  it('onnxruntime-node matches the TypeScript forward pass within 1e-5 on 1,000 random states (all four head types)', async () => {
    const policy = trainedLikePolicy(3);
    const { model, signature } = exportOnnx(policy);
    const n = 1000;
    const obs = obsBatch(n, new Rng(4));
    const got = await run(model, obs, n);
    const want = referenceOutputs(policy, obs, n);
    expect(Object.keys(got).sort()).toEqual(outputNames(signature).sort());
    let worst = 0;
    for (const name of outputNames(signature)) {
      const g = got[name].data as Float32Array, w = want[name];
      expect(got[name].dims[0]).toBe(n);
      expect(g.length).toBe(w.length);
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]));
    }
    expect(worst).toBeLessThan(1e-5);
    // the check is not vacuous: the heads are far from uniform
    const probs = want.k_probs;
    expect(Math.max(...probs.subarray(0, 30))).toBeGreaterThan(2 / 30);
  });

  it('keeps the batch dynamic (1 and 7 rows) and writes a self-describing signature', async () => {
    const policy = trainedLikePolicy(5);
    const { model, signature } = exportOnnx(policy, { observationNames: Array.from({ length: OBS }, (_, i) => `f${i}`) });
    for (const n of [1, 7]) {
      const out = await run(model, obsBatch(n, new Rng(n)), n);
      expect(out.value.dims).toEqual([n, 1]);
      expect(out.fusion_weight_log_std.dims).toEqual([n, 1]);
      expect(out.k_probs.dims).toEqual([n, 30]);
    }
    const parsed = parsePolicySignature(JSON.parse(JSON.stringify(signature)));
    expect(parsed).toEqual(signature);
    expect(actionSpaceOf(parsed)).toEqual(SPACE);
    expect(signature.heads.map((h) => h.kind)).toEqual(['categorical', 'integer', 'bernoulli', 'continuous', 'categorical']);
  });

  it('decodes ORT outputs to the same greedy action and log π as the trainer', async () => {
    const policy = trainedLikePolicy(8);
    const { model, signature } = exportOnnx(policy);
    const n = 50;
    const obs = obsBatch(n, new Rng(9));
    const out = await run(model, obs, n);
    const raw = new Float64Array(SPACE.length);
    for (let i = 0; i < n; i++) {
      const step = policy.mode(obs.subarray(i * OBS, (i + 1) * OBS), raw);
      const d = decodeAction(signature, out, { row: i });
      const a = policy.toAction(raw);
      expect(d.action.variant).toBe(a.variant);
      expect(d.action.k).toBe(a.k);
      expect(d.action.rerank).toBe(a.rerank);
      expect(d.action.fusion_weight as number).toBeCloseTo(a.fusion_weight as number, 5);
      expect(d.logProb).toBeCloseTo(step.logProb, 4);
      expect(d.propensity).toBe(1);
      expect(d.value).toBeCloseTo(step.value, 5);
    }
  });

  it('samples with propensities that match the action frequencies, and scores actions consistently', async () => {
    const policy = trainedLikePolicy(10);
    const { model, signature } = exportOnnx(policy);
    const out = await run(model, obsBatch(1, new Rng(11)), 1);
    const rng = new Rng(12);
    const counts = new Map<string, number>();
    const draws = 20_000;
    let sample = decodeAction(signature, out, { rng });
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < draws; i++) {
      const d = decodeAction(signature, out, { rng });
      counts.set(String(d.action.variant), (counts.get(String(d.action.variant)) ?? 0) + 1);
      if (i === 0) sample = d;
      lo = Math.min(lo, d.action.fusion_weight as number);
      hi = Math.max(hi, d.action.fusion_weight as number);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi - lo).toBeGreaterThan(0.3); // it does sample
    const pA = (out.variant_probs.data as Float32Array)[0];
    expect((counts.get('A') ?? 0) / draws).toBeCloseTo(pA, 1);
    expect(sample.mode).toBe('sample');
    expect(sample.propensity).toBeCloseTo(sample.policyProbability, 12);
    const s = scoreAction(signature, out, sample.action);
    expect(s.logProb).toBeCloseTo(sample.logProb, 4);
    // the continuous density integrates to 1 over [0, 1] (it is a density of the squashed action)
    let integral = 0;
    const m = 20_000;
    for (let i = 0; i < m; i++) {
      const a = { ...sample.action, fusion_weight: (i + 0.5) / m };
      integral += scoreAction(signature, out, a).density / m;
    }
    expect(integral).toBeCloseTo(1, 2);
  });

  it.each([
    [(s: any) => { s.heads[1].max = 1; }, 'signature.heads[1] min/max = [3, 1]: expected min < max'],
    [(s: any) => { s.input.shape = ['batch', 3]; }, 'signature.input.shape[1] = 3: expected observation.size = 16'],
    [(s: any) => { s.heads[3].squash = 'clip'; }, 'signature.heads[3].squash = "clip": expected "tanh"'],
    [(s: any) => { s.format = 'v0'; }, 'signature.format = "v0": expected "autopilot.policy-signature/v1"'],
  ])('rejects a broken signature with an exact message (%#)', (mutate, message) => {
    const { signature } = exportOnnx(trainedLikePolicy(1));
    const s = JSON.parse(JSON.stringify(signature));
    mutate(s);
    expect(() => parsePolicySignature(s)).toThrow(message);
  });
});

describe('ONNX export of a policy with separate actor/critic trunks and observation normalisation', () => {
  /** Observations far from N(0, 1): per-feature offsets and scales, so the normalisation matters. */
  function skewedObs(n: number, rng: Rng): Float64Array {
    return Float64Array.from({ length: n * OBS }, (_, i) => 5 * (i % OBS) - 30 + (1 + (i % OBS)) * rng.normal());
  }

  function normalisingPolicy(seed: number): ActorCritic {
    const base = trainedLikePolicy(seed);
    const p = ActorCritic.create({ observationSize: OBS, actionSpace: SPACE, hidden: [64, 64], shareLayers: false, obsNorm: { clip: 3, epsilon: 1e-8 } }, seed);
    // the actor's tensors from the shared-trunk fixture, a perturbed critic of its own
    for (const t of base.params.layout) p.params.view(t.name).set(base.params.view(t.name));
    const rng = new Rng(seed + 7);
    for (const t of p.params.layout) if (t.name.startsWith('critic')) for (const [i, v] of p.params.view(t.name).entries()) p.params.view(t.name)[i] = v + 0.05 * rng.normal();
    p.obsRms!.update(skewedObs(500, new Rng(seed + 8)), 500);
    return p;
  }

  it('Sub/Div/Clip before the trunk and the critic trunk under the value: onnxruntime-node equals the TypeScript forward within 1e-5 on 1,000 random observations', async () => {
    const policy = normalisingPolicy(5);
    const { model, signature } = exportOnnx(policy);
    const n = 1000;
    // rows drawn like the statistics, some 4σ out so the clip is exercised; float32-representable
    const obs = Float64Array.from(Float32Array.from(skewedObs(n, new Rng(9)).map((v, i) => (i % 97 === 0 ? v * 4 : v))));
    const got = await run(model, obs, n);
    const want = referenceOutputs(policy, obs, n);
    let worst = 0;
    for (const name of outputNames(signature)) {
      const g = got[name].data as Float32Array, w = want[name];
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]));
    }
    expect(worst).toBeLessThan(1e-5);
    // not vacuous: the clip bites, and the same weights read without the normalisation, or with the
    // actor's trunk under the value head, answer differently
    expect(Math.max(...Array.from(policy.normalizedInput(obs, n), Math.abs))).toBe(3);
    const variant = (spec: Partial<ActorCriticSpec>): Record<string, Float64Array> => {
      const q = new ActorCritic({ ...policy.spec, ...spec });
      for (const t of q.params.layout) q.params.view(t.name).set(policy.params.view(t.name));
      if (q.obsRms) q.obsRms.load(policy.obsRms!.toJSON());
      return referenceOutputs(q, obs, n);
    };
    const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(maxDiff(variant({ obsNorm: undefined }).variant_probs, want.variant_probs)).toBeGreaterThan(1e-2);
    expect(maxDiff(variant({ shareLayers: true }).value, want.value)).toBeGreaterThan(1e-2);
  });

  it('norm_value: the value statistics folded into the exported value head; onnxruntime-node\'s value equals V = head · std + mean within 1e-5', async () => {
    const base = normalisingPolicy(6);
    const policy = new ActorCritic({ ...base.spec, valueNorm: { epsilon: 1e-8 } });
    policy.params.load(base.params.data);
    policy.obsRms!.load(base.obsRms!.toJSON());
    policy.valueRms!.update(Float64Array.from({ length: 200 }, (_, i) => 2.5 + 1.7 * Math.sin(i)), 200);
    const { model } = exportOnnx(policy);
    const n = 500;
    const obs = Float64Array.from(Float32Array.from(skewedObs(n, new Rng(10))));
    const got = (await run(model, obs, n)).value.data as Float32Array;
    const want = referenceOutputs(policy, obs, n).value;
    const plain = referenceOutputs(base, obs, n).value;
    let worst = 0, moved = 0;
    for (let i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
      moved = Math.max(moved, Math.abs(want[i] - plain[i]));
    }
    expect(worst).toBeLessThan(1e-5);
    expect(moved).toBeGreaterThan(1);
  });
});
