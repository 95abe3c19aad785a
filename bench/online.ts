/**
 * Online learning throughput, learners in isolation (seed 001 component 3: "1,000+ updates/s,
 * < 1 s per 1,000-sample batch"). Run: node -r ./scripts/register-ts.js bench/online.ts [--json]
 *
 * d = 16 features, 5 arms. For every learner: updates/s, selects/s and the time for a 1,000-sample
 * batch (one update per sample, and as one applyStats of 1,000 deltas — what a server does after
 * reading shared statistics). The baseline, measured in the same run, is LinUCB that inverts
 * A = λI + Σ x xᵀ from scratch (Gauss–Jordan, O(d³)) on every update instead of Sherman–Morrison
 * (O(d²)). Also: ADWIN and Page–Hinkley updates/s.
 *
 * End to end (after the learners; --learners-only skips it, --e2e-only runs only it): `autopilot serve` as its own process with a
 * bandit deployment (LinUCB + ε-greedy, d = 16, 5 arms, state in the machine's Redis, decisions and rewards
 * in a fresh PostgreSQL database), driven by autocannon over loopback:
 *  - reward updates/s: POST /v1/rewards, each for a distinct decision (entries pre-written to Redis as
 *    decide writes them), through validation, the Redis claim, the batched HINCRBYFLOAT Lua flush and
 *    the batched rewards rows; checked afterwards: Redis `seq` moved by exactly the 201s answered;
 *  - decide p50/p99 for the bandit deployment and for an ONNX policy deployment (the same server) at a
 *    fixed rate; and a bare node:http server answering a canned body (the HTTP ceiling of this machine),
 *    measured in the same run, as the baseline. Flags: --duration S (default 5), --rate R (default 2000),
 *    --connections C (default 32).
 */
import { ADWIN, PageHinkley } from '../ml/drift';
import {
  BanditPolicy, BetaThompsonSampling, EpsilonGreedy, GaussianThompsonSampling, LinearThompsonSampling, LinUCB, Softmax, StatsDelta,
} from '../ml/bandits';
import { invertGaussJordan, matVec, quadForm, dot } from '../ml/bandits/linalg';
import { Rng } from '../ml/rng';

const d = 16;
const K = 5;

/** LinUCB with a full inversion of A per update: the naive reference. */
class NaiveLinUCB {
  private readonly a: Float64Array[] = [];
  private readonly ainv: Float64Array[] = [];
  private readonly b: Float64Array[] = [];
  constructor(private readonly alpha = 1) {
    for (let k = 0; k < K; k++) {
      const m = new Float64Array(d * d);
      for (let i = 0; i < d; i++) m[i * d + i] = 1;
      this.a.push(m);
      this.ainv.push(Float64Array.from(m));
      this.b.push(new Float64Array(d));
    }
  }
  update(x: ArrayLike<number>, arm: number, r: number): void {
    const a = this.a[arm];
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) a[i * d + j] += x[i] * x[j];
      this.b[arm][i] += r * x[i];
    }
    this.ainv[arm] = invertGaussJordan(a, d);
  }
  select(x: ArrayLike<number>): number {
    let best = 0, bestP = -Infinity;
    for (let k = 0; k < K; k++) {
      const theta = matVec(this.ainv[k], this.b[k], d);
      const p = dot(x, theta, d) + this.alpha * Math.sqrt(quadForm(this.ainv[k], x, d));
      if (p > bestP) { bestP = p; best = k; }
    }
    return best;
  }
}

interface Sample { x: number[]; arm: number; r: number }

function samples(n: number, seed: number): Sample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    x: [1, ...Array.from({ length: d - 1 }, () => rng.uniform())],
    arm: rng.int(K),
    r: rng.uniform(),
  }));
}

/** Runs `fn` over `n` items repeatedly for at least `minMs`; returns operations per second. */
function opsPerSecond(n: number, fn: (i: number) => void, minMs = 400): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i); // warm-up
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsed: number;
  do {
    for (let i = 0; i < n; i++) fn(i);
    ops += n;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (elapsed < minMs);
  return (ops / elapsed) * 1000;
}

