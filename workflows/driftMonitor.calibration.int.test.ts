/**
 * driftMonitor's calibration check, end to end on the real servers (PostgreSQL, Redis, the Temporal dev
 * server, an inference server):
 *  - two Beta–Bernoulli bandits served over HTTP, each decision logging the learner's expected reward of
 *    its arm (`metadata.prediction`) and rewarded 0/1 at the arms' true rates (0.6, 0.2): one deliberately
 *    miscalibrated (priors at 0.9 worth 100,000 trials, so it keeps predicting ~0.9), one with the default
 *    Beta(1, 1) prior (it learns the rates). The miscalibrated one fires the monitor (ECE, Brier), the other
 *    does not.
 *  - a predictor's logged probabilities (decisions seeded with `metadata.prediction`, the reader being
 *    generic over kinds): p → p³ fires on ECE; p itself passes, and its binned correlation clears seed
 *    001's 0.7.
 *  - the worker's /metrics shows `autopilot_calibration_*{deployment,model}`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createDriftActivities } from '../activities/bandits/drift';
import { freePorts } from '../cli/dev/free-ports';
import type { DriftMonitorInput } from '../contracts/drift-monitor';
import type { DecisionInput } from '../decision-log';
import { parseExposition, sampleValue } from '../infra/grafana/exposition';
import { deleteBanditDecisions } from '../inference/testing/bandit-keys';
import { JsonClient } from '../inference/testing/client';
import { createServingFixture, waitFor, type ServingFixture } from '../inference/testing/fixture';
import { Rng } from '../ml/rng';
import { startDevServer } from '../test/support/temporal';
import { startWorkerMetrics, type WorkerMetricsServer } from '../workers/metrics';
import { driftMonitor } from './driftMonitor';

const tag = randomBytes(4).toString('hex');
const TRUE_RATE = { good: 0.6, bad: 0.2 } as const;
const N = 1200;
const thresholds = { maxEce: 0.1, maxBrier: 0.3, minPairs: 200 };

describe('driftMonitor calibration', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let bundle: WorkflowBundleWithSourceMap;
  let redis: Redis;
  let metrics: WorkerMetricsServer;

  beforeAll(async () => {
    [env, fx, bundle] = await Promise.all([startDevServer(), createServingFixture(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    redis = new Redis('redis://127.0.0.1:6379');
    const [port] = await freePorts(1);
    metrics = await startWorkerMetrics({ port, host: '127.0.0.1', taskQueue: 'calibration-test', sdk: false });
  }, 120_000);

  afterAll(async () => {
    await metrics?.close();
    if (redis) {
      const keys = await redis.keys(`bandit:state:calib-*-${tag}`);
      if (keys.length) await redis.del(...keys);
      await deleteBanditDecisions(redis, tag);
      redis.disconnect();
    }
    await env?.teardown();
    await fx?.close();
  });

  async function deployBandit(model: string, priors: Record<string, { mean: number; strength: number }> | undefined): Promise<void> {
    await fx.registry.createModel({ name: model, actor: 'test' });
    await fx.registry.setDeployment({
      model, kind: 'bandit', championVersion: null, actor: 'test',
      config: { learner: { kind: 'beta-ts' }, exploration: { kind: 'none' }, arms: ['good', 'bad'], rewardRange: [0, 1], stateKey: `calib-${model}-${tag}`, ...(priors ? { priors } : {}) },
    });
  }

  /** N decisions over HTTP, each rewarded 1 with its arm's true rate; 40 in flight, batch after batch (the learner learns between them). */
  async function traffic(client: JsonClient, deployment: string, seed: number): Promise<void> {
    const rng = new Rng(seed);
    for (let start = 0; start < N; start += 40) {
      await Promise.all(Array.from({ length: 40 }, async () => {
        const d = await client.post('/v1/decide', { deployment });
        expect(d.status).toBe(200);
        const reward = rng.uniform() < TRUE_RATE[d.body.arm as 'good' | 'bad'] ? 1 : 0;
        const r = await client.post('/v1/rewards', { decisionId: d.body.decisionId, reward });
        expect(r.status).toBe(201);
      }));
    }
  }

  /** A predictor's logged decisions: p ~ U(0, 1), outcome ~ Bernoulli(p), logged prediction `predict(p)`. */
  async function seedPredictor(deployment: string, predict: (p: number) => number, seed: number): Promise<void> {
    await fx.registry.createModel({ name: deployment, actor: 'test' });
    const rng = new Rng(seed);
    const now = Date.now();
    const rows: DecisionInput[] = [];
    const rewards: { decisionId: string; reward: number }[] = [];
    for (let i = 0; i < 2000; i++) {
      const p = rng.uniform();
      const id = randomUUID();
      rows.push({ decisionId: id, time: new Date(now - 3_000_000 + i * 1000), deployment, model: deployment, version: 1, arm: 'champion', features: { x: p }, action: { probability: predict(p) }, propensity: 1, metadata: { kind: 'predictor', prediction: predict(p) } });
      rewards.push({ decisionId: id, reward: rng.uniform() < p ? 1 : 0 });
    }
    await fx.decisions.insertDecisions(rows);
    await fx.decisions.insertRewards(rewards);
  }

  function monitor(deployment: string, extra: Partial<DriftMonitorInput> = {}) {
    return env.client.workflow.execute(driftMonitor, {
      taskQueue: 'calibration-test', workflowId: `drift/${deployment}/${randomUUID()}`,
      args: [{ deployment, windowSeconds: 3600, referenceSeconds: 3600, intervalSeconds: 1, maxIterations: 1, calibration: thresholds, ...extra }],
    });
  }

  it('a deliberately miscalibrated bandit fires the calibration alert; a calibrated one does not; the figures are on /metrics', async () => {
    await deployBandit('stubborn', { good: { mean: 0.9, strength: 100_000 }, bad: { mean: 0.9, strength: 100_000 } });
    await deployBandit('honest', undefined);
    const server = await fx.start();
    const client = new JsonClient(server.url);
    try {
      await waitFor(async () => (await client.post('/v1/decide', { deployment: 'honest' })).status === 200 && (await client.post('/v1/decide', { deployment: 'stubborn' })).status === 200, 30_000, 'both bandits served');
      await traffic(client, 'stubborn', 1);
      await traffic(client, 'honest', 2);
      // Decisions and rewards reach PostgreSQL off the request path.
      const rewarded = async (d: string) => Number((await fx.db.pool.query(`SELECT count(*) AS n FROM decisions JOIN rewards USING (decision_id) WHERE deployment = $1`, [d])).rows[0].n);
      await waitFor(async () => (await rewarded('stubborn')) >= N && (await rewarded('honest')) >= N, 60_000, 'every rewarded decision logged');
    } finally {
      client.close();
    }

    // The logged prediction is the learner's posterior mean of the arm served.
    const { rows } = await fx.db.pool.query(`SELECT (metadata->>'prediction')::float8 AS p FROM decisions WHERE deployment = 'stubborn'`);
    expect(rows.length).toBeGreaterThanOrEqual(N);
    // Beta(90 000 + s, 10 000 + n − s) after n rewards (s of them 1) of an arm: ≥ 90 000 / 101 300 > 0.888 for n ≤ 1 300.
    for (const r of rows) expect(r.p).toBeGreaterThan(0.888);

    const worker = await Worker.create({
      connection: env.nativeConnection, taskQueue: 'calibration-test', workflowBundle: bundle,
      activities: createDriftActivities({ pool: fx.db.pool, store: fx.store }),
      interceptors: { activity: [metrics.interceptor] },
    });
    const [stubborn, honest] = await worker.runUntil(Promise.all([monitor('stubborn'), monitor('honest')]));
    expect(stubborn.alerts).toBe(1);
    expect(honest.alerts).toBe(0);

    const m = async (runId: string, names: string[]) => Object.fromEntries((await fx.registry.readRunMetrics(runId, names)).map((x) => [x.name, x.value]));
    const bad = await m(stubborn.runId, ['calibration/stubborn/ece', 'calibration/stubborn/brier', 'drift/detected']);
    const good = await m(honest.runId, ['calibration/honest/ece', 'calibration/honest/brier', 'calibration/honest/pairs', 'drift/detected']);
    process.stdout.write(`calibration: miscalibrated bandit ECE ${bad['calibration/stubborn/ece'].toFixed(3)} Brier ${bad['calibration/stubborn/brier'].toFixed(3)}; calibrated ECE ${good['calibration/honest/ece'].toFixed(3)} Brier ${good['calibration/honest/brier'].toFixed(3)}\n`);
    // Predicting ≥ 0.888 for rewards of rate ≤ 0.6: ECE ≥ 0.28 (less the noise of ~1200 0/1 rewards, sd ≤ 0.015).
    expect(bad['calibration/stubborn/ece']).toBeGreaterThan(0.25);
    expect(bad['drift/detected']).toBe(1);
    expect(good['calibration/honest/ece']).toBeLessThan(0.1);
    expect(good['calibration/honest/pairs']).toBeGreaterThanOrEqual(N);
    expect(good['drift/detected']).toBe(0);

    // The worker's /metrics (what Prometheus scrapes).
    const e = parseExposition(await (await fetch(metrics.url)).text());
    expect(sampleValue(e, 'autopilot_calibration_ece', { deployment: 'stubborn', model: 'stubborn' })).toBeCloseTo(bad['calibration/stubborn/ece'], 9);
    expect(sampleValue(e, 'autopilot_calibration_ece', { deployment: 'honest', model: 'honest' })).toBeCloseTo(good['calibration/honest/ece'], 9);
    for (const name of ['autopilot_calibration_brier', 'autopilot_calibration_log_loss', 'autopilot_calibration_pairs', 'autopilot_calibration_mce']) {
      expect(sampleValue(e, name, { deployment: 'honest', model: 'honest' })).not.toBeNull();
    }
    // Its reliability table (bins labelled by their upper edge): every prediction in [0.8, 0.9) or [0.9, 1]
    // (the prior mean 0.9 itself), what was observed there far below.
    const bin = (b: string, stat: string) => sampleValue(e, 'autopilot_calibration_reliability', { deployment: 'stubborn', model: 'stubborn', bin: b, stat });
    expect(bin('0.9', 'count')! + bin('1', 'count')!).toBeGreaterThanOrEqual(N);
    expect(bin('0.9', 'predicted')).toBeGreaterThan(0.888);
    expect(bin('0.9', 'observed')).toBeLessThan(0.7);
    expect(bin('0.5', 'count')).toBe(0);
  }, 300_000);

  it('a predictor logging p³ for events of probability p fires on ECE; logging p passes, binned correlation > 0.7', async () => {
    await seedPredictor('cubed', (p) => p ** 3, 3);
    await seedPredictor('exact', (p) => p, 3);
    const worker = await Worker.create({
      connection: env.nativeConnection, taskQueue: 'calibration-test', workflowBundle: bundle,
      activities: createDriftActivities({ pool: fx.db.pool, store: fx.store }),
    });
    const t = { ...thresholds, minBinnedCorrelation: 0.7 };
    const [cubed, exact] = await worker.runUntil(Promise.all([monitor('cubed', { calibration: t }), monitor('exact', { calibration: t })]));
    expect(cubed).toMatchObject({ alerts: 1 });
    expect(exact).toMatchObject({ alerts: 0 });
    const names = (d: string) => [`calibration/${d}/ece`, `calibration/${d}/binned_correlation`, `calibration/${d}/correlation`, `calibration/${d}/log_loss`];
    const c = Object.fromEntries((await fx.registry.readRunMetrics(cubed.runId, names('cubed'))).map((x) => [x.name, x.value]));
    const x = Object.fromEntries((await fx.registry.readRunMetrics(exact.runId, names('exact'))).map((x) => [x.name, x.value]));
    process.stdout.write(`calibration: p³ ECE ${c['calibration/cubed/ece'].toFixed(3)} log loss ${c['calibration/cubed/log_loss'].toFixed(3)}; p ECE ${x['calibration/exact/ece'].toFixed(3)} log loss ${x['calibration/exact/log_loss'].toFixed(3)} r ${x['calibration/exact/correlation'].toFixed(3)} binned r ${x['calibration/exact/binned_correlation'].toFixed(3)}\n`);
    // E[p − p³] = 1/2 − 1/4 over p ~ U(0, 1).
    expect(c['calibration/cubed/ece']).toBeGreaterThan(0.15);
    expect(x['calibration/exact/ece']).toBeLessThan(0.1);
    expect(x['calibration/exact/binned_correlation']).toBeGreaterThan(0.7);
    expect(x['calibration/exact/log_loss']).toBeLessThan(c['calibration/cubed/log_loss']);
  }, 300_000);
});
