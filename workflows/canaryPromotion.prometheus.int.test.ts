/**
 * The canary's Prometheus gates end to end, everything real: Debian's Prometheus scraping two real
 * inference servers every second, the Temporal dev server, a worker with the real canary activities,
 * PostgreSQL, ONNX policies, and KServe v2 traffic. The plan's gates are PromQL only:
 *
 *   v2_error_ratio   5xx share of the servers' v2 infer answers (the server counts errors by route and
 *                    status only, so this one is server-wide; `or vector(0)` makes "no error yet" a 0)
 *   canary_rps       the canary's own answered requests per second, selected with every placeholder
 *                    ({{ deployment }}, {{ version }}, {{ arm }}, {{ interval }}); min 0, so it only
 *                    proves the rendered labels find the canary's real series
 *
 * The canary serves cleanly at first (the gates pass); then its onnxruntime session is released under
 * the servers (as inference/serving.int.test.ts breaks a canary), so every v2 call it gets answers 500
 * (the v2 path does not eject a canary; /v1/decide would, and that is a breach of its own); the error
 * ratio climbs to about the canary's weight and two failed checks roll the canary back.
 * A last test asks the same Prometheus for queries that have no data, are malformed or return several
 * series: each is a failed check with Prometheus' reason.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createCanaryActivities } from '../activities/canary/activities';
import { hasPrometheus, startPrometheus, type PrometheusServer } from '../activities/canary/testing/prometheus-server';
import { validateCanaryPlan } from '../activities/canary/plan-config';
import type { CanaryPlanInput } from '../canary/plan';
import type { CanaryStatus } from '../canary/status';
import { startCanary } from '../cli/commands/canary';
import type { InferenceServer } from '../inference/server';
import { createServingFixture, postJson, type ServingFixture } from '../inference/testing/fixture';
import { Rng } from '../ml/rng';
import { startDevServer } from '../test/support/temporal';
import { describeWithTool } from '../test/support/tools';
import { statusQuery } from '../contracts/canary';

const ERROR_RATIO =
  '(sum(rate(autopilot_inference_errors_total{route="v2_infer",status=~"5.."}[{{ interval }}])) or vector(0))' +
  ' / sum(rate(autopilot_inference_request_duration_seconds_count{route="v2_infer"}[{{ interval }}]))';
const CANARY_RPS = 'sum(rate(autopilot_inference_request_duration_seconds_count{route="v2_infer",model="{{ deployment }}",version="{{ version }}",arm="{{ arm }}"}[{{ interval }}]))';

const PLAN: CanaryPlanInput = {
  stepWeights: [50, 100],
  interval: '60s',
  checkInterval: '3s',
  threshold: 2,
  // no rewards in this test: the decision-row statistics stay inconclusive mid-bake; the queries decide
  minSamples: 1000,
  maxInconclusive: 10,
  metrics: [
    { name: 'v2_error_ratio', query: ERROR_RATIO, interval: '5s', thresholdRange: { max: 0.05 } },
    { name: 'canary_rps', query: CANARY_RPS, interval: '5s', thresholdRange: { min: 0 } },
  ],
};

const describePrometheus = describeWithTool(
  'workflows/canaryPromotion.prometheus.int.test.ts',
  hasPrometheus(),
  'the prometheus binary is not on PATH; install it with scripts/prometheus-tools.sh install (Debian package prometheus)',
);

describePrometheus('canaryPromotion with Prometheus gates (real Prometheus scraping real inference servers)', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let servers: InferenceServer[];
  let prom: PrometheusServer;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `rollout-${randomUUID()}`;
  let canaryFailures = 0;

  beforeAll(async () => {
    [env, fx] = await Promise.all([startDevServer(), createServingFixture()]);
    // The broken canary's failures are expected here: count them instead of printing each one.
    const log = (level: string, message: string) => {
      if (/^v2_infer(?: error [0-9a-f]+)?: Error: model .* failed: /.test(message)) canaryFailures++; // 5xx are logged under their error id
      else if (level !== 'info') process.stderr.write(`inference ${level}: ${message}\n`);
    };
    servers = await Promise.all([fx.start({ log }), fx.start({ log })]);
    prom = await startPrometheus(servers.map((s) => new URL(s.url).host), { scrapeInterval: '1s' });
    await prom.waitForTargets();
    const activities = createCanaryActivities({
      pool: fx.db.pool,
      outbound: { secret: null, allowedHosts: ['127.0.0.1'], maxResponseBytes: 65_536, prometheusUrl: prom.url },
    });
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('./canaryPromotion'), activities });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await prom?.stop();
    await env?.teardown();
    await fx?.close();
  });

  /** KServe v2 calls to both servers (unpinned: they follow the champion/canary split) until stopped. */
  function traffic(model: string, seed: number, concurrency = 4) {
    const rng = new Rng(seed);
    let running = true;
    const answers = new Map<string, number>();
    const one = async (i: number) => {
      const server = servers[i % servers.length];
      while (running) {
        const data = Array.from({ length: 16 }, () => rng.uniform());
        const r = await postJson(`${server.url}/v2/models/${model}/infer`, { inputs: [{ name: 'obs', shape: [1, 16], datatype: 'FP32', data }] });
        const key = r.status === 200 ? `${r.status} v${r.body.model_version}` : String(r.status);
        answers.set(key, (answers.get(key) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 5));
      }
    };
    const loops = Array.from({ length: concurrency }, (_, i) => one(i));
    return {
      answers,
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('passes the PromQL gates while the canary is healthy, then rolls it back on the error-rate gate', async () => {
    const model = 'prom-gate';
    const champion = await fx.register(model, 1);
    const canary = await fx.register(model, 2);
    await fx.deploy(model, { champion: champion.version });
    const t = traffic(model, 7);
    try {
      const handle = await startCanary(env.client, { model, version: canary.version, plan: PLAN, actor: 'prom-test' }, taskQueue);
      // healthy: two checks at 50% whose query gates hold, with the canary's own series found by the rendered labels
      const healthy = await until('two checks with the query gates passing', async () => {
        const s = await handle.query(statusQuery);
        const good = s.lastChecks.filter((c) => c.canaryWeight === 50 && c.metrics.filter((m) => m.source?.startsWith('prometheus: ')).every((m) => m.ok));
        return good.length >= 2 && s;
      });
      expect(healthy.phase).toBe('Progressing');
      const last = healthy.lastChecks.at(-1)!;
      const rps = last.metrics.find((m) => m.name === 'canary_rps')!;
      expect(rps.source).toBe(`prometheus: sum(rate(autopilot_inference_request_duration_seconds_count{route="v2_infer",model="${model}",version="${canary.version}",arm="canary"}[5s]))`);
      expect(rps.value).toBeGreaterThan(0);
      expect(last.metrics.find((m) => m.name === 'v2_error_ratio')).toMatchObject({ ok: true, value: 0 });
      expect(healthy.failedChecks).toBe(0);

      // break the canary on both servers: every v2 call routed to it now fails in onnxruntime
      for (const s of servers) await s.manager.get(model)!.canary!.session.release();
      const broken = performance.now();
      const status = (await handle.result()) as CanaryStatus;
      const ratios = status.lastChecks.filter((c) => c.outcome === 'fail').map((c) => c.metrics.find((m) => m.name === 'v2_error_ratio')!.value!.toFixed(3));
      process.stdout.write(`canary broken → rolled back in ${((performance.now() - broken) / 1000).toFixed(1)} s; v2_error_ratio of the failed checks ${ratios.join(', ')} (max 0.05, canary weight 50%); answers ${JSON.stringify(Object.fromEntries(t.answers))}\n`);
      expect(status.phase).toBe('Failed');
      expect(status.message).toMatch(/^rolled back: 2 failed checks \(threshold 2\); last: v2_error_ratio 0\.\d+ outside \[-inf, 0\.05\] \(prometheus: \(sum\(rate\(autopilot_inference_errors_total\{route="v2_infer",status=~"5\.\."\}\[5s\]\)\) or vector\(0\)\)/);
      const failed = status.lastChecks.filter((c) => c.outcome === 'fail');
      expect(failed.length).toBe(2);
      for (const c of failed) {
        expect(c.breach).toBe(false);
        const ratio = c.metrics.find((m) => m.name === 'v2_error_ratio')!;
        expect(ratio.ok).toBe(false);
        expect(ratio.value).toBeGreaterThan(0.05);
        expect(ratio.value).toBeLessThanOrEqual(1);
      }
      expect(await fx.registry.getDeployment(model)).toMatchObject({ championVersion: champion.version, canaryVersion: null, canaryWeight: 0 });
      expect((await fx.registry.getVersion(model, canary.version)).status).toBe('rejected');
      // the servers really answered errors for the canary's share, and served the champion throughout
      expect(t.answers.get('500') ?? 0).toBeGreaterThan(0);
      expect(canaryFailures).toBe(t.answers.get('500'));
      expect(t.answers.get(`200 v${champion.version}`) ?? 0).toBeGreaterThan(0);
      // nothing else rolled it back: no ejection (v2 does not eject), no decision rows
      expect(await fx.registry.listAudit({ model, action: 'canary.ejected' })).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('a query with no data, a malformed query and one with several series are failed checks with the reason', async () => {
    const model = 'prom-nodata';
    const champion = await fx.register(model, 1);
    const canary = await fx.register(model, 2);
    await fx.deploy(model, { champion: champion.version });
    const acts = createCanaryActivities({ pool: fx.db.pool, outbound: { secret: null, allowedHosts: ['127.0.0.1'], maxResponseBytes: 65_536, prometheusUrl: prom.url } });
    const base = { minSamples: 10, checkInterval: '1s', interval: '2s' };
    const check = async (metric: { name: string; query: string; thresholdRange: { min?: number; max?: number } }) => {
      const plan = validateCanaryPlan({ ...base, metrics: [metric] });
      const r = await acts.canaryCheck({ model, version: canary.version, arm: 'canary', from: new Date(Date.now() - 60_000).toISOString(), comparison: 'none', decisionLook: 0, bakeMs: 2000, minSamples: 10, plan });
      return r;
    };
    const nodata = await check({ name: 'absent', query: 'sum(rate(autopilot_no_such_metric{deployment="{{ deployment }}"}[{{ interval }}]))', thresholdRange: { max: 1 } });
    expect(nodata).toMatchObject({ outcome: 'fail', breach: false });
    expect(nodata.reasons[0]).toBe(`absent: no data (the query returned no series) (query sum(rate(autopilot_no_such_metric{deployment="${model}"}[1s])))`);
    const nan = await check({ name: 'zero_over_zero', query: 'vector(0) / vector(0)', thresholdRange: { max: 1 } });
    expect(nan.reasons[0]).toBe('zero_over_zero: no data (the query returned NaN, e.g. 0/0 without traffic) (query vector(0) / vector(0))');
    const bad = await check({ name: 'typo', query: 'sum(rate(up[{{ interval }}])', thresholdRange: { max: 1 } });
    expect(bad.outcome).toBe('fail');
    expect(bad.reasons[0]).toMatch(/^typo: query error \(HTTP 400, bad_data\): .*parse error.* \(query sum\(rate\(up\[1s\]\)\)$/);
    const many = await check({ name: 'per_target', query: 'up{job="autopilot"}', thresholdRange: { min: 1 } });
    expect(many.reasons[0]).toMatch(/^per_target: 2 series \(\{"__name__":"up","instance":"127\.0\.0\.1:\d+","job":"autopilot"\}, .*\); expected one value: aggregate with sum\(\.\.\.\) or similar/);
    const fine = await check({ name: 'targets_up', query: 'sum(up{job="autopilot"})', thresholdRange: { min: 2 } });
    expect(fine.metrics.find((m) => m.name === 'targets_up')).toMatchObject({ value: 2, ok: true });
    expect(fine.outcome).not.toBe('fail');
    // a Prometheus that is not there: the check fails and says so
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const gone = createCanaryActivities({ pool: fx.db.pool, outbound: { secret: null, allowedHosts: ['127.0.0.1'], maxResponseBytes: 65_536, prometheusUrl: `http://127.0.0.1:${port}` } });
    const plan = validateCanaryPlan({ ...base, metrics: [{ name: 'targets_up', query: 'sum(up)', thresholdRange: { min: 1 } }] });
    const unreachable = await gone.canaryCheck({ model, version: canary.version, arm: 'canary', from: new Date().toISOString(), comparison: 'none', decisionLook: 0, bakeMs: 2000, minSamples: 10, plan });
    expect(unreachable.reasons[0]).toMatch(new RegExp(`^targets_up: Prometheus http://127\\.0\\.0\\.1:${port} unreachable: fetch failed \\(.*ECONNREFUSED.*\\) \\(query sum\\(up\\)\\)$`));
    // and a plan with a query but no Prometheus anywhere is refused before the canary starts
    const none = createCanaryActivities({ pool: fx.db.pool, outbound: { secret: null, allowedHosts: ['127.0.0.1'], maxResponseBytes: 65_536, prometheusUrl: null } });
    await expect(none.canaryInitialize({ model, version: canary.version, plan: { metrics: [{ name: 'q', query: 'sum(up)', thresholdRange: { min: 1 } }] }, actor: 'test' })).rejects.toMatchObject({
      nonRetryable: true,
      message: "input.plan.prometheus.url: got null; expected a Prometheus for the metric queries: no Prometheus to ask: set the plan's prometheus.url or the worker's AUTOPILOT_PROMETHEUS_URL",
    });
  });
});
