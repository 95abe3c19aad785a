import { parseDecisionsJsonl } from './decision';
import { generateDecisions } from './generate';
import { judge } from './judge';

describe('synthetic labelled decisions', () => {
  const records = generateDecisions({ n: 3000, seed: 11, labelNoise: 0.1 });

  it('is reproducible from its seed and differs across seeds', () => {
    expect(generateDecisions({ n: 50, seed: 11, labelNoise: 0.1 })).toEqual(records.slice(0, 50));
    expect(generateDecisions({ n: 50, seed: 12, labelNoise: 0.1 })).not.toEqual(records.slice(0, 50));
  });

  it('writes records that pass validation', () => {
    const text = records.map((r) => JSON.stringify(r)).join('\n');
    expect(parseDecisionsJsonl(text)).toHaveLength(records.length);
  });

  it('covers every action type, anomaly kind and risk level, with both labels', () => {
    const types = new Set(records.flatMap((r) => r.output.actions.map((a) => a.type)));
    const kinds = new Set(records.flatMap((r) => r.input.anomalies.map((a) => a.kind)));
    const risks = new Set(records.map((r) => r.input.analysis.risk_level));
    expect(types.size).toBe(8);
    expect(kinds.size).toBe(9);
    expect([...risks].sort()).toEqual(['high', 'low', 'medium']);
    const goodRate = records.filter((r) => r.label === 'good').length / records.length;
    expect(goodRate).toBeGreaterThan(0.35);
    expect(goodRate).toBeLessThan(0.65);
  });

  it('flips labels against the reviewing rule at the configured noise rate', () => {
    const disagree = records.filter((r) => judge(r.input, r.output.actions).good !== (r.label === 'good')).length;
    const rate = disagree / records.length;
    // Binomial(3000, 0.1): sd ≈ 0.0055; ±4 sd.
    expect(rate).toBeGreaterThan(0.078);
    expect(rate).toBeLessThan(0.122);
    const clean = generateDecisions({ n: 500, seed: 11, labelNoise: 0 });
    expect(clean.every((r) => judge(r.input, r.output.actions).good === (r.label === 'good'))).toBe(true);
  });

  it('rejects bad options with the value and the range', () => {
    expect(() => generateDecisions({ n: 0, seed: 1 })).toThrow(/n must be a positive integer, got 0/);
    expect(() => generateDecisions({ n: 5, seed: 1, labelNoise: 0.5 })).toThrow(/labelNoise must be in \[0, 0\.5\), got 0\.5/);
  });
});
