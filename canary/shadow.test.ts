import { validateCanaryPlan } from '../activities/canary/plan-config';
import { evaluateShadow, type ShadowStats } from './shadow';

const plan = validateCanaryPlan({ shadow: { enabled: true } });
const window = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T01:00:00.000Z' };
const stats = (s: Partial<ShadowStats> = {}): ShadowStats => ({
  mirrored: 500,
  agreement: 0.8,
  latencyP95Ms: 2,
  rewarded: { n: 300, championMean: 0.5, ips: 0.45 },
  incidents: [],
  ...s,
});
const judge = (s: Partial<ShadowStats>, minSamples = 200) => evaluateShadow(stats(s), { decisionLook: 1, minSamples }, plan, window, window.to);

describe('evaluateShadow', () => {
  it('passes with enough mirrored decisions, reporting agreement and the IPS delta', () => {
    const r = judge({});
    expect(r).toMatchObject({ outcome: 'pass', breach: false, reasons: [], samples: { canary: 500 }, decisionLook: true });
    expect(r.metrics.find((m) => m.name === 'shadow_agreement')!.value).toBe(0.8);
    expect(r.metrics.find((m) => m.name === 'shadow_ips_delta')!.value).toBeCloseTo(-0.05, 12);
    expect(r.metrics.find((m) => m.name === 'latency_p95_ms')).toMatchObject({ value: 2, max: 500, ok: true });
  });

  it('leaves the IPS delta out until minSamples rewarded pairs', () => {
    expect(judge({ rewarded: { n: 10, championMean: 0.5, ips: 0.45 } }).metrics.find((m) => m.name === 'shadow_ips_delta')!.value).toBeNull();
  });

  it('breaches when the server dropped the shadow, whatever the samples', () => {
    expect(judge({ incidents: ['shadow v2 dropped by inference:h:1: run-time error: boom'] })).toMatchObject({ outcome: 'fail', breach: true, reasons: ['shadow v2 dropped by inference:h:1: run-time error: boom'] });
  });

  it('fails on the latency gate, is inconclusive with few samples, and reports missing data', () => {
    expect(judge({ latencyP95Ms: 800 })).toMatchObject({ outcome: 'fail', breach: false, reasons: ['latency_p95_ms 800.00 outside {"max":500} (shadow model scoring time)'] });
    expect(judge({ mirrored: 20 })).toMatchObject({ outcome: 'inconclusive', reasons: ['too few mirrored decisions: 20 (shadow.minSamples 200)'] });
    expect(judge({ mirrored: 0, agreement: null, latencyP95Ms: null })).toMatchObject({ outcome: 'inconclusive', missingData: true });
  });
});
