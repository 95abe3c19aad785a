import { Rng } from '../rng';
import { welchTTest, zTest, zTestFromEstimate } from './hypothesis';
import { powerForRounds, roundsForPower } from './power';

const x = [2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8];
const y = [1.2, 2.2, 1.8, 2.9, 1.1, 2.5, 3.1, 0.9, 1.7];

describe('Welch t-test (reference: scipy.stats.ttest_ind(equal_var=False))', () => {
  it('statistic, degrees of freedom, p-value and interval', () => {
    const r = welchTTest(x, y);
    expect(r.statistic).toBeCloseTo(2.550506677920651, 10);
    expect(r.df).toBeCloseTo(9.404757588892037, 10);
    expect(r.pValue).toBeCloseTo(0.03016001651051986, 10);
    expect(r.lower).toBeCloseTo(0.1692063368765513, 9);
    expect(r.upper).toBeCloseTo(2.6784127107424958, 9);
  });

  it('one-sided alternatives halve the p-value in the direction of the effect', () => {
    expect(welchTTest(x, y, { alternative: 'greater' }).pValue).toBeCloseTo(0.01508000825525993, 10);
    expect(welchTTest(x, y, { alternative: 'less' }).pValue).toBeCloseTo(1 - 0.01508000825525993, 10);
    expect(welchTTest(x, y, { alternative: 'greater' }).upper).toBe(Infinity);
  });
});

describe('z-test', () => {
  it('from an estimate and standard error', () => {
    const r = zTestFromEstimate(0.0392, 0.02);
    expect(r.statistic).toBeCloseTo(1.96, 12);
    expect(r.pValue).toBeCloseTo(0.04999579029644097, 10);
    expect(r.lower).toBeCloseTo(0.0392 - 1.959963984540054 * 0.02, 12);
  });

  it('on a sample uses the sample standard deviation', () => {
    const r = zTest([1, 2, 3, 4, 5], { nullValue: 2 });
    expect(r.estimate).toBe(3);
    expect(r.standardError).toBeCloseTo(Math.sqrt(2.5 / 5), 12);
    expect(r.statistic).toBeCloseTo(1 / Math.sqrt(0.5), 12);
  });

  it('rejects a true null about alpha of the time', () => {
    const rng = new Rng(3);
    let rejections = 0;
    for (let r = 0; r < 2000; r++) {
      const s = Array.from({ length: 200 }, () => rng.normal());
      if (zTest(s).pValue < 0.05) rejections++;
    }
    expect(rejections / 2000).toBeGreaterThan(0.03);
    expect(rejections / 2000).toBeLessThan(0.07);
  });
});

describe('power analysis', () => {
  it('R-STATS-POWER: +0.03 at 80% power, alpha 0.05 two-sided', () => {
    // n = ((z_0.975 + z_0.8) · sd / delta)² = ((1.959964 + 0.841621) · 0.1 / 0.03)² = 87.2 → 88
    expect(roundsForPower({ delta: 0.03, sd: 0.1 }).rounds).toBe(88);
    expect(roundsForPower({ delta: 0.03, sd: 0.1, design: 'two-sample' })).toMatchObject({ rounds: 175, totalRounds: 350 });
    expect(roundsForPower({ delta: 0.03, sd: 0.1, sides: 1 }).rounds).toBe(69); // (1.644854 + 0.841621)² · 11.11 = 68.7
    expect(roundsForPower({ delta: 0.03, sd: 0.1, tDistribution: true }).rounds).toBe(90);
  });

  it('achieved power is at least the target, and simulation agrees', () => {
    const { rounds, achievedPower } = roundsForPower({ delta: 0.03, sd: 0.1 });
    expect(achievedPower).toBeGreaterThanOrEqual(0.8);
    expect(powerForRounds({ delta: 0.03, sd: 0.1, rounds: rounds - 1 })).toBeLessThan(0.8);
    const rng = new Rng(8);
    let detected = 0;
    for (let r = 0; r < 2000; r++) {
      const d = Array.from({ length: rounds }, () => 0.03 + 0.1 * rng.normal());
      if (zTest(d).pValue < 0.05) detected++;
    }
    expect(detected / 2000).toBeGreaterThan(0.76);
    expect(detected / 2000).toBeLessThan(0.86);
  });

  it('names bad arguments', () => {
    expect(() => roundsForPower({ delta: 0, sd: 1 })).toThrow('delta: got 0, expected a finite non-zero difference');
    expect(() => roundsForPower({ delta: 0.1, sd: -1 })).toThrow('sd: got -1, expected a finite standard deviation > 0');
    expect(() => roundsForPower({ delta: 0.1, sd: 1, power: 1 })).toThrow('power: got 1, expected a number in (0, 1)');
  });
});
