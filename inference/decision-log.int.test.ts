/**
 * The decision log against the real registry database, with the database taken away mid-run by a
 * TCP proxy in front of PostgreSQL: rows spill to the journal and are replayed; after the drain,
 * decisions served == rows in `decisions`, none lost.
 */
import { JsonClient } from './testing/client';
import { createServingFixture, waitFor, type ServingFixture } from './testing/fixture';
import { TcpProxy } from './testing/tcp-proxy';

const x = Array.from({ length: 16 }, (_, i) => i / 16);

describe('decision log', () => {
  let fx: ServingFixture;
  let proxy: TcpProxy;

  beforeAll(async () => {
    fx = await createServingFixture();
    const v = await fx.register('ranker', 1);
    await fx.deploy('ranker', { champion: v.version });
    const u = new URL(fx.db.url);
    proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    await proxy.start();
  });
  afterAll(async () => {
    await fx?.close();
    await proxy?.close();
  });

  it('writes every decision served, also when the database is unreachable for part of the run', async () => {
    const url = new URL(fx.db.url);
    url.port = String(proxy.port);
    const server = await fx.start({ databaseUrl: url.toString(), decisionLog: { batchSize: 200, flushIntervalMs: 10, writeTimeoutMs: 500, retryIntervalMs: 200 } });
    const client = new JsonClient(server.url);
    const ids = new Set<string>();
    let failures = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const r = await client.post('/v1/decide', { deployment: 'ranker', features: x });
        if (r.status === 200) ids.add(r.body.decisionId);
        else failures++;
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 500));
    await proxy.cut();
    const servedBeforeCut = ids.size;
    await new Promise((r) => setTimeout(r, 1500));
    const duringCut = ids.size - servedBeforeCut;
    await proxy.restore();
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(workers);
    expect(failures).toBe(0);
    expect(duringCut).toBeGreaterThan(100); // decide kept answering while the database was away
    await waitFor(async () => (await server.decisionLog.drain()).journalPending === 0, 10_000, 'the journal to replay');
    const stats = server.decisionLog.getStats();
    expect(stats.spilled).toBeGreaterThan(0);
    expect(stats.lost).toBe(0);
    const { rows } = await fx.db.pool.query<{ decision_id: string }>("SELECT decision_id FROM decisions WHERE deployment = 'ranker'");
    expect(rows.length).toBe(ids.size);
    expect(new Set(rows.map((r) => r.decision_id))).toEqual(ids);
    const metrics = (await client.get('/metrics')).body as string;
    expect(metrics).toMatch(/autopilot_decision_log_rows_lost_total 0/);
    expect(metrics).toMatch(/autopilot_decision_log_rows_spilled_total [1-9]/);
    client.close();
    await server.close();
  });

  it('flushes the queue on close and leaves what the database refused in the journal for the next start', async () => {
    const url = new URL(fx.db.url);
    url.port = String(proxy.port);
    const cacheDir = `${fx.dir}/restart-cache`;
    const first = await fx.start({ databaseUrl: url.toString(), cacheDir, decisionLog: { writeTimeoutMs: 300, retryIntervalMs: 100 } });
    const client = new JsonClient(first.url);
    await proxy.cut();
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push((await client.post('/v1/decide', { deployment: 'ranker', features: x })).body.decisionId);
    client.close();
    const stats = await first.close();
    expect(stats.lost).toBe(0);
    expect(stats.journalPending).toBe(300);
    await proxy.restore();
    // A new process on the same cache dir replays the journal (and starts with the database back).
    const second = await fx.start({ databaseUrl: url.toString(), cacheDir });
    await waitFor(async () => (await second.decisionLog.drain()).journalPending === 0, 10_000, 'the replay');
    const { rows } = await fx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM decisions WHERE decision_id = ANY($1::uuid[])', [ids]);
    expect(Number(rows[0].n)).toBe(300);
    await second.close();
  });

  it('starts and serves from its local cache while the registry database is unreachable', async () => {
    const url = new URL(fx.db.url);
    url.port = String(proxy.port);
    const cacheDir = `${fx.dir}/offline-cache`;
    const first = await fx.start({ databaseUrl: url.toString(), cacheDir });
    await first.close();
    await proxy.cut();
    // The artifact store is gone too: only the cache directory remains.
    const offline = await fx.start({ databaseUrl: url.toString(), cacheDir, artifactUri: `file://${fx.dir}/no-such-store` });
    const client = new JsonClient(offline.url);
    const r = await client.post('/v1/decide', { deployment: 'ranker', features: x });
    expect(r).toMatchObject({ status: 200, body: { model: 'ranker', version: 1, fallback: false } });
    expect((await client.get('/v2/health/ready')).body).toEqual({ ready: true });
    client.close();
    await proxy.restore();
    await waitFor(async () => (await offline.decisionLog.drain()).journalPending === 0, 10_000, 'the replay');
    const { rows } = await fx.db.pool.query('SELECT 1 FROM decisions WHERE decision_id = $1', [r.body.decisionId]);
    expect(rows).toHaveLength(1);
    await offline.close();
  });
});
