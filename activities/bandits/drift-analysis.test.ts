import { Rng } from '../../ml/rng';
import { analyseDrift, type DriftSample } from './drift-analysis';

function window(n: number, rng: Rng, rewardMean: number, featureShift: number, latency = 20): DriftSample[] {
  return Array.from({ length: n }, () => ({ reward: rewardMean + 0.1 * rng.normal(), latencyMs: latency + rng.normal(), features: { complexity: featureShift + rng.normal() } }));
}

describe('analyseDrift', () => {
  it('finds no drift between two windows of one stationary stream', () => {
    const rng = new Rng(5);
    const r = analyseDrift(window(500, rng, 0.8, 0), window(500, rng, 0.8, 0));
    expect(r.reasons).toEqual([]);
    expect(r.drift).toBe(false);
    expect(r.metrics['drift/feature/complexity/psi']).toBeLessThan(0.1);
  });

  it('flags a reward drop in the current window and a shifted feature', () => {
    const rng = new Rng(6);
    const r = analyseDrift(window(500, rng, 0.8, 0), window(500, rng, 0.3, 1));
    expect(r.drift).toBe(true);
    expect(r.metrics['drift/reward/adwin']).toBe(1);
    expect(r.metrics['drift/reward/page_hinkley']).toBe(1);
    expect(r.metrics['drift/latency/adwin']).toBe(0);
    expect(r.reasons.some((s) => s.startsWith('feature complexity: KS'))).toBe(true);
    expect(r.metrics['drift/feature/complexity/psi']).toBeGreaterThanOrEqual(0.25);
  });

  it('skips tests with too few values', () => {
    const rng = new Rng(7);
    const r = analyseDrift(window(10, rng, 0.8, 0), window(10, rng, 0.1, 5));
    expect(r.drift).toBe(false);
    expect(r.metrics['drift/reward/adwin']).toBeUndefined();
  });
});
