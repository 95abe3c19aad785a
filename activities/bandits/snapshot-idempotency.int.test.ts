/**
 * The banditSnapshotStep activity registers through an idempotency key built from its workflow's id,
 * run and step (activities/registration-key.ts): two overlapping attempts of one step (a retry started
 * while the first attempt still runs) make one version. Real PostgreSQL, Redis and filesystem store;
 * the activity context comes from @temporalio/testing's MockActivityEnvironment.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import type { BanditSnapshotStepResult } from '../../contracts/bandit-snapshot';
import { LinUCB, deltaToFields } from '../../ml/bandits';
import { Registry } from '../../registry';
import { FsArtifactStore } from '../../registry/artifacts/fs';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { createBanditActivities } from './activities';

describe('banditSnapshotStep registers one version per step, whatever the attempts', () => {
  let db: TestDatabase;
  let redis: Redis;
  let dir: string;
  const stateKey = `test-snap-idem-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    redis = new Redis('redis://127.0.0.1:6379');
    dir = mkdtempSync(join(tmpdir(), 'ap-bandit-idem-'));
  });
  afterAll(async () => {
    await redis?.del(`bandit:state:${stateKey}`);
    redis?.disconnect();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two overlapping attempts of one step make one version and one artifact; the next step makes another', async () => {
    const store = FsArtifactStore.fromUri(`file://${dir}`);
    const registry = new Registry({ pool: db.pool, store });
    await registry.createModel({ name: 'router', actor: 'test' });
    await registry.setDeployment({
      model: 'router', kind: 'bandit', championVersion: null, actor: 'test',
      config: { learner: { kind: 'linucb' }, arms: ['large', 'small'], features: ['complexity'], stateKey },
    });
    const l = new LinUCB({ nArms: 2, d: 2 });
    for (const [f, v] of Object.entries(deltaToFields(l.statsDelta([1, 0.5], 1, 1)))) await redis.hincrbyfloat(`bandit:state:${stateKey}`, f, v);
    await redis.hincrby(`bandit:state:${stateKey}`, 'seq', 1);

    const activities = createBanditActivities({ pool: db.pool, store, redis });
    const workflowId = `bandit-snapshot-${randomUUID()}`;
    const execution = { workflowId, runId: randomUUID() };
    const runId = await activities.banditStartRun({ deployment: 'router', workflowId, config: {} });
    const attempt = (n: number, step: number): Promise<BanditSnapshotStepResult> =>
      new MockActivityEnvironment({ attempt: n, workflowExecution: execution }).run(activities.banditSnapshotStep, { deployment: 'router', runId, step, lastSeq: 0, workflowId });

    const [a, b] = await Promise.all([attempt(1, 0), attempt(2, 0)]);
    expect(a.version).toBe(1);
    expect(b.version).toBe(1);
    expect((await registry.listVersions('router')).map((v) => v.version)).toEqual([1]);
    expect(await store.list('models/router/')).toHaveLength(1);

    const next = await attempt(1, 1);
    expect(next.version).toBe(2);
    expect(await store.list('models/router/')).toHaveLength(2);
  });
});
