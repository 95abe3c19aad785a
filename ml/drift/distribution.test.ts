/**
 * KS and PSI against known values. The scipy figures were computed on this machine with scipy 1.17:
 *   python3 -c "from scipy import special; print(special.kolmogorov(z))"
 *   python3 -c "import numpy as np; from scipy import stats, special; a=[3*np.sin(i) for i in range(1,61)];
 *     b=[2*np.cos(j)+0.5 for j in range(1,46)]; r=stats.ks_2samp(a,b,method='asymp');
 *     print(r.statistic, special.kolmogorov(np.sqrt(60*45/105)*r.statistic))"
 */
import { kolmogorovSf, ksTwoSample, psi, psiBand, quantileSorted } from '.';

describe('Kolmogorov distribution', () => {
  it.each([
    [0.2, 0.999999999999495],
    [0.5, 0.9639452436648751],
    [0.8, 0.5441424115741981],
    [1.0, 0.26999967167735456],
    [1.17, 0.12939004218561884],
    [1.19, 0.11774229287977166],
    [1.5, 0.022217962616525127],
    [2.0, 0.0006709252557796953],
    [3.0, 3.045995948942526e-8],
  ])('Q_KS(%f) equals scipy.special.kolmogorov', (z, expected) => {
    expect(Math.abs(kolmogorovSf(z) - expected)).toBeLessThan(1e-12 + 1e-9 * expected);
  });

  it('is 1 at z ≤ 0', () => {
    expect(kolmogorovSf(0)).toBe(1);
    expect(kolmogorovSf(-1)).toBe(1);
  });
});

describe('two-sample Kolmogorov–Smirnov', () => {
  it('matches scipy on two deterministic samples', () => {
    const a = Array.from({ length: 60 }, (_, i) => 3 * Math.sin(i + 1));
    const b = Array.from({ length: 45 }, (_, j) => 2 * Math.cos(j + 1) + 0.5);
    const r = ksTwoSample(a, b);
    expect(r.statistic).toBeCloseTo(1 / 3, 14);
    expect(r.effectiveN).toBeCloseTo(60 * 45 / 105, 12);
    expect(r.pValue).toBeCloseTo(0.00659701127512328, 12);
  });

  it('handles ties like scipy (statistic 0.0525, p = Q_KS(√(500·400/900)·0.0525))', () => {
    const a = Array.from({ length: 500 }, (_, i) => ((i + 1) * (i + 1)) % 97);
    const b = Array.from({ length: 400 }, (_, i) => (((i + 1) * (i + 1)) % 97) + ((i + 1) % 3 === 0 ? 10 : 0));
    const r = ksTwoSample(a, b);
    expect(r.statistic).toBeCloseTo(0.0525, 12);
    expect(r.pValue).toBeCloseTo(0.5726548070242141, 10);
  });

  it('gives D = 0 and p = 1 for identical samples, D = 1 for disjoint ones (hand-computed)', () => {
    expect(ksTwoSample([1, 2, 3], [3, 2, 1])).toMatchObject({ statistic: 0, pValue: 1 });
    const r = ksTwoSample([1, 2], [3, 4, 5]);
    expect(r.statistic).toBe(1);
    expect(r.pValue).toBeCloseTo(kolmogorovSf(Math.sqrt(6 / 5)), 15);
  });

  it('rejects empty samples and NaN with the field', () => {
    expect(() => ksTwoSample([], [1])).toThrow('ksTwoSample: reference must be a non-empty array of numbers, got an empty array');
    expect(() => ksTwoSample([1], [2, Number.NaN])).toThrow('ksTwoSample: current[1] must be a number, got NaN');
  });
});

describe('PSI', () => {
  it('uses numpy-style quantiles of the reference as bin edges', () => {
    const ref = Array.from({ length: 100 }, (_, i) => i + 1);
    // numpy.quantile(arange(1, 101), [.25, .5, .75]) = [25.75, 50.5, 75.25]
    expect([0.25, 0.5, 0.75].map((q) => quantileSorted(ref, q))).toEqual([25.75, 50.5, 75.25]);
  });

  it('equals the hand-computed value for shares 0.4/0.3/0.2/0.1 against 0.25 each', () => {
    const ref = Array.from({ length: 100 }, (_, i) => i + 1);
    const cur = [
      ...new Array(40).fill(10), // bin 1: ≤ 25.75
      ...new Array(30).fill(40), // bin 2
      ...new Array(20).fill(60), // bin 3
      ...new Array(10).fill(90), // bin 4
    ];
    const r = psi(ref, cur, { bins: 4 });
    expect(r.edges).toEqual([25.75, 50.5, 75.25]);
    expect(r.expected).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(r.actual).toEqual([0.4, 0.3, 0.2, 0.1]);
    // 0.15 ln 1.6 + 0.05 ln 1.2 − 0.05 ln 0.8 − 0.15 ln 0.4 = 0.228218…
    const expected = 0.15 * Math.log(1.6) + 0.05 * Math.log(1.2) - 0.05 * Math.log(0.8) - 0.15 * Math.log(0.4);
    expect(expected).toBeCloseTo(0.2282178, 6);
    expect(r.psi).toBeCloseTo(expected, 14);
    expect(r.band).toBe('moderate');
  });

  it('is 0 for the reference itself and floors empty bins at epsilon', () => {
    const ref = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 5);
    expect(psi(ref, ref).psi).toBeCloseTo(0, 14);
    const r = psi([1, 2, 3, 4], [100, 100], { bins: 2, epsilon: 1e-4 });
    // shares: expected [0.5, 0.5], actual [0 → 1e-4, 1]
    expect(r.psi).toBeCloseTo((1e-4 - 0.5) * Math.log(1e-4 / 0.5) + 0.5 * Math.log(2), 12);
    expect(r.band).toBe('significant');
  });

  it('merges duplicate edges when the reference has ties', () => {
    const r = psi([0, 0, 0, 0, 0, 0, 0, 1, 2, 3], [0, 3], { bins: 5 });
    // numpy.quantile(ref, [.2, .4, .6, .8]) = [0, 0, 0, 1.2] → edges [0, 1.2], three bins.
    expect(r.edges.map((e) => +e.toFixed(12))).toEqual([0, 1.2]);
    expect(r.expected.map((e) => +e.toFixed(12))).toEqual([0.7, 0.1, 0.2]);
    expect(r.actual).toEqual([0.5, 0, 0.5]);
  });

  it('bands at 0.1 and 0.25', () => {
    expect([0, 0.0999, 0.1, 0.2499, 0.25, 3].map(psiBand)).toEqual(['stable', 'stable', 'moderate', 'moderate', 'significant', 'significant']);
  });

  it('rejects bad options by name', () => {
    expect(() => psi([1], [1], { bins: 1 })).toThrow('psi: bins must be an integer >= 2, got 1');
    expect(() => psi([1], [Number.POSITIVE_INFINITY])).toThrow('psi: current[0] must be a finite number, got Infinity');
  });
});
