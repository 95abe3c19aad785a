import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadSettings } from '../config/settings';
import { migrate } from '../registry/migrate';
import { createArtifactStore } from '../registry/artifacts';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { createStackActivities } from '../activities/stack';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import { stackCheck } from './stackCheck';

describe('stackCheck workflow on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;

  beforeAll(async () => {
    [env, db] = await Promise.all([startDevServer(), createTestDatabase()]);
    await migrate(db.pool);
  });
  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
  });

  it('runs through a worker, touches the registry and the artifact store, and is searchable', async () => {
    const store = createArtifactStore(`file://${mkdtempSync(join(tmpdir(), 'stack-check-'))}`);
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./index'),
      activities: createStackActivities({ pool: db.pool, store }),
    });
    const workflowId = `stack-check/${randomUUID()}`;
    const result = await worker.runUntil(
      env.client.workflow.execute(stackCheck, { taskQueue, workflowId, args: [{ message: 'ping' }] }),
    );
    expect(result.message).toBe('ping');
    expect(result.workflowId).toBe(workflowId);
    expect(result.probe.registry).toEqual({ database: db.name, models: 0, migrated: true });
    expect(result.probe.artifacts.roundTrip).toBe(true);
    expect(result.probe.artifacts.uri).toMatch(/^file:\/\/.*stack-check\//);
    // The probe object was cleaned up.
    expect(await store.list('stack-check/')).toEqual([]);

    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runKind)).toBe('stack-check');
  });

  it('fails with the component named when the registry database is gone', async () => {
    const settings = loadSettings({ AUTOPILOT_IGNORE_STACK: '1', AUTOPILOT_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    const { Pool } = await import('pg');
    const badPool = new Pool({ connectionString: settings.databaseUrl, connectionTimeoutMillis: 1000 });
    const store = createArtifactStore(`file://${mkdtempSync(join(tmpdir(), 'stack-check-'))}`);
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./index'),
      activities: createStackActivities({ pool: badPool, store }),
    });
    const err = await worker
      .runUntil(env.client.workflow.execute(stackCheck, { taskQueue, workflowId: `stack-check/${randomUUID()}`, args: [{}] }))
      .then(() => null, (e: Error) => e);
    expect(err).not.toBeNull();
    // WorkflowFailedError → ActivityFailure → ApplicationFailure carrying the activity's message.
    let cause: any = err;
    while (cause?.cause) cause = cause.cause;
    expect(cause.message).toMatch(/^registry database unreachable: .*ECONNREFUSED 127\.0\.0\.1:1/);
    await badPool.end();
  });
});