function timeMs(fn: () => void, repeats = 5): number {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

interface Row {
  learner: string;
  updatesPerSec: number;
  selectsPerSec: number;
  batch1000UpdateMs: number;
  batch1000ApplyStatsMs: number;
}

function benchLearner(name: string, make: () => BanditPolicy, data: Sample[]): Row {
  const rng = new Rng(1);
  const learner = make();
  const updatesPerSec = opsPerSecond(data.length, (i) => learner.update(data[i].x, data[i].arm, data[i].r));
  const selectsPerSec = opsPerSecond(Math.min(data.length, 5000), (i) => { learner.select(data[i].x, rng); }, 300);
  const batch = data.slice(0, 1000);
  const batch1000UpdateMs = timeMs(() => {
    const l = make();
    for (const s of batch) l.update(s.x, s.arm, s.r);
  });
  const deltas: StatsDelta[] = batch.map((s) => learner.statsDelta(s.x, s.arm, s.r));
  const batch1000ApplyStatsMs = timeMs(() => make().applyStats(deltas));
  return { learner: name, updatesPerSec, selectsPerSec, batch1000UpdateMs, batch1000ApplyStatsMs };
}

function main(): void {
  const json = process.argv.includes('--json');
  const data = samples(20000, 7);
  const rows: Row[] = [];

  // Baseline first: LinUCB inverting A on every update.
  const naive = new NaiveLinUCB();
  const naiveUpdates = opsPerSecond(data.length, (i) => naive.update(data[i].x, data[i].arm, data[i].r));
  const naiveSelects = opsPerSecond(5000, (i) => { naive.select(data[i].x); }, 300);
  const naiveBatch = timeMs(() => {
    const l = new NaiveLinUCB();
    for (const s of data.slice(0, 1000)) l.update(s.x, s.arm, s.r);
  });
  rows.push({ learner: 'baseline: LinUCB, full inverse per update', updatesPerSec: naiveUpdates, selectsPerSec: naiveSelects, batch1000UpdateMs: naiveBatch, batch1000ApplyStatsMs: Number.NaN });

  const learners: [string, () => BanditPolicy][] = [
    ['LinUCB (Sherman–Morrison)', () => new LinUCB({ nArms: K, d })],
    ['ε-greedy(LinUCB), ε=0.05', () => new EpsilonGreedy(new LinUCB({ nArms: K, d }))],
    ['softmax(LinUCB), τ=0.1', () => new Softmax(new LinUCB({ nArms: K, d }))],
    ['LinTS, propensityDraws=1', () => new LinearThompsonSampling({ nArms: K, d, v: 0.3, propensityDraws: 1 })],
    ['LinTS, propensityDraws=100', () => new LinearThompsonSampling({ nArms: K, d, v: 0.3 })],
    ['LinTS cholesky, propensityDraws=1', () => new LinearThompsonSampling({ nArms: K, d, v: 0.3, propensityDraws: 1, sampler: 'cholesky' })],
    ['Beta TS, propensityDraws=1', () => new BetaThompsonSampling({ nArms: K, propensityDraws: 1 })],
    ['Beta TS, propensityDraws=100', () => new BetaThompsonSampling({ nArms: K })],
    ['Gaussian TS, propensityDraws=100', () => new GaussianThompsonSampling({ nArms: K })],
  ];
  for (const [name, make] of learners) rows.push(benchLearner(name, make, data));

  const rng = new Rng(3);
  const stream = Array.from({ length: 100000 }, () => rng.normal());
  const adwin = new ADWIN();
  const adwinPerSec = opsPerSecond(stream.length, (i) => adwin.update(stream[i]));
  const ph = new PageHinkley();
  const phPerSec = opsPerSecond(stream.length, (i) => ph.update(stream[i]));

  const lin = rows.find((r) => r.learner.startsWith('LinUCB (Sherman'))!;
  const ratio = lin.updatesPerSec / naiveUpdates;
  if (json) {
    process.stdout.write(`${JSON.stringify({ d, arms: K, rows, drift: { adwinUpdatesPerSec: adwinPerSec, pageHinkleyUpdatesPerSec: phPerSec }, shermanMorrisonSpeedup: ratio }, null, 2)}\n`);
    return;
  }
  const fmt = (v: number, digits = 0) => (Number.isNaN(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  console.log(`online learners in isolation, d = ${d}, ${K} arms (node ${process.version})`);
  console.log(`${'learner'.padEnd(44)}${'updates/s'.padStart(12)}${'selects/s'.padStart(12)}${'1k batch ms'.padStart(13)}${'1k applyStats ms'.padStart(18)}`);
  for (const r of rows) {
    console.log(`${r.learner.padEnd(44)}${fmt(r.updatesPerSec).padStart(12)}${fmt(r.selectsPerSec).padStart(12)}${fmt(r.batch1000UpdateMs, 2).padStart(13)}${fmt(r.batch1000ApplyStatsMs, 2).padStart(18)}`);
  }
  console.log(`ADWIN updates/s ${fmt(adwinPerSec)}; Page–Hinkley updates/s ${fmt(phPerSec)}`);
  console.log(`LinUCB Sherman–Morrison vs full inverse per update: ${ratio.toFixed(1)}× the updates/s`);
}


// ---------------------------------------------------------------------------------------------------
// End to end: HTTP → inference server → Redis (and PostgreSQL off the hot path).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from '../registry';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { migrate } from '../registry/migrate';
import { createTestDatabase } from '../test/support/pg';
import { buildTestPolicy } from '../inference/testing/test-policy';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<{ '2xx': number; non2xx: number; errors: number; timeouts: number; duration: number }> & {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};

const e2eArg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ decisionId: '00000000-0000-4000-8000-000000000000', accepted: true, duplicate: false, reward: 0.5, arm: 'a' });
const server = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(201, { 'content-type': 'application/json' }); res.end(body); }); });
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log('serving on http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function startServer(cmd: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, cmd, { cwd: resolve(__dirname, '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`did not start: ${out}`)), 60_000);
    const on = (b: Buffer) => {
      out += b.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res({ child, url: m[1], exited });
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (c) => rej(new Error(`exited with ${c}: ${out}`)));
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

