/**
 * Online learning throughput, learners in isolation (R-ONLINE-THROUGHPUT: "1,000+ updates/s,
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
 *  - reward updates/s through the whole path (HTTP → validation → Redis claim → batched HINCRBYFLOAT
 *    flush of the shared learner → batched reward rows), each reward for a distinct decision (entries
 *    pre-written to Redis as decide writes them): one reward per request from autocannon on
 *    `--connections` (default 32; the figure reported before batching existed), one reward per request
 *    from the lean closed-loop client (bench/support/reward-load.ts: autocannon spends more CPU
 *    building a distinct body per request than the server spends on a reward, on the same cores) on `--lean-connections` (default 128: more requests per
 *    event-loop turn, so bigger micro-batched claims), and `--batch` rewards per request
 *    (`{ rewards: [...] }`, default 100, lean client, `--batch-connections`, default 8). Per run:
 *    updates/s (rewards answered 201 / s), CPU per reward of the server, Redis, PostgreSQL (all its
 *    processes: approximate) and the load generator, and the check that Redis `seq` moved by exactly
 *    the rewards claimed during the run (autocannon: answered + the requests it left in flight when it
 *    stopped; the lean client waits for every answer);
 *  - a bare node:http server answering a canned body (the HTTP ceiling of this machine), measured in
 *    the same run with each client, as the baseline (its req/s and CPU per request);
 *  - unless --rewards-only: decide p50/p99 for the bandit deployment and for an ONNX policy deployment
 *    (the same server) at a fixed --rate (default 2000) from the open-loop generator
 *    (bench/support/paced-load.ts), and the bandit decide's max rate.
 * Flags: --duration S (default 5), --only single|batched.
 * A/B: `--baseline-root DIR` (another checkout, e.g. a `git worktree` of the previous commit) starts that
 * code's server beside this one on the same Redis state and database, and runs the lean single and
 * batched reward runs on both, alternating, `--ab-rounds` times (default 3): medians and their ratio.
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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from '../registry';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { migrate } from '../registry/migrate';
import { createTestDatabase } from '../test/support/pg';
import { buildTestPolicy } from '../inference/testing/test-policy';
import type { PacedOptions, PacedResult } from './support/paced-load';
import type { RewardLoadOptions, RewardLoadResult } from './support/reward-load';
import { postgresCpu, postgresCpuSince, procCpuSeconds } from './support/proc-cpu';

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
const length = Buffer.byteLength(body);
const server = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(201, { 'content-type': 'application/json', 'content-length': length }); res.end(body); }); });
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

/** Decide latency at a fixed rate from the open-loop generator (bench/support/paced-load.ts) in its own process. */
async function paced(url: string, body: string, rate: number, durationS: number): Promise<PacedResult> {
  const u = new URL(url);
  const opts: PacedOptions = { host: u.hostname, port: Number(u.port), path: u.pathname, body, rate, durationS, connections: 32, warmupS: 1 };
  const root = resolve(__dirname, '..');
  const out = await new Promise<string>((res, rej) => {
    const child = spawn(process.execPath, ['-r', join(root, 'scripts/register-ts.js'), join(root, 'bench/support/paced-load.ts'), JSON.stringify(opts)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => (code === 0 ? res(stdout) : rej(new Error(`paced-load exited ${code}: ${stderr}`))));
  });
  return JSON.parse(out.trim().split('\n').pop()!) as PacedResult;
}

interface LoadFigures { rps: number; ok: number; non2xx: number; errors: number; p50: number; p99: number }

async function drive(url: string, opts: { duration: number; connections: number; rate?: number; body?: string; bodies?: () => string; onBody?: (status: number, body: string) => void }): Promise<LoadFigures> {
  const lat: number[] = [];
  const request: Record<string, unknown> = {};
  if (opts.bodies) request.setupRequest = (req: Record<string, unknown>) => ({ ...req, body: opts.bodies!() });
  if (opts.onBody) request.onResponse = opts.onBody;
  const inst = autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: opts.connections,
    duration: opts.duration,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
    ...(opts.bodies || opts.onBody ? { requests: [request] } : {}),
    ...(opts.bodies ? {} : { body: opts.body }),
  });
  inst.on('response', (_c, _s, _b, ms) => lat.push(ms));
  const r = await inst;
  const sorted = Float64Array.from(lat).sort();
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  return { rps: r['2xx'] / r.duration, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, p50: q(0.5), p99: q(0.99) };
}

