/**
 * SharedOnlineState on the real Redis: servers (here instances with their own connections) learn into one
 * state with optimistic concurrency on seq. Whatever the interleaving, the shared model is the sequential
 * learner over the labels in commit order (each batch's seqBefore), every label is counted once, a commit
 * overtaken by another is recomputed on the new state, and one overtaken too often fails without learning
 * anything or corrupting the server's copy.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { buildOnlineLearner, parseOnlineModelConfig, stateArrays, type OnlineModelConfig, type OnlineModelLearner, type SparseBatch } from '../../ml/online';
import { Rng } from '../../ml/rng';
import { waitFor } from '../testing/fixture';
import { COMMIT_SHA, CommitContentionError, RECORD_BYTES, SharedOnlineState, onlineStateKey } from './state';

const tag = randomBytes(4).toString('hex');

function batch(rng: Rng, n: number, bits: number): SparseBatch {
  const offsets = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    idx.push(0); // a shared bias: every batch touches coordinate 0
    val.push(1);
    for (let j = 0; j < 4; j++) {
      idx.push(1 + rng.int((1 << bits) - 1));
      val.push(rng.uniform() < 0.5 ? 1 : rng.normal());
    }
    offsets[r + 1] = idx.length;
    y[r] = rng.uniform() < 0.4 ? 1 : 0;
  }
  return { rows: n, offsets, idx: Int32Array.from(idx), val: Float64Array.from(val), y };
}

describe('SharedOnlineState: optimistic commits into one Redis state', () => {
  const conns: Redis[] = [];
  const states: SharedOnlineState[] = [];
  let redis: Redis;
  let n = 0;

  const config = (algorithm: 'ftrl' | 'adagrad'): OnlineModelConfig =>
    parseOnlineModelConfig(
      algorithm === 'ftrl'
        ? { algorithm, loss: 'logistic', bits: 10, ftrl: { alpha: 0.3, beta: 1, l1: 0.01, l2: 0.1 }, stateKey: `test-state-${tag}-${n++}`, snapshotEverySeconds: 0 }
        : { algorithm, loss: 'logistic', bits: 10, adagrad: { eta: 0.3, l2: 0.01 }, stateKey: `test-state-${tag}-${n++}`, snapshotEverySeconds: 0 },
      'ctr',
    );

  /** A state instance with its own connection; `wrap` wraps the connection (a test's interposer). */
  async function instance(c: OnlineModelConfig, opts: { wrap?: (r: Redis) => Redis; maxCommitAttempts?: number } = {}): Promise<SharedOnlineState> {
    const conn = new Redis('redis://127.0.0.1:6379');
    conns.push(conn);
    const s = new SharedOnlineState({ redis: opts.wrap ? opts.wrap(conn) : conn, config: c, learner: buildOnlineLearner(c), deployment: 'ctr', refreshIntervalMs: 20, checkpointIntervalMs: 100, maxCommitAttempts: opts.maxCommitAttempts });
    await s.start();
    states.push(s);
    return s;
  }

  /** `conn` with a hook run before each commit it sends (the hook may let another server commit first). */
  function beforeCommits(conn: Redis, hook: () => Promise<void>): Redis {
    return new Proxy(conn, {
      get(target, p) {
        const v = Reflect.get(target, p, target) as unknown;
        if (p === 'evalshaBuffer') {
          return async (...a: unknown[]) => {
            if (a[0] === COMMIT_SHA) await hook();
            return (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
          };
        }
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  const replay = (c: OnlineModelConfig, batches: SparseBatch[]): OnlineModelLearner => {
    const ref = buildOnlineLearner(c);
    for (const b of batches) ref.updateEach(b);
    return ref;
  };

  const expectState = (l: OnlineModelLearner, ref: OnlineModelLearner) => {
    const [A, B] = stateArrays(l);
    const [RA, RB] = stateArrays(ref);
    let maxDiff = 0;
    for (let i = 0; i < A.length; i++) maxDiff = Math.max(maxDiff, Math.abs(A[i] - RA[i]), Math.abs(B[i] - RB[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-12);
    expect(A).toEqual(RA); // in fact bit for bit
    expect(B).toEqual(RB);
  };

  beforeAll(() => {
    redis = new Redis('redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    for (const s of states) await s.close();
    const keys = await redis.keys(`online:*:test-state-${tag}-*`);
    if (keys.length) await redis.del(...keys);
    conns.forEach((c) => c.disconnect());
    redis.disconnect();
  });

  it.each(['ftrl', 'adagrad'] as const)('%s: two servers learning concurrently end equal to the sequential learner over the commit order; every label counted once', async (algorithm) => {
    const c = config(algorithm);
    const [a, b] = [await instance(c), await instance(c)];
    const rng = new Rng(algorithm === 'ftrl' ? 5 : 6);
    const sent: { rows: SparseBatch; seqBefore: number; seq: number }[] = [];
    // 4 requests in flight on each server, 160 batches of 1..40 rows in all.
    const work = Array.from({ length: 160 }, () => batch(rng, 1 + rng.int(40), c.bits));
    let next = 0;
    await Promise.all(
      [a, a, a, a, b, b, b, b].map(async (s) => {
        while (next < work.length) {
          const rows = work[next++];
          const r = await s.learn(rows);
          sent.push({ rows, ...r });
        }
      }),
    );
    const labels = work.reduce((t, w) => t + w.rows, 0);
    expect(Number(await redis.hget(onlineStateKey(c.stateKey), 'seq'))).toBe(labels);
    // Commit order: the batches' seq ranges tile [0, labels) exactly once.
    sent.sort((x, y) => x.seqBefore - y.seqBefore);
    let at = 0;
    for (const s of sent) {
      expect([s.seqBefore, s.seq]).toEqual([at, at + s.rows.rows]);
      at = s.seq;
    }
    expect(at).toBe(labels);
    const ref = replay(
      c,
      sent.map((s) => s.rows),
    );
    await waitFor(() => a.seq === labels && b.seq === labels, 10_000, `both servers at seq ${labels}`);
    expectState(a.learner, ref);
    expectState(b.learner, ref);
    // The hash once checkpointed, and a server started now (checkpoint + the log after it), hold it too.
    await waitFor(async () => (await a.checkpoint()) || (await redis.hget(onlineStateKey(c.stateKey), 'ckpt')) === String(labels), 10_000, 'a checkpoint at the last seq');
    const fields = await redis.hgetallBuffer(onlineStateKey(c.stateKey));
    const fromHash = buildOnlineLearner(c);
    const [HA, HB] = stateArrays(fromHash);
    for (const [name, v] of Object.entries(fields)) {
      if (name === 'seq' || name === 'ckpt') continue;
      expect(v.length).toBe(RECORD_BYTES);
      HA[Number(name)] = v.readDoubleLE(4);
      HB[Number(name)] = v.readDoubleLE(12);
    }
    expectState(fromHash, ref);
    const more = batch(rng, 25, c.bits);
    await a.learn(more);
    const fresh = await instance(c);
    expect(fresh.seq).toBe(labels + 25);
    expectState(fresh.learner, replay(c, [...sent.map((s) => s.rows), more]));
  });

  it('a commit overtaken by another server is recomputed on the new state and lands after it', async () => {
    const c = config('ftrl');
    const rng = new Rng(9);
    const first = batch(rng, 10, c.bits);
    const rowsA = batch(rng, 7, c.bits);
    const rowsB = batch(rng, 5, c.bits);
    const b = await instance(c);
    const a0 = await instance(c);
    await a0.learn(first);
    let interposed = false;
    const a = await instance(c, {
      wrap: (conn) =>
        beforeCommits(conn, async () => {
          if (interposed) return;
          interposed = true;
          await b.learn(rowsB); // B commits between A's compute (at seq 10) and A's commit
        }),
    });
    expect(a.seq).toBe(10);
    const r = await a.learn(rowsA);
    expect(r).toEqual({ seqBefore: 15, seq: 22 });
    expect(a.conflicts).toBe(1);
    expect(a.commits).toBe(1);
    const ref = replay(c, [first, rowsB, rowsA]);
    expectState(a.learner, ref);
    await waitFor(() => b.seq === 22 && a0.seq === 22, 10_000, 'the other servers at seq 22');
    expectState(b.learner, ref);
    expectState(a0.learner, ref);
    expect(Number(await redis.hget(onlineStateKey(c.stateKey), 'seq'))).toBe(22);
  });

  it('a commit overtaken maxCommitAttempts times in a row fails naming the deployment; nothing of it is learnt and the copy stays exact', async () => {
    const c = config('ftrl');
    const rng = new Rng(10);
    const b = await instance(c);
    const others: SparseBatch[] = [];
    const a = await instance(c, {
      maxCommitAttempts: 3,
      wrap: (conn) =>
        beforeCommits(conn, async () => {
          const rows = batch(rng, 3, c.bits);
          others.push(rows);
          await b.learn(rows); // another server always commits first
        }),
    });
    const rowsA = batch(rng, 4, c.bits);
    const err = await a.learn(rowsA).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(CommitContentionError);
    expect(err!.message).toMatch(/deployment "ctr": 4 label\(s\) not learnt: 3 commits in a row/);
    expect(a.conflicts).toBe(3);
    expect(Number(await redis.hget(onlineStateKey(c.stateKey), 'seq'))).toBe(9);
    await a.refresh();
    expect(a.seq).toBe(9);
    expectState(a.learner, replay(c, others));
    // And it learns normally once left alone.
    const ok = await instance(c);
    await ok.learn(rowsA);
    await waitFor(() => b.seq === 13, 10_000, 'server B at seq 13');
    expectState(b.learner, replay(c, [...others, rowsA]));
  });
});
