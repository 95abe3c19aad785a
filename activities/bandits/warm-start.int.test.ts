/**
 * Bandit warm start from a dataset snapshot, everything real: PostgreSQL (registry + decision log),
 * Redis (the learner states), the test S3 (the registered snapshot), the inference server.
 *
 * A source bandit deployment serves uniformly at random (ε-greedy, ε = 1) and is rewarded by a known
 * model (arm `b` pays 1 with probability 0.8, `a` and `c` with 0.3; seeded). Its decisions + rewards
 * are exported and registered (`dataset-<src>@1`, stored in S3); `autopilot data warm-start` folds
 * the registered snapshot into a new greedy deployment (LinUCB, α = 0, no exploration), whose learner
 * state then holds exactly the logged rows' statistics and whose first decisions all pick `b`.
 * A snapshot whose file no longer matches its manifest's sha256 is refused naming the file and both
 * hashes; the same snapshot twice, or a deployment's own snapshot into its non-empty state, is refused.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createDataExportActivities } from '../data-export/activities';
import { buildProgram } from '../../cli/main';
import { Rng } from '../../ml/rng';
import type { InferenceServer } from '../../inference/server';
import { JsonClient } from '../../inference/testing/client';
import { deleteBanditDecisions } from '../../inference/testing/bandit-keys';
import { createServingFixture, waitFor, type ServingFixture } from '../../inference/testing/fixture';
import { S3ArtifactStore } from '../../registry/artifacts/s3';
import type { JsonObject } from '../../registry/types';
import { testS3Bucket, testS3Settings, uniquePrefix } from '../../test/support/s3';
import { sha256, SNAPSHOT_FORMAT } from '../../envs/evaluators/snapshot';
import { warmStartBandit, warmStartKeyOf, type WarmStartResult } from './warm-start';

/** A snapshot folder written by hand (manifest with the files' sha256), one prediction per row. */
function writeSnapshot(dir: string, deployment: string, rows: { arm: string; reward: number | null; propensity: number }[]): string {
  mkdirSync(dir, { recursive: true });
  const predictions = rows.map((r, i) => `${JSON.stringify({ decision_id: `d${i}`, time: '2026-12-01T00:00:00.000Z', model: deployment, version: null, arm: r.arm, action: { arm: r.arm }, propensity: r.propensity, reward: r.reward })}\n`).join('');
  const contexts = rows.map((_, i) => `${JSON.stringify({ decision_id: `d${i}`, time: '2026-12-01T00:00:00.000Z', unit: null, features: {}, metadata: null })}\n`).join('');
  const summary = 'model,version,arm,decisions,rewarded,mean_reward\n';
  const files = { 'predictions.jsonl': predictions, 'contexts.jsonl': contexts, 'summary.csv': summary };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const entry = (text: string, n: number) => ({ sha256: sha256(text), bytes: Buffer.byteLength(text), rows: n });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    format: SNAPSHOT_FORMAT, deployment, window: { from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z', fromInclusive: true, toInclusive: false }, createdAt: '2026-12-02T00:00:00.000Z',
    rows: rows.length, rewarded: rows.filter((r) => r.reward !== null).length,
    files: { 'predictions.jsonl': entry(predictions, rows.length), 'contexts.jsonl': entry(contexts, rows.length), 'summary.csv': entry(summary, 0) },
  }));
  return dir;
}

const tag = randomBytes(4).toString('hex');
const ARMS = ['a', 'b', 'c'];
const PAYS: Record<string, number> = { a: 0.3, b: 0.8, c: 0.3 };
const ROUNDS = 600;

function banditConfig(stateKey: string, explore: boolean): JsonObject {
  return {
    learner: { kind: 'linucb', params: { alpha: explore ? 1 : 0 } },
    exploration: explore ? { kind: 'epsilon-greedy', epsilon: 1 } : { kind: 'none' },
    arms: ARMS,
    features: ['x'],
    rewardRange: [0, 1],
    stateKey,
  };
}

