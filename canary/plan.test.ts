import { ConfigError } from '../config/load';
import { parseCanaryPlan, validateCanaryPlan } from '../activities/canary/plan-config';
import { formatDuration, parseDuration } from './plan';

function errorOf(text: string): string {
  try {
    parseCanaryPlan(text, 'plan.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('canary plan', () => {
  it('has the runbook defaults (R-CANARY-STEPS), durations in milliseconds', () => {
    const p = validateCanaryPlan({});
    expect(p.stepWeights).toEqual([5, 25, 50, 100]);
    expect(p.intervalsMs).toEqual([24, 24, 24, 24].map((h) => h * 3_600_000));
    expect(p.checkIntervalMs).toBe(3_600_000);
    expect(p.metrics).toEqual([
      { name: 'error_rate', max: 0.01 },
      { name: 'latency_p95_ms', max: 500 },
      { name: 'reward_delta', min: -0.02 },
      { name: 'faithfulness', min: 0.75 },
      { name: 'relevancy', min: 0.75 },
    ]);
    expect(p.burnRate.alerts).toEqual([
      { longWindowMs: 3_600_000, shortWindowMs: 300_000, factor: 14.4 },
      { longWindowMs: 21_600_000, shortWindowMs: 1_800_000, factor: 6 },
    ]);
    expect(p.analysis).toEqual({ alpha: 0.05, tolerance: 0.02, spending: 'obrien-fleming', nBootstrap: 10000, seed: 0 });
    expect(p.shadow).toEqual({ enabled: false, intervalMs: 7_200_000, minSamples: 200, onMissingData: 'skip' });
    expect(p.webhooks).toEqual([]);
  });

  it('takes one interval for every step, and webhooks with default timeouts', () => {
    const p = parseCanaryPlan(
      'stepWeights: [10, 100]\ninterval: 30s\ncheckInterval: 10s\nwebhooks:\n  - { type: confirm-promotion, url: "http://127.0.0.1:9/gate" }\n  - { type: rollback, url: "https://x.example/rb", timeout: 2s, name: pager }\n',
      'plan.yaml',
    );
    expect(p.intervalsMs).toEqual([30_000, 30_000]);
    expect(p.webhooks).toEqual([
      { type: 'confirm-promotion', name: 'confirm-promotion', url: 'http://127.0.0.1:9/gate', timeoutMs: 10_000 },
      { type: 'rollback', name: 'pager', url: 'https://x.example/rb', timeoutMs: 2000 },
    ]);
  });

  it.each([
    ['stepWeights: [5, 5, 100]', 'plan.yaml:1:18: stepWeights.1: got 5, expected a weight above the previous step\'s 5 (weights strictly increase)'],
    ['stepWeights: [0, 100]', 'plan.yaml:1:15: stepWeights.0: got 0, expected > 0'],
    ['stepWeights: [5, 150]', 'plan.yaml:1:18: stepWeights.1: got 150, expected <= 100'],
    ['stepWeights: [100]', 'plan.yaml:1:14: stepWeights: got [100], expected at least one weight below 100 (the reward delta needs champion traffic in the same window)'],
    ['interval: [1h, 2h]', 'plan.yaml:1:11: interval: got ["1h","2h"], expected one duration, or one per step (4 for stepWeights [5,25,50,100])'],
    ['interval: 24 hours', 'plan.yaml:1:11: interval: got "24 hours", expected a duration > 0 such as 500ms, 30s, 5m, 24h or 2d'],
    ['interval: 0s', 'plan.yaml:1:11: interval: got "0s", expected a duration > 0 such as 500ms, 30s, 5m, 24h or 2d'],
    ['interval: 30m\ncheckInterval: 1h', 'plan.yaml:2:16: checkInterval: got "1h", expected at most the shortest step interval (30m)'],
    ['threshold: 0', 'plan.yaml:1:12: threshold: got 0, expected >= 1'],
    ['minSamples: 1.5', 'plan.yaml:1:13: minSamples: got 1.5 (number), expected int'],
    ['maxInconclusive: -1', 'plan.yaml:1:18: maxInconclusive: got -1, expected >= 0'],
    ['shadow: { onMissingData: wait }', 'plan.yaml:1:26: shadow.onMissingData: got "wait", expected one of "skip", "fail"'],
    ['metrics:\n  - { name: error_rate, thresholdRange: {} }', 'plan.yaml:2:41: metrics.0.thresholdRange: got {}, expected at least one of min, max'],
    ['metrics:\n  - { name: error_rate, thresholdRange: { min: 0.5, max: 0.1 } }', 'plan.yaml:2:41: metrics.0.thresholdRange: got {"min":0.5,"max":0.1}, expected min <= max'],
    ['metrics:\n  - { name: error_rate, thresholdRange: { max: 5 } }', 'plan.yaml:2:41: metrics.0.thresholdRange: got {"max":5}, expected a range inside [0, 1] (error_rate is a fraction)'],
    ['metrics:\n  - { name: reward_delta, thresholdRange: { min: -0.05 } }', 'plan.yaml:2:50: metrics.0.thresholdRange.min: got -0.05, expected -analysis.tolerance (-0.02): the reward delta\'s lower limit is the non-inferiority margin'],
    ['metrics:\n  - { name: p95, thresholdRange: { max: 1 } }\n  - { name: p95, thresholdRange: { max: 2 } }', 'plan.yaml:3:13: metrics.1.name: got "p95", expected a metric name not already listed'],
    ['metrics:\n  - { name: p95, thresholdRange: { max: 1 }, interval: 1m }', 'plan.yaml:2:56: metrics.0.interval: got "1m", expected no interval on a metric without a query (it is the query\'s {{ interval }})'],
    ['metrics:\n  - { name: error_rate, query: "sum(up)", thresholdRange: { max: 1 } }', 'plan.yaml:2:13: metrics.0.name: got "error_rate", expected a name other than the built-in error_rate, latency_p95_ms, reward_delta for a metric with a query'],
    ['metrics:\n  - { name: errs, query: "sum(x{d=\\"{{ model }}\\"})", thresholdRange: { max: 1 } }', 'plan.yaml:2:26: metrics.0.query: got "sum(x{d=\\"{{ model }}\\"})", expected a PromQL query: unknown placeholder {{ model }} (known: {{ deployment }}, {{ arm }}, {{ version }}, {{ interval }})'],
    ['metrics:\n  - { name: errs, query: "rate(x[{{ interval }])", thresholdRange: { max: 1 } }', 'plan.yaml:2:26: metrics.0.query: got "rate(x[{{ interval }])", expected a PromQL query: an unclosed {{ or a stray }}'],
    ['metrics:\n  - { name: errs, query: "sum(x)", interval: 0s, thresholdRange: { max: 1 } }', 'plan.yaml:2:46: metrics.0.interval: got "0s", expected a duration > 0 such as 500ms, 30s, 5m, 24h or 2d'],
    ['webhooks:\n  - { type: rollback, url: "http://x", timeout: 1h }', 'plan.yaml:2:49: webhooks.0.timeout: got "1h", expected at most 5m'],
    ['prometheus: { timeout: 5m }', 'plan.yaml:1:24: prometheus.timeout: got "5m", expected at most 2m'],
    ['prometheus: { url: "prom:9090" }', 'plan.yaml:1:20: prometheus.url: got "prom:9090", expected an http:// or https:// URL'],
    ['webhooks:\n  - { type: confirm-traffic-increase, url: "http://x" }', 'plan.yaml:2:13: webhooks.0.type: got "confirm-traffic-increase", expected one of "confirm-rollout", "pre-rollout", "rollback", "confirm-promotion", "post-rollout", "event"'],
    ['webhooks:\n  - { type: event, url: "http://x", metadata: { team: 7 } }', 'plan.yaml:2:55: webhooks.0.metadata.team: got 7 (number), expected string'],
    ['analysis: { alpha: 0.7 }', 'plan.yaml:1:20: analysis.alpha: got 0.7, expected < 0.5'],
    ['analysis: { spending: linear }', 'plan.yaml:1:23: analysis.spending: got "linear", expected one of "obrien-fleming", "pocock"'],
    ['burnRate: { alerts: [{ longWindow: 5m, shortWindow: 1h, factor: 14.4 }] }', 'plan.yaml:1:53: burnRate.alerts.0.shortWindow: got "1h", expected a window shorter than longWindow (5m)'],
    ['burnRate: { objective: 1 }', 'plan.yaml:1:24: burnRate.objective: got 1, expected < 1'],
    ['webhooks:\n  - { type: rollback, url: "ftp://x" }', 'plan.yaml:2:28: webhooks.0.url: got "ftp://x", expected an http:// or https:// URL'],
    ['webhooks:\n  - { type: rollback, url: "http://a" }\n  - { type: rollback, url: "http://b" }', 'plan.yaml:3:13: webhooks.1.type: got "rollback", expected one webhook per type'],
    ['stepweights: [5, 100]', 'plan.yaml:1:14: (root): got ["stepweights"], expected no unknown keys (unknown: stepweights)'],
  ])('%s → %s', (yaml, message) => {
    expect(errorOf(`${yaml}\n`)).toBe(message);
  });

  it('takes Prometheus metrics (Flagger MetricTemplate queries) beside the built-in gates, and every webhook type', () => {
    const p = validateCanaryPlan({
      checkInterval: '30s',
      interval: '2m',
      prometheus: { url: 'http://prom.internal:9090', timeout: '5s' },
      metrics: [
        { name: 'error_rate', thresholdRange: { max: 0.01 } },
        { name: 'http_errors', query: 'sum(rate(e{d="{{ deployment }}",arm="{{arm}}"}[{{ interval }}]))', thresholdRange: { max: 0.05 } },
        { name: 'p99', query: 'histogram_quantile(0.99, sum by (le) (rate(h{v="{{ version }}"}[{{ interval }}])))', interval: '5m', thresholdRange: { max: 0.01 } },
      ],
      webhooks: [
        { type: 'confirm-rollout', url: 'http://127.0.0.1:9/a' },
        { type: 'pre-rollout', url: 'http://127.0.0.1:9/b', metadata: { suite: 'smoke' } },
        { type: 'event', url: 'http://127.0.0.1:9/c', timeout: '1s' },
      ],
    });
    expect(p.metrics).toEqual([
      { name: 'error_rate', max: 0.01 },
      { name: 'http_errors', max: 0.05, query: 'sum(rate(e{d="{{ deployment }}",arm="{{arm}}"}[{{ interval }}]))', intervalMs: 30_000 },
      { name: 'p99', max: 0.01, query: 'histogram_quantile(0.99, sum by (le) (rate(h{v="{{ version }}"}[{{ interval }}])))', intervalMs: 300_000 },
    ]);
    expect(p.prometheus).toEqual({ url: 'http://prom.internal:9090', timeoutMs: 5000 });
    expect(p.webhooks.map((w) => [w.type, w.timeoutMs, w.metadata])).toEqual([
      ['confirm-rollout', 10_000, undefined],
      ['pre-rollout', 10_000, { suite: 'smoke' }],
      ['event', 1000, undefined],
    ]);
    expect(validateCanaryPlan({}).prometheus).toEqual({ url: null, timeoutMs: 10_000 });
  });

  it('names the source of an inline plan', () => {
    expect(() => validateCanaryPlan({ threshold: 'two' }, 'input.plan')).toThrow('input.plan: threshold: got "two" (string), expected number');
  });

  it('parses and formats durations', () => {
    expect([parseDuration('250ms'), parseDuration('1.5s'), parseDuration('5m'), parseDuration('2d')]).toEqual([250, 1500, 300_000, 172_800_000]);
    expect(() => parseDuration('5 minutes')).toThrow('duration: got "5 minutes", expected a duration > 0 such as 500ms, 30s, 5m, 24h or 2d');
    expect(formatDuration(90_061_000)).toBe('1d1h1m1s');
    expect(formatDuration(250)).toBe('250ms');
  });
});
