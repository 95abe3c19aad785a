/**
 * `autopilot dev up` → `stack-check` → `dev status` → `dev down`, as a person runs them, on free
 * ports and a private data directory: the stack comes up with every component real, the workflow
 * runs through it, and `down` leaves no process of ours running.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../cli/dev/free-ports';
import { createTestDatabase, type TestDatabase } from './support/pg';

const run = promisify(execFile);
const bin = resolve(__dirname, '../bin/autopilot');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The environment of a dev stack on its own ports (Temporal, UI, HTTP, metrics, S3, serve, Prometheus, 3 worker metrics) and data directory. */
function stackEnv([temporal, ui, http, metrics, s3, serve, prometheus, api, ...workerMetrics]: number[], databaseUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AUTOPILOT_DATA_DIR: mkdtempSync(join(tmpdir(), 'autopilot-dev-')),
    AUTOPILOT_DATABASE_URL: databaseUrl,
    AUTOPILOT_DEV_TEMPORAL_PORT: String(temporal),
    AUTOPILOT_DEV_TEMPORAL_UI_PORT: String(ui),
    AUTOPILOT_DEV_TEMPORAL_HTTP_PORT: String(http),
    AUTOPILOT_DEV_TEMPORAL_METRICS_PORT: String(metrics),
    AUTOPILOT_DEV_S3_PORT: String(s3),
    AUTOPILOT_DEV_SERVE_PORT: String(serve),
    AUTOPILOT_DEV_PROMETHEUS_PORT: String(prometheus),
    AUTOPILOT_DEV_API_PORT: String(api),
    AUTOPILOT_DEV_WORKER_METRICS_PORTS: workerMetrics.join(','),
    AUTOPILOT_TEMPORAL_UI: `http://127.0.0.1:${ui}`,
  };
  for (const k of ['AUTOPILOT_TEMPORAL_ADDRESS', 'AUTOPILOT_ARTIFACT_URI', 'AUTOPILOT_S3_ENDPOINT']) delete env[k];
  return env;
}

