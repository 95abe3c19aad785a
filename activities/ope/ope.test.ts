/**
 * The pieces of the OPE workflow that need no services: the chunk format, the verdict rule, the input
 * checks, the joint action space, and scoring with onnxruntime on an exported multi-head policy.
 */
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../ml/onnx/export';
import { scoreAction } from '../../ml/onnx/decode';
import { ActorCritic } from '../../ml/rl/actor-critic';
import { Rng } from '../../ml/rng';
import type { DecisionWithReward } from '../../decision-log';
import { jointDistribution, loggedActionIndexes, opeActionSpace, readFeatures } from './action-space';
import { decodeChunk, encodeChunk, type ScoredChunk } from './chunk';
import { resolveOpeInput } from './config';
import { reportCsv, reportSvg, type OpeReport } from './report';
import { CandidateCache, scoreRows } from './scorer';
import { opeVerdict } from './verdict';

function sampleChunk(n: number, d: number, k: number): ScoredChunk {
  const rng = new Rng(5);
  const f64 = (m: number) => Float64Array.from({ length: m }, () => rng.uniform());
  return {
    nRounds: n, nFeatures: d, nActions: k,
    reward: f64(n), pscore: f64(n), pe: f64(n),
    action: Int32Array.from({ length: n }, () => (k > 0 ? rng.int(k) : -1)),
    context: Float32Array.from({ length: n * d }, () => rng.normal()),
    actionDist: f64(n * k),
    nHeads: 2, nHeadValues: 5,
    heads: Int32Array.from({ length: n * 2 }, () => rng.int(2)),
    headPe: f64(n * 2), headPscore: f64(n * 2), headProbs: f64(n * 5),
  };
}

describe('chunk format', () => {
  it.each([[1, 1, 0], [7, 3, 5], [1000, 6, 5], [13, 5, 0], [0, 4, 3]])('round-trips %i rounds × %i features × %i actions bit for bit', (n, d, k) => {
    const c = sampleChunk(n, d, k);
    const buf = encodeChunk(c);
    expect(buf.length % 8).toBe(0);
    // A Buffer slice at an odd offset (as a pooled read returns) still decodes.
    const shifted = Buffer.concat([Buffer.alloc(3), buf]).subarray(3);
    const back = decodeChunk(shifted);
    expect(back).toEqual(c);
  });

  it('is compact: 5,000 rounds × 6 features × 5 actions × 2 heads (2 + 3 values) in about 170 bytes a round', () => {
    // 8·3 + 4 + 4·6 + 8·5 = 92 bytes, plus the per-head fields 4·2 + 8·2 + 8·2 + 8·5 = 80
    expect(encodeChunk(sampleChunk(5000, 6, 5)).length).toBeLessThan(5000 * 172 + 256);
  });

  it.each([
    ['a wrong magic', (b: Buffer) => Buffer.concat([Buffer.from('NOTACHNK'), b.subarray(8)]), /not an OPE chunk \(expected the magic "APOPECK1"\)/],
    ['a truncated body', (b: Buffer) => b.subarray(0, b.length - 8), /headProbs runs past the end/],
    ['trailing bytes', (b: Buffer) => Buffer.concat([b, Buffer.alloc(8)]), /8 trailing bytes/],
    ['a header past the end', (b: Buffer) => { const c = Buffer.from(b); c.writeUInt32LE(1e6, 8); return c; }, /header of 1000000 bytes runs past the end/],
  ])('refuses %s, naming the chunk', (_what, corrupt, message) => {
    expect(() => decodeChunk(corrupt(encodeChunk(sampleChunk(4, 2, 3))), 'file:///x/000001.bin')).toThrow(new RegExp(`^file:///x/000001\\.bin: ${message.source}`));
  });

  it('refuses arrays of the wrong length on encode', () => {
    const c = sampleChunk(4, 2, 3);
    c.pe = new Float64Array(3);
    expect(() => encodeChunk(c)).toThrow('encodeChunk: pe has 3 values, expected 4');
  });
});

