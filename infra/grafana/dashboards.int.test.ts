/**
 * The dashboards against the real processes: a real `autopilot serve` (with a bandit deployment) and a
 * real `autopilot worker` on a Temporal dev server, scraped by a real Prometheus started the way the
 * dev stack starts it (cli/dev/prometheus.ts, with infra/prometheus/rules loaded). Every metric name
 * a panel query selects must be in one of the two /metrics expositions, and Prometheus must accept
 * every panel query. A reward sent to the bandit deployment shows up per arm in Prometheus.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createServingFixture, type ServingFixture } from '../../inference/testing/fixture';
import { JsonClient } from '../../inference/testing/client';
import { deleteBanditDecisions } from '../../inference/testing/bandit-keys';
import { startDevServer } from '../../test/support/temporal';
import { describeWithTool } from '../../test/support/tools';
import { freePorts } from '../../cli/dev/free-ports';
import { prometheusBinary, prometheusConfig, startPrometheus } from '../../cli/dev/prometheus';
import { stopManaged, type ManagedProcess } from '../../cli/dev/processes';
import { STACK_CHECK_WORKFLOW_TYPE } from '../../contracts/stack-check';
import { TASK_QUEUES } from '../../contracts/shared';
import { allDashboards, panelQueries } from './dashboards';
import { missingMetrics } from './check';
import { parseExposition } from './exposition';

const root = resolve(__dirname, '../..');
const tag = randomBytes(4).toString('hex');
let havePrometheus = true;
try {
  prometheusBinary();
} catch {
  havePrometheus = false;
}

async function until<T>(what: string, f: () => Promise<T | null>, timeoutMs: number, log?: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await f().catch(() => null);
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} within ${timeoutMs} ms${log ? `: ${readFileSync(log, 'utf8').slice(-2000)}` : ''}`);
}

function start(name: string, args: string[], env: NodeJS.ProcessEnv, log: string): ChildProcess {
  const fd = openSync(log, 'a');
  return spawn(process.execPath, [join(root, 'bin/autopilot'), ...args], { cwd: root, env: { ...process.env, AUTOPILOT_IGNORE_STACK: '1', ...env }, stdio: ['ignore', fd, fd] });
}

describeWithTool('infra/grafana/dashboards.int.test.ts', havePrometheus, 'prometheus is not installed; scripts/prometheus-tools.sh install (as root) installs Debian\'s package')(
  'dashboards against a real inference server, worker and Prometheus',
  () => {
    let fx: ServingFixture;
    let env: TestWorkflowEnvironment;
    let redis: Redis;
    const children: ChildProcess[] = [];
    let prometheus: ManagedProcess;
    let serveUrl: string;
    let workerUrl: string;
    let promUrl: string;

    beforeAll(async () => {
      [fx, env] = await Promise.all([createServingFixture(), startDevServer()]);
      redis = new Redis('redis://127.0.0.1:6379');
      await fx.registry.createModel({ name: 'router', actor: 'test' });
      await fx.registry.setDeployment({
        model: 'router',
        kind: 'bandit',
        championVersion: null,
        actor: 'test',
        config: {
          learner: { kind: 'linucb', params: { alpha: 0.5 } },
          arms: [{ name: 'large' }, { name: 'small' }],
          features: ['complexity'],
          rewardSpec: { version: 1, components: { quality: { source: 'user_feedback', weight: 1 }, cost_usd: { source: 'cost', weight: 10, direction: 'penalty' } } },
          stateKey: `test-dash-${tag}`,
        },
      });
      const [servePort, workerPort, promPort] = await freePorts(3);
      serveUrl = `http://127.0.0.1:${servePort}`;
      workerUrl = `http://127.0.0.1:${workerPort}/metrics`;
      promUrl = `http://127.0.0.1:${promPort}`;
      const common = { AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: fx.artifactUri, AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379', AUTOPILOT_TEMPORAL_ADDRESS: env.address };
      const serveLog = join(fx.dir, 'serve.log');
      const workerLog = join(fx.dir, 'worker.log');
      children.push(start('serve', ['serve', '--port', String(servePort), '--host', '127.0.0.1', '--cache-dir', join(fx.dir, 'cache')], { ...common, AUTOPILOT_DATA_DIR: join(fx.dir, 'serve-data') }, serveLog));
      children.push(start('worker', ['worker', '--queue', TASK_QUEUES.training, '--metrics-port', String(workerPort), '--metrics-host', '127.0.0.1'], { ...common, AUTOPILOT_DATA_DIR: join(fx.dir, 'worker-data') }, workerLog));
      prometheus = startPrometheus(join(fx.dir, 'prom'), promPort, prometheusConfig({ inference: [`127.0.0.1:${servePort}`], workers: [`127.0.0.1:${workerPort}`] }, { scrapeInterval: '1s' }));
      await until('the inference server answers', async () => ((await fetch(`${serveUrl}/v2/health/ready`)).ok ? true : null), 60_000, serveLog);
      await until('the worker serves /metrics', async () => (readFileSync(workerLog, 'utf8').includes('serving task queue') ? true : null), 120_000, workerLog);
      await until('Prometheus is ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : null), 60_000, prometheus.log);
    }, 240_000);

    afterAll(async () => {
      for (const c of children) {
        if (c.exitCode !== null) continue;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await exited;
      }
      if (prometheus) await stopManaged(join(fx.dir, 'prom'), prometheus);
      if (redis) {
        const keys = await redis.keys(`bandit:state:test-dash-${tag}`);
        if (keys.length) await redis.del(...keys);
        await deleteBanditDecisions(redis, tag);
        redis.disconnect();
      }
      await env?.teardown();
      await fx?.close();
    }, 60_000);

    const query = async (q: string): Promise<{ status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } }> =>
      (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json() as never;

    it('a reward on a bandit decision is counted per arm, summed and split into components, and Prometheus has it', async () => {
      const client = new JsonClient(serveUrl);
      try {
        const d = await client.post('/v1/decide', { deployment: 'router', features: { complexity: 0.4 } });
        expect(d.status).toBe(200);
        const r = await client.post('/v1/rewards', { decisionId: d.body.decisionId, components: { quality: 1, cost_usd: 0.02 } });
        expect(r.status).toBe(201);
        const arm = d.body.arm as string;
        const exp = parseExposition(await (await fetch(`${serveUrl}/metrics`)).text());
        const sample = (name: string, labels: Record<string, string>) => exp.get(name)!.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
        expect(sample('autopilot_rewards_received_total', { deployment: 'router', version: 'bandit', arm })).toBe(1);
        expect(sample('autopilot_rewards_sum', { deployment: 'router', arm })).toBeCloseTo(1 - 10 * 0.02, 9);
        expect(sample('autopilot_rewards_component_sum', { deployment: 'router', arm, component: 'cost_usd' })).toBeCloseTo(0.02, 9);
        expect(sample('autopilot_rewards_component_received_total', { deployment: 'router', arm, component: 'quality' })).toBe(1);
        const seen = await until('Prometheus scraped the reward', async () => {
          const res = await query('sum by (deployment, arm) (autopilot_rewards_received_total)');
          return res.data?.result.length ? res.data.result : null;
        }, 30_000);
        expect(seen.map((s) => [s.metric.deployment, s.metric.arm, s.value[1]])).toEqual([['router', arm, '1']]);
      } finally {
        client.close();
      }
    });

    it('every metric a dashboard panel selects is exported by the inference server or a worker, and Prometheus accepts every query', async () => {
      // A workflow through the worker, so the Temporal SDK's activity metrics exist too.
      await env.client.workflow.execute(STACK_CHECK_WORKFLOW_TYPE, { taskQueue: TASK_QUEUES.training, workflowId: `dash-${randomUUID()}`, args: [{}] });
      const exported = new Set<string>();
      for (const url of [`${serveUrl}/metrics`, workerUrl]) {
        const res = await fetch(url);
        expect(res.status).toBe(200);
        for (const name of parseExposition(await res.text()).keys()) exported.add(name);
      }
      expect(missingMetrics(allDashboards(), exported)).toEqual([]);

      const ups = await until('both targets up', async () => {
        const res = await query('up');
        return res.data?.result.length === 2 && res.data.result.every((u) => u.value[1] === '1') ? res.data.result : null;
      }, 30_000);
      expect(ups.map((u) => u.metric.job).sort()).toEqual(['autopilot-inference', 'autopilot-worker']);
      const refused: string[] = [];
      for (const [file, d] of Object.entries(allDashboards())) {
        for (const { panel, expr } of panelQueries(d)) {
          const res = await query(expr);
          if (res.status !== 'success') refused.push(`${file} / ${panel}: ${res.error} — ${expr}`);
        }
      }
      expect(refused).toEqual([]);
      // The rules of infra/prometheus were loaded and evaluate without errors.
      const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { health: string; name: string; lastError?: string }[] }[] } };
      expect(rules.data.groups.length).toBeGreaterThan(0);
      await until('every rule evaluated', async () => {
        const r = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as typeof rules;
        return r.data.groups.every((g) => g.rules.every((x) => x.health === 'ok')) ? true : null;
      }, 30_000);
    });
  },
);