interface LoadFigures { rps: number; ok: number; non2xx: number; errors: number; p50: number; p99: number }

async function drive(url: string, opts: { duration: number; connections: number; rate?: number; body?: string; bodies?: () => string }): Promise<LoadFigures> {
  const lat: number[] = [];
  const inst = autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: opts.connections,
    duration: opts.duration,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
    ...(opts.bodies ? { requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: opts.bodies!() }) }] } : { body: opts.body }),
  });
  inst.on('response', (_c, _s, _b, ms) => lat.push(ms));
  const r = await inst;
  const sorted = Float64Array.from(lat).sort();
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  return { rps: r['2xx'] / r.duration, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, p50: q(0.5), p99: q(0.99) };
}

async function endToEnd(): Promise<void> {
  const json = process.argv.includes('--json');
  const duration = e2eArg('duration', 5);
  const rate = e2eArg('rate', 2000);
  const connections = e2eArg('connections', 32);
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'ap-bench-online-'));
  const redis = new Redis('redis://127.0.0.1:6379');
  const stateKey = `bench-${randomUUID().slice(0, 8)}`;
  const procs: ChildProcess[] = [];
  try {
    await migrate(db.pool);
    const artifactUri = `file://${join(dir, 'artifacts')}`;
    const registry = new Registry({ pool: db.pool, store: FsArtifactStore.fromUri(artifactUri) });
    const names = Array.from({ length: d - 1 }, (_, i) => `f${i}`);
    await registry.createModel({ name: 'router', actor: 'bench' });
    await registry.setDeployment({
      model: 'router', kind: 'bandit', championVersion: null, actor: 'bench',
      config: { learner: { kind: 'linucb' }, exploration: { kind: 'epsilon-greedy', epsilon: 0.05 }, arms: Array.from({ length: K }, (_, k) => `arm${k}`), features: names, stateKey },
    });
    const policy = buildTestPolicy(1);
    const v1 = await registry.registerVersion({ model: 'ranker', artifact: { buffer: policy.bytes }, format: 'onnx', signature: policy.signature as never, createModel: true, actor: 'bench' });
    await registry.setDeployment({ model: 'ranker', championVersion: v1.version, actor: 'bench' });

    const bare = await startServer(['-e', BARE_SERVER], {});
    procs.push(bare.child);
    const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
    const server = await startServer([...profile, join(resolve(__dirname, '..'), 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(dir, 'cache')], {
      AUTOPILOT_DATABASE_URL: db.url, AUTOPILOT_ARTIFACT_URI: artifactUri, AUTOPILOT_DATA_DIR: join(dir, 'data'), AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379',
    });
    procs.push(server.child);

    // Decisions to reward: what decide writes (context with its intercept, arm), pre-written in bulk.
    const rng = new Rng(11);
    const nDecisions = Math.ceil(duration * 40_000) + 40_000;
    const ids: string[] = [];
    for (let start = 0; start < nDecisions; start += 5000) {
      const pipe = redis.pipeline();
      for (let i = start; i < Math.min(nDecisions, start + 5000); i++) {
        const id = randomUUID();
        ids.push(id);
        const x = [1, ...Array.from({ length: d - 1 }, () => Math.round(rng.uniform() * 1000) / 1000)];
        pipe.set(`bandit:decision:${id}`, JSON.stringify({ deployment: 'router', stateKey, arm: rng.int(K), x }), 'EX', 600);
      }
      await pipe.exec();
    }
    let next = 0;
    const rewardBody = () => `{"decisionId":"${ids[next++ % ids.length]}","reward":${(next % 10) / 10}}`;
    const seq0 = Number((await redis.hget(`bandit:state:${stateKey}`, 'seq')) ?? 0);

    const features = Object.fromEntries(names.map((n, i) => [n, Math.round(Math.sin(i + 1) * 1000) / 1000]));
    const banditBody = JSON.stringify({ deployment: 'router', features });
    const policyBody = JSON.stringify({ deployment: 'ranker', features: Array.from({ length: 16 }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000) });
    // Warm-up (JIT, connections), not counted: rewards here use ids from the pool too.
    await drive(`${server.url}/v1/decide`, { duration: 1, connections, body: banditBody });
    await drive(`${server.url}/v1/rewards`, { duration: 1, connections, bodies: rewardBody });
    await drive(`${bare.url}/`, { duration: 1, connections, body: banditBody });
    const seqWarm = Number(await redis.hget(`bandit:state:${stateKey}`, 'seq'));

    const bareMax = await drive(`${bare.url}/`, { duration, connections, body: '{"decisionId":"00000000-0000-4000-8000-000000000000","reward":0.5}' });
    const cpu0 = procCpuSeconds(server.child.pid!);
    const redisCpu0 = Number((await redis.info('cpu')).match(/used_cpu_(?:sys|user):([\d.]+)/g)!.reduce((a, x) => a + Number(x.split(':')[1]), 0));
    const rewards = await drive(`${server.url}/v1/rewards`, { duration, connections, bodies: rewardBody });
    const serverCpuPerReward = ((procCpuSeconds(server.child.pid!) - cpu0) / Math.max(1, rewards.ok)) * 1e6;
    const redisCpuPerReward = ((Number((await redis.info('cpu')).match(/used_cpu_(?:sys|user):([\d.]+)/g)!.reduce((a, x) => a + Number(x.split(':')[1]), 0)) - redisCpu0) / Math.max(1, rewards.ok)) * 1e6;
    await new Promise((r) => setTimeout(r, 300));
    const seq1 = Number(await redis.hget(`bandit:state:${stateKey}`, 'seq'));
    const banditDecide = await drive(`${server.url}/v1/decide`, { duration, connections: 16, rate, body: banditBody });
    const policyDecide = await drive(`${server.url}/v1/decide`, { duration, connections: 16, rate, body: policyBody });
    const banditMax = await drive(`${server.url}/v1/decide`, { duration, connections, body: banditBody });

    const applied = seq1 - seqWarm;
    const figures = {
      machine: { cpus: cpus().length, node: process.version },
      settings: { duration, rate, connections, d, arms: K },
      rewardUpdatesPerSec: rewards.rps,
      rewards: { ...rewards, appliedInRedis: applied, warmUpApplied: seqWarm - seq0, serverCpuPerRewardUs: serverCpuPerReward, redisCpuPerRewardUs: redisCpuPerReward },
      bareHttpBaseline: bareMax,
      ratioToBareHttp: rewards.rps / bareMax.rps,
      decideAtFixedRate: { bandit: banditDecide, policy: policyDecide },
      banditDecideMax: banditMax,
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    } else {
      const f = (v: number, n = 0) => v.toLocaleString('en-US', { maximumFractionDigits: n, minimumFractionDigits: n });
      const line = (name: string, r: LoadFigures) => `  ${name.padEnd(36)} ${f(r.rps).padStart(8)} /s   p50 ${f(r.p50, 3)} ms   p99 ${f(r.p99, 3)} ms   non-2xx ${r.non2xx}   errors ${r.errors}`;
      console.log(`\nend to end — ${cpus().length} CPUs, autocannon ${connections} connections, ${duration} s per run, loopback (server, Redis, PostgreSQL, autocannon share the machine)`);
      console.log(line('bare node:http (baseline)', bareMax));
      console.log(line('POST /v1/rewards → Redis', rewards));
      console.log(`  CPU per reward: server ${f(serverCpuPerReward, 1)} µs, Redis ${f(redisCpuPerReward, 1)} µs`);
      console.log(`  reward updates/s end to end: ${f(rewards.rps)} (${f(rewards.rps / bareMax.rps, 2)}× the bare HTTP server); Redis seq moved by ${applied} for ${rewards.ok} 201s answered`);
      console.log(line(`decide bandit @ ${rate}/s`, banditDecide));
      console.log(line(`decide ONNX policy @ ${rate}/s`, policyDecide));
      console.log(line('decide bandit, max rate', banditMax));
    }
    server.child.kill('SIGTERM');
    await server.exited;
  } finally {
    for (const c of procs) if (c.exitCode === null) c.kill('SIGKILL');
    await redis.del(`bandit:state:${stateKey}`);
    redis.disconnect();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!process.argv.includes('--e2e-only')) main();
if (!process.argv.includes('--learners-only')) {
  endToEnd().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