describe('verdict rule', () => {
  const iv = (lower: number, upper: number) => ({ value: (lower + upper) / 2, lower, upper });
  it.each([
    // diff interval, tolerance, minImprovement, verdict
    [iv(0.01, 0.05), 0, null, 'pass'],
    [iv(0, 0.05), 0, null, 'pass'],
    [iv(-0.01, 0.05), 0, null, 'inconclusive'],
    [iv(-0.01, 0.05), 0.02, null, 'pass'],
    [iv(-0.05, -0.01), 0, null, 'fail'],
    [iv(-0.05, -0.01), 0.02, null, 'inconclusive'],
    [iv(-0.05, -0.03), 0.02, null, 'fail'],
    [iv(0.03, 0.05), 0, 0.02, 'pass'],
    [iv(0.01, 0.05), 0, 0.02, 'inconclusive'],
    [iv(0.02, 0.05), 0, 0.02, 'inconclusive'],
    [iv(-0.05, -0.01), 0, 0.02, 'fail'],
  ] as const)('Δ ∈ %o, tolerance %d, minImprovement %p → %s', (diff, tolerance, minImprovement, verdict) => {
    const r = opeVerdict(diff, { tolerance, minImprovement });
    expect(r.verdict).toBe(verdict);
    expect(r.reason).toMatch(/Δ \[/);
  });
});

describe('workflow input', () => {
  const base = { deployment: 'rag', from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z', candidate: { model: 'rag', version: 3 } };

  it('fills in every default', () => {
    expect(resolveOpeInput(base)).toEqual({
      deployment: 'rag', from: '2025-01-01T00:00:00.000Z', to: '2025-01-02T00:00:00.000Z', candidate: { model: 'rag', version: 3 },
      estimators: ['ipw', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr', 'dr-os'], gateEstimator: null, alpha: 0.05, nBootstrap: 10000, seed: 0,
      chunkSize: 5000, tolerance: 0, minImprovement: null, clip: null, lambda: null, maxJointActions: 64, nFolds: 5, chunksPerRun: 500,
      keepChunks: false, actor: 'workflow:offPolicyEvaluation', rewardModel: 'auto', minEffectiveSampleSize: 100,
    });
  });

  it.each([
    [{ ...base, deployment: '' }, 'input.deployment = "": expected a non-empty string'],
    [{ ...base, rewardModel: 'table' }, 'input.rewardModel = "table": expected auto, per-joint-action, action-features'],
    [{ ...base, from: 'yesterday' }, 'input.from = "yesterday": expected an ISO 8601 time such as 2025-01-31T00:00:00Z'],
    [{ ...base, to: '2024-12-31T00:00:00Z' }, 'input.to = "2024-12-31T00:00:00Z": expected a time after from = 2025-01-01T00:00:00.000Z'],
    [{ ...base, candidate: 'rag:3' }, 'input.candidate = "rag:3": expected an object { model, version }'],
    [{ ...base, candidate: { model: 'rag', version: 0 } }, 'input.candidate.version = 0: expected an integer in [1, 2147483647]'],
    [{ ...base, estimators: ['ipw', 'ips'] }, 'input.estimators[1] = "ips": expected one of ipw, snipw, dm, dr, sndr, switch-dr, dr-os'],
    [{ ...base, estimators: [] }, 'input.estimators = []: expected a non-empty list of ipw, snipw, dm, dr, sndr, switch-dr, dr-os'],
    [{ ...base, estimators: ['ipw'], gateEstimator: 'dr' }, 'input.gateEstimator = "dr": expected one of the estimators run (ipw)'],
    [{ ...base, alpha: 1 }, 'input.alpha = 1: expected a number in (0, 1), e.g. 0.05'],
    [{ ...base, nBootstrap: 0 }, 'input.nBootstrap = 0: expected an integer in [1, 1000000]'],
    [{ ...base, chunkSize: 60000 }, 'input.chunkSize = 60000: expected an integer in [1, 50000]'],
    [{ ...base, tolerance: -0.1 }, 'input.tolerance = -0.1: expected a finite number ≥ 0'],
    [{ ...base, minImprovement: 'a lot' }, 'input.minImprovement = "a lot": expected a finite number or null'],
    [{ ...base, clip: 0 }, 'input.clip = 0: expected a clipping threshold > 0 (or null for none)'],
    [{ ...base, keepChunks: 'yes' }, 'input.keepChunks = "yes": expected true or false'],
    [{ ...base, windw: 1 }, 'input.windw = 1: expected no such field'],
    [null, 'input = null: expected an object'],
  ])('%j → %s', (input, message) => {
    expect(() => resolveOpeInput(input)).toThrow(`offPolicyEvaluation ${message}`);
  });
});

describe('joint discrete action space', () => {
  const policy = ActorCritic.create({
    observationSize: 3,
    actionSpace: [
      { kind: 'categorical', name: 'variant', choices: ['A', 'B', 'C'] },
      { kind: 'bernoulli', name: 'rerank' },
      { kind: 'continuous', name: 'fusion', min: 0, max: 1 },
      { kind: 'integer', name: 'k', min: 3, max: 6 },
    ],
    hidden: [8],
  }, 4);
  // Weights large enough that the heads are far from uniform.
  for (let i = 0; i < policy.params.data.length; i++) policy.params.data[i] *= 40;
  const exported = exportOnnx(policy);

  it('is the product of the discrete heads, continuous heads excluded, first head most significant', () => {
    const space = opeActionSpace(exported.signature, 64);
    expect(space.discrete.map((h) => [h.name, h.size])).toEqual([['variant', 3], ['rerank', 2], ['k', 4]]);
    expect(space.continuous).toEqual(['fusion']);
    expect(space.jointSize).toBe(24);
    expect(space.strides).toEqual([8, 4, 1]);
    expect(space.enumerated).toBe(true);
    expect(opeActionSpace(exported.signature, 23).enumerated).toBe(false);
    const idx = new Int32Array(3);
    expect(loggedActionIndexes(space, { variant: 'C', rerank: true, fusion: 0.3, k: 5 }, idx)).toBeNull();
    expect([...idx]).toEqual([2, 1, 2]);
    expect(loggedActionIndexes(space, { variant: 'D', rerank: true, fusion: 0.3, k: 5 }, idx)).toBe('action_not_in_candidate_space');
    expect(loggedActionIndexes(space, { variant: 'A', rerank: 1, fusion: 0.3, k: 5 }, idx)).toBe('action_not_in_candidate_space');
    expect(loggedActionIndexes(space, { variant: 'A', rerank: true, k: 7 }, idx)).toBe('action_not_in_candidate_space');
    // A part the candidate has no head for: the logged propensity is over another action space.
    expect(loggedActionIndexes(space, { variant: 'A', rerank: true, fusion: 0.3, k: 5, prompt: 2 }, idx)).toBe('action_not_in_candidate_space');
  });

  it('joint distribution = outer product, sums to 1', () => {
    const space = opeActionSpace(exported.signature, 64);
    const probs = [Float64Array.of(0.2, 0.5, 0.3), Float64Array.of(0.9, 0.1), Float64Array.of(0.1, 0.2, 0.3, 0.4)];
    const out = new Float64Array(24 + 2);
    jointDistribution(space, probs, out, 2);
    let sum = 0;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 4; c++) {
      expect(out[2 + a * 8 + b * 4 + c]).toBeCloseTo(probs[0][a] * probs[1][b] * probs[2][c], 15);
      sum += out[2 + a * 8 + b * 4 + c];
    }
    expect(sum).toBeCloseTo(1, 12);
  });

  it('reads features as an array or by signature name, and refuses anything else', () => {
    const sig = { ...exported.signature, observation: { size: 3, names: ['q', 'lat', 'cost'] } };
    const space = opeActionSpace(sig, 64);
    const out = new Float32Array(6);
    expect(readFeatures(space, [1, 2, 3], out, 3)).toBe(true);
    expect([...out.subarray(3)]).toEqual([1, 2, 3]);
    expect(readFeatures(space, { cost: 3, q: 1, lat: 2, entity: 'user:1' }, out, 0)).toBe(true);
    expect([...out.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(readFeatures(space, [1, 2], out, 0)).toBe(false);
    expect(readFeatures(space, [1, 2, 'x'], out, 0)).toBe(false);
    expect(readFeatures(space, { q: 1, lat: 2 }, out, 0)).toBe(false);
    expect(readFeatures(opeActionSpace(exported.signature, 64), { q: 1, lat: 2, cost: 3 }, out, 0)).toBe(false);
  });

  it('scores logged rows with onnxruntime: π_e of the logged action equals scoreAction, skipped rows are counted', async () => {
    const cache = new CandidateCache();
    const model = await cache.get('t/1@x', async () => ({ bytes: exported.model, sha256: 'x', signature: exported.signature, maxJointActions: 64 }));
    const rng = new Rng(9);
    const row = (i: number, over: Partial<DecisionWithReward> = {}): DecisionWithReward => ({
      decisionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, time: new Date(i), deployment: 'd', model: 'm', version: 1, generation: 1,
      arm: 'champion', features: [rng.normal(), rng.normal(), rng.normal()],
      action: { variant: ['A', 'B', 'C'][rng.int(3)], rerank: rng.uniform() < 0.5, fusion: rng.uniform(), k: 3 + rng.int(4) },
      propensity: 0.1 + rng.uniform() * 0.9, density: null, unit: null, latencyMs: null, metadata: null,
      reward: rng.uniform(), rewardComponents: null, rewardTime: null, ...over,
    });
    const rows = Array.from({ length: 40 }, (_, i) => row(i));
    rows.push(row(40, { propensity: null }), row(41, { features: [1, 2] }), row(42, { action: { variant: 'Z', rerank: true, fusion: 0.5, k: 3 } }));
    const { chunk, skipped } = await scoreRows(model, rows);
    expect(skipped).toEqual({ no_propensity: 1, features_invalid: 1, action_not_in_candidate_space: 1 });
    expect(chunk.nRounds).toBe(40);
    expect(chunk.nActions).toBe(24);
    const session = await ort.InferenceSession.create(exported.model);
    for (let i = 0; i < 40; i++) {
      const x = new ort.Tensor('float32', Float32Array.from(rows[i].features as number[]), [1, 3]);
      const outputs = await session.run({ [exported.signature.input.name]: x });
      const { probability } = scoreAction(exported.signature, outputs, rows[i].action as Record<string, string | number | boolean>);
      expect(chunk.pe[i]).toBeCloseTo(probability, 6);
      expect(chunk.actionDist[i * 24 + chunk.action[i]]).toBeCloseTo(chunk.pe[i], 12);
      let sum = 0;
      for (let a = 0; a < 24; a++) sum += chunk.actionDist[i * 24 + a];
      expect(sum).toBeCloseTo(1, 12);
      expect(chunk.pscore[i]).toBe(rows[i].propensity);
      expect(chunk.reward[i]).toBe(rows[i].reward);
    }
    expect(new Set(Array.from(chunk.pe)).size).toBeGreaterThan(20); // far from uniform: a real check
    await session.release();
    await cache.clear();
  });
});

describe('report', () => {
  const iv = (value: number, w: number) => ({ value, lower: value - w, upper: value + w });
  const report = {
    candidate: { model: 'rag', version: 3, sha256: 'x' }, deployment: 'rag', window: { from: 'a', to: 'b' },
    config: { alpha: 0.05, nBootstrap: 1000 }, rounds: { used: 1000 },
    logging: iv(0.5, 0.01),
    estimates: { ipw: { ...iv(0.6, 0.03), diff: iv(0.1, 0.03) }, dr: { ...iv(0.58, 0.01), diff: iv(0.08, 0.01) } },
    gate: { estimator: 'dr', diff: iv(0.08, 0.01), verdict: 'pass' },
  } as unknown as OpeReport;

  it('CSV: one row for the logging policy and one per estimator, the gate marked', () => {
    expect(reportCsv(report).trim().split('\n')).toEqual([
      'estimator,value,lower,upper,diff_value,diff_lower,diff_upper,gate',
      'logging,0.5,0.49,0.51,0,0,0,false',
      `ipw,0.6,${0.6 - 0.03},${0.6 + 0.03},0.1,${0.1 - 0.03},${0.1 + 0.03},false`,
      `dr,0.58,${0.58 - 0.01},${0.58 + 0.01},0.08,${0.08 - 0.01},${0.08 + 0.01},true`,
    ]);
  });

  it('SVG: a dot and a whisker per row, placed on the value axis, text escaped', () => {
    const svg = reportSvg({ ...report, deployment: 'a<b&c' });
    expect(svg).toContain('a&lt;b&amp;c');
    const dots = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(dots).toHaveLength(3);
    // logging 0.5 < dr 0.58 < ipw 0.6 along x.
    expect(dots[0]).toBeLessThan(dots[2]);
    expect(dots[2]).toBeLessThan(dots[1]);
    expect(svg).toContain('dr (gate)');
    expect(svg).toContain('verdict: pass');
  });
});
