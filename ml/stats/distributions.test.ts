import { logGamma, regularizedIncompleteBeta } from './special';
import { normalCdf, normalQuantile, normalSf } from './normal';
import { studentTCdf, studentTQuantile } from './student-t';

// Reference values from scipy 1.17 (scipy.stats.norm / scipy.stats.t / scipy.special).
describe('standard normal', () => {
  it.each([
    [0.975, 1.959963984540054],
    [0.995, 2.5758293035489004],
    [0.3, -0.5244005127080409],
    [1e-10, -6.361340902404056],
    [0.5, 0],
  ])('quantile(%p) = %p', (p, x) => {
    expect(normalQuantile(p)).toBeCloseTo(x, 12);
  });

  it('CDF and tails match known values, with relative precision far out', () => {
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 15);
    expect(normalSf(5) / 2.866515718791933e-7).toBeCloseTo(1, 12);
    expect(normalSf(10) / 7.61985302416047e-24).toBeCloseTo(1, 12);
    expect(normalSf(30) / 4.906713927147908e-198).toBeCloseTo(1, 10);
    // continuity across the switch between series and continued fraction at |x| = 3
    expect(Math.abs(normalCdf(2.9999999) - normalCdf(3.0000001))).toBeLessThan(1e-9);
  });

  it('quantile inverts the CDF across the range', () => {
    for (const p of [1e-300, 1e-50, 1e-8, 0.001, 0.02425, 0.1, 0.49, 0.51, 0.9, 0.97575, 0.999999]) {
      expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 10);
    }
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });
});

describe('Student t', () => {
  it.each([
    [0.975, 10, 2.228138851986274],
    [0.975, 1, 12.706204736174694],
    [0.975, 2, 4.302652729749462],
    [0.975, 30, 2.0422724563012378],
    [0.95, 5, 2.0150483733330233],
    [0.995, 3.5, 5.085702223091256],
    [0.01, 7.3, -2.9639404475838975],
  ])('quantile(%p, df=%p) = %p', (p, df, x) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(x, 9);
  });

  it('CDF matches known values and tends to the normal', () => {
    expect(studentTCdf(2, 4)).toBeCloseTo(0.9419417382415922, 13);
    expect(studentTCdf(-1.5, 2.7)).toBeCloseTo(0.12012859519419851, 13);
    expect(studentTCdf(0.3, 100)).toBeCloseTo(0.6176000598498482, 13);
    expect(studentTCdf(1.96, 1e9)).toBeCloseTo(normalCdf(1.96), 10);
  });

  it('special functions', () => {
    expect(logGamma(2.5)).toBeCloseTo(0.2846828704729192, 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5723649429247, 13);
    expect(logGamma(1e6)).toBeCloseTo(12815504.569147611, 6);
    expect(regularizedIncompleteBeta(0.552, 2.5, 0.5)).toBeCloseTo(0.10007757679214026, 13);
  });
});
