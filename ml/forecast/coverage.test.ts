import { Rng } from '../rng';
import { autoArima } from './auto-arima';
import { autoEts, etsFilter, fitEts } from './ets';
import { simulateArima } from './simulate';
import type { FittedModel } from './types';

/**
 * Series with a known linear trend and a period-12 season plus AR(1) noise: 144 points to fit,
 * the next 24 held out. Over 20 series (480 held-out points) the 95% intervals must cover close to
 * 95% of them.
 */
function seasonalSeries(seed: number): number[] {
  const rng = new Rng(seed);
  const noise = simulateArima(rng, 168, { phi: [0.3], sigma: 1 });
  return noise.map((e, t) => 50 + 0.2 * t + 5 * Math.sin((2 * Math.PI * t) / 12) + 2 * Math.cos((4 * Math.PI * t) / 12) + e);
}

function coverage(fit: (train: number[]) => FittedModel): { coverage: number; names: string[] } {
  let inside = 0;
  let total = 0;
  const names: string[] = [];
  for (let seed = 0; seed < 20; seed++) {
    const y = seasonalSeries(900 + seed);
    const model = fit(y.slice(0, 144));
    names.push(model.name);
    const f = model.forecast(24, 0.95);
    y.slice(144).forEach((v, h) => {
      total++;
      if (v >= f.lower[h] && v <= f.upper[h]) inside++;
    });
  }
  return { coverage: inside / total, names };
}

describe('prediction-interval coverage on held-out points (trend + season + AR(1) noise)', () => {
  it('SARIMA chosen by autoArima covers 0.90–0.99 of 480 held-out points at 95%', () => {
    const { coverage: c, names } = coverage((train) => autoArima(train, { m: 12, maxP: 2, maxQ: 2 }).model);
    expect(c).toBeGreaterThanOrEqual(0.9);
    expect(c).toBeLessThanOrEqual(0.99);
    expect(names.every((n) => n.includes('[12]'))).toBe(true); // the season was found
  });

  it('ETS chosen by autoEts covers 0.90–0.99 of 480 held-out points at 95% and picks a seasonal trend model', () => {
    const { coverage: c, names } = coverage((train) => autoEts(train, { m: 12 }).model);
    expect(c).toBeGreaterThanOrEqual(0.9);
    expect(c).toBeLessThanOrEqual(0.99);
    expect(names.filter((n) => n.startsWith('ETS(A,A') && n.endsWith(',A)[12]')).length).toBeGreaterThanOrEqual(16);
  });
});

describe('ETS', () => {
  it('ETS(A,N,N) is simple exponential smoothing and its variance is σ²(1 + (h − 1)α²)', () => {
    const y = simulateArima(new Rng(8), 200, { theta: [-0.7], d: 1 }); // ARIMA(0,1,1) ≡ SES with α = 0.3
    const model = fitEts(y, { trend: 'N', season: 'N' });
    expect(model.parameters.alpha).toBeCloseTo(0.3, 1);
    const f = model.forecast(5);
    for (let h = 1; h <= 5; h++) {
      expect(f.mean[h - 1]).toBeCloseTo(model.level, 12);
      expect(f.sd[h - 1] ** 2).toBeCloseTo(model.sigma2 * (1 + (h - 1) * model.parameters.alpha ** 2), 10);
    }
    // the filter is the SES recursion ℓ_t = ℓ_{t−1} + α(y_t − ℓ_{t−1})
    const run = etsFilter([1, 2, 3], { trend: 'N', season: 'N', m: 1 }, { alpha: 0.5, beta: 0, gamma: 0, phi: 1 }, 0, 0, []);
    expect(run.fitted).toEqual([0, 0.5, 1.25]);
    expect(run.level).toBe(2.125);
  });

  it('ETS(A,A,A) forecasts extend the fitted trend and repeat the season', () => {
    const rng = new Rng(3);
    const y = Array.from({ length: 96 }, (_, t) => 10 + 0.5 * t + [4, -1, -2, -1][t % 4] + 0.01 * rng.normal());
    const model = fitEts(y, { trend: 'A', season: 'A', m: 4 });
    const f = model.forecast(8);
    for (let h = 1; h <= 8; h++) expect(f.mean[h - 1]).toBeCloseTo(10 + 0.5 * (95 + h) + [4, -1, -2, -1][(95 + h) % 4], 1);
  });

  it('rejects bad input naming the field', () => {
    expect(() => fitEts([1, 2, 3, 4, 5, 6, 7], { trend: 'M' as never, season: 'N' })).toThrow('trend is "M", expected "N", "A" or "Ad"');
    expect(() => fitEts(Array(30).fill(1), { trend: 'N', season: 'A' })).toThrow('a seasonal model needs m, an integer >= 2; got 1');
    expect(() => fitEts([1, 2, 3], { trend: 'N', season: 'N' })).toThrow('y has 3 observations, expected at least 6');
  });
});
