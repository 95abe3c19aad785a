/**
 * Online linear learners (ml/online, inference/online). Run: node -r ./scripts/register-ts.js bench/online-learners.ts
 * [--rows 200000] [--k 16] [--bits 20] [--duration 5] [--connections 8] [--batch 100] [--isolation-only] [--e2e-only]
 *
 * Data: `--rows` synthetic click rows of `--k` categorical features (16 fields, 5,000 values each), hashed
 * into 2^bits coordinates, labels drawn from a hidden logistic model. Every figure has a baseline from the
 * same run.
 *
 * In isolation (one core, this process):
 *  - FTRL-Proximal and AdaGrad per-example updates/s (rows/s and coordinate updates/s) over the pre-hashed
 *    rows; baseline: Vowpal Wabbit (`--ftrl`, `--adaptive`, same rows, same bits) in its own C++ driver
 *    (`python -m vowpalwabbit -d FILE --cache_file …`), timed on its second run (from its binary cache, so
 *    the text parser is out of it), less the time of a 1-row run (Python and VW start-up); ours: the best of 5
 *    rounds (and the median), VW: the best of 3 (the machine is shared: the best round is the least disturbed);
 *  - feature hashing of named features (MurmurHash3 over UTF-8) rows/s;
 *  - predict latency (one row; p50/p99 over blocks of 100 calls);
 *  - a 1,000-row batch: per-example (`updateEach`) and one mini-batch step (`updateMiniBatch`), p50/p99 ms.
 *
 * End to end (two `autopilot serve` processes, auth off, one online-model FTRL deployment, state in a
 * private redis-server started for the run (so its CPU and command counts are the bench's alone), registry in
 * a fresh PostgreSQL database): closed-loop clients in this process POST /v1/labels with `--batch` labels
 * per request over `--connections` keep-alive connections split over both servers for `--duration` s;
 * baseline: one label per request (the per-example path), same run. Redis `seq` must move by exactly the
 * labels answered (none lost). CPU per label of the servers, Redis and this process (the load generator),
 * and the commits / conflicts (commit attempts overtaken by the other server) from Redis's command counts.
 * Then /v1/predict latency (1 row). The last line, `SUMMARY …`, is the one to quote.
 *
 * The end-to-end part alone, about 30 s: node -r ./scripts/register-ts.js bench/online-learners.ts --e2e-only
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { AdaGrad, FeatureHasher, FtrlProximal, SparseVector, type OnlineLearner, type SparseBatch } from '../ml/online';
import { Rng } from '../ml/rng';
import { Registry } from '../registry';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { migrate } from '../registry/migrate';
import { createTestDatabase } from '../test/support/pg';
import { JsonClient } from '../inference/testing/client';
import { procCpuSeconds } from './support/proc-cpu';

const root = resolve(__dirname, '..');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROWS = arg('rows', 200_000);
const K = arg('k', 16);
const BITS = arg('bits', 20);
const DURATION = arg('duration', 5);
const CONNECTIONS = arg('connections', 8);
const BATCH = arg('batch', 100);

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Named rows and their hashed CSR form. */
function makeData(rows: number, k: number, bits: number): { named: Record<string, string>[]; batch: SparseBatch } {
  const rng = new Rng(7);
  const hasher = new FeatureHasher({ bits, bias: true });
  const hidden = new Float64Array(1 << bits);
  for (let i = 0; i < hidden.length; i++) hidden[i] = rng.normal() * 0.5;
  const named: Record<string, string>[] = [];
  const nnz = rows * (k + 1);
  const b: SparseBatch = { rows, offsets: new Int32Array(rows + 1), idx: new Int32Array(nnz), val: new Float64Array(nnz), y: new Float64Array(rows) };
  const v = new SparseVector(k + 1);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const f: Record<string, string> = {};
    for (let j = 0; j < k; j++) f[`f${j}`] = String(rng.int(5000));
    named.push(f);
    hasher.hash(f, v);
    let m = 0;
    for (let j = 0; j < v.count; j++) {
      b.idx[o] = v.idx[j];
      b.val[o++] = v.val[j];
      m += hidden[v.idx[j]];
    }
    b.offsets[r + 1] = o;
    b.y[r] = rng.uniform() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
  }
  return { named, batch: b };
}

