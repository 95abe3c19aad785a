/**
 * Idempotent registration (R-REGISTRY, R-OPS-ORCHESTRATION): one idempotency key, one version — for
 * overlapping registrations and for a registration whose COMMIT reply is lost. Real PostgreSQL, the
 * filesystem store and SeaweedFS; the lost reply is made with a TCP proxy between the pool and the server.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { TcpProxy } from '../inference/testing/tcp-proxy';
import { testS3Store } from '../test/support/s3';
import type { ArtifactStore } from './artifacts/store';
import { ConflictError, Registry, registrationKey, type ModelVersion } from './index';
import { ACTOR, auditCount, createRegistryFixture, type RegistryFixture } from './test-helpers';

let fx: RegistryFixture;
beforeAll(async () => {
  fx = await createRegistryFixture();
});
afterAll(async () => {
  await fx.close();
});

let n = 0;
async function freshModel(prefix = 'idem'): Promise<string> {
  const name = `${prefix}-${++n}`;
  await fx.registry.createModel({ name, actor: ACTOR });
  return name;
}

async function rowsWithKey(key: string): Promise<{ model: string; version: number; artifact_uri: string }[]> {
  const { rows } = await fx.db.pool.query('SELECT model, version, artifact_uri FROM model_versions WHERE idempotency_key = $1', [key]);
  return rows;
}

/** Every object under the model's folder, and every version's artifact key: equal when nothing is orphaned or missing. */
async function storeMatchesRows(store: ArtifactStore, model: string): Promise<{ objects: string[]; referenced: string[] }> {
  const objects = (await store.list(`models/${model}/`)).map((o) => o.key).sort();
  const { rows } = await fx.db.pool.query<{ artifact_uri: string }>('SELECT artifact_uri FROM model_versions WHERE model = $1', [model]);
  return { objects, referenced: rows.map((r) => store.keyFromUri(r.artifact_uri)).sort() };
}

