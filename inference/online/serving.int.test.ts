/**
 * Online-model deployments on two inference servers sharing one registry (PostgreSQL), one Redis and one
 * artifact store: predict, learn through either server (the shared model equals FTRL-Proximal run here on
 * the same labels in the same order), concurrent labels through both (none lost: seq moves by exactly the
 * labels sent and both servers predict alike), a periodic snapshot registered as a version, and a hot swap
 * to a new state started from that snapshot.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { FeatureHasher, FtrlProximal, SparseVector, AdaGrad } from '../../ml/online';
import { JsonClient } from '../testing/client';
import { createServingFixture, waitFor, type ServingFixture } from '../testing/fixture';
import type { InferenceServer } from '../server';

const tag = randomBytes(4).toString('hex');
const ftrl = { alpha: 0.5, beta: 1, l1: 0.01, l2: 0.1 };

function example(i: number): { features: Record<string, number | string>; label: number } {
  const country = ['fr', 'de', 'us', 'jp'][i % 4];
  const device = i % 3 === 0 ? 'mobile' : 'desktop';
  const hour = (i * 7) % 24;
  const label = (country === 'us' ? 1 : 0) ^ (device === 'mobile' && hour > 12 ? 1 : 0);
  return { features: { country, device, hour: hour / 24, len: ((i * 13) % 50) / 50 }, label };
}

describe('online-model deployments on two servers', () => {
  let fx: ServingFixture;
  let redis: Redis;
  const servers: InferenceServer[] = [];
  let clients: JsonClient[];
  const key = `test-ctr-${tag}`;
  const hasher = new FeatureHasher({ bits: 12 });
  const ref = new FtrlProximal('logistic', 12, ftrl);
  const v = new SparseVector();
  let sent = 0;

  const predictBoth = async (rows: object[]) => Promise.all(clients.map(async (c) => (await c.post('/v1/predict', { deployment: 'ctr', rows })).body));

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    await fx.registry.createModel({ name: 'ctr', actor: 'test' });
    await fx.registry.createModel({ name: 'price', actor: 'test' });
    await fx.registry.setDeployment({ model: 'ctr', kind: 'online-model', championVersion: null, actor: 'test', config: { algorithm: 'ftrl', loss: 'logistic', bits: 12, ftrl, stateKey: key, snapshotEverySeconds: 1 } });
    await fx.registry.setDeployment({ model: 'price', kind: 'online-model', championVersion: null, actor: 'test', config: { algorithm: 'adagrad', loss: 'squared', bits: 8, adagrad: { eta: 0.5 }, stateKey: `test-price-${tag}`, snapshotEverySeconds: 0 } });
    for (let i = 0; i < 2; i++) servers.push(await fx.start({ onlineRefreshIntervalMs: 50 }));
    clients = servers.map((s) => new JsonClient(s.url));
  }, 60_000);

  afterAll(async () => {
    clients?.forEach((c) => c.close());
    const keys = [...(await redis.keys(`online:*:test-*-${tag}`)), ...(await redis.keys(`online:*:test-*-${tag}-*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await fx?.close();
  });

  it('predicts 0.5 from an empty state and refuses bad input naming the field', async () => {
    const r = await clients[0].post('/v1/predict', { deployment: 'ctr', features: example(0).features });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model: 'ctr', stateKey: key, seq: 0, output: 'probability', prediction: 0.5 });
    const bad = await clients[1].post('/v1/predict', { deployment: 'ctr', features: { hour: [1] } });
    expect([bad.status, bad.body.field]).toEqual([400, 'features.hour']);
    const badLabel = await clients[1].post('/v1/labels', { deployment: 'ctr', labels: [{ features: { a: 1 }, label: 1 }, { features: { a: 1 }, label: 0.5 }] });
    expect([badLabel.status, badLabel.body.field]).toEqual([400, 'labels[1].label']);
    expect(Number((await redis.hget(`online:state:${key}`, 'seq')) ?? 0)).toBe(0); // nothing of a refused batch was learnt
    const unknown = await clients[0].post('/v1/predict', { deployment: 'nope', features: {} });
    expect(unknown.status).toBe(404);
    const decide = await clients[0].post('/v1/decide', { deployment: 'ctr', features: [1] });
    expect(decide.status).toBe(400);
    expect(decide.body.error).toMatch(/\/v1\/predict/);
  });

  it('learns through either server exactly as FTRL-Proximal run here on the same labels in the same order', async () => {
    for (let b = 0; b < 20; b++) {
      const labels = Array.from({ length: 10 }, (_, j) => example(b * 10 + j));
      const r = await clients[b % 2].post('/v1/labels', { deployment: 'ctr', labels });
      expect(r.status).toBe(200);
      expect(r.body.learnt).toBe(10);
      for (const l of labels) {
        hasher.hash(l.features, v);
        ref.update(v.idx, v.val, 0, v.count, l.label);
      }
    }
    sent = 200;
    const probe = Array.from({ length: 12 }, (_, i) => example(1000 + i).features);
    await waitFor(async () => (await predictBoth(probe)).every((b) => b.seq === sent), 5000, 'both servers at seq 200');
    const [a, b] = await predictBoth(probe);
    expect(a.predictions).toEqual(b.predictions);
    probe.forEach((f, i) => {
      hasher.hash(f, v);
      expect(a.predictions[i]).toBeCloseTo(ref.predict(v.idx, v.val, 0, v.count), 12);
    });
    // The shared state itself, once a server checkpointed it (every second): per coordinate one field, its
    // index → <Idd (index, z, n), at seq `ckpt`.
    await waitFor(async () => (await redis.hget(`online:state:${key}`, 'ckpt')) === String(sent), 10_000, `a checkpoint at seq ${sent}`);
    const fields = await redis.hgetallBuffer(`online:state:${key}`);
    let checked = 0;
    for (let i = 0; i < ref.size; i++) {
      if (ref.n[i] === 0) continue;
      const rec = fields[String(i)];
      expect(rec.readUInt32LE(0)).toBe(i);
      expect(rec.readDoubleLE(4)).toBeCloseTo(ref.z[i], 12);
      expect(rec.readDoubleLE(12)).toBeCloseTo(ref.n[i], 12);
      checked++;
    }
    expect(checked).toBe(9); // the bias, 4 countries, 2 devices, hour, len
    // It learnt: the labelled rule is predicted better than chance.
    const held = Array.from({ length: 40 }, (_, i) => example(5000 + i));
    const p = (await clients[0].post('/v1/predict', { deployment: 'ctr', rows: held.map((h) => h.features) })).body.predictions as number[];
    expect(p.filter((q, i) => q > 0.5 === (held[i].label === 1)).length).toBeGreaterThan(28);
  });

  it('loses no label under concurrent batches through both servers', async () => {
    const before = Number(await redis.hget(`online:state:${key}`, 'seq'));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, b) => clients[b % 2].post('/v1/labels', { deployment: 'ctr', labels: Array.from({ length: 25 }, (_, j) => example(300 + b * 25 + j)) })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    sent = before + 1000;
    expect(Number(await redis.hget(`online:state:${key}`, 'seq'))).toBe(sent);
    const probe = Array.from({ length: 8 }, (_, i) => example(2000 + i).features);
    await waitFor(async () => (await predictBoth(probe)).every((b) => b.seq === sent), 5000, 'both servers at the same seq');
    const [a, b] = await predictBoth(probe);
    expect(a.predictions).toEqual(b.predictions);
  });

  it('a server whose position fell out of the log reloads the whole state and agrees again', async () => {
    // Server 1 learns while server 2's log position is trimmed away (server 1 checkpoints the state after each
    // batch, then XTRIM to nothing: server 2, tailing every 50 ms, would have to read all three entries within
    // their few ms of life to miss the reload).
    const reloads = servers[1].onlineModels!.get('ctr')!.state.fullReloads;
    for (let b = 0; b < 3; b++) {
      const r = await clients[0].post('/v1/labels', { deployment: 'ctr', labels: Array.from({ length: 5 }, (_, j) => example(7000 + b * 5 + j)) });
      expect(r.status).toBe(200);
      const state0 = servers[0].onlineModels!.get('ctr')!.state;
      await waitFor(async () => (await state0.checkpoint()) || (await redis.hget(`online:state:${key}`, 'ckpt')) === String(state0.seq), 5000, 'a checkpoint of server 1');
      await redis.xtrim(`online:log:${key}`, 'MAXLEN', 0);
    }
    sent += 15;
    const probe = Array.from({ length: 6 }, (_, i) => example(8000 + i).features);
    await waitFor(async () => (await predictBoth(probe)).every((b) => b.seq === sent), 5000, `both servers at seq ${sent}`);
    const [a, b] = await predictBoth(probe);
    expect(b.predictions).toEqual(a.predictions);
    expect(servers[1].onlineModels!.get('ctr')!.state.fullReloads).toBeGreaterThan(reloads);
  });

  it('registers a snapshot of the state as a version, and hot-swaps to a new state started from it', async () => {
    let snap: { version: number; seq: number } | null = null;
    await waitFor(
      async () => {
        const vs = await fx.registry.listVersions('ctr');
        const s = vs.find((x) => x.tags.seq === String(sent));
        if (s) snap = { version: s.version, seq: Number(s.tags.seq) };
        return s !== undefined;
      },
      10_000,
      `a snapshot at seq ${sent}`,
    );
    const { version } = snap!;
    const v0 = await fx.registry.getVersion('ctr', version);
    expect(v0.format).toBe('json');
    expect(v0.tags).toMatchObject({ kind: 'online-model', deployment: 'ctr', stateKey: key });
    const probe = Array.from({ length: 8 }, (_, i) => example(3000 + i).features);
    const [before] = await predictBoth(probe);
    const key2 = `${key}-swap`;
    await fx.registry.setDeployment({ model: 'ctr', kind: 'online-model', championVersion: null, actor: 'test', config: { algorithm: 'ftrl', loss: 'logistic', bits: 12, ftrl, stateKey: key2, snapshotEverySeconds: 0, init: { version } } });
    await waitFor(async () => (await predictBoth(probe)).every((b) => b.stateKey === key2), 10_000, 'both servers on the new state');
    const after = await predictBoth(probe);
    for (const a of after) {
      expect(a.seq).toBe(sent);
      expect(a.predictions).toEqual(before.predictions);
    }
    // The new state learns on its own; the old one is left as it was.
    const r = await clients[0].post('/v1/labels', { deployment: 'ctr', features: example(1).features, label: 1 });
    expect([r.status, r.body.seq]).toEqual([200, sent + 1]);
    expect(Number(await redis.hget(`online:state:${key}`, 'seq'))).toBe(sent);
  });

  it('serves AdaGrad linear regression: a value, learnt like ml/online', async () => {
    const ada = new AdaGrad('squared', 8, { eta: 0.5 });
    const h = new FeatureHasher({ bits: 8 });
    for (let i = 0; i < 30; i++) {
      const f = { x: (i % 5) / 5, group: i % 2 === 0 ? 'a' : 'b' };
      const y = 3 * f.x + (f.group === 'a' ? 1 : -1);
      const r = await clients[i % 2].post('/v1/labels', { deployment: 'price', features: f, label: y });
      expect(r.status).toBe(200);
      h.hash(f, v);
      ada.update(v.idx, v.val, 0, v.count, y);
    }
    const f = { x: 0.4, group: 'a' };
    await waitFor(async () => (await clients[1].post('/v1/predict', { deployment: 'price', features: f })).body.seq === 30, 5000, 'server 2 at seq 30');
    const r = await clients[1].post('/v1/predict', { deployment: 'price', features: f });
    expect(r.body.output).toBe('value');
    h.hash(f, v);
    expect(r.body.prediction).toBeCloseTo(ada.predict(v.idx, v.val, 0, v.count), 12);
  });
});
