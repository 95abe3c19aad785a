import { Rng } from '../rng';
import { CalibrationStats, RollingCalibration, calibrationBreaches, calibrationReport, checkCalibrationThresholds } from '.';

// Hand-computed case: p = (0.1, 0.4, 0.8, 0.9), y = (0, 1, 1, 0).
const P = [0.1, 0.4, 0.8, 0.9];
const Y = [0, 1, 1, 0];

describe('calibration metrics by hand', () => {
  it('log loss, Brier, ECE/MCE with two bins, Pearson r', () => {
    const r = calibrationReport(P, Y, { bins: 2 });
    // −(ln 0.9 + ln 0.4 + ln 0.8 + ln 0.1) / 4
    expect(r.logLoss).toBeCloseTo((0.1053605157 + 0.9162907319 + 0.2231435513 + 2.302585093) / 4, 10);
    // (0.01 + 0.36 + 0.04 + 0.81) / 4
    expect(r.brier).toBeCloseTo(0.305, 12);
    // bin [0, .5): p̄ = .25, ȳ = .5; bin [.5, 1]: p̄ = .85, ȳ = .5 → ECE = .5·.25 + .5·.35, MCE = .35
    expect(r.ece).toBeCloseTo(0.3, 12);
    expect(r.mce).toBeCloseTo(0.35, 12);
    expect(r.bins.map((b) => [b.lo, b.hi, b.count])).toEqual([[0, 0.5, 2], [0.5, 1, 2]]);
    expect(r.bins[0].meanPredicted).toBeCloseTo(0.25, 12);
    expect(r.bins[1].meanPredicted).toBeCloseTo(0.85, 12);
    expect(r.bins.map((b) => b.meanObserved)).toEqual([0.5, 0.5]);
    // Σ dp·dy = 0.1, Σ dp² = 0.41, Σ dy² = 1
    expect(r.correlation).toBeCloseTo(0.1 / Math.sqrt(0.41), 12);
    // Both bins observe 0.5: no variation to correlate.
    expect(r.binnedCorrelation).toBeNull();
    expect(r.meanPredicted).toBeCloseTo(0.55, 12);
    expect(r.meanObserved).toBe(0.5);
  });

  it('binned vs per-pair correlation: two predicted levels that track the outcome rates', () => {
    // p = (.2, .2, .7, .7), y = (0, 1, 1, 1): bins (.2, .5) and (.7, 1) → binned r = 1; per pair r = .25/√.1875
    const r = calibrationReport([0.2, 0.2, 0.7, 0.7], [0, 1, 1, 1]);
    expect(r.binnedCorrelation).toBeCloseTo(1, 12);
    expect(r.correlation).toBeCloseTo(0.25 / Math.sqrt(0.1875), 12);
    expect(r.ece).toBeCloseTo(0.3, 12);
    expect(r.bins.filter((b) => b.count > 0).map((b) => Math.round(b.lo * 10))).toEqual([2, 7]);
  });

  it('a constant 0.9 forecast of 30% events: ECE 0.6, Brier (3·0.1² + 7·0.9²)/10, correlation undefined', () => {
    const y = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    const r = calibrationReport(new Array(10).fill(0.9), y);
    expect(r.correlation).toBeNull();
    expect(r.ece).toBeCloseTo(0.6, 12);
    // 3·(0.1)² + 7·(0.9)² over 10
    expect(r.brier).toBeCloseTo((3 * 0.01 + 7 * 0.81) / 10, 12);
    expect(r.bins[9].count).toBe(10);
  });

  it('p = 1 falls in the last bin; p = 0 with y = 1 costs −ln ε', () => {
    const s = new CalibrationStats({ bins: 4 });
    expect([0, 0.25, 0.999, 1].map((p) => s.binOf(p))).toEqual([0, 1, 3, 3]);
    expect(calibrationReport([0], [1]).logLoss).toBeCloseTo(-Math.log(1e-15), 6);
  });

  it('values outside [0, 1]: no log loss, bins over the predictions\' range', () => {
    const r = calibrationReport([-1, 0, 1, 3], [-1, 1, 1, 2], { bins: 2 });
    expect(r.logLoss).toBeNull();
    expect(r.bins.map((b) => [b.lo, b.hi, b.count])).toEqual([[-1, 1, 2], [1, 3, 2]]);
    expect(r.brier).toBeCloseTo((0 + 1 + 0 + 1) / 4, 12);
  });

  it('refuses bad input with the field and the value', () => {
    expect(() => calibrationReport([0.5], [Number.NaN])).toThrow('observed must be a finite number, got NaN');
    expect(() => calibrationReport([0.5, 0.1], [1])).toThrow('predicted has 2 values but observed has 1');
    expect(() => new CalibrationStats({ bins: 0 })).toThrow('bins must be an integer in [1, 1000], got 0');
    expect(() => new CalibrationStats({ range: [1, 1] })).toThrow('range must be two finite numbers');
    expect(() => new CalibrationStats().revert(0.5, 1)).toThrow('revert with no pair counted');
    expect(() => new RollingCalibration(0)).toThrow('windowSize must be an integer >= 1, got 0');
  });
});