describe('registerVersion with an idempotency key', () => {
  it('registrationKey joins the workflow id and the stage, and refuses empty parts', () => {
    expect(registrationKey('ppo/rag/1a2b', 'exportAndRegister:run-7')).toBe('ppo/rag/1a2b#exportAndRegister:run-7');
    expect(() => registrationKey('', 'x')).toThrow('workflowId: got ""; expected a non-empty workflow id');
    expect(() => registrationKey('wf', '')).toThrow('stage: got ""; expected a non-empty stage name');
  });

  it.each([
    ['the filesystem store', () => fx.store as ArtifactStore],
    ['the S3 store (SeaweedFS)', () => testS3Store('registry-idempotency') as ArtifactStore],
  ])('overlapping registrations with one key on %s make one version and keep one artifact', async (_label, makeStore) => {
    const store = makeStore();
    const reg = new Registry({ pool: fx.db.pool, store });
    const model = await freshModel();
    const key = registrationKey(`wf-${model}`, 'exportAndRegister');
    const auditBefore = await auditCount(fx.registry, 'version.register');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        reg.registerVersion({ model, artifact: { buffer: Buffer.from(`attempt ${i} ${randomBytes(8).toString('hex')}`) }, format: 'onnx', idempotencyKey: key, actor: ACTOR }),
      ),
    );
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await rowsWithKey(key)).toHaveLength(1);
    expect(await auditCount(fx.registry, 'version.register')).toBe(auditBefore + 1);
    const { objects, referenced } = await storeMatchesRows(store, model);
    expect(objects).toHaveLength(1);
    expect(objects).toEqual(referenced);
    // The losers gave their version numbers back: the next registration (another key) is version 2.
    const next = await reg.registerVersion({ model, artifact: { buffer: Buffer.from('next') }, format: 'onnx', idempotencyKey: registrationKey(`wf-${model}`, 'again'), actor: ACTOR });
    expect(next.version).toBe(2);
    expect((await fx.registry.getModel(model)).latestVersion).toBe(2);
  });

  it('a retry after success uploads nothing and returns the same version', async () => {
    const model = await freshModel();
    const key = registrationKey(`wf-${model}`, 'register:onnx');
    const first = await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('one') }, format: 'onnx', idempotencyKey: key, champion: true, actor: ACTOR });
    const putsBefore = (await fx.store.list(`models/${model}/`)).length;
    const again = await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('two') }, format: 'onnx', idempotencyKey: key, champion: true, actor: ACTOR });
    expect(again).toEqual({ ...first, status: 'champion' });
    expect((await fx.store.list(`models/${model}/`)).length).toBe(putsBefore);
    expect((await fx.registry.getDeployment(model)).generation).toBe(1);
  });

  it('the same key for another model is a conflict that names both', async () => {
    const a = await freshModel();
    const b = await freshModel();
    const key = registrationKey('wf-shared', `stage-${a}`);
    await fx.registry.registerVersion({ model: a, artifact: { buffer: Buffer.from('a') }, format: 'onnx', idempotencyKey: key, actor: ACTOR });
    const err = await fx.registry.registerVersion({ model: b, artifact: { buffer: Buffer.from('b') }, format: 'onnx', idempotencyKey: key, actor: ACTOR }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe(`idempotency key ${key}: is already version ${a}/1, not a version of ${b}`);
    expect(await fx.store.list(`models/${b}/`)).toEqual([]);
  });

  it('inside a caller transaction a taken key rolls back only the registration', async () => {
    const model = await freshModel();
    const key = registrationKey(`wf-${model}`, 'nested');
    const first = await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('first') }, format: 'onnx', idempotencyKey: key, actor: ACTOR });
    const got = await fx.registry.transaction(async (tx) => {
      await tx.setAlias({ model, alias: 'staging', version: 1, actor: ACTOR });
      // The pre-check sees the key and returns at once; the ON CONFLICT path is the overlapping case above.
      return tx.registerVersion({ model, artifact: { buffer: Buffer.from('second') }, format: 'onnx', idempotencyKey: key, actor: ACTOR });
    });
    expect(got.id).toBe(first.id);
    expect(await fx.registry.resolveAlias(model, 'staging')).toBe(1);
    expect((await fx.registry.getModel(model)).latestVersion).toBe(1);
  });

  it('refuses a malformed key before uploading', async () => {
    const model = await freshModel();
    await expect(fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('x') }, format: 'onnx', idempotencyKey: 'k'.repeat(501), actor: ACTOR })).rejects.toThrow(
      /^idempotencyKey: got "k+\.\.\.; expected a string of 1 to 500 characters/,
    );
    expect(await fx.store.list(`models/${model}/`)).toEqual([]);
  });
});

/**
 * The pool talks to PostgreSQL through a TCP proxy. A deferred constraint trigger (a test fixture, not
 * a migration) makes COMMIT of a version row take a moment on the server; the test waits until the
 * server shows that COMMIT running (pg_stat_activity), then cuts every proxied connection, so the
 * client never gets the reply while the server finishes the COMMIT on its own — the lost-reply case.
 */