/** Rows/s of `rounds` fresh learners over the rows: the best round (the machine is shared: the best is the least disturbed) and the median. */
function timeUpdates(make: () => OnlineLearner, b: SparseBatch, rounds = 5): { rowsPerS: number; medianPerS: number; coordPerS: number; logLoss: number } {
  const rates: number[] = [];
  let logLoss = 0;
  for (let r = 0; r < rounds; r++) {
    const l = make();
    const t = process.hrtime.bigint();
    logLoss = l.updateEach(b) / b.rows;
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    rates.push(b.rows / s);
  }
  const rowsPerS = Math.max(...rates);
  return { rowsPerS, medianPerS: pct(rates, 0.5), coordPerS: (rowsPerS * b.idx.length) / b.rows, logLoss };
}

/** VW's own driver on the same rows: rows/s of its second run (from the cache), start-up subtracted. */
function vwRate(b: SparseBatch, args: string[], dir: string): number | null {
  const python = join(root, '.venv-vw', 'bin', 'python');
  if (!existsSync(python)) {
    if (process.env.CI) throw new Error('.venv-vw is absent (make setup-vw)');
    console.log('  (VW baseline skipped: .venv-vw absent; make setup-vw)');
    return null;
  }
  const lines: string[] = [];
  for (let r = 0; r < b.rows; r++) {
    const parts: string[] = [];
    for (let k = b.offsets[r]; k < b.offsets[r + 1]; k++) parts.push(`${b.idx[k]}:${b.val[k]}`);
    lines.push(`${b.y[r] > 0.5 ? 1 : -1} |f ${parts.join(' ')}`);
  }
  const file = join(dir, `vw-${args[0].replace(/-/g, '')}.txt`);
  writeFileSync(file, lines.join('\n') + '\n');
  writeFileSync(`${file}.one`, lines[0] + '\n');
  const run = (data: string, cache: string) => {
    const t = process.hrtime.bigint();
    execFileSync(python, ['-m', 'vowpalwabbit', ...args, '-b', String(BITS), '--loss_function', 'logistic', '--quiet', '--holdout_off', '-d', data, '--cache_file', cache], { stdio: 'ignore' });
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  run(file, `${file}.cache`); // writes the cache
  run(`${file}.one`, `${file}.one.cache`);
  const full = [run(file, `${file}.cache`), run(file, `${file}.cache`), run(file, `${file}.cache`)];
  const startup = [run(`${file}.one`, `${file}.one.cache`), run(`${file}.one`, `${file}.one.cache`)];
  return b.rows / Math.max(1e-6, Math.min(...full) - Math.min(...startup));
}

function isolation(): void {
  console.log(`== in isolation: ${fmt(ROWS)} rows, ${K} features + bias, 2^${BITS} coordinates (one core)`);
  const { named, batch } = makeData(ROWS, K, BITS);
  const dir = mkdtempSync(join(tmpdir(), 'ap-bench-online-learners-'));
  try {
    const ftrl = timeUpdates(() => new FtrlProximal('logistic', BITS, { alpha: 0.1, beta: 1, l1: 1, l2: 1 }), batch);
    const ada = timeUpdates(() => new AdaGrad('logistic', BITS, { eta: 0.1 }), batch);
    const vwFtrl = vwRate(batch, ['--ftrl', '--ftrl_alpha', '0.1', '--ftrl_beta', '1', '--l1', '1', '--l2', '1'], dir);
    const vwAda = vwRate(batch, ['--adaptive', '-l', '0.1'], dir);
    const ratio = (a: number, b: number | null) => (b === null ? '—' : `${(a / b).toFixed(2)}×`);
    console.log(`  FTRL-Proximal per-example: best of 5 ${fmt(ftrl.rowsPerS)} rows/s (median ${fmt(ftrl.medianPerS)}) = ${fmt(ftrl.coordPerS)} coordinate updates/s (progressive log loss ${ftrl.logLoss.toFixed(4)}); VW --ftrl ${vwFtrl === null ? '—' : fmt(vwFtrl)} rows/s → ratio ${ratio(ftrl.rowsPerS, vwFtrl)}`);
    console.log(`  AdaGrad per-example:       best of 5 ${fmt(ada.rowsPerS)} rows/s (median ${fmt(ada.medianPerS)}) = ${fmt(ada.coordPerS)} coordinate updates/s (progressive log loss ${ada.logLoss.toFixed(4)}); VW --adaptive ${vwAda === null ? '—' : fmt(vwAda)} rows/s → ratio ${ratio(ada.rowsPerS, vwAda)}`);

    const hasher = new FeatureHasher({ bits: BITS });
    const v = new SparseVector(K + 1);
    const n = Math.min(ROWS, 100_000);
    let t = process.hrtime.bigint();
    for (let r = 0; r < n; r++) hasher.hash(named[r], v);
    const hashRate = n / (Number(process.hrtime.bigint() - t) / 1e9);
    console.log(`  feature hashing (named → hashed): ${fmt(hashRate)} rows/s = ${fmt(hashRate * K)} features/s`);

    const f = new FtrlProximal('logistic', BITS, { alpha: 0.1, beta: 1, l1: 1, l2: 1 });
    f.updateEach(batch);
    const blocks: number[] = [];
    let sink = 0;
    for (let blk = 0; blk < 5000; blk++) {
      const r0 = (blk * 100) % (ROWS - 100);
      t = process.hrtime.bigint();
      for (let r = r0; r < r0 + 100; r++) sink += f.predict(batch.idx, batch.val, batch.offsets[r], batch.offsets[r + 1]);
      blocks.push(Number(process.hrtime.bigint() - t) / 100);
    }
    console.log(`  FTRL predict (1 row, ${K + 1} coordinates): p50 ${fmt(pct(blocks, 0.5))} ns, p99 ${fmt(pct(blocks, 0.99))} ns (blocks of 100; sink ${sink > 0 ? '+' : '-'})`);

    const sub = (from: number): SparseBatch => {
      const o0 = batch.offsets[from];
      return { rows: 1000, offsets: batch.offsets.subarray(from, from + 1001).map((x) => x - o0), idx: batch.idx.subarray(o0, batch.offsets[from + 1000]), val: batch.val.subarray(o0, batch.offsets[from + 1000]), y: batch.y.subarray(from, from + 1000) };
    };
    const batches = Array.from({ length: Math.floor(ROWS / 1000) }, (_, i) => sub(i * 1000));
    for (const [name, step] of [['per-example (updateEach)', (l: OnlineLearner, b: SparseBatch) => l.updateEach(b)], ['mini-batch step (updateMiniBatch)', (l: OnlineLearner, b: SparseBatch) => l.updateMiniBatch(b)]] as const) {
      const l = new FtrlProximal('logistic', BITS, { alpha: 0.1, beta: 1, l1: 1, l2: 1 });
      const ms: number[] = [];
      for (const b of batches) {
        t = process.hrtime.bigint();
        step(l, b);
        ms.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      console.log(`  1,000-row batch, FTRL ${name}: p50 ${pct(ms, 0.5).toFixed(3)} ms, p99 ${pct(ms, 0.99).toFixed(3)} ms (${batches.length} batches; target < 10 ms)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function startServer(cmd: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, cmd, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res({ child, url: m[1] });
      }
    });
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (c) => rej(new Error(`exited with ${c}: ${out}`)));
  });
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** A private redis-server (no persistence) for the run: its CPU and command counts are the bench's alone. */
async function startRedis(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined); // refused until it listens: the loop below retries
  try {
    const t0 = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode} (is redis-server on the PATH?)`);
      try {
        await probe.connect();
        await probe.ping();
        return { child, url };
      } catch (err) {
        if (Date.now() - t0 > 10_000) throw new Error(`redis-server on port ${port} did not answer in 10 s: ${(err as Error).message}`, { cause: err });
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    probe.disconnect();
  }
}

/** Calls per command since the last CONFIG RESETSTAT (INFO commandstats). */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

/** CPU seconds of the servers, Redis and this process since `before` (call with no argument for a start mark). */
function cpuMark(pids: number[], redis: number): number[] {
  const self = process.cpuUsage();
  return [pids.reduce((t, p) => t + procCpuSeconds(p), 0), procCpuSeconds(redis), (self.user + self.system) / 1e6];
}

/** Closed loop: `connections` workers, each POSTing one of `bodies` (round robin) until `seconds` pass. */
async function closedLoop(clients: JsonClient[], bodies: string[], perBody: number, connections: number, seconds: number): Promise<{ labels: number; perS: number; errors: number }> {
  let labels = 0;
  let errors = 0;
  let next = 0;
  const end = Date.now() + seconds * 1000;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      while (Date.now() < end) {
        const r = await clients[c % clients.length].post('/v1/labels', bodies[next++ % bodies.length]);
        if (r.status === 200) labels += perBody;
        else errors++;
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  return { labels, perS: labels / s, errors };
}

async function e2e(): Promise<void> {
  console.log(`== end to end: two autopilot serve processes, FTRL state in a private Redis, ${CONNECTIONS} connections, ${DURATION} s per run`);
  const load0 = loadavg()[0];
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'ap-bench-online-e2e-'));
  const rs = await startRedis();
  const redis = new Redis(rs.url);
  const stateKey = `bench-online-${randomUUID().slice(0, 8)}`;
  const procs: ChildProcess[] = [];
  try {
    await migrate(db.pool);
    const artifactUri = `file://${join(dir, 'artifacts')}`;
    const registry = new Registry({ pool: db.pool, store: FsArtifactStore.fromUri(artifactUri) });
    await registry.createModel({ name: 'ctr', actor: 'bench' });
    await registry.setDeployment({ model: 'ctr', kind: 'online-model', championVersion: null, actor: 'bench', config: { algorithm: 'ftrl', bits: BITS, ftrl: { alpha: 0.1, beta: 1, l1: 1, l2: 1 }, stateKey, snapshotEverySeconds: 0 } });
    const servers = await Promise.all(
      ['a', 'b'].map((n) =>
        startServer([join(root, 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(dir, `cache-${n}`), '--auth', 'off'], {
          AUTOPILOT_DATABASE_URL: db.url,
          AUTOPILOT_ARTIFACT_URI: artifactUri,
          AUTOPILOT_DATA_DIR: join(dir, `data-${n}`),
          AUTOPILOT_REDIS_URL: rs.url,
        }),
      ),
    );
    procs.push(...servers.map((s) => s.child));
    const clients = servers.map((s) => new JsonClient(s.url, 64, null));
    const { named } = makeData(20_000, K, BITS);
    const label = (r: number) => ({ features: named[r], label: r % 3 === 0 ? 1 : 0 });
    const single = Array.from({ length: 2000 }, (_, r) => JSON.stringify({ deployment: 'ctr', ...label(r) }));
    const batched = Array.from({ length: 200 }, (_, b) => JSON.stringify({ deployment: 'ctr', labels: Array.from({ length: BATCH }, (_, j) => label((b * BATCH + j) % named.length)) }));
    await closedLoop(clients, batched, BATCH, CONNECTIONS, 1); // warm-up
    await closedLoop(clients, single, 1, CONNECTIONS, 0.5);
    const seq0 = Number(await redis.hget(`online:state:${stateKey}`, 'seq'));
    const pids = servers.map((s) => s.child.pid!);
    const rpid = rs.child.pid!;
    /** CPU µs per label since `before`, and the commits / conflicts since the last RESETSTAT. */
    const measure = async (before: number[], labels: number) => {
      const after = cpuMark(pids, rpid);
      const us = after.map((x, i) => ((x - before[i]) * 1e6) / labels);
      const calls = await commandCalls(redis);
      const commits = calls.get('xadd') ?? 0;
      const checkpoints = calls.get('xtrim') ?? 0;
      const conflicts = (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0) - commits - checkpoints;
      return { us, commits, conflicts, checkpoints, line: `CPU per label: servers ${us[0].toFixed(1)} µs, Redis ${us[1].toFixed(1)} µs, load generator ${us[2].toFixed(1)} µs; ${fmt(commits)} commits (${fmt(labels / Math.max(1, commits), 1)} labels each), ${fmt(conflicts)} conflicts (${((100 * conflicts) / Math.max(1, commits + conflicts)).toFixed(0)} % of attempts), ${checkpoints} checkpoints` };
    };
    await redis.config('RESETSTAT');
    let mark = cpuMark(pids, rpid);
    const base = await closedLoop(clients, single, 1, CONNECTIONS, DURATION);
    const baseM = await measure(mark, base.labels);
    await redis.config('RESETSTAT');
    mark = cpuMark(pids, rpid);
    const bat = await closedLoop(clients, batched, BATCH, CONNECTIONS, DURATION);
    const batM = await measure(mark, bat.labels);
    const seq1 = Number(await redis.hget(`online:state:${stateKey}`, 'seq'));
    const lost = seq1 - seq0 !== base.labels + bat.labels;
    console.log(`  labels/s, 1 label per request (baseline): ${fmt(base.perS)} (${base.errors} errors); ${baseM.line}`);
    console.log(`  labels/s, ${BATCH} labels per request:       ${fmt(bat.perS)} (${bat.errors} errors) → ${(bat.perS / base.perS).toFixed(1)}× the per-example path; target ≥ 20,000; ${batM.line}`);
    console.log(`  Redis seq moved by ${fmt(seq1 - seq0)}; labels answered ${fmt(base.labels + bat.labels)} → ${lost ? 'MISMATCH' : 'none lost'}`);
    const lat: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = process.hrtime.bigint();
      await clients[i % 2].post('/v1/predict', single[i % single.length].replace(/,"label":[01]\}$/, '}'));
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    console.log(`  /v1/predict over HTTP (1 row, 1 connection, sequential): p50 ${pct(lat, 0.5).toFixed(3)} ms, p99 ${pct(lat, 0.99).toFixed(3)} ms`);
    // A quiet 2-core machine gives the servers, Redis and the load generator its two cores: labels/s ≤ 2 s / (CPU s per label).
    const total = batM.us[0] + batM.us[1] + batM.us[2];
    console.log(
      `SUMMARY online-model /v1/labels, ${BATCH} per request, 2 servers, ${CONNECTIONS} connections: ${fmt(bat.perS)} labels/s (${(bat.perS / base.perS).toFixed(1)}× the 1-label baseline ${fmt(base.perS)}/s), ${lost ? 'LABELS LOST' : 'none lost'}, ${bat.errors + base.errors} errors; CPU per label servers ${batM.us[0].toFixed(1)} + Redis ${batM.us[1].toFixed(1)} + load generator ${batM.us[2].toFixed(1)} = ${total.toFixed(1)} µs → CPU-bound ceiling on 2 idle cores ${fmt(2e6 / total)} labels/s (servers + Redis only: ${fmt(2e6 / (batM.us[0] + batM.us[1]))}); conflicts ${((100 * batM.conflicts) / Math.max(1, batM.commits + batM.conflicts)).toFixed(0)} % of commit attempts; load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
    );
    clients.forEach((c) => c.close());
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    redis.disconnect();
    rs.child.kill('SIGTERM');
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`online learners bench, ${new Date().toISOString()}`);
  if (!process.argv.includes('--e2e-only')) isolation();
  if (!process.argv.includes('--isolation-only')) await e2e();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
