import { forecastQuantile, recommendReplicas } from './capacity';
import type { Forecast } from './types';

const forecast: Forecast = { mean: [100, 180, 150], sd: [10, 20, 10], lower: [], upper: [], level: 0.95 };

describe('capacity from a forecast', () => {
  it('quantiles are ŷ + Φ⁻¹(p)·sd', () => {
    const q = forecastQuantile(forecast, 0.975);
    expect(q[1]).toBeCloseTo(180 + 1.959963984540054 * 20, 9);
    expect(forecastQuantile(forecast, 0.5)).toEqual([100, 180, 150]);
  });

  it('provisions for the peak upper quantile at the target utilisation', () => {
    // peak 0.95-quantile: 180 + 1.6449·20 = 212.9 rps; 50 rps per replica at 80% → 40 rps → 5.3 → 6
    const r = recommendReplicas(forecast, { capacityPerReplica: 50 });
    expect(r.peakStep).toBe(1);
    expect(r.peakRate).toBeCloseTo(212.897, 3);
    expect(r.replicas).toBe(6);
    expect(recommendReplicas({ ...forecast, mean: [0, 0, 0], sd: [0, 0, 0] }, { capacityPerReplica: 50, minReplicas: 2 }).replicas).toBe(2);
  });

  it('rejects bad options naming the field', () => {
    expect(() => recommendReplicas(forecast, { capacityPerReplica: 0 })).toThrow('capacityPerReplica is 0, expected a finite number > 0');
    expect(() => recommendReplicas(forecast, { capacityPerReplica: 50, targetUtilisation: 1.5 })).toThrow('targetUtilisation is 1.5, expected a number in (0, 1]');
    expect(() => forecastQuantile(forecast, 1)).toThrow('p is 1, expected a number in (0, 1)');
  });
});
