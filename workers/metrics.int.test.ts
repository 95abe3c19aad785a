/**
 * A real worker process (`bin/autopilot worker --metrics-port N`) on a real Temporal dev server and
 * PostgreSQL: its /metrics serves Autopilot's metrics, Node's process metrics under their standard names
 * and the Temporal SDK's, and an activity's execution count goes up after a workflow ran it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { freePorts } from '../cli/dev/free-ports';
import { STACK_CHECK_WORKFLOW_TYPE } from '../contracts/stack-check';
import { TASK_QUEUES } from '../contracts/shared';
import { parseExposition, sampleValue } from '../infra/grafana/exposition';

const root = resolve(__dirname, '..');

async function waitForLog(file: string, text: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const log = readFileSync(file, 'utf8');
    if (log.includes(text)) return;
    if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`worker did not log "${text}" within ${timeoutMs} ms: ${readFileSync(file, 'utf8').slice(-2000)}`);
}

describe('worker /metrics (real worker process, Temporal dev server, PostgreSQL)', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let worker: ChildProcess;
  let url: string;

  beforeAll(async () => {
    [env, db] = await Promise.all([startDevServer(), createTestDatabase()]);
    await migrate(db.pool);
    const [port] = await freePorts(1);
    url = `http://127.0.0.1:${port}/metrics`;
    const dir = mkdtempSync(join(tmpdir(), 'worker-metrics-'));
    const log = join(dir, 'worker.log');
    const { openSync } = await import('node:fs');
    const fd = openSync(log, 'a');
    worker = spawn(process.execPath, [join(root, 'bin/autopilot'), 'worker', '--queue', TASK_QUEUES.training, '--metrics-port', String(port), '--metrics-host', '127.0.0.1'], {
      cwd: root,
      env: {
        ...process.env,
        AUTOPILOT_IGNORE_STACK: '1',
        AUTOPILOT_DATA_DIR: dir,
        AUTOPILOT_DATABASE_URL: db.url,
        AUTOPILOT_TEMPORAL_ADDRESS: env.address,
        AUTOPILOT_ARTIFACT_URI: `file://${join(dir, 'artifacts')}`,
      },
      stdio: ['ignore', fd, fd],
    });
    await waitForLog(log, `metrics on ${url}`, worker, 110_000);
  }, 180_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await env?.teardown();
    await db?.drop();
  });

  const scrape = async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  const probeCount = (families: ReturnType<typeof parseExposition>) =>
    sampleValue(families, 'autopilot_activity_duration_seconds_count', { activity: 'probeServices', task_queue: TASK_QUEUES.training, outcome: 'completed' }) ?? 0;

  it('serves Autopilot\'s, the process\' and the Temporal SDK\'s metrics in one exposition', async () => {
    const families = await scrape();
    for (const name of ['autopilot_activity_duration_seconds_count', 'autopilot_activity_failures_total', 'autopilot_ppo_iterations_total', 'autopilot_oumi_loss', 'autopilot_drift_detected_total', 'autopilot_canary_rollbacks_total', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      expect([name, families.has(name)]).toEqual([name, true]);
    }
    // The SDK's core exporter (temporal_* names), appended by our server.
    expect([...families.keys()].filter((n) => n.startsWith('temporal_')).length).toBeGreaterThan(3);
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('counts an activity after a workflow ran it, once per run', async () => {
    const before = probeCount(await scrape());
    expect(before).toBe(0);
    for (let i = 1; i <= 2; i++) {
      await env.client.workflow.execute(STACK_CHECK_WORKFLOW_TYPE, { taskQueue: TASK_QUEUES.training, workflowId: `metrics-${randomUUID()}`, args: [{ message: `run ${i}` }] });
      const families = await scrape();
      expect(probeCount(families)).toBe(i);
      expect(sampleValue(families, 'autopilot_activity_running', { activity: 'probeServices', task_queue: TASK_QUEUES.training })).toBe(0);
      const sum = sampleValue(families, 'autopilot_activity_duration_seconds_sum', { activity: 'probeServices', task_queue: TASK_QUEUES.training, outcome: 'completed' });
      expect(sum).toBeGreaterThan(0);
    }
    // The SDK counted the same executions on its side.
    const sdk = await scrape();
    const sdkFamilies = [...sdk.keys()].filter((n) => n.startsWith('temporal_activity_execution'));
    expect(sdkFamilies.length).toBeGreaterThan(0);
  });
});