describe('a registration whose COMMIT reply is lost (TCP proxy)', () => {
  let proxy: TcpProxy;
  let pool: Pool;
  let reg: Registry;

  beforeAll(async () => {
    const target = new URL(fx.db.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    const port = await proxy.start();
    const via = new URL(fx.db.url);
    via.port = String(port);
    pool = new Pool({ connectionString: via.toString(), max: 4 });
    pool.on('error', () => undefined);
    reg = new Registry({ pool, store: fx.store });
    await fx.db.pool.query(`
      CREATE TABLE test_commit_mode (abort boolean NOT NULL);
      INSERT INTO test_commit_mode VALUES (false);
      CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.tags ? 'slow_commit' THEN
          PERFORM pg_sleep(1.5);
          IF (SELECT abort FROM test_commit_mode) THEN RAISE EXCEPTION 'injected failure at COMMIT'; END IF;
        END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON model_versions DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION test_slow_commit();`);
  });
  afterAll(async () => {
    await fx.db.pool.query('DROP TRIGGER test_slow_commit ON model_versions; DROP FUNCTION test_slow_commit(); DROP TABLE test_commit_mode');
    await pool.end();
    await proxy.close();
  });

  /** Waits until this database's server shows a COMMIT running, then drops every proxied connection and accepts again. */
  async function cutWhenCommitRuns(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await fx.db.pool.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query = 'COMMIT'",
      );
      if (rows[0].n > 0) break;
      if (Date.now() > deadline) throw new Error('no COMMIT seen running within 10 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    await proxy.cut();
    await proxy.restore();
  }

  async function register(model: string, key: string, body: string): Promise<ModelVersion> {
    return reg.registerVersion({ model, artifact: { buffer: Buffer.from(body) }, format: 'onnx', tags: { slow_commit: 'yes' }, idempotencyKey: key, actor: ACTOR });
  }

  it('the COMMIT went through: the registration returns the version and keeps its artifact; a retry converges', async () => {
    await fx.db.pool.query('UPDATE test_commit_mode SET abort = false');
    const model = await freshModel('lost-reply');
    const key = registrationKey(`wf-${model}`, 'exportAndRegister');
    const [v] = await Promise.all([register(model, key, 'committed'), cutWhenCommitRuns()]);
    expect(v.version).toBe(1);
    const { objects, referenced } = await storeMatchesRows(fx.store, model);
    expect(objects).toHaveLength(1);
    expect(objects).toEqual(referenced);
    expect(await fx.store.getBuffer(objects[0])).toEqual(Buffer.from('committed'));

    const retry = await register(model, key, 'retried');
    expect(retry.id).toBe(v.id);
    expect(await rowsWithKey(key)).toHaveLength(1);
    expect((await storeMatchesRows(fx.store, model)).objects).toEqual(objects);
  });

  it('the COMMIT failed on the server: the artifact is removed, nothing is registered; a retry registers once', async () => {
    await fx.db.pool.query('UPDATE test_commit_mode SET abort = true');
    const model = await freshModel('lost-reply');
    const key = registrationKey(`wf-${model}`, 'exportAndRegister');
    const [outcome] = await Promise.all([register(model, key, 'aborted').catch((e: unknown) => e as Error), cutWhenCommitRuns()]);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(new RegExp(`^registering a ${model} version failed at COMMIT and the transaction aborted; the artifact was removed`));
    expect(await rowsWithKey(key)).toEqual([]);
    expect(await fx.store.list(`models/${model}/`)).toEqual([]);
    expect((await fx.registry.getModel(model)).latestVersion).toBe(0);

    await fx.db.pool.query('UPDATE test_commit_mode SET abort = false');
    const retry = await reg.registerVersion({ model, artifact: { buffer: Buffer.from('retried') }, format: 'onnx', idempotencyKey: key, actor: ACTOR });
    expect(retry.version).toBe(1);
    expect(await rowsWithKey(key)).toHaveLength(1);
    const { objects, referenced } = await storeMatchesRows(fx.store, model);
    expect(objects).toHaveLength(1);
    expect(objects).toEqual(referenced);
  });

  it('the connection drops before COMMIT: the artifact is removed and a retry registers once', async () => {
    const model = await freshModel('lost-before');
    const key = registrationKey(`wf-${model}`, 'exportAndRegister');
    // Hold the model's row so the registration's UPDATE waits, then cut while it waits.
    const blocker = await fx.db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [model]);
      const pending = reg.registerVersion({ model, artifact: { buffer: Buffer.from('dropped') }, format: 'onnx', idempotencyKey: key, actor: ACTOR }).catch((e: unknown) => e as Error);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await fx.db.pool.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE models%'",
        );
        if (rows[0].n > 0) break;
        if (Date.now() > deadline) throw new Error('the registration never waited on the model row');
        await new Promise((r) => setTimeout(r, 10));
      }
      await proxy.cut();
      await proxy.restore();
      const outcome = await pending;
      expect(outcome).toBeInstanceOf(Error);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await fx.store.list(`models/${model}/`)).toEqual([]);
    const retry = await reg.registerVersion({ model, artifact: { buffer: Buffer.from('retried') }, format: 'onnx', idempotencyKey: key, actor: ACTOR });
    expect(retry.version).toBe(1);
    const { objects, referenced } = await storeMatchesRows(fx.store, model);
    expect(objects).toHaveLength(1);
    expect(objects).toEqual(referenced);
  });
});
