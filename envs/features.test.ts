import { defaultPolicyConfig } from './config';
import { SimulatedRagEvaluator } from './evaluators/simulator';
import {
  DEFAULT_FEATURE_REFERENCE, DEFAULT_OBSERVATION_SIZE, FeatureBuilder, fitFeatureReference, observationSize, quantile, robustScale,
  SCALED_FEATURES, type FeatureInput,
} from './features';
import { RagTuningEnvironment } from './rag-env';
import { randomPolicy } from './rollout';
import { Rng } from '../ml/rng';
import type { Evaluation, RagConfig } from './types';

const policy = defaultPolicyConfig().policy;
const categories = ['policy', 'howto', 'definition'];
const builder = new FeatureBuilder({ policy, categories, rollingWindow: 3, maxCorpusAgeDays: 365 });

function ev(f: number, r: number, p50: number, p95: number, cost: number): Evaluation {
  return { faithfulness: f, relevancy: r, latency_ms: { p50, p95 }, cost_usd: cost, error_rate: 0 };
}
const config: RagConfig = { variant: 'B', k: 10, rerank: true, fusion_weight: 0.25, prompt_id: 'step-by-step' };
const input: FeatureInput = {
  history: [ev(0.1, 0.1, 10, 10, 1), ev(0.8, 0.7, 200, 300, 0.001), ev(0.9, 0.8, 300, 400, 0.002), ev(0.7, 0.9, 250, 500, 0.003)],
  config,
  corpus: { documents: 10_000, ageDays: 1000 },
  category: 'howto',
};

describe('robust scaling', () => {
  it('is (x − median) / (IQR / 1.349), clipped to ±3σ', () => {
    expect(robustScale(1.0, 0.8, 0.1349)).toBeCloseTo(2, 12);
    expect(robustScale(0.7, 0.8, 0.1349)).toBeCloseTo(-1, 12);
    expect(robustScale(5, 0.8, 0.1349)).toBe(3);
    expect(robustScale(-5, 0.8, 0.1349)).toBe(-3);
    expect(robustScale(2, 1, 0)).toBe(1); // zero IQR scales by 1
  });

  it('quantiles interpolate linearly (numpy type 7)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([7], 0.75)).toBe(7);
  });

  it('fits median and IQR per feature', () => {
    const rows = [1, 2, 3, 4, 5].map((x) => Object.fromEntries(SCALED_FEATURES.map((n, i) => [n, x * (i + 1)])) as Record<(typeof SCALED_FEATURES)[number], number>);
    const ref = fitFeatureReference(rows);
    expect(ref.median.f_mean).toBe(3);
    expect(ref.iqr.f_mean).toBe(2);
    expect(ref.median.corpus_age).toBe(21);
    expect(ref.iqr.corpus_age).toBe(14);
    expect(() => fitFeatureReference([])).toThrow('fitFeatureReference needs at least one row, got 0');
  });

  it('the default reference matches a re-fit on other simulator episodes of random actions', async () => {
    const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator() });
    const act = randomPolicy(env.actionSpace, new Rng(99));
    const rows = [];
    for (let ep = 1000; ep < 1100; ep++) {
      let obs = env.reset(ep);
      for (;;) {
        const step = await env.step(act(obs));
        rows.push(env.rawFeatures());
        obs = step.observation;
        if (step.done) break;
      }
    }
    const ref = fitFeatureReference(rows);
    // The corpus features take only three values (one per dataset): their quartiles jump between
    // them, so only the metric features are compared (medians within a quarter IQR, IQRs within 25%).
    for (const name of ['f_mean', 'r_mean', 'lat_p50', 'lat_p95', 'cost'] as const) {
      const d = DEFAULT_FEATURE_REFERENCE;
      expect({ name, medianOff: Math.abs(ref.median[name] - d.median[name]) < 0.25 * d.iqr[name] }).toEqual({ name, medianOff: true });
      expect({ name, iqrClose: Math.abs(ref.iqr[name] / d.iqr[name] - 1) < 0.25 }).toEqual({ name, iqrClose: true });
    }
  });
});

describe('FeatureBuilder', () => {
  it('has the documented order and size', () => {
    expect(builder.names).toEqual([
      'f_mean', 'r_mean', 'lat_p50', 'lat_p95', 'cost',
      'variant=A', 'variant=B', 'k', 'rerank', 'fusion_w',
      'prompt=default', 'prompt=cite-sources', 'prompt=step-by-step',
      'corpus_docs', 'corpus_age',
      'category=policy', 'category=howto', 'category=definition',
    ]);
    expect(builder.size).toBe(DEFAULT_OBSERVATION_SIZE);
    expect(observationSize(policy, categories)).toBe(DEFAULT_OBSERVATION_SIZE);
  });

  it('computes rolling means over the last N batches, normalised by the targets, and clamps corpus age', () => {
    const raw = builder.rawScaled(input);
    // last 3 batches only: the first (0.1, …) is out of the window
    expect(raw.f_mean).toBeCloseTo(0.8, 12);
    expect(raw.r_mean).toBeCloseTo(0.8, 12);
    expect(raw.lat_p50).toBeCloseTo(250 / 500, 12);
    expect(raw.lat_p95).toBeCloseTo(400 / 500, 12);
    expect(raw.cost).toBeCloseTo(0.002 / 0.002, 12);
    expect(raw.corpus_docs).toBeCloseTo(4, 12);
    expect(raw.corpus_age).toBe(365);
  });

  it('builds the scaled vector: robust-scaled metrics, one-hots and unit-scaled config', () => {
    const x = builder.build(input);
    const ref = DEFAULT_FEATURE_REFERENCE;
    const z = (v: number, n: (typeof SCALED_FEATURES)[number]) => Math.max(-3, Math.min(3, (v - ref.median[n]) / (ref.iqr[n] / 1.349)));
    expect(Array.from(x)).toEqual([
      z(0.8, 'f_mean'), z(0.8, 'r_mean'), z(0.5, 'lat_p50'), z(0.8, 'lat_p95'), z(1, 'cost'),
      0, 1, (10 - 3) / 29, 1, 0.25,
      0, 0, 1,
      z(4, 'corpus_docs'), z(365, 'corpus_age'),
      0, 1, 0,
    ].map((v, i) => (i < 5 || i === 13 || i === 14 ? expect.closeTo(v, 12) : v)));
    for (const v of x) expect(Math.abs(v)).toBeLessThanOrEqual(3);
  });

  it('starts from the reference median (scaled 0) with an empty window, and shows no category when none is given', () => {
    const x = builder.build({ ...input, history: [], category: null });
    for (let i = 0; i < 5; i++) expect(x[i]).toBe(0);
    expect(Array.from(x.slice(15))).toEqual([0, 0, 0]);
  });

  it('rejects an unknown category', () => {
    expect(() => builder.build({ ...input, category: 'faq' })).toThrow('unknown question category "faq" (expected one of policy, howto, definition)');
  });
});