describe('RollingCalibration', () => {
  it('reports exactly the last windowSize pairs (update/revert equal a batch over the window)', () => {
    const rng = new Rng(7);
    const w = 50;
    const roll = new RollingCalibration(w, { bins: 5 });
    const ps: number[] = [], ys: number[] = [];
    for (let i = 0; i < 400; i++) {
      const p = rng.uniform();
      const y = rng.uniform() < p * p ? 1 : 0;
      ps.push(p);
      ys.push(y);
      roll.update(p, y);
      if (i % 37 !== 0 && i !== 399) continue;
      const a = roll.report();
      const b = calibrationReport(ps.slice(-w), ys.slice(-w), { bins: 5, range: [0, 1] });
      expect(a.n).toBe(Math.min(i + 1, w));
      for (const k of ['logLoss', 'brier', 'ece', 'mce', 'correlation', 'binnedCorrelation', 'meanPredicted', 'meanObserved'] as const) {
        if (b[k] === null) expect(a[k]).toBeNull();
        else expect(a[k]).toBeCloseTo(b[k]!, 9);
      }
      expect(a.bins.map((x) => x.count)).toEqual(b.bins.map((x) => x.count));
    }
    expect(roll.total).toBe(400);
  });

  it('the hand-computed window after older pairs slid out', () => {
    const roll = new RollingCalibration(4, { bins: 2 });
    for (const [p, y] of [[0.99, 0], [0.01, 1], [0.5, 1]]) roll.update(p, y);
    P.forEach((p, i) => roll.update(p, Y[i]));
    const r = roll.report();
    expect(r.n).toBe(4);
    expect(r.brier).toBeCloseTo(0.305, 12);
    expect(r.ece).toBeCloseTo(0.3, 12);
    expect(r.correlation).toBeCloseTo(0.1 / Math.sqrt(0.41), 10);
  });
});

describe('calibration thresholds', () => {
  const miscalibrated = calibrationReport(new Array(200).fill(0.9), Array.from({ length: 200 }, (_, i) => (i % 10 < 3 ? 1 : 0)));

  it('names each breach with the value and the bound', () => {
    expect(calibrationBreaches(miscalibrated, { maxEce: 0.1, maxBrier: 0.3, minCorrelation: 0.7 }, 'model m')).toEqual([
      'model m: ECE 0.600 > 0.1 over 200 pairs',
      'model m: Brier 0.570 > 0.3 over 200 pairs',
      'model m: correlation undefined over 200 pairs (constant predictions or outcomes), expected >= 0.7',
    ]);
  });

  it('passes within bounds and skips windows under minPairs', () => {
    expect(calibrationBreaches(miscalibrated, { maxEce: 0.7, maxBrier: 0.6 }, 'm')).toEqual([]);
    expect(calibrationBreaches(miscalibrated, { maxEce: 0.1, minPairs: 201 }, 'm')).toEqual([]);
  });

  it.each([
    [{ maxEce: -0.1 }, 'calibration.maxEce must be a finite number >= 0, got -0.1'],
    [{ minCorrelation: 2 }, 'calibration.minCorrelation must be a number in [-1, 1], got 2'],
    [{ minPairs: 1 }, 'calibration.minPairs must be an integer >= 2, got 1'],
    [{ maxECE: 0.1 }, 'calibration.maxECE: no such threshold'],
    [[], 'calibration must be an object'],
  ])('refuses %j', (t, msg) => {
    expect(() => checkCalibrationThresholds(t, 'calibration')).toThrow(msg);
  });
});
