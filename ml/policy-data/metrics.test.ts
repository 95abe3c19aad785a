import { bootstrapPolicyRates, pairedRateChange, policyRates, type ScoredLabel } from './metrics';

function items(spec: { tp: number; fp: number; tn: number; fn: number }): ScoredLabel[] {
  const out: ScoredLabel[] = [];
  for (let i = 0; i < spec.tp; i++) out.push({ label: 'APPROVE', p_approve: 0.9 });
  for (let i = 0; i < spec.fp; i++) out.push({ label: 'FLAG', p_approve: 0.8 });
  for (let i = 0; i < spec.tn; i++) out.push({ label: 'FLAG', p_approve: 0.1 });
  for (let i = 0; i < spec.fn; i++) out.push({ label: 'APPROVE', p_approve: 0.2 });
  return out;
}

describe('policyRates', () => {
  it('counts the confusion cells at the threshold, p = threshold approved', () => {
    const r = policyRates(items({ tp: 60, fp: 5, tn: 30, fn: 5 }), 0.5);
    expect(r.confusion).toEqual({ tp: 60, fp: 5, tn: 30, fn: 5 });
    expect(r.accuracy).toBeCloseTo(0.9, 12);
    expect(r.fpr).toBeCloseTo(5 / 35, 12);
    expect(r.fnr).toBeCloseTo(5 / 65, 12);
    expect(r.overrideRate).toBeCloseTo(5 / 65, 12);
    expect(policyRates([{ label: 'FLAG', p_approve: 0.3 }], 0.3).confusion.fp).toBe(1);
  });

  it('has no FNR without good items and an override rate of 0 when nothing is approved', () => {
    const r = policyRates(items({ tp: 0, fp: 0, tn: 10, fn: 0 }), 0.5);
    expect(r.fnr).toBeNull();
    expect(r.overrideRate).toBe(0);
    expect(() => policyRates([], 0.5)).toThrow(/items is empty/);
  });
});

describe('bootstrapPolicyRates', () => {
  it('brackets each rate, with about the binomial width', () => {
    // 2,000 items, FPR 0.05 on 800 bad ones: binomial sd √(0.05·0.95/800) ≈ 0.0077, a 95 % interval ≈ ±0.015.
    const data = items({ tp: 1150, fp: 40, tn: 760, fn: 50 });
    const b = bootstrapPolicyRates(data, 0.5, { resamples: 1000, seed: 3 });
    for (const name of ['accuracy', 'fpr', 'fnr', 'overrideRate'] as const) {
      const { value, lower, upper } = b[name];
      expect(lower).not.toBeNull();
      expect(lower!).toBeLessThanOrEqual(value!);
      expect(upper!).toBeGreaterThanOrEqual(value!);
    }
    const width = b.fpr.upper! - b.fpr.lower!;
    // Seeded, so deterministic; the bounds are the binomial width ±40 %.
    expect(width).toBeGreaterThan(0.018);
    expect(width).toBeLessThan(0.043);
    expect(b.fpr.value).toBeCloseTo(0.05, 12);
  });

  it('is reproducible by seed and refuses bad options', () => {
    const data = items({ tp: 50, fp: 5, tn: 40, fn: 5 });
    expect(bootstrapPolicyRates(data, 0.5, { resamples: 200, seed: 1 })).toEqual(bootstrapPolicyRates(data, 0.5, { resamples: 200, seed: 1 }));
    expect(() => bootstrapPolicyRates(data, 0.5, { resamples: 1 })).toThrow(/resamples/);
    expect(() => bootstrapPolicyRates(data, 0.5, { alpha: 1 })).toThrow(/alpha/);
  });
});

describe('pairedRateChange', () => {
  // 1,000 bad and 1,000 good items; the "after" model fixes 30 of the 40 bad items the "before" one approved.
  const items = (fpBad: number, fnGood: number): ScoredLabel[] => [
    ...Array.from({ length: 1000 }, (_, i): ScoredLabel => ({ label: 'FLAG', p_approve: i < fpBad ? 0.9 : 0.1 })),
    ...Array.from({ length: 1000 }, (_, i): ScoredLabel => ({ label: 'APPROVE', p_approve: i < fnGood ? 0.2 : 0.8 })),
  ];
  const before = items(40, 10);
  const after = items(10, 10);

  it('gives each rate before and after and a paired interval of the change that excludes 0 when one model fixes what the other gets wrong', () => {
    const c = pairedRateChange(before, 0.5, after, 0.5, { resamples: 1000, seed: 2 });
    expect(c.fpr.before).toBeCloseTo(0.04, 12);
    expect(c.fpr.after).toBeCloseTo(0.01, 12);
    expect(c.fpr.change).toBeCloseTo(-0.03, 12);
    expect(c.fpr.upper!).toBeLessThan(0);
    expect(c.fpr.lower!).toBeLessThan(-0.03);
    // paired: the 30 fixed items are the only difference, so the interval is about ±2·sqrt(30)/1000 wide
    expect(c.fpr.upper! - c.fpr.lower!).toBeLessThan(0.03);
    expect(c.fnr).toMatchObject({ before: 0.01, after: 0.01, change: 0, lower: 0, upper: 0 });
    expect(c.accuracy.change).toBeCloseTo(0.015, 12);
    // the same model on both sides changes nothing
    const same = pairedRateChange(before, 0.5, before, 0.5, { resamples: 200, seed: 1 });
    expect(same.accuracy).toMatchObject({ change: 0, lower: 0, upper: 0 });
    // each side at its own threshold
    expect(pairedRateChange(before, 0.5, before, 0.95, { resamples: 200, seed: 1 }).fpr.after).toBe(0);
    expect(pairedRateChange(before, 0.5, after, 0.5, { resamples: 300, seed: 9 })).toEqual(pairedRateChange(before, 0.5, after, 0.5, { resamples: 300, seed: 9 }));
  });

  it('refuses items that are not the same on both sides', () => {
    expect(() => pairedRateChange(before, 0.5, after.slice(1), 0.5)).toThrow('2000 items before but 1999 after');
    const relabelled = after.map((x, i) => (i === 5 ? { ...x, label: 'APPROVE' as const } : x));
    expect(() => pairedRateChange(before, 0.5, relabelled, 0.5)).toThrow('item 5 is FLAG before but APPROVE after');
    expect(() => pairedRateChange([], 0.5, [], 0.5)).toThrow('no items');
    expect(() => pairedRateChange(before, 0.5, after, 0.5, { resamples: 1 })).toThrow('resamples must be an integer ≥ 2, got 1');
  });
});
