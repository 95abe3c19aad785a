/**
 * Journal durability for bandit deployments (issue 19 item 4, "bandit rewards get the same treatment"):
 * against a real server (Redis, PostgreSQL), each bandit decision and each reward is, by the time its
 * answer arrives, already written — in the database, or in the server's journal on disk. Files are
 * read before the table: a journal segment is deleted only after the database has its rows.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { JsonClient } from '../testing/client';
import { deleteBanditDecisions } from '../testing/bandit-keys';
import { createServingFixture, type ServingFixture } from '../testing/fixture';

const tag = randomBytes(4).toString('hex');

async function inFiles(dir: string, id: string): Promise<boolean> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return false;
  }
  for (const n of names.filter((f) => f.startsWith('seg-'))) {
    const text = await fs.readFile(join(dir, n), 'utf8').catch(() => '');
    if (text.includes(id)) return true;
  }
  return false;
}

describe('journal durability of bandit decisions and rewards', () => {
  let fx: ServingFixture;
  let redis: Redis;

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    await fx.registry.createModel({ name: 'pick', actor: 'test' });
    await fx.registry.setDeployment({
      model: 'pick',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: { learner: { kind: 'linucb', params: { alpha: 0 } }, arms: ['a', 'b'], stateKey: `test-durable-${tag}` },
    });
  }, 30_000);
  afterAll(async () => {
    const keys = await redis.keys(`bandit:state:test-*-${tag}`);
    if (keys.length) await redis.del(...keys);
    await deleteBanditDecisions(redis, tag);
    redis.disconnect();
    await fx?.close();
  });

  it('answers a bandit decision and its reward only once each row is on disk or in the database', async () => {
    const cacheDir = join(fx.dir, 'bandit-journal');
    const server = await fx.start({ cacheDir, decisionDurability: 'journal' });
    const client = new JsonClient(server.url);
    let fromFiles = 0;
    for (let i = 0; i < 40; i++) {
      const d = await client.post('/v1/decide', { deployment: 'pick' });
      expect(d.status).toBe(200);
      const id = d.body.decisionId as string;
      const decisionOnDisk = await inFiles(join(cacheDir, 'journal'), id);
      const decisionStored = decisionOnDisk || (await fx.db.pool.query('SELECT 1 FROM decisions WHERE decision_id = $1', [id])).rowCount === 1;
      expect(decisionStored).toBe(true);
      const r = await client.post('/v1/rewards', { decisionId: id, reward: i % 2 });
      expect(r.status).toBe(201);
      const rewardOnDisk = await inFiles(join(cacheDir, 'reward-journal'), id);
      const rewardStored = rewardOnDisk || (await fx.db.pool.query('SELECT 1 FROM rewards WHERE decision_id = $1', [id])).rowCount === 1;
      expect(rewardStored).toBe(true);
      if (decisionOnDisk && rewardOnDisk) fromFiles++;
    }
    // Most answers come before the database write (from memory, after the commit): the files had them.
    expect(fromFiles).toBeGreaterThan(0);
    const metrics = String((await client.get('/metrics')).body);
    expect(metrics).toMatch(/^autopilot_decision_log_rows_at_risk\{log="decisions"\} 0$/m);
    expect(metrics).toMatch(/^autopilot_decision_log_rows_at_risk\{log="rewards"\} 0$/m);
    client.close();
    await server.close();
    const { rows } = await fx.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM rewards r JOIN decisions d USING (decision_id) WHERE d.deployment = 'pick'");
    expect(Number(rows[0].n)).toBe(40);
  }, 30_000);
});
