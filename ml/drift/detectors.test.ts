import { Rng } from '../rng';
import { ADWIN, detectAll, PageHinkley } from '.';

const CHANGE = 2000;

/** N(0, σ²) for CHANGE values, then N(Δ, σ²). */
function meanShift(rng: Rng, shift: number, sd: number, n = 3000): number[] {
  return Array.from({ length: n }, (_, i) => (i >= CHANGE ? shift : 0) + sd * rng.normal());
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** First detection at or after the change, as a delay (−1: missed). */
function delay(indices: number[]): number {
  const i = indices.find((k) => k >= CHANGE);
  return i === undefined ? -1 : i - CHANGE;
}

/**
 * ADWIN's expected delay for a shift Δ after CHANGE values: the smallest |W₁| = n₁ at which the
 * shift exceeds ε_cut (with σ²_W including the shift's own contribution), then the next index at
 * which the clock lets ADWIN test (update number t tests when t % clock = 0).
 */
function expectedAdwinDelay(shift: number, sd: number, delta = 0.002, clock = 32, l = 5): number {
  for (let n1 = l; ; n1++) {
    const w = CHANGE + n1;
    const variance = sd * sd + (shift * shift * CHANGE * n1) / (w * w);
    const dp = Math.log((2 * Math.log(w)) / delta);
    const m = 1 / (CHANGE - l + 1) + 1 / (n1 - l + 1);
    const eps = Math.sqrt(2 * m * variance * dp) + (2 / 3) * dp * m;
    if (shift > eps) {
      const t = CHANGE + n1; // update number of the value that makes |W₁| = n1
      return Math.ceil(t / clock) * clock - 1 - CHANGE;
    }
  }
}

/**
 * Page–Hinkley's expected delay for a shift Δ (noise small against λ): after k values the running
 * mean has moved by ≈ Δk/(CHANGE + k), so PH⁺ ≈ Σ (Δ·CHANGE/(CHANGE + j) − δ) = Δ·CHANGE·ln(1 + k/CHANGE) − δk;
 * the delay is the k at which that reaches λ.
 */
function expectedPageHinkleyDelay(shift: number, delta = 0.005, threshold = 50): number {
  for (let k = 1; ; k++) if (shift * CHANGE * Math.log(1 + k / CHANGE) - delta * k > threshold) return k - 1;
}

describe('ADWIN', () => {
  it('keeps the exact mean and variance of the window in O(log n) buckets while nothing changes', () => {
    const rng = new Rng(1);
    const a = new ADWIN();
    const xs = Array.from({ length: 5000 }, () => 3 + 2 * rng.normal());
    expect(detectAll(a, xs)).toEqual([]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(a.width).toBe(5000);
    expect(a.estimation).toBeCloseTo(mean, 10);
    expect(a.variance).toBeCloseTo(variance, 8);
    // ≤ (max_buckets + 1) buckets per power of two.
    expect(a.nBuckets).toBeLessThanOrEqual(6 * Math.ceil(Math.log2(5000)));
  });

  it('detects a 1σ mean shift at the clock tick its bound predicts (or, by chance, the next)', () => {
    const expected = expectedAdwinDelay(1, 1);
    expect(expected).toBe(47); // n₁ ≈ 34 → next clock tick: update 2048, index 2047
    const rng = new Rng(2);
    const delays = Array.from({ length: 20 }, () => delay(detectAll(new ADWIN(), meanShift(rng, 1, 1))));
    expect(median(delays)).toBe(expected);
    for (const d of delays) expect([expected, expected + 32]).toContain(d);
  });

  it('detects a 0.5σ shift with a median delay within one clock period of the prediction', () => {
    const expected = expectedAdwinDelay(0.5, 1);
    const rng = new Rng(3);
    const delays = Array.from({ length: 20 }, () => delay(detectAll(new ADWIN(), meanShift(rng, 0.5, 1))));
    expect(delays.every((d) => d >= 0)).toBe(true);
    expect(Math.abs(median(delays) - expected)).toBeLessThanOrEqual(32);
  });

  it('tests on every value with clock = 1, detecting sooner than with the default clock', () => {
    const xs = meanShift(new Rng(4), 1, 1);
    const d1 = delay(detectAll(new ADWIN({ clock: 1 }), xs));
    expect(d1).toBeGreaterThanOrEqual(0);
    expect(d1).toBeLessThan(delay(detectAll(new ADWIN(), xs)));
  });

  it('drops the old sub-window on a detection and restarts on the next value', () => {
    const a = new ADWIN();
    const xs = meanShift(new Rng(5), 2, 1);
    let at = -1;
    for (let i = 0; i < xs.length && at < 0; i++) if (a.update(xs[i]).driftDetected) at = i;
    expect(at).toBeGreaterThanOrEqual(CHANGE);
    expect(a.width).toBeLessThan(at + 1);
    expect(a.estimation).toBeGreaterThan(1); // mostly the new regime is left
    expect(a.nDetections).toBe(1);
    a.update(2);
    expect(a.width).toBe(1);
  });

  it('raises no more false alarms on stationary streams than its δ bound allows', () => {
    // ADWIN's guarantee: each test raises a false alarm with probability ≤ δ. 20 streams of 10,000
    // N(0, 1) values make 20 · 10,000/32 = 6,250 tests; the bound allows ≤ 12.5 alarms on average.
    const rng = new Rng(6);
    let alarms = 0;
    for (let s = 0; s < 20; s++) alarms += detectAll(new ADWIN(), Array.from({ length: 10000 }, () => rng.normal())).length;
    expect(alarms).toBeLessThanOrEqual(Math.floor((20 * 10000 / 32) * 0.002));
  });

  it('rejects unknown and bad parameters by name', () => {
    expect(() => new ADWIN({ delta: 2 })).toThrow('ADWIN: delta must be a number in (0, 1), got 2');
    expect(() => new ADWIN({ clock: 0.5 })).toThrow('ADWIN: clock must be a positive integer, got 0.5');
    expect(() => new ADWIN({ grace_period: -1 })).toThrow('ADWIN: grace_period must be an integer >= 0, got -1');
    expect(() => new ADWIN({ window: 3 } as never)).toThrow("ADWIN: unknown parameter 'window' (expected one of delta, clock, max_buckets, min_window_length, grace_period)");
    expect(() => new ADWIN().update(Number.NaN)).toThrow('ADWIN.update: x must be a finite number, got NaN');
  });
});

describe('Page–Hinkley', () => {
  it('detects a mean shift of 2σ (σ = 0.1) at the delay λ predicts', () => {
    const expected = expectedPageHinkleyDelay(0.2);
    expect(expected).toBeGreaterThan(250);
    expect(expected).toBeLessThan(300);
    const rng = new Rng(7);
    const delays = Array.from({ length: 20 }, () => delay(detectAll(new PageHinkley(), meanShift(rng, 0.2, 0.1))));
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0.85 * expected);
      expect(d).toBeLessThanOrEqual(1.15 * expected);
    }
    expect(Math.abs(median(delays) / expected - 1)).toBeLessThan(0.05);
  });

  it("detects decreases in mode 'down' and 'both' but not in mode 'up'", () => {
    const xs = meanShift(new Rng(8), -0.2, 0.1);
    expect(delay(detectAll(new PageHinkley({ mode: 'down' }), xs))).toBeGreaterThan(0);
    expect(delay(detectAll(new PageHinkley(), xs))).toBeGreaterThan(0);
    expect(detectAll(new PageHinkley({ mode: 'up' }), xs)).toEqual([]);
  });

  it('never signals before min_instances values', () => {
    const ph = new PageHinkley({ min_instances: 30, threshold: 1 });
    const xs = [...new Array(20).fill(0), ...new Array(20).fill(10)];
    expect(detectAll(ph, xs)[0]).toBe(29);
  });

  it('raises no alarm on stationary streams whose noise is small against λ (Siegmund ARL₀ ≈ e^50)', () => {
    // For a CUSUM with drift −δ and noise σ, the average run length to a false alarm is about
    // exp(2δ(λ + 1.166σ)/σ²)/(2δ²/σ²): with σ = 0.1 that is ~e^50, so 200,000 values give none.
    const rng = new Rng(9);
    let alarms = 0;
    for (let s = 0; s < 20; s++) alarms += detectAll(new PageHinkley(), Array.from({ length: 10000 }, () => 0.1 * rng.normal())).length;
    expect(alarms).toBe(0);
  });

  it('rejects bad parameters by name', () => {
    expect(() => new PageHinkley({ mode: 'sideways' as never })).toThrow("PageHinkley: mode must be one of 'up', 'down', 'both', got \"sideways\"");
    expect(() => new PageHinkley({ alpha: 1.5 })).toThrow('PageHinkley: alpha must be a number in (0, 1], got 1.5');
    expect(() => new PageHinkley({ threshold: 0 })).toThrow('PageHinkley: threshold must be a finite number > 0, got 0');
  });
});