describe('bandit warm start from a dataset snapshot (PostgreSQL, Redis, S3, inference server)', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let client: JsonClient;
  let redis: Redis;
  const saved = { ...process.env };
  const artifactUri = `s3://${testS3Bucket()}/${uniquePrefix('warm-start')}`;

  beforeAll(async () => {
    const store = S3ArtifactStore.fromUri(artifactUri, testS3Settings());
    fx = await createServingFixture({ store: { store, uri: artifactUri }, s3: testS3Settings() });
    server = await fx.start({ decisionLog: { flushIntervalMs: 25 } });
    client = new JsonClient(server.url);
    redis = new Redis('redis://127.0.0.1:6379');
    const s3 = testS3Settings();
    Object.assign(process.env, {
      AUTOPILOT_IGNORE_STACK: '1', AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: artifactUri, AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379',
      AUTOPILOT_S3_ENDPOINT: s3.endpoint, AUTOPILOT_S3_REGION: s3.region, AUTOPILOT_S3_FORCE_PATH_STYLE: String(s3.forcePathStyle), AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    client?.close();
    if (redis) {
      const keys = [...(await redis.keys(`bandit:state:test-warm-*-${tag}`)), ...(await redis.keys(`bandit:warm-start:test-warm-*-${tag}`))];
      if (keys.length) await redis.del(...keys);
      await deleteBanditDecisions(redis, tag);
      redis.disconnect();
    }
    await fx?.close();
  });

  async function deployBandit(name: string, explore: boolean): Promise<string> {
    const stateKey = `test-warm-${name}-${tag}`;
    await fx.registry.createModel({ name, actor: 'test' });
    await fx.registry.setDeployment({ model: name, kind: 'bandit', championVersion: null, actor: 'test', config: banditConfig(stateKey, explore) });
    return stateKey;
  }

  const decide = async (deployment: string, x: number) => {
    const r = await client.post('/v1/decide', { deployment, features: { x } });
    if (r.status !== 200) throw new Error(`decide ${deployment}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { decisionId: string; arm: string; propensity: number; stateSeq: number };
  };

  it('folds a registered snapshot into a new deployment, whose first decisions pick the arm the data shows is best; refuses a corrupted or repeated snapshot', async () => {
    await deployBandit('warm-src', true);
    const rng = new Rng(7);
    const counts: Record<string, { n: number; sum: number }> = Object.fromEntries(ARMS.map((a) => [a, { n: 0, sum: 0 }]));
    await waitFor(async () => (await client.post('/v1/decide', { deployment: 'warm-src', features: { x: 0 } })).status === 200, 15_000, 'the source deployment to serve');
    const from = new Date();
    for (let i = 0; i < ROUNDS; i++) {
      const d = await decide('warm-src', rng.uniform());
      const reward = rng.uniform() < PAYS[d.arm] ? 1 : 0;
      const r = await client.post('/v1/rewards', { decisionId: d.decisionId, reward });
      expect(r.status).toBe(201);
      counts[d.arm].n++;
      counts[d.arm].sum += reward;
    }
    // every arm was tried about a third of the time, and the data says b pays best
    for (const a of ARMS) expect(counts[a].n).toBeGreaterThan(120);
    expect(counts.b.sum / counts.b.n).toBeGreaterThan(Math.max(counts.a.sum / counts.a.n, counts.c.sum / counts.c.n) + 0.2);

    await waitFor(async () => {
      const { rows } = await fx.db.pool.query('SELECT count(*)::int AS n FROM decisions d JOIN rewards r ON r.decision_id = d.decision_id WHERE d.deployment = $1', ['warm-src']);
      return rows[0].n === ROUNDS;
    }, 30_000, 'every decision and reward to be logged');
    const exported = await createDataExportActivities({ pool: fx.db.pool, store: fx.store, settings: { dataDir: join(fx.dir, 'data') } }).exportDataset({
      deployment: 'warm-src', from: from.toISOString(), to: new Date(Date.now() + 1000).toISOString(), register: true, actor: 'test',
    });
    expect(exported).toMatchObject({ rows: ROUNDS, rewarded: ROUNDS, version: { model: 'dataset-warm-src', version: 1 } });

    // a new, greedy deployment: warm-started through the CLI from the registered (S3) snapshot
    const dstKey = await deployBandit('warm-dst', false);
    expect(await redis.hget(`bandit:state:${dstKey}`, 'seq')).toBeNull();
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
    try {
      await buildProgram().parseAsync(['node', 'autopilot', 'data', 'warm-start', '--deployment', 'warm-dst', '--snapshot', 'dataset-warm-src@1', '--json']);
    } finally {
      write.mockRestore();
    }
    const result = JSON.parse(out.join('')) as WarmStartResult;
    expect(result).toMatchObject({ deployment: 'warm-dst', rows: ROUNDS, seqBefore: 0, seqAfter: ROUNDS, snapshot: { deployment: 'warm-src', source: 'dataset-warm-src@1' }, skipped: { unrewarded: 0, unknownArms: {} } });
    expect(result.arms.map((a) => [a.arm, a.rows, a.meanReward])).toEqual(ARMS.map((a) => [a, counts[a].n, counts[a].sum / counts[a].n]));
    // ε = 1 over three arms: every logged propensity is 1/3
    for (const a of result.arms) expect(a.minPropensity).toBeCloseTo(1 / 3, 9);
    // the learner state holds exactly the rows' sufficient statistics: n and Σr per arm
    const fields = await redis.hgetall(`bandit:state:${dstKey}`);
    expect(ARMS.map((_, i) => [Number(fields[`${i}:n`]), Number(fields[`${i}:rs`])])).toEqual(ARMS.map((a) => [counts[a].n, counts[a].sum]));

    // its first decisions on the warm-started state (greedy: propensity 1) all take b, whatever the context
    // (the server reads a moved state within its refresh interval; `stateSeq` says which state a decision used)
    await waitFor(async () => (await redis.hget(`bandit:state:${dstKey}`, 'seq')) === String(ROUNDS), 5_000, 'the state in Redis');
    const before = await decide('warm-dst', 0.5);
    if (before.stateSeq !== ROUNDS) await waitFor(async () => (await decide('warm-dst', 0.5)).stateSeq === ROUNDS, 10_000, 'the server to read the warm-started state');
    const picks: string[] = [];
    for (let i = 0; i < 30; i++) {
      const d = await decide('warm-dst', i / 29);
      expect([d.propensity, d.stateSeq]).toEqual([1, ROUNDS]);
      picks.push(d.arm);
    }
    expect(picks).toEqual(Array(30).fill('b'));
    const audit = await fx.registry.listAudit({ model: 'warm-dst', action: 'bandit.warm-start' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: expect.stringMatching(/^cli:/), entity: 'deployment' });

    // the same snapshot again would count its rows twice: refused, the state unchanged
    await expect(warmStartBandit({ registry: fx.registry, redis }, { deployment: 'warm-dst', snapshot: exported.dir, actor: 'test' })).rejects.toThrow(
      new RegExp(`^snapshot .* \\(predictions sha256 ${exported.files['predictions.jsonl'].sha256}\\) was already folded into the learner state of warm-dst`),
    );
    // a deployment's own snapshot into its own (non-empty) state: refused
    await expect(warmStartBandit({ registry: fx.registry, redis }, { deployment: 'warm-src', snapshot: exported.dir, actor: 'test' })).rejects.toThrow(/was logged by deployment warm-src itself, whose learner state .* already holds \d+ observations/);

    // a corrupted copy (one reward flipped): refused naming the file and both hashes, nothing written
    const bad = join(fx.dir, 'corrupted');
    cpSync(exported.dir, bad, { recursive: true });
    const predictions = join(bad, 'predictions.jsonl');
    const text = readFileSync(predictions, 'utf8');
    writeFileSync(predictions, text.replace(/"reward":([01])/, (_m, r) => `"reward":${r === '1' ? 0 : 1}`));
    const other = await deployBandit('warm-other', false);
    const err = await warmStartBandit({ registry: fx.registry, redis }, { deployment: 'warm-other', snapshot: bad, actor: 'test' }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      new RegExp(`^dataset snapshot ${predictions.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: sha256 [0-9a-f]{64} does not match the manifest's ${exported.files['predictions.jsonl'].sha256}$`),
    );
    expect(await redis.exists(`bandit:state:${other}`, warmStartKeyOf(other))).toBe(0);
  }, 180_000);

  it('a Beta-Thompson deployment takes the conjugate update per row; rows of other arms are reported, a bad propensity names its line', async () => {
    const stateKey = `test-warm-coin-${tag}`;
    await fx.registry.createModel({ name: 'warm-coin', actor: 'test' });
    await fx.registry.setDeployment({ model: 'warm-coin', kind: 'bandit', championVersion: null, actor: 'test', config: { learner: { kind: 'beta-ts' }, arms: ['heads', 'tails'], rewardRange: [0, 1], stateKey } });
    const rows = [
      { arm: 'heads', reward: 1, propensity: 0.5 }, { arm: 'heads', reward: 1, propensity: 0.25 }, { arm: 'heads', reward: 0, propensity: 0.5 },
      { arm: 'tails', reward: 0, propensity: 0.5 }, { arm: 'edge', reward: 1, propensity: 0.1 }, { arm: 'tails', reward: null, propensity: 0.5 },
    ];
    const r = await warmStartBandit({ registry: fx.registry, redis }, { deployment: 'warm-coin', snapshot: writeSnapshot(join(fx.dir, 'coin'), 'elsewhere', rows), actor: 'test' });
    expect(r).toMatchObject({ rows: 4, seqBefore: 0, seqAfter: 4, skipped: { unrewarded: 1, unknownArms: { edge: 1 } } });
    expect(r.arms).toEqual([{ arm: 'heads', rows: 3, meanReward: 2 / 3, minPropensity: 0.25 }, { arm: 'tails', rows: 1, meanReward: 0, minPropensity: 0.5 }]);
    // Beta posterior: α = 1 + Σr, β = 1 + n − Σr per arm, from n and Σr
    const f = await redis.hgetall(`bandit:state:${stateKey}`);
    expect([f['0:n'], f['0:rs'], f['1:n'], f['1:rs'] ?? '0']).toEqual(['3', '2', '1', '0']);

    const bad = writeSnapshot(join(fx.dir, 'coin-bad'), 'elsewhere', [{ arm: 'heads', reward: 1, propensity: 0.5 }, { arm: 'tails', reward: 1, propensity: 0 }]);
    await expect(warmStartBandit({ registry: fx.registry, redis }, { deployment: 'warm-coin', snapshot: bad, actor: 'test' })).rejects.toThrow(
      `${bad}/predictions.jsonl:2: propensity 0 must be a probability in (0, 1] (the logging policy's probability of the logged arm)`,
    );
    expect(await redis.hget(`bandit:state:${stateKey}`, 'seq')).toBe('4');
  });
});