describe('the dev stack', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = stackEnv(await freePorts(11), db.url);
  }, 60_000);

  afterAll(async () => {
    await run(bin, ['dev', 'down'], { env }).catch(() => undefined);
    await db?.drop();
  }, 60_000);

  it('comes up, runs the stack check through S3 and the registry, and goes down leaving nothing behind', async () => {
    const up = JSON.parse((await run(bin, ['dev', 'up', '--json'], { env, timeout: 240_000 })).stdout);
    expect(up.temporal.ui).toBe(env.AUTOPILOT_TEMPORAL_UI);
    expect(up.started).toEqual(expect.arrayContaining(['temporal', 'seaweedfs', 'worker-training', 'worker-oumi', 'worker-rollout', 'inference', 'prometheus', 'api']));
    expect(up.prometheus).toBe(`http://127.0.0.1:${env.AUTOPILOT_DEV_PROMETHEUS_PORT}`);
    // The control-plane API serves the built console and answers the stack's admin key.
    expect(up.api).toBe(`http://127.0.0.1:${env.AUTOPILOT_DEV_API_PORT}`);
    const page = await fetch(`${up.api}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root"|<script/);
    const token = readFileSync(join(env.AUTOPILOT_DATA_DIR!, 'api-key'), 'utf8').trim();
    const whoami = await fetch(`${up.api}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(whoami.status).toBe(200);
    expect((await fetch(`${up.api}/v1/models`)).status).toBe(401);
    expect(up.retentionSchedule).toBe('created');

    // A second `up` starts nothing new.
    const again = JSON.parse((await run(bin, ['dev', 'up', '--json'], { env, timeout: 120_000 })).stdout);
    expect(again.started).toEqual([]);
    expect(again.retentionSchedule).toBe('exists');

    // The rollout worker runs the decision log's retention (what the schedule starts daily).
    const retention = JSON.parse((await run(bin, ['retention', 'run', '--json'], { env, timeout: 120_000 })).stdout);
    expect(retention).toMatchObject({ retentionDays: 30, dropped: [], deleted: [] });

    const check = JSON.parse((await run(bin, ['stack-check', '--json'], { env, timeout: 120_000 })).stdout);
    expect(check.probe.registry.database).toBe(db.name);
    expect(check.probe.registry.migrated).toBe(true);
    expect(check.probe.artifacts.uri).toMatch(/^s3:\/\/autopilot\/stack-check\//);
    expect(check.url).toContain(`${env.AUTOPILOT_TEMPORAL_UI}/namespaces/default/workflows/`);

    const status = JSON.parse((await run(bin, ['dev', 'status', '--json'], { env })).stdout) as Array<{ name: string; pid: number; running: boolean; urls: Record<string, string> }>;
    expect(status.map((p) => p.name).sort()).toEqual(['api', 'inference', 'prometheus', 'seaweedfs', 'temporal', 'worker-oumi', 'worker-rollout', 'worker-training']);
    expect(status.find((p) => p.name === 'prometheus')!.urls.ui).toBe(up.prometheus);
    expect((await run(bin, ['dev', 'status'], { env })).stdout).toContain(`ui=${up.prometheus}`);

    // Prometheus scrapes the inference server and the three workers, and sees the stack check's activity.
    const query = async (q: string) => ((await (await fetch(`${up.prometheus}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    const deadline = Date.now() + 60_000;
    let ups: { metric: Record<string, string>; value: [number, string] }[] = [];
    let probes: typeof ups = [];
    while (Date.now() < deadline) {
      ups = await query('up');
      probes = await query('sum(autopilot_activity_duration_seconds_count{activity="probeServices",outcome="completed"})');
      if (ups.length === 4 && ups.every((u) => u.value[1] === '1') && probes.length === 1 && Number(probes[0].value[1]) >= 1) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(ups.map((u) => `${u.metric.job} ${u.value[1]}`).sort()).toEqual(['autopilot-inference 1', 'autopilot-worker 1', 'autopilot-worker 1', 'autopilot-worker 1']);
    expect(Number(probes[0]?.value[1])).toBe(1);
    expect(status.every((p) => p.running)).toBe(true);
    const live = await fetch(`http://127.0.0.1:${env.AUTOPILOT_DEV_SERVE_PORT}/v2/health/live`);
    expect(live.status).toBe(200);

    const down = JSON.parse((await run(bin, ['dev', 'down', '--json'], { env, timeout: 120_000 })).stdout);
    expect(down.stopped.sort()).toEqual(['api', 'inference', 'prometheus', 'seaweedfs', 'temporal', 'worker-oumi', 'worker-rollout', 'worker-training']);
    for (const p of status) expect({ name: p.name, alive: alive(p.pid) }).toEqual({ name: p.name, alive: false });
    const after = JSON.parse((await run(bin, ['dev', 'status', '--json'], { env })).stdout);
    expect(after).toEqual([]);
  }, 300_000);

  it('fails at once, saying why, when the Temporal dev server cannot bind one of its ports', async () => {
    // Another process holds the HTTP API port: Temporal exits within a second, and `up` says so then
    // (it used to wait out its 60 s readiness deadline with only "did not become ready").
    const ports = await freePorts(11);
    const http = ports[2];
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(http, '127.0.0.1', () => r()));
    const taken = stackEnv(ports, db.url);
    const t0 = Date.now();
    try {
      const err = await run(bin, ['dev', 'up', '--json'], { env: taken, timeout: 60_000 }).then(() => null, (e: { stderr?: string }) => e);
      expect(err).not.toBeNull();
      expect(err!.stderr).toMatch(new RegExp(`the Temporal dev server exited \\(.*${http}.*address already in use.*\\); see .*temporal\\.log`));
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
      await run(bin, ['dev', 'down'], { env: taken, timeout: 60_000 }).catch(() => undefined);
    }
  }, 90_000);
});