/** CPU seconds Redis has used so far (INFO cpu: used_cpu_sys + used_cpu_user). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  return ((await redis.info('cpu')).match(/used_cpu_(?:sys|user):([\d.]+)/g) ?? []).reduce((a, x) => a + Number(x.split(':')[1]), 0);
}

/** Waits until `seq` of the state hash stops moving (the last batched flush landed); returns it. */
async function settledSeq(redis: Redis, key: string): Promise<number> {
  let last = Number((await redis.hget(key, 'seq')) ?? 0);
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = Number((await redis.hget(key, 'seq')) ?? 0);
    if (now === last && i >= 2) return now;
    last = now;
  }
  return last;
}

/** The closed-loop reward generator (bench/support/reward-load.ts) in its own process. */
async function leanLoad(opts: RewardLoadOptions): Promise<RewardLoadResult> {
  const root = resolve(__dirname, '..');
  const out = await new Promise<string>((res, rej) => {
    const child = spawn(process.execPath, ['-r', join(root, 'scripts/register-ts.js'), join(root, 'bench/support/reward-load.ts'), JSON.stringify(opts)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => (code === 0 ? res(stdout) : rej(new Error(`reward-load exited ${code}: ${stderr}`))));
  });
  return JSON.parse(out.trim().split('\n').pop()!) as RewardLoadResult;
}

type Client = 'autocannon' | 'lean';

interface BareFigures {
  client: Client;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  serverCpuPerRequestUs: number;
  loadGeneratorCpuPerRequestUs: number;
}

interface RewardFigures {
  client: Client;
  /** Rewards per request. */
  perRequest: number;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Rewards answered 201 (or a batch's `recorded`) per second: learner updates end to end. */
  updatesPerSec: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  serverCpuPerRewardUs: number;
  redisCpuPerRewardUs: number;
  /** All PostgreSQL processes (the reward rows; approximate). */
  postgresCpuPerRewardUs: number;
  /** The load generator (autocannon: this process; lean: its own). */
  loadGeneratorCpuPerRewardUs: number;
  /** How far Redis `seq` moved during the run (after the last flush). */
  seqMoved: number;
  /**
   * Rewards claimed in Redis during the run (reward keys of the run's decision ids): each is one
   * increment, so `seqMoved` must equal it. With autocannon it exceeds `recorded` by the requests still
   * in flight when autocannon stopped (answered after it stopped counting: one per connection); the
   * lean client waits for every answer.
   */
  claimed: number;
}

async function endToEnd(): Promise<void> {
  const json = process.argv.includes('--json');
  const duration = e2eArg('duration', 5);
  const rate = e2eArg('rate', 2000);
  const connections = e2eArg('connections', 32);
  const leanConnections = e2eArg('lean-connections', 128);
  const batch = e2eArg('batch', 100);
  const batchConnections = e2eArg('batch-connections', 8);
  const rewardsOnly = process.argv.includes('--rewards-only');
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'ap-bench-online-'));
  const redis = new Redis('redis://127.0.0.1:6379');
  const stateKey = `bench-${randomUUID().slice(0, 8)}`;
  const stateHash = `bandit:state:${stateKey}`;
  const procs: ChildProcess[] = [];
  const ids: string[] = [];
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
    const server = await startServer([...profile, join(resolve(__dirname, '..'), 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(dir, 'cache'), '--max-body', '1mb', '--max-reward-batch', String(Math.max(500, batch)),
      // Its load sends no API key (and a --baseline-root checkout may predate keys): measured without auth, as its earlier rows were.
      '--auth', 'off'], {
      AUTOPILOT_DATABASE_URL: db.url, AUTOPILOT_ARTIFACT_URI: artifactUri, AUTOPILOT_DATA_DIR: join(dir, 'data'), AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379',
    });
    procs.push(server.child);
    const baselineRoot = process.argv.includes('--baseline-root') ? resolve(process.argv[process.argv.indexOf('--baseline-root') + 1]) : null;
    const abRounds = baselineRoot === null ? 0 : e2eArg('ab-rounds', 3);
    const baseServer = baselineRoot === null
      ? null
      : await startServer([join(baselineRoot, 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(dir, 'cache-baseline'), '--max-body', '1mb', '--max-reward-batch', String(Math.max(500, batch))], {
          AUTOPILOT_DATABASE_URL: db.url, AUTOPILOT_ARTIFACT_URI: artifactUri, AUTOPILOT_DATA_DIR: join(dir, 'data-baseline'), AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379',
        });
    if (baseServer) procs.push(baseServer.child);

    // Decisions to reward: what decide writes (context with its intercept, arm), pre-written in bulk.
    // Enough distinct decisions for every run and its warm-up at 45,000/s one per request and 80,000/s
    // batched, well above the rates measured so far (bench/RESULTS.md); past the end ids would repeat
    // (answered 200, shown as duplicates).
    const rng = new Rng(11);
    const nDecisions = Math.ceil((duration + 1) * (1 + 2 * abRounds) * ((only === 'batched' ? 0 : 45_000) + (only === 'single' ? 0 : 80_000))) + 20_000;
    for (let start = 0; start < nDecisions; start += 5000) {
      const pipe = redis.pipeline();
      for (let i = start; i < Math.min(nDecisions, start + 5000); i++) {
        const id = randomUUID();
        ids.push(id);
        const x = [1, ...Array.from({ length: d - 1 }, () => Math.round(rng.uniform() * 1000) / 1000)];
        pipe.set(`bandit:decision:${id}`, JSON.stringify({ deployment: 'router', stateKey, arm: rng.int(K), x }), 'EX', 900);
      }
      await pipe.exec();
    }
    const idsFile = join(dir, 'ids.txt');
    writeFileSync(idsFile, ids.join('\n'));
    let next = 0; // the next decision id to reward (both clients)
    const singleBody = () => {
      const i = next++;
      return `{"decisionId":"${ids[i % ids.length]}","reward":${(i % 10) / 10}}`;
    };

    const features = Object.fromEntries(names.map((n, i) => [n, Math.round(Math.sin(i + 1) * 1000) / 1000]));
    const banditBody = JSON.stringify({ deployment: 'router', features });
    const policyBody = JSON.stringify({ deployment: 'ranker', features: Array.from({ length: 16 }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000) });
    const canned = '{"decisionId":"00000000-0000-4000-8000-000000000000","reward":0.5}';
    const bareUrl = new URL(`${bare.url}/`);
    // Warm-up (JIT, connections), not counted: rewards here use ids from the pool too.
    if (!rewardsOnly) await drive(`${server.url}/v1/decide`, { duration: 1, connections, body: banditBody });
    await drive(`${server.url}/v1/rewards`, { duration: 1, connections, bodies: singleBody });
    await drive(`${bare.url}/`, { duration: 1, connections, body: canned });

    const bareRun = async (client: Client, connections: number): Promise<BareFigures> => {
      if (client === 'lean') await leanLoad({ host: bareUrl.hostname, port: Number(bareUrl.port), path: '/', connections, durationS: 1, body: canned }); // warm-up
      const cpu0 = procCpuSeconds(bare.child.pid!);
      const self0 = process.cpuUsage();
      if (client === 'autocannon') {
        const r = await drive(`${bare.url}/`, { duration, connections, body: canned });
        const self = process.cpuUsage(self0);
        return { client, connections, rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, serverCpuPerRequestUs: ((procCpuSeconds(bare.child.pid!) - cpu0) / Math.max(1, r.ok)) * 1e6, loadGeneratorCpuPerRequestUs: (self.user + self.system) / Math.max(1, r.ok) };
      }
      const r = await leanLoad({ host: bareUrl.hostname, port: Number(bareUrl.port), path: '/', connections, durationS: duration, body: canned });
      const cpu = procCpuSeconds(bare.child.pid!) - cpu0;
      return { client, connections, rps: r.ok / r.durationS, p50: r.p50, p99: r.p99, errors: r.errors, serverCpuPerRequestUs: (cpu / Math.max(1, r.ok)) * 1e6, loadGeneratorCpuPerRequestUs: r.cpuPerRequestUs };
    };

    const rewardRun = async (client: Client, perRequest: number, conns: number, target = server): Promise<RewardFigures> => {
      const rewardsUrl = new URL(`${target.url}/v1/rewards`);
      if (client === 'lean') {
        // Warm-up with the same shape outside the measurement (ids consumed).
        const w = await leanLoad({ host: rewardsUrl.hostname, port: Number(rewardsUrl.port), path: rewardsUrl.pathname, connections: conns, durationS: 1, perRequest, idsFile, start: next });
        next = w.next;
      }
      const seq0 = await settledSeq(redis, stateHash);
      const first = next;
      const cpu0 = procCpuSeconds(target.child.pid!);
      const redisCpu0 = await redisCpuSeconds(redis);
      const pgCpu0 = postgresCpu();
      const self0 = process.cpuUsage();
      let load: Omit<RewardFigures, 'serverCpuPerRewardUs' | 'redisCpuPerRewardUs' | 'postgresCpuPerRewardUs' | 'seqMoved' | 'claimed' | 'loadGeneratorCpuPerRewardUs'>;
      let generatorCpu: number;
      if (client === 'autocannon') {
        let recorded = 0;
        let duplicates = 0;
        let rejected = 0;
        const r = await drive(`${target.url}/v1/rewards`, {
          duration, connections: conns, bodies: singleBody,
          onBody: (status: number) => {
            if (status === 201) recorded++;
            else if (status === 200) duplicates++;
            else rejected++;
          },
        });
        const self = process.cpuUsage(self0);
        generatorCpu = (self.user + self.system) / 1e6;
        const secs = r.ok > 0 ? r.ok / r.rps : duration;
        load = { client, perRequest, connections: conns, rps: r.rps, p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors, updatesPerSec: recorded / secs, recorded, duplicates, rejected };
      } else {
        const r = await leanLoad({ host: rewardsUrl.hostname, port: Number(rewardsUrl.port), path: rewardsUrl.pathname, connections: conns, durationS: duration, perRequest, idsFile, start: next });
        next = r.next;
        generatorCpu = (r.cpuPerRequestUs * r.requests) / 1e6;
        load = { client, perRequest, connections: conns, rps: r.requests / r.durationS, p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors, updatesPerSec: r.recorded / r.durationS, recorded: r.recorded, duplicates: r.duplicates, rejected: r.rejected };
      }
      // After the last flush and the last reward rows (50 ms windows): their work counts too.
      const seqMoved = (await settledSeq(redis, stateHash)) - seq0;
      const serverCpu = procCpuSeconds(target.child.pid!) - cpu0;
      const redisCpu = (await redisCpuSeconds(redis)) - redisCpu0;
      const pgCpu = postgresCpuSince(pgCpu0);
      if (next - first > ids.length) throw new Error(`the run used ${next - first} decision ids, only ${ids.length} were written`);
      let claimed = 0;
      for (let i = first; i < next; i += 5000) {
        const keys = Array.from({ length: Math.min(5000, next - i) }, (_, j) => `bandit:reward:${ids[(i + j) % ids.length]}`);
        claimed += await redis.exists(...keys);
      }
      const per = (cpu: number) => (cpu / Math.max(1, claimed)) * 1e6;
      return { ...load, serverCpuPerRewardUs: per(serverCpu), redisCpuPerRewardUs: per(redisCpu), postgresCpuPerRewardUs: per(pgCpu), loadGeneratorCpuPerRewardUs: per(generatorCpu), seqMoved, claimed };
    };

    const bareAutocannon = await bareRun('autocannon', connections);
    const bareLean = await bareRun('lean', leanConnections);
    const singleAutocannon = only === 'batched' ? null : await rewardRun('autocannon', 1, connections);
    const singleLean = only === 'batched' ? null : await rewardRun('lean', 1, leanConnections);
    const batched = only === 'single' ? null : await rewardRun('lean', batch, batchConnections);
    const banditDecide = rewardsOnly ? null : await paced(`${server.url}/v1/decide`, banditBody, rate, duration);
    const policyDecide = rewardsOnly ? null : await paced(`${server.url}/v1/decide`, policyBody, rate, duration);
    const banditMax = rewardsOnly ? null : await drive(`${server.url}/v1/decide`, { duration, connections, body: banditBody });
    const ab: { single: { thisCode: number[]; baseline: number[] }; batched: { thisCode: number[]; baseline: number[] } } = { single: { thisCode: [], baseline: [] }, batched: { thisCode: [], baseline: [] } };
    for (let i = 0; baseServer !== null && i < abRounds; i++) {
      if (only !== 'batched') {
        ab.single.thisCode.push((await rewardRun('lean', 1, leanConnections)).updatesPerSec);
        ab.single.baseline.push((await rewardRun('lean', 1, leanConnections, baseServer)).updatesPerSec);
      }
      if (only !== 'single') {
        ab.batched.thisCode.push((await rewardRun('lean', batch, batchConnections)).updatesPerSec);
        ab.batched.baseline.push((await rewardRun('lean', batch, batchConnections, baseServer)).updatesPerSec);
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const abFigures = baseServer === null
      ? null
      : {
          baselineRoot,
          rounds: ab,
          single: { thisCode: med(ab.single.thisCode), baseline: med(ab.single.baseline), ratio: med(ab.single.thisCode.map((v, i) => v / ab.single.baseline[i])) },
          batched: { thisCode: med(ab.batched.thisCode), baseline: med(ab.batched.baseline), ratio: med(ab.batched.thisCode.map((v, i) => v / ab.batched.baseline[i])) },
        };

    const figures = {
      machine: { cpus: cpus().length, node: process.version },
      settings: { duration, rate, connections, leanConnections, batch, batchConnections, d, arms: K },
      rewardUpdatesPerSec: { singleAutocannon: singleAutocannon?.updatesPerSec ?? null, single: singleLean?.updatesPerSec ?? null, batched: batched?.updatesPerSec ?? null },
      rewards: { singleAutocannon, single: singleLean, batched },
      bareHttpBaseline: { autocannon: bareAutocannon, lean: bareLean },
      ratioToBareHttp: {
        singleAutocannon: singleAutocannon ? singleAutocannon.updatesPerSec / bareAutocannon.rps : null,
        single: singleLean ? singleLean.updatesPerSec / bareLean.rps : null,
        batched: batched ? batched.updatesPerSec / bareLean.rps : null,
      },
      decideAtFixedRate: { bandit: banditDecide, policy: policyDecide },
      banditDecideMax: banditMax,
      ab: abFigures,
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    } else {
      const f = (v: number, n = 0) => v.toLocaleString('en-US', { maximumFractionDigits: n, minimumFractionDigits: n });
      const head = (name: string, r: { rps: number; p50: number; p99: number; errors: number; non2xx?: number }) =>
        `  ${name.padEnd(50)} ${f(r.rps).padStart(8)} req/s   p50 ${f(r.p50, 3)} ms   p99 ${f(r.p99, 3)} ms   non-2xx ${r.non2xx ?? 0}   errors ${r.errors}`;
      const bareLine = (b: BareFigures) => {
        console.log(head(`bare node:http, ${b.client}, ${b.connections} conns`, b));
        console.log(`    CPU per request: bare server ${f(b.serverCpuPerRequestUs, 1)} µs, load generator ${f(b.loadGeneratorCpuPerRequestUs, 1)} µs`);
      };
      const rewardLines = (name: string, r: RewardFigures, base: BareFigures) => {
        console.log(head(name, r));
        console.log(`    reward updates/s end to end: ${f(r.updatesPerSec)} (${f(r.updatesPerSec / base.rps, 2)}× the bare server's req/s with the same client)`);
        console.log(`    CPU per reward: server ${f(r.serverCpuPerRewardUs, 1)} µs, Redis ${f(r.redisCpuPerRewardUs, 1)} µs, PostgreSQL ${f(r.postgresCpuPerRewardUs, 1)} µs, load generator ${f(r.loadGeneratorCpuPerRewardUs, 1)} µs`);
        const inFlight = r.claimed - r.recorded - r.duplicates;
        console.log(`    answered: recorded ${r.recorded}, duplicates ${r.duplicates}, rejected ${r.rejected}; claimed in Redis ${r.claimed}${inFlight > 0 ? ` (+${inFlight} in flight when the client stopped counting)` : ''}; seq moved by ${r.seqMoved}: ${r.seqMoved === r.claimed ? 'exactly one increment per claim' : `MISMATCH, expected ${r.claimed}`}`);
      };
      const pacedLine = (name: string, r: PacedResult) =>
        `  ${name.padEnd(50)} ${f(r.ok / r.durationS).padStart(8)} req/s   p50 ${f(r.p50, 3)} ms   p99 ${f(r.p99, 3)} ms   p99.9 ${f(r.p999, 3)} ms   non-2xx ${r.non2xx}   errors ${r.errors}`;
      console.log(`\nend to end — ${cpus().length} CPUs, ${duration} s per run, loopback (server, Redis, PostgreSQL and the load generator share the machine)`);
      bareLine(bareAutocannon);
      bareLine(bareLean);
      if (singleAutocannon !== null) rewardLines(`POST /v1/rewards, 1 per request, autocannon, ${connections} conns`, singleAutocannon, bareAutocannon);
      if (singleLean !== null) rewardLines(`POST /v1/rewards, 1 per request, lean, ${leanConnections} conns`, singleLean, bareLean);
      if (batched !== null) rewardLines(`POST /v1/rewards, ${batch} per request, lean, ${batchConnections} conns`, batched, bareLean);
      if (banditDecide !== null && policyDecide !== null && banditMax !== null) {
        console.log(pacedLine(`decide bandit @ ${rate}/s (open loop)`, banditDecide));
        console.log(pacedLine(`decide ONNX policy @ ${rate}/s (open loop)`, policyDecide));
        console.log(head('decide bandit, max rate (autocannon)', banditMax));
      }
      if (abFigures !== null) {
        const abLine = (name: string, x: { thisCode: number; baseline: number; ratio: number }, rounds: { thisCode: number[]; baseline: number[] }) =>
          `  A/B ${name}: this code ${f(x.thisCode)} vs baseline ${f(x.baseline)} reward updates/s (medians of ${rounds.thisCode.length} alternating rounds: ${rounds.thisCode.map((v, i) => `${f(v)}/${f(rounds.baseline[i])}`).join(', ')}) → ratio ${f(x.ratio, 3)}`;
        console.log(`A/B against ${abFigures.baselineRoot}:`);
        if (only !== 'batched') console.log(abLine(`single, lean, ${leanConnections} conns`, abFigures.single, abFigures.rounds.single));
        if (only !== 'single') console.log(abLine(`${batch} per request, lean, ${batchConnections} conns`, abFigures.batched, abFigures.rounds.batched));
      }
    }
    server.child.kill('SIGTERM');
    baseServer?.child.kill('SIGTERM');
    await server.exited;
    if (baseServer) await baseServer.exited;
  } finally {
    for (const c of procs) if (c.exitCode === null) c.kill('SIGKILL');
    await redis.del(stateHash, `bandit:flushed:${stateKey}`);
    for (let i = 0; i < ids.length; i += 5000) {
      const slice = ids.slice(i, i + 5000);
      await redis.unlink(...slice.map((id) => `bandit:decision:${id}`), ...slice.map((id) => `bandit:reward:${id}`));
    }
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
