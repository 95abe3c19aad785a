import { armOutcome, MODEL_SELECTION_ARMS, ModelSelectionSimulator, oracleArm, QUALITY_NOISE_SD, SavingsLedger, TASK_CATEGORIES, type ModelArm } from './model-selection';

describe('model-selection simulator', () => {
  it('is seeded: the same seed gives the same requests and answers', () => {
    const a = new ModelSelectionSimulator(7);
    const b = new ModelSelectionSimulator(7);
    for (let i = 0; i < 50; i++) {
      const ra = a.next();
      expect(b.next()).toEqual(ra);
      expect(a.answer(ra, 'mid')).toEqual(b.answer(ra, 'mid'));
    }
    expect(new ModelSelectionSimulator(8).next()).not.toEqual(new ModelSelectionSimulator(7).next());
  });

  it('prices the arms 0.4 / 2 / 10 USD per 1M tokens and ranks their quality premium ≥ mid ≥ cheap', () => {
    const req = { id: 0, tenant: 't', category: 'code' as const, prompt: 'x', difficulty: 0.7, tokens: 1000 };
    expect(armOutcome(req, 'cheap').costUsd).toBeCloseTo(0.0004, 12);
    expect(armOutcome(req, 'mid').costUsd).toBeCloseTo(0.002, 12);
    expect(armOutcome(req, 'premium').costUsd).toBeCloseTo(0.01, 12);
    expect(armOutcome(req, 'premium').expectedQuality).toBeCloseTo(0.955 - 0.05 * 0.49, 12);
    expect(armOutcome(req, 'cheap').expectedQuality).toBeCloseTo(0.95 - 0.8 * 0.343, 12);
    expect(armOutcome(req, 'premium').expectedQuality).toBeGreaterThan(armOutcome(req, 'mid').expectedQuality);
    expect(armOutcome(req, 'mid').expectedQuality).toBeGreaterThan(armOutcome(req, 'cheap').expectedQuality);
    expect(() => armOutcome(req, 'huge' as ModelArm)).toThrow('arm: got "huge", expected one of cheap, mid, premium');
  });

  it('grades answers around their expected quality with the grader noise, within [0, 1]', () => {
    const sim = new ModelSelectionSimulator(3);
    const req = { ...sim.next(), difficulty: 0.8 };
    let sum = 0;
    let sq = 0;
    const n = 20_000;
    const q = armOutcome(req, 'cheap').expectedQuality;
    for (let i = 0; i < n; i++) {
      const s = sim.answer(req, 'cheap').quality;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
      sum += s;
      sq += (s - q) ** 2;
    }
    // ±6 standard errors: fails about once in 10^9 runs (and the stream is seeded anyway).
    expect(Math.abs(sum / n - q)).toBeLessThan((6 * QUALITY_NOISE_SD) / Math.sqrt(n));
    expect(Math.sqrt(sq / n)).toBeCloseTo(QUALITY_NOISE_SD, 2);
  });

  it('a perfect router at cost weight 5 saves 20–60% of always-premium cost and keeps ≥ 98% of its quality; every category shows up', () => {
    const sim = new ModelSelectionSimulator(11);
    const ledger = new SavingsLedger();
    const seen = new Set<string>();
    const byCategory = new Map<string, Set<ModelArm>>();
    for (let i = 0; i < 5000; i++) {
      const req = sim.next();
      seen.add(req.category);
      const arm = oracleArm(req, 5);
      (byCategory.get(req.category) ?? byCategory.set(req.category, new Set()).get(req.category)!).add(arm);
      ledger.add(req, arm, sim.answer(req, arm));
    }
    expect([...seen].sort()).toEqual([...TASK_CATEGORIES].sort());
    expect(ledger.costSaved).toBeGreaterThan(0.2);
    expect(ledger.costSaved).toBeLessThan(0.6);
    expect(ledger.qualityKept).toBeGreaterThan(0.98);
    // Cheap models for chat, the premium one for maths: the context matters.
    expect(byCategory.get('chat')!.has('cheap')).toBe(true);
    expect(byCategory.get('math')!.has('premium')).toBe(true);
    expect(byCategory.get('math')!.has('cheap')).toBe(false);
    // Always premium saves nothing and keeps everything.
    const all = new SavingsLedger();
    const sim2 = new ModelSelectionSimulator(11);
    for (let i = 0; i < 500; i++) {
      const req = sim2.next();
      all.add(req, 'premium', sim2.answer(req, 'premium'));
    }
    expect(all.costSaved).toBeCloseTo(0, 12);
    expect(all.qualityKept).toBeCloseTo(1, 12);
    expect(MODEL_SELECTION_ARMS).toEqual(['cheap', 'mid', 'premium']);
  });
});
