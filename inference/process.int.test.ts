/**
 * `autopilot serve` as real processes: two servers on different ports against the same registry
 * behave identically (same arm for a unit, same action, same change applied), and SIGTERM drains the
 * decision log and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { JsonClient } from './testing/client';
import { createServingFixture, waitFor, type ServingFixture } from './testing/fixture';

const root = resolve(__dirname, '..');
const x = Array.from({ length: 16 }, (_, i) => (i % 5) - 2);

interface Proc {
  child: ChildProcess;
  url: string;
  out: string[];
  exited: Promise<number | null>;
}

function serve(fx: ServingFixture, name: string, extra: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, [join(root, 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(fx.dir, name), '--reconcile', '30', ...extra], {
    cwd: root,
    env: { ...process.env, AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: fx.artifactUri, AUTOPILOT_DATA_DIR: join(fx.dir, `${name}-data`) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolveProc, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out.join('')}`)), 30_000);
    const onData = (d: Buffer) => {
      out.push(d.toString());
      const m = /serving on (http:\/\/\S+)/.exec(out.join(''));
      if (m) {
        clearTimeout(timer);
        resolveProc({ child, url: m[1], out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out.join('')}`)));
  });
}

describe('autopilot serve processes', () => {
  let fx: ServingFixture;
  const procs: Proc[] = [];

  beforeAll(async () => {
    fx = await createServingFixture();
    const a = await fx.register('ranker', 1);
    const b = await fx.register('ranker', 2);
    await fx.deploy('ranker', { champion: a.version, canary: b.version, weight: 30 });
    // The second reads every request with node:http: the two must still answer alike.
    procs.push(...(await Promise.all([serve(fx, 'one'), serve(fx, 'two', ['--no-fast-path'])])));
  }, 60_000);
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await fx?.close();
  });

  it('two servers on different ports answer identically, apply changes alike, and drain on SIGTERM', async () => {
    const [one, two] = procs.map((p) => new JsonClient(p.url));
    expect(procs[0].url).not.toBe(procs[1].url);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const body = { deployment: 'ranker', features: x, unit: `user:${i}` };
      const [r1, r2] = await Promise.all([one.post('/v1/decide', body), two.post('/v1/decide', body)]);
      expect(r1.status).toBe(200);
      expect({ arm: r2.body.arm, version: r2.body.version, action: r2.body.action, propensity: r2.body.propensity }).toEqual({
        arm: r1.body.arm,
        version: r1.body.version,
        action: r1.body.action,
        propensity: r1.body.propensity,
      });
      expect(r1.body.decisionId).not.toBe(r2.body.decisionId);
      ids.push(r1.body.decisionId, r2.body.decisionId);
    }
    const c = await fx.register('ranker', 3);
    await fx.deploy('ranker', { champion: c.version, canary: null });
    for (const client of [one, two]) {
      await waitFor(async () => (await client.post('/v1/decide', { deployment: 'ranker', features: x })).body.version === c.version, 15_000, 'the new champion on both');
    }
    for (let i = 0; i < 50; i++) {
      const r = await Promise.all([one, two].map((cl) => cl.post('/v1/decide', { deployment: 'ranker', features: x, unit: `u${i}` })));
      expect(r[0].body.action).toEqual(r[1].body.action);
      ids.push(r[0].body.decisionId, r[1].body.decisionId);
    }
    const fastPathRequests = async (cl: JsonClient) => {
      const text = String((await cl.get('/metrics')).body);
      return Number(/^autopilot_inference_http_fast_path_total\{event="request"\} (\d+)$/m.exec(text)?.[1] ?? -1);
    };
    expect(await fastPathRequests(one)).toBeGreaterThanOrEqual(250);
    expect(await fastPathRequests(two)).toBe(-1); // no fast path: the counter has no series
    one.close();
    two.close();
    for (const p of procs) p.child.kill('SIGTERM');
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0]);
    expect(procs[0].out.join('')).toMatch(/stopped: \d+ decisions written, 0 left in the journal, 0 lost/);
    const { rows } = await fx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM decisions WHERE decision_id = ANY($1::uuid[])', [ids]);
    expect(Number(rows[0].n)).toBe(ids.length);
  }, 60_000);
});
