import { Histogram, Registry } from 'prom-client';
import { InferenceMetrics } from './metrics';

const NAME = 'autopilot_inference_request_duration_seconds';

/** The lines of one metric family in a scrape. */
function family(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}_`) || l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('InferenceMetrics', () => {
  it('formats the request latency exactly as a prom-client Histogram with the same observations', async () => {
    const m = new InferenceMetrics({ defaultMetrics: false });
    const reference = new Registry();
    const h = new Histogram({
      name: NAME,
      help: 'reference',
      labelNames: ['route', 'model', 'version', 'arm'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [reference],
    });
    const observations: [string, string, string, string, number][] = [
      ['decide', 'ranker', '1', 'champion', 0.00005],
      ['decide', 'ranker', '1', 'champion', 0.0001], // on a bound: counted in that bucket (le)
      ['decide', 'ranker', '1', 'champion', 0.0031],
      ['decide', 'ranker', '2', 'canary', 7.5], // only in +Inf
      ['health', '-', '-', '-', 0.0004],
    ];
    for (const [route, model, version, arm, v] of observations) {
      m.latency(route as never, model, version, arm).observe(v);
      h.labels(route, model, version, arm).observe(v);
    }
    const ours = family(await m.registry.metrics(), NAME);
    const theirs = family(await reference.metrics(), NAME);
    expect(ours.length).toBe(3 * 15);
    expect(ours).toEqual(theirs);
    expect(ours).toContain(`${NAME}_bucket{le="+Inf",route="decide",model="ranker",version="2",arm="canary"} 1`);
    expect(ours).toContain(`${NAME}_bucket{le="0.0001",route="decide",model="ranker",version="1",arm="champion"} 2`);
  });

  it('returns one series per label set and refuses a non-finite latency', () => {
    const m = new InferenceMetrics({ defaultMetrics: false });
    expect(m.latency('decide', 'a', '1', 'champion')).toBe(m.latency('decide', 'a', '1', 'champion'));
    expect(m.latency('decide', 'a', '1', 'champion')).not.toBe(m.latency('decide', 'a', '1', 'canary'));
    expect(() => m.latency('decide').observe(Number.NaN)).toThrow(/finite/);
  });

  it('forgetVersion drops that version\'s latency series and keeps the others', async () => {
    const m = new InferenceMetrics({ defaultMetrics: false });
    m.latency('decide', 'ranker', '1', 'champion').observe(0.001);
    m.latency('v2_infer', 'ranker', '1', 'canary').observe(0.001);
    m.latency('decide', 'ranker', '2', 'champion').observe(0.001);
    m.forgetVersion('ranker', '1');
    const lines = family(await m.registry.metrics(), NAME);
    expect(lines.filter((l) => l.includes('version="1"'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith(`${NAME}_count`))).toEqual([`${NAME}_count{route="decide",model="ranker",version="2",arm="champion"} 1`]);
  });

  it('counts hot-path decision increments exactly once per scrape, together with direct increments', async () => {
    const m = new InferenceMetrics({ defaultMetrics: false });
    const c = m.decisionCounter('ranker', '3', 'champion');
    expect(m.decisionCounter('ranker', '3', 'champion')).toBe(c);
    c.inc();
    c.inc();
    c.inc(2);
    m.decisions.labels('ranker', '3', 'champion').inc(); // e.g. a path that uses the prom-client child
    m.decisionCounter('ranker', '3', 'canary').inc();
    const line = async (arm: string) =>
      (await m.registry.metrics()).split('\n').find((l) => l.startsWith(`autopilot_decisions_total{deployment="ranker",version="3",arm="${arm}"}`));
    expect(await line('champion')).toBe('autopilot_decisions_total{deployment="ranker",version="3",arm="champion"} 5');
    expect(await line('champion')).toBe('autopilot_decisions_total{deployment="ranker",version="3",arm="champion"} 5');
    expect(await line('canary')).toBe('autopilot_decisions_total{deployment="ranker",version="3",arm="canary"} 1');
    c.inc();
    expect(await line('champion')).toBe('autopilot_decisions_total{deployment="ranker",version="3",arm="champion"} 6');
    expect(() => c.inc(-1)).toThrow(/>= 0/);
  });
});
