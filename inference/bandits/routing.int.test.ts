/**
 * UC9 routing against two real `autopilot serve` processes, one registry and one Redis: the deployment
 * of configs/routing/routing.yaml (cool-down shortened to 1.5 s, probe share 0.25) routes simulated
 * calls (ml/routing/simulator.ts); each call's quality, latency and failure come back as reward
 * components through the process that did not decide. Then the busiest provider goes down:
 *  - traffic leaves it after exactly consecutiveFailures (5) requests: the 6th request it gets comes only
 *    after the cool-down (its response is received ≥ 1.5 s after the 5th failure was reported), and
 *    during the outage it gets at most 5 + one probe per cool-down elapsed;
 *  - while its circuit is open the logged distribution gives it probability 0 and every propensity is
 *    the probability of the distribution served;
 *  - after recovery, successful probes close its circuit and it is back in the served distribution of
 *    every decision (at least its ε share; how much traffic it wins back is the learner's call — the
 *    simulator test ml/routing/routing.test.ts measures that share over a longer run).
 * Requests are sequential (each reward acknowledged before the next decide), so the counts are exact;
 * the only timing assertion is a lower bound (load can only make it larger). Also: every arm open → 503
 * naming the cool-down; a deployment with `exploration: { kind: meta }` served end to end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { familySnapshots } from '../../ml/bandits/meta-family';
import { RoutingSimulator, TIMEOUT_MS } from '../../ml/routing/simulator';
import { JsonClient } from '../testing/client';
import { deleteBanditDecisions } from '../testing/bandit-keys';
import { createServingFixture, waitFor, type ServingFixture } from '../testing/fixture';
import { breakerKey } from './breaker';

const root = resolve(__dirname, '../..');
const tag = randomBytes(4).toString('hex');
const stateKey = `test-route-${tag}`;
const cooldownMs = 1500;

interface Proc {
  child: ChildProcess;
  url: string;
}

function serve(fx: ServingFixture, name: string): Promise<Proc> {
  const child = spawn(process.execPath, [join(root, 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(fx.dir, name), '--reconcile', '30'], {
    cwd: root,
    env: { ...process.env, AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: fx.artifactUri, AUTOPILOT_DATA_DIR: join(fx.dir, `${name}-data`), AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  return new Promise((resolveProc, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out.join('')}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out.push(d.toString());
      const m = /serving on (http:\/\/\S+)/.exec(out.join(''));
      if (m) {
        clearTimeout(timer);
        resolveProc({ child, url: m[1] });
      }
    });
    child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out.join('')}`)));
  });
}

interface Call {
  id: string;
  arm: number;
  propensity: number;
  failed: boolean;
  /** Client clock: decide response received; reward sent. */
  decided: number;
  rewardSent: number;
}

