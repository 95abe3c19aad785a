import { Rng } from '../rng';
import { bootstrapMeans, bootstrapMeansBlocked, pairedBootstrap, percentile, percentileBootstrap } from './bootstrap';
import { Xorshift128 } from './fast-random';

function moments(x: Float64Array): { mean: number; variance: number } {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  return { mean: m, variance: s / x.length };
}

/** Slow reference: n uniform index draws per resample (unbiased Lemire draws over all n rows). */
function naiveMeans(x: Float64Array, b: number, seed: number): Float64Array {
  const rng = new Xorshift128(seed);
  const out = new Float64Array(b);
  for (let r = 0; r < b; r++) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[rng.index(x.length)];
    out[r] = s / x.length;
  }
  return out;
}

describe('percentile bootstrap', () => {
  it('percentile interpolates linearly between order statistics, as numpy does', () => {
    const s = Float64Array.from([1, 2, 3, 4, 10]);
    expect(percentile(s, 0)).toBe(1);
    expect(percentile(s, 1)).toBe(10);
    expect(percentile(s, 0.5)).toBe(3);
    expect(percentile(s, 0.9)).toBeCloseTo(7.6, 12); // np.percentile([1,2,3,4,10], 90) = 7.6
    expect(percentile(s, 0.025)).toBeCloseTo(1.1, 12);
  });

  it('replays with the same seed and changes with another', () => {
    const x = Float64Array.from({ length: 3000 }, (_, i) => Math.sin(i) * 3);
    expect(percentileBootstrap(x, { nBootstrapSamples: 300, randomState: 1 })).toEqual(percentileBootstrap(x, { nBootstrapSamples: 300, randomState: 1 }));
    expect(percentileBootstrap(x, { nBootstrapSamples: 300, randomState: 2 })).not.toEqual(percentileBootstrap(x, { nBootstrapSamples: 300, randomState: 1 }));
  });

  it('blocked multinomial resampling has the law of n uniform draws (mean, variance, quantiles vs a naive reference)', () => {
    // n = 1,077: four full 256-row blocks and a 53-row remainder block.
    const rng = new Rng(5);
    const x = Float64Array.from({ length: 1077 }, () => (rng.uniform() < 0.2 ? rng.gamma(0.5) * 10 : rng.normal()));
    const { mean, variance } = moments(x);
    const fast = bootstrapMeansBlocked(x, 20000, 11);
    const slow = naiveMeans(x, 20000, 12);
    const f = moments(fast), s = moments(slow);
    const theoryVar = variance / x.length;
    expect(Math.abs(f.mean - mean)).toBeLessThan(4 * Math.sqrt(theoryVar / 20000));
    expect(f.variance / theoryVar).toBeGreaterThan(0.96);
    expect(f.variance / theoryVar).toBeLessThan(1.04);
    expect(s.variance / theoryVar).toBeGreaterThan(0.96);
    fast.sort(); slow.sort();
    for (const q of [0.025, 0.5, 0.975]) {
      expect(Math.abs(percentile(fast, q) - percentile(slow, q))).toBeLessThan(0.1 * Math.sqrt(theoryVar) + 4 * Math.sqrt(theoryVar / 20000) * 1.5);
    }
  });

  it('every row can be drawn, including the remainder block (counts of a tiny indicator)', () => {
    // x is 1 at one row of the remainder block, 0 elsewhere: E[mean] = 1/n exactly.
    const n = 600;
    const x = new Float64Array(n);
    x[599] = 1;
    const m = moments(bootstrapMeansBlocked(x, 20000, 3));
    expect(m.mean * n).toBeGreaterThan(0.97);
    expect(m.mean * n).toBeLessThan(1.03);
  });

  it('the few-distinct-values path has the same law', () => {
    const rng = new Rng(9);
    const x = Float64Array.from({ length: 20000 }, () => [0, 0, 0, 1, 2.5][rng.int(5)]);
    const { mean, variance } = moments(x);
    const m = moments(bootstrapMeans(x, 20000, 4));
    expect(Math.abs(m.mean - mean)).toBeLessThan(4 * Math.sqrt(variance / x.length / 20000));
    expect(m.variance / (variance / x.length)).toBeGreaterThan(0.96);
    expect(m.variance / (variance / x.length)).toBeLessThan(1.04);
  });

  it('the binomial sampler has the right mean and variance in both regimes', () => {
    const g = new Xorshift128(1);
    for (const [trials, p] of [[1000000, 256 / 1000000], [40, 0.1], [300, 0.7]] as const) {
      let s = 0, s2 = 0;
      const reps = 40000;
      for (let i = 0; i < reps; i++) {
        const k = g.binomial(trials, p);
        s += k; s2 += k * k;
      }
      const mean = s / reps, variance = s2 / reps - mean * mean;
      expect(Math.abs(mean - trials * p)).toBeLessThan(4 * Math.sqrt((trials * p * (1 - p)) / reps));
      expect(variance / (trials * p * (1 - p))).toBeGreaterThan(0.95);
      expect(variance / (trials * p * (1 - p))).toBeLessThan(1.05);
    }
  });

  it('covers the mean of a normal population about 95% of the time', () => {
    const rng = new Rng(21);
    let covered = 0;
    const reps = 200;
    for (let r = 0; r < reps; r++) {
      const x = Float64Array.from({ length: 200 }, () => 3 + 2 * rng.normal());
      const ci = percentileBootstrap(x, { nBootstrapSamples: 1000, randomState: r });
      if (ci.lower <= 3 && 3 <= ci.upper) covered++;
    }
    expect(covered / reps).toBeGreaterThan(0.9);
    expect(covered / reps).toBeLessThan(0.99);
  });

  it('paired bootstrap is the bootstrap of the per-round differences', () => {
    const a = Float64Array.from({ length: 500 }, (_, i) => Math.cos(i) + 1);
    const b = Float64Array.from({ length: 500 }, (_, i) => Math.cos(i) + 0.2 * Math.sin(3 * i));
    const diff = a.map((v, i) => v - b[i]);
    const p = pairedBootstrap(a, b, { nBootstrapSamples: 2000, randomState: 7 });
    expect(p).toEqual(percentileBootstrap(diff, { nBootstrapSamples: 2000, randomState: 7 }));
    expect(p.value).toBeCloseTo(moments(a).mean - moments(b).mean, 12);
    // Sharing rounds removes the common cos(i) term: far narrower than independent intervals.
    const ia = percentileBootstrap(a, { nBootstrapSamples: 2000, randomState: 7 });
    expect(p.upper - p.lower).toBeLessThan(0.5 * (ia.upper - ia.lower));
  });

  it('rejects bad arguments with the field named', () => {
    expect(() => percentileBootstrap([1, 2], { alpha: 1.5 })).toThrow('alpha: got 1.5, expected a number in (0, 1)');
    expect(() => percentileBootstrap([1, 2], { nBootstrapSamples: 0 })).toThrow('n_bootstrap_samples: got 0, expected an integer ≥ 1');
    expect(() => percentileBootstrap([1, NaN])).toThrow('samples[1]: got NaN, expected a finite number');
    expect(() => percentileBootstrap([])).toThrow('samples: got an empty array, expected at least one value');
    expect(() => pairedBootstrap([1, 2], [1])).toThrow('control: got 1 rounds, expected as many as treatment (2) for a paired bootstrap');
  });
});
