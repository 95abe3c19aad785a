/**
 * The evaluator service end to end: `autopilot evaluator serve` as a real process (a free port, a
 * bearer token from its environment) used by a real `ppoTraining` run on the Temporal dev server with
 * `env: http:URL;header:Authorization=env:VAR`, the token resolved from the worker's environment. The
 * run finishes and registers a version; the service logged every request it answered; the secret
 * is in neither the workflow history nor the run's lineage; a bad request is a 400 naming the field;
 * no token → 401.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createPpoActivities } from '../../activities/ppo/activities';
import type { PpoTrainingInput } from '../../contracts/ppo-training';
import { TASK_QUEUES } from '../../contracts/shared';
import { createArtifactStore } from '../../registry/artifacts';
import { Registry } from '../../registry/index';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { startDevServer } from '../../test/support/temporal';
import { ppoTraining } from '../../workflows/ppoTraining';

const root = resolve(__dirname, '..', '..');

interface Service {
  child: ChildProcess;
  url: string;
  /** stderr lines `POST /tuner/evaluate STATUS CATEGORY N ms` */
  lines: string[];
}

async function startService(token: string): Promise<Service> {
  const child = spawn(process.execPath, [join(root, 'bin', 'autopilot'), 'evaluator', 'serve', '--port', '0', '--token-env', 'EVAL_SERVICE_TOKEN'], {
    cwd: root,
    env: { ...process.env, AUTOPILOT_IGNORE_STACK: '1', EVAL_SERVICE_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let errBuf = '';
  child.stderr!.on('data', (d: Buffer) => {
    errBuf += d.toString();
    const parts = errBuf.split('\n');
    errBuf = parts.pop()!;
    lines.push(...parts);
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`evaluator serve did not start: ${out} ${lines.join('\n')}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /evaluator serving on (http:\/\/[^/\s]+)\/tuner\/evaluate/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`evaluator serve exited with ${code}: ${out} ${lines.join('\n')}`)));
  });
  return { child, url, lines };
}

describe('autopilot evaluator serve used by ppoTraining (env http:URL)', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let service: Service;
  const token = `tok-${randomUUID()}`;
  const secretVar = `TUNER_TOKEN_${randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase()}`;

  beforeAll(async () => {
    [env, db, service] = await Promise.all([startDevServer(), createTestDatabase(), startService(token)]);
    await migrate(db.pool);
  });
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await env?.teardown();
    await db?.drop();
    delete process.env[secretVar];
  });

  it('a bad request is a 400 naming the field; no token is a 401', async () => {
    const good = { config: { variant: 'B', k: 9, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' }, category: 'policy', batch_size: 50, seed: 1 };
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(`${service.url}/tuner/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const bad = await post({ ...good, config: { ...good.config, fusion_weight: 2 } }, { authorization: `Bearer ${token}` });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'config.fusion_weight must be a number in [0, 1], got 2', field: 'config.fusion_weight', expected: 'a number in [0, 1]' });
    const anonymous = await post(good, {});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ field: 'authorization' });
    const ok = await post(good, { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
  });

  it('a ppoTraining run evaluates through the service and registers a version; the token stays out of history and lineage', async () => {
    process.env[secretVar] = `Bearer ${token}`; // the worker's environment (this process runs the worker)
    const store = createArtifactStore(`file://${mkdtempSync(join(tmpdir(), 'evaluator-service-'))}`);
    const registry = new Registry({ pool: db.pool, store });
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/index') }),
      activities: createPpoActivities({ pool: db.pool, store }),
    });
    const model = `ppo-http-${randomUUID().slice(0, 8)}`;
    const workflowId = `ppo/${randomUUID()}`;
    const before = service.lines.filter((l) => / 200 /.test(l)).length;
    const input: PpoTrainingInput = {
      model,
      env: `http:${service.url};header:Authorization=env:${secretVar}`,
      config: {
        environment: { episode_length: 4, batch_size: 50 },
        ppo: { num_steps: 16, num_minibatches: 2, update_epochs: 2, hidden_sizes: [16, 16] },
      },
      workers: 2,
      iterations: 2,
      seed: 3,
      evaluation: { episodes: 2, screeningEpisodes: 1, shortlist: 1, kStep: 16, fusionStep: 1 },
      timeouts: { heartbeatSeconds: 10 },
    };
    const result = await worker.runUntil(env.client.workflow.execute(ppoTraining, { taskQueue, workflowId, args: [input] }));
    expect(result).toMatchObject({ model, version: 1, iterations: 2, stopped: false });

    const v = await registry.getVersion(model, 1);
    expect(v.format).toBe('onnx');
    expect((v.lineage.datasetManifest as any).evaluator).toEqual({ kind: 'http', url: service.url, headers: { Authorization: `env:${secretVar}` } });

    // The service answered every step: 2 iterations × 2 workers × 16 steps of rollouts, plus the held-out evaluation.
    const answered = service.lines.filter((l) => /^POST \/tuner\/evaluate 200 \w+ \d+ ms$/.test(l)).length - before;
    expect(answered).toBeGreaterThanOrEqual(2 * 2 * 16);
    expect(service.lines.filter((l) => / 40\d /.test(l) && !/ 401 | 400 /.test(l))).toEqual([]);
    expect(service.lines.join('\n')).not.toContain(token);

    // The secret is nowhere in the workflow history (input, activity arguments, results) or in the lineage.
    // Payload bytes are decoded to text first (JSON.stringify of a Uint8Array would hide them).
    const text: string[] = [];
    const walk = (x: unknown): void => {
      if (x instanceof Uint8Array) text.push(Buffer.from(x).toString('utf8'));
      else if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') Object.values(x).forEach(walk);
      else if (typeof x === 'string') text.push(x);
    };
    walk(await env.client.workflow.getHandle(workflowId).fetchHistory());
    const history = text.join('\n');
    expect(history).toContain(secretVar); // the reference is there …
    expect(history).not.toContain(token); // … the value is not
    expect(JSON.stringify(v.lineage)).not.toContain(token);
  }, 240_000);
});