describe('latency-aware routing with circuit breaking on two serve processes', () => {
  let fx: ServingFixture;
  let redis: Redis;
  const procs: Proc[] = [];
  let clients: JsonClient[];
  const yaml = parse(readFileSync(join(root, 'configs/routing/routing.yaml'), 'utf8')) as Record<string, any>;
  const arms: string[] = yaml.arms.map((a: { name: string }) => a.name);
  const sim = new RoutingSimulator(17);
  let down: number | null = null;
  let n = 0;

  /** One routed call: decide on one process, call the (simulated) provider, reward on the other. */
  async function call(): Promise<Call> {
    const i = n++;
    const x = sim.context();
    const d = await clients[i % 2].post('/v1/decide', { deployment: 'route', features: x });
    expect(d.status).toBe(200);
    const decided = Date.now();
    const arm = d.body.armIndex as number;
    expect(arms[arm]).toBe(d.body.arm);
    const o = arm === down ? { quality: 0, latency_ms: TIMEOUT_MS, failed: 1 } : sim.call(arm, x, 0);
    const rewardSent = Date.now();
    const r = await clients[1 - (i % 2)].post('/v1/rewards', { decisionId: d.body.decisionId, components: o });
    expect(r.status).toBe(201);
    return { id: d.body.decisionId, arm, propensity: d.body.propensity, failed: o.failed === 1, decided, rewardSent };
  }

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    await fx.registry.createModel({ name: 'route', actor: 'test' });
    await fx.registry.setDeployment({
      model: 'route',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: { ...yaml, stateKey, circuitBreaker: { ...yaml.circuitBreaker, cooldownMs, probeShare: 0.25 } },
    });
    await fx.registry.createModel({ name: 'route-all', actor: 'test' });
    await fx.registry.setDeployment({
      model: 'route-all',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: {
        learner: { kind: 'linucb' }, exploration: { kind: 'epsilon-greedy', epsilon: 0.5 }, arms: ['a', 'b'], stateKey: `test-route-all-${tag}`,
        rewardSpec: yaml.rewardSpec, circuitBreaker: { failureComponent: 'failed', consecutiveFailures: 1, window: 1, minRequests: 1, cooldownMs: 600_000 },
      },
    });
    await fx.registry.createModel({ name: 'explore-meta', actor: 'test' });
    await fx.registry.setDeployment({
      model: 'explore-meta',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: {
        learner: { kind: 'linucb' }, arms: ['m0', 'm1', 'm2'], features: ['u0'], stateKey: `test-explore-meta-${tag}`,
        exploration: { kind: 'meta', task: { rewardScale: 1 }, snapshots: JSON.parse(JSON.stringify(familySnapshots(1, 12, 20))), epsilon0: 0.2, minEpsilon: 0.01 },
      },
    });
    procs.push(...(await Promise.all([serve(fx, 'one'), serve(fx, 'two')])));
    clients = procs.map((p) => new JsonClient(p.url));
  }, 120_000);

  afterAll(async () => {
    clients?.forEach((c) => c.close());
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await redis.del(`bandit:state:${stateKey}`, breakerKey(stateKey), `bandit:state:test-route-all-${tag}`, breakerKey(`test-route-all-${tag}`), `bandit:state:test-explore-meta-${tag}`);
    process.stdout.write(`routing test clean-up: ${await deleteBanditDecisions(redis, tag)} decision entries\n`);
    redis.disconnect();
    await fx?.close();
  });

  it('takes a failing provider out within 5 requests, probes it once per cool-down, and serves it again after recovery', async () => {
    // Healthy: the learner finds its providers; X is the busiest.
    const healthy: Call[] = [];
    for (let i = 0; i < 400; i++) healthy.push(await call());
    const counts = arms.map((_, a) => healthy.filter((c) => c.arm === a).length);
    const X = counts.indexOf(Math.max(...counts));
    expect(counts[X]).toBeGreaterThan(400 / arms.length);
    const field = (f: string) => `${arms[X]}|${f}`;

    // Outage of X: run until a probe has failed (X opened twice) and one more cool-down has passed.
    down = X;
    const outage: Call[] = [];
    const started = Date.now();
    let reopened = 0;
    while (outage.length < 20_000) {
      outage.push(await call());
      if (reopened === 0 && Number(await redis.hget(breakerKey(stateKey), field('o'))) >= 2) reopened = Date.now();
      if (reopened > 0 && Date.now() - reopened > cooldownMs) break;
    }
    const elapsed = Date.now() - started;
    const toX = outage.filter((c) => c.arm === X);
    process.stdout.write(`routing: ${arms[X]} had ${counts[X]}/400 healthy requests; outage ${outage.length} requests in ${elapsed} ms, ${toX.length} to it (${toX.filter((c) => c.failed).length} failed)\n`);
    expect(reopened).toBeGreaterThan(0);
    expect(toX.every((c) => c.failed)).toBe(true);
    expect(toX.length).toBeGreaterThanOrEqual(6);
    // The 6th request it got (a probe) came only after the cool-down that the 5th failure started.
    expect(toX[5].decided).toBeGreaterThanOrEqual(toX[4].rewardSent + cooldownMs - 5);
    expect(toX.length).toBeLessThanOrEqual(5 + Math.ceil(elapsed / cooldownMs) + 1);

    // While open (between the 5th failure and the probe), X's probability in the served distribution is 0.
    const whileOpen = outage.filter((c) => c.decided > toX[4].rewardSent && c.decided < toX[5].decided - 1).map((c) => c.id);
    expect(whileOpen.length).toBeGreaterThan(0);
    await waitFor(async () => Number((await fx.db.pool.query("SELECT count(*) AS n FROM decisions WHERE deployment = 'route' AND decision_id = ANY($1::uuid[])", [whileOpen])).rows[0].n) === whileOpen.length, 10_000, 'the decision rows');
    const rows = (await fx.db.pool.query<{ arm: string; propensity: number; metadata: any }>('SELECT arm, propensity, metadata FROM decisions WHERE decision_id = ANY($1::uuid[])', [whileOpen])).rows;
    const openRows = rows.filter((r) => r.metadata.breaker?.open?.includes(arms[X]));
    expect(openRows.length).toBeGreaterThan(0);
    for (const r of openRows) {
      expect(r.metadata.actionDist[X]).toBe(0);
      expect(r.propensity).toBeCloseTo(r.metadata.actionDist[arms.indexOf(r.arm)], 12);
      expect((r.metadata.actionDist as number[]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }

    // Recovery: successful probes close the circuit; X is back in the arm set.
    down = null;
    const recovery: Call[] = [];
    let closedAt = -1;
    while (recovery.length < 20_000) {
      recovery.push(await call());
      if (closedAt < 0 && (await redis.hget(breakerKey(stateKey), field('s'))) === '0') closedAt = recovery.length;
      if (closedAt >= 0 && recovery.length - closedAt >= 100) break;
    }
    const probes = recovery.slice(0, closedAt).filter((c) => c.arm === X);
    process.stdout.write(`routing: recovered after ${closedAt} requests (${probes.length} probes to ${arms[X]}); ${recovery.slice(closedAt).filter((c) => c.arm === X).length} of the next 100 went to it\n`);
    expect(closedAt).toBeGreaterThan(0);
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.slice(-2).every((c) => !c.failed)).toBe(true); // successThreshold successful probes closed it
    const after = recovery.slice(closedAt).map((c) => c.id);
    await waitFor(async () => Number((await fx.db.pool.query('SELECT count(*) AS n FROM decisions WHERE decision_id = ANY($1::uuid[])', [after])).rows[0].n) === after.length, 10_000, 'the decision rows');
    const back = (await fx.db.pool.query<{ metadata: any }>('SELECT metadata FROM decisions WHERE decision_id = ANY($1::uuid[])', [after])).rows;
    for (const r of back) {
      expect(r.metadata.actionDist[X]).toBeGreaterThanOrEqual(0.05 / arms.length - 1e-12); // at least its ε share
      expect(r.metadata.breaker).toBeUndefined();
    }
  }, 300_000);

  it('answers 503 naming the cool-down when every arm\'s circuit is open', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const d = await clients[i % 2].post('/v1/decide', { deployment: 'route-all' });
      expect(d.status).toBe(200);
      expect(seen.has(d.body.arm)).toBe(false); // an arm whose circuit opened is never served again (cool-down 10 min)
      seen.add(d.body.arm);
      const r = await clients[1 - (i % 2)].post('/v1/rewards', { decisionId: d.body.decisionId, components: { quality: 0, latency_ms: TIMEOUT_MS, failed: 1 } });
      expect(r.status).toBe(201);
    }
    expect(seen.size).toBe(2);
    for (const c of clients) {
      const r = await c.post('/v1/decide', { deployment: 'route-all' });
      expect(r.status).toBe(503);
      expect(r.body.error).toMatch(/every arm of bandit deployment route-all has an open circuit/);
      expect(r.body.expected).toMatch(/a retry after the cool-down \((59\d|600) s\)/);
    }
  }, 60_000);

  it('serves exploration { kind: meta }: ε-floored exact propensities, learning through rewards', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const d = await clients[i % 2].post('/v1/decide', { deployment: 'explore-meta', features: { u0: (i % 10) / 10 - 0.5 } });
      expect(d.status).toBe(200);
      // (1 − ε)·π_base + ε/3 with ε ∈ [0.01, 0.2]: never below 0.01/3, never above 1 − 0.01·2/3.
      expect(d.body.propensity).toBeGreaterThanOrEqual(0.01 / 3 - 1e-12);
      expect(d.body.propensity).toBeLessThanOrEqual(1 - 0.02 / 3 + 1e-12);
      const r = await clients[1 - (i % 2)].post('/v1/rewards', { decisionId: d.body.decisionId, reward: d.body.arm === 'm1' ? 0.9 : 0.3 });
      expect(r.status).toBe(201);
      ids.push(d.body.decisionId);
    }
    await waitFor(async () => Number((await fx.db.pool.query('SELECT count(*) AS n FROM decisions WHERE decision_id = ANY($1::uuid[])', [ids])).rows[0].n) === ids.length, 10_000, 'the decision rows');
    const rows = (await fx.db.pool.query<{ metadata: any }>('SELECT metadata FROM decisions WHERE decision_id = ANY($1::uuid[])', [ids])).rows;
    for (const r of rows) expect(r.metadata.learner).toBe('uncertainty-epsilon');
  }, 120_000);
});
