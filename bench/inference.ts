/**
 * Inference server throughput and latency on loopback (issue 3). Run:
 *   node -r ./scripts/register-ts.js bench/inference.ts [--duration 10] [--rounds 3] [--paced-rounds 3] [--rate 5000]
 *     [--connections 16,64,128] [--paced-connections 32] [--baseline-root DIR] [--durability journal] [--json]
 *
 * Sets up a throw-away registry database with a policy of the PPO shape (16 inputs, 2×64 tanh, five
 * heads: variant, k, rerank, fusion weight, prompt id) as champion and a second version as a 25%
 * canary, starts `autopilot serve` as its own process, and in the same run a bare node:http server (its
 * own process too) that reads the body and returns a constant JSON: the baseline. A second baseline,
 * bench/support/bare-fast.ts, is Autopilot's own HTTP layer (with its fast path) answering the same
 * constant: decide against it is what the decision itself costs (printed, not a target).
 *
 * - Maximum throughput: autocannon (in this process) against the bare server and POST /v1/decide at each
 *   of `--connections` (closed-loop clients: a server's peak needs enough requests in flight, and the
 *   two servers peak at different counts), alternating, `--duration`/2 s each, `--rounds` times
 *   (alternation keeps drift in the machine's speed out of the ratio). Each server's maximum of a
 *   round is its best rate over the connection counts; the ratio of the maxima per round and their
 *   median. The ratio at each connection count is printed too.
 * - Latency at a fixed rate: bench/support/paced-load.ts, an open-loop generator in its own process
 *   that sends request k at t0 + k/rate (autocannon's `overallRate` sends each second's quota in one
 *   burst, i.e. measures a saturated server), against the bare server and /v1/decide, alternating,
 *   `--paced-rounds` times `--duration` s each; the target is judged on the median p99 of the rounds.
 * - Where decide's tail comes from at the fixed rate: how long the server's own event loop was held
 *   (prom-client's event-loop delay gauges, read before and after the round) and, when p99 is over 2 ms,
 *   the three 100-ms windows with the slowest answers (a stall and its backlog show as one window with a
 *   high p50; a stall longer than the event loop was ever held happened outside the server's thread).
 * - Steal: the share of the machine's CPU time its hypervisor gave to others during each run (/proc/stat).
 *   On a shared host it is the first thing to read when a round's figures jump.
 * - Auth (R-security): the server runs with API keys on (the default) and its requests carry a key; a second
 *   `autopilot serve --auth off` on the same registry answers the same decide body in every round,
 *   alternating: the ratio of decide's best with auth to its best without, median of the rounds, is the
 *   cost of the key check (target ≥ 0.95).
 * - CPU per request of the server, of PostgreSQL (the decision log's COPY lands there) and of the load
 *   generator; ORT's own run cost; and, after SIGTERM drains the server, the decisions lost (served −
 *   rows in `decisions`, must be 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Registry } from '../registry';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { migrate } from '../registry/migrate';
import { createTestDatabase } from '../test/support/pg';
import { buildTestPolicy } from '../inference/testing/test-policy';
import { Db } from '../registry/db';
import { createKey } from '../registry/keys';
import type { PacedOptions, PacedResult } from './support/paced-load';
import { BASELINE_ANSWER } from './support/baseline-answer';
import { quantile } from './support/load-common';
import { hostCpu, postgresCpu, postgresCpuSince, procCpuSeconds, stealSince } from './support/proc-cpu';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => AutocannonInstance;

interface AutocannonInstance extends Promise<AutocannonResult> {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
}

const root = resolve(__dirname, '..');
const args = process.argv.slice(2);
/** The value after `--name`, or null. */
const textArg = (name: string): string | null => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : null;
};
const arg = (name: string, dflt: number) => {
  const v = textArg(name);
  return v === null ? dflt : Number(v);
};
/** A space-separated list after `--name` (extra flags for the server), or none. */
const listArg = (name: string): string[] => (textArg(name) ?? '').split(/\s+/).filter(Boolean);
const DURATION = arg('duration', 10);
const ROUNDS = arg('rounds', 3);
const RATE = arg('rate', 5000);
/** Connection counts of the maximum-throughput runs (`--connections 16,64,128`). */
const CONNECTIONS = (textArg('connections') ?? '16,64,128').split(',').map((c) => {
  const n = Number(c);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`--connections ${JSON.stringify(c)}: expected comma-separated integers in 1..1024`);
  return n;
});
const PACED_CONNECTIONS = arg('paced-connections', 32);
/** Fixed-rate rounds (bare, then decide, `--duration` s each): the machine's speed drifts, so one run is not a figure. */
const PACED_ROUNDS = arg('paced-rounds', 3);
const JSON_OUT = args.includes('--json');
const PROFILE_DIR = textArg('profile');
/** Extra node flags for the server process, e.g. `--server-node-flags "--trace-gc"` (its output goes to this process's stderr with --show-server-output). */
const SERVER_NODE_FLAGS = listArg('server-node-flags');
const SHOW_SERVER_OUTPUT = args.includes('--show-server-output');
/** Extra `autopilot serve` arguments, e.g. `--server-args "--decision-batch 64"`. */
const SERVER_ARGS = listArg('server-args');
/**
 * A/B against other code: `--baseline-root DIR` (a checkout of the code to compare with, e.g. a
 * `git worktree` of the previous commit, with its node_modules) starts that checkout's `autopilot serve`
 * on the same registry and runs it in every round beside this checkout's, alternating: the old/new
 * ratios are then measured on the same machine, in the same minutes.
 */
const BASELINE_ROOT = textArg('baseline-root') === null ? null : resolve(textArg('baseline-root')!);
/**
 * `--durability journal`: instead of another checkout, the second server is this code's `autopilot serve
 * --decision-durability journal`, run in every round beside the default (async) one, alternating: its
 * maximum throughput and its p99 at `--rate` are printed in the "baseline" lines (labelled with the mode),
 * and "this code / baseline" is async / journal. Not with --baseline-root.
 */
const DURABILITY = textArg('durability');
if (DURABILITY !== null && (DURABILITY !== 'journal' || BASELINE_ROOT !== null)) throw new Error(`--durability ${DURABILITY}: expected journal, and no --baseline-root`);
const BASE_LABEL = DURABILITY === null ? 'baseline decide' : `decide, ${DURABILITY} durability`;

const BARE = `
const http = require('node:http');
const body = process.env.BARE_BODY;
const length = Buffer.byteLength(body);
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': length }); res.end(body); });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log('serving on http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function startProcess(cmd: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null>; output: () => string }> {
  const child = spawn(process.execPath, cmd, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`did not start: ${out}`)), 60_000);
    const on = (d: Buffer) => {
      out += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res({ child, url: m[1], exited, output: () => out });
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (c) => rej(new Error(`exited with ${c}: ${out}`)));
  });
}

const cpuSeconds = procCpuSeconds;

interface RunFigures {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  ok: number;
  /** Server CPU (user + system) per answered request, µs. */
  cpuPerRequestUs: number;
  /** PostgreSQL CPU per answered request, µs (all postgres processes: other load on the box counts too). */
  dbCpuPerRequestUs: number;
  /** The share of the machine's CPU time the hypervisor took during the run (steal), 0..1. */
  steal: number;
}

/** `Authorization` of the bench's API key (set in main; every request to an `autopilot serve` with auth on carries it). */
let AUTHORIZATION: string | undefined;

async function load(url: string, body: string, opts: { duration: number; connections: number; rate?: number; pid?: number }): Promise<RunFigures> {
  const lat: number[] = [];
  const cpu0 = opts.pid ? cpuSeconds(opts.pid) : NaN;
  const db0 = postgresCpu();
  const host0 = hostCpu();
  const inst = autocannon({
    url,
    method: 'POST',
    headers: AUTHORIZATION === undefined ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', authorization: AUTHORIZATION },
    body,
    connections: opts.connections,
    duration: opts.duration,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
  });
  inst.on('response', (_c, _s, _b, ms) => lat.push(ms));
  const r = await inst;
  const cpu1 = opts.pid ? cpuSeconds(opts.pid) : NaN;
  const db = postgresCpuSince(db0);
  const sorted = Float64Array.from(lat).sort();
  return {
    rps: r['2xx'] / r.duration,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1],
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    ok: r['2xx'],
    cpuPerRequestUs: ((cpu1 - cpu0) / Math.max(1, r['2xx'])) * 1e6,
    dbCpuPerRequestUs: (db / Math.max(1, r['2xx'])) * 1e6,
    steal: stealSince(host0),
  };
}

interface PacedFigures extends Omit<PacedResult, 'cpuPerRequestUs'> {
  generatorCpuPerRequestUs: number;
  cpuPerRequestUs: number;
  dbCpuPerRequestUs: number;
  /**
   * How long the server's event loop was held beyond its monitor's 10-ms period over the run, ms (p99 and
   * max of prom-client's event-loop delay gauges, less the period; decide only), or null.
   */
  serverLoopDelay: { p99: number; max: number } | null;
  /** The share of the machine's CPU time the hypervisor took during the run (steal), 0..1. */
  steal: number;
}

/** prom-client's timer period (its default `eventLoopMonitoringPrecision`): the delay it records includes it. */
const LOOP_MONITOR_PERIOD_MS = 10;

/** prom-client's event-loop delay gauges of `metricsUrl` less the timer period, ms; reading them resets the monitor. */
async function loopDelay(metricsUrl: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const gauge = (name: string) => {
    const m = new RegExp(`^autopilot_inference_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    if (m === null) throw new Error(`${metricsUrl}: no autopilot_inference_nodejs_eventloop_lag_${name}_seconds`);
    return Math.max(0, Number(m[1]) * 1000 - LOOP_MONITOR_PERIOD_MS);
  };
  return { p99: gauge('p99'), max: gauge('max') };
}

/** The open-loop generator at `rate` in its own process (bench/support/paced-load.ts). */
async function paced(url: string, body: string, rate: number, pid: number, metricsUrl?: string): Promise<PacedFigures> {
  const u = new URL(url);
  if (metricsUrl !== undefined) await loopDelay(metricsUrl); // resets the monitor
  const opts: PacedOptions = { host: u.hostname, port: Number(u.port), path: u.pathname, body, rate, durationS: DURATION, connections: PACED_CONNECTIONS, warmupS: 1, authorization: AUTHORIZATION };
  const cpu0 = cpuSeconds(pid);
  const db0 = postgresCpu();
  const host0 = hostCpu();
  const out = await new Promise<string>((res, rej) => {
    const child = spawn(process.execPath, ['-r', join(root, 'scripts/register-ts.js'), join(root, 'bench/support/paced-load.ts'), JSON.stringify(opts)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => (code === 0 ? res(stdout) : rej(new Error(`paced-load exited ${code}: ${stderr}`))));
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as PacedResult;
  const steal = stealSince(host0);
  const serverLoopDelay = metricsUrl === undefined ? null : await loopDelay(metricsUrl);
  // Server and database CPU over the warm-up and the measured part alike (both at `rate`).
  const n = r.sent * (1 + (opts.warmupS ?? 0) / DURATION);
  return {
    ...r,
    generatorCpuPerRequestUs: r.cpuPerRequestUs,
    cpuPerRequestUs: ((cpuSeconds(pid) - cpu0) / n) * 1e6,
    dbCpuPerRequestUs: (postgresCpuSince(db0) / n) * 1e6,
    serverLoopDelay,
    steal,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function ortRunCost(bytes: Uint8Array): Promise<number> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const x = new Float32Array(16).fill(0.25);
  for (let i = 0; i < 2000; i++) await s.run({ obs: new ort.Tensor('float32', x, [1, 16]) });
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await s.run({ obs: new ort.Tensor('float32', x, [1, 16]) });
  const us = ((performance.now() - t0) / n) * 1000;
  await s.release();
  return us;
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'ap-bench-inference-'));
  const procs: ChildProcess[] = [];
  try {
    await migrate(db.pool);
    const artifactUri = `file://${join(dir, 'artifacts')}`;
    const registry = new Registry({ pool: db.pool, store: FsArtifactStore.fromUri(artifactUri) });
    const champion = buildTestPolicy(1);
    const canary = buildTestPolicy(2);
    const v1 = await registry.registerVersion({ model: 'ranker', artifact: { buffer: champion.bytes }, format: 'onnx', signature: champion.signature as never, createModel: true, actor: 'bench' });
    const v2 = await registry.registerVersion({ model: 'ranker', artifact: { buffer: canary.bytes }, format: 'onnx', signature: canary.signature as never, actor: 'bench' });
    await registry.setDeployment({ model: 'ranker', championVersion: v1.version, canaryVersion: v2.version, canaryWeight: 25, actor: 'bench' });
    // A key limited to the deployment, as a tenant's would be (the baselines ignore the header).
    AUTHORIZATION = `Bearer ${(await createKey(Db.fromPool(db.pool), { name: 'bench', scopes: ['decide:ranker'] })).token}`;

    const ortUs = await ortRunCost(champion.bytes);
    const bare = await startProcess(['-e', BARE], { BARE_BODY: JSON.stringify(BASELINE_ANSWER) });
    procs.push(bare.child);
    const bareFast = await startProcess(['-r', join(root, 'scripts/register-ts.js'), join(root, 'bench/support/bare-fast.ts')], {});
    procs.push(bareFast.child);
    const serve = (codeRoot: string, tag: string, profile: boolean, extra: string[] = []) =>
      startProcess([...SERVER_NODE_FLAGS, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), join(codeRoot, 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(dir, `cache${tag}`), '--no-redis', ...SERVER_ARGS, ...extra], {
        AUTOPILOT_DATABASE_URL: db.url,
        AUTOPILOT_ARTIFACT_URI: artifactUri,
        AUTOPILOT_DATA_DIR: join(dir, `data${tag}`),
      });
    const server = await serve(root, '', PROFILE_DIR !== null);
    procs.push(server.child);
    const baseServer = DURABILITY !== null ? await serve(root, `-${DURABILITY}`, false, ['--decision-durability', DURABILITY]) : BASELINE_ROOT === null ? null : await serve(BASELINE_ROOT, '-baseline', false);
    if (baseServer) procs.push(baseServer.child);
    const baseDecideUrl = baseServer ? `${baseServer.url}/v1/decide` : null;
    const noAuthServer = await serve(root, '-noauth', false, ['--auth', 'off']);
    procs.push(noAuthServer.child);
    const noAuthDecideUrl = `${noAuthServer.url}/v1/decide`;

    // The two baselines must put the same bytes on the wire (one constant, bench/support/baseline-answer.ts).
    const answers = await Promise.all([`${bare.url}/`, `${bareFast.url}/v1/decide`].map(async (u) => (await fetch(u, { method: 'POST', body: '{}' })).text()));
    if (answers[0] !== answers[1]) throw new Error(`the baselines answer differently: ${answers[0]} against ${answers[1]}`);
    const features = Array.from({ length: 16 }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000);
    const decideBody = JSON.stringify({ deployment: 'ranker', features, unit: 'user:42' });
    const decideUrl = `${server.url}/v1/decide`;
    let decisionsOk = 0;
    const warm = await load(decideUrl, decideBody, { duration: 2, connections: 16 });
    decisionsOk += warm.ok;
    if (warm.ok === 0) throw new Error(`decide answered no 2xx in the warm-up (non-2xx ${warm.non2xx}): is the API key accepted?`);
    decisionsOk += (await load(noAuthDecideUrl, decideBody, { duration: 2, connections: 16 })).ok;
    if (baseDecideUrl) decisionsOk += (await load(baseDecideUrl, decideBody, { duration: 2, connections: 16 })).ok;
    await load(`${bare.url}/`, decideBody, { duration: 2, connections: 16 });
    await load(`${bareFast.url}/v1/decide`, decideBody, { duration: 2, connections: 16 });

    if (PROFILE_DIR) {
      // With --rate the profiled load is the paced generator at that rate, else autocannon at full speed.
      const r = args.includes('--rate') ? await paced(decideUrl, decideBody, RATE, server.child.pid!) : await load(decideUrl, decideBody, { duration: DURATION, connections: Math.max(...CONNECTIONS), pid: server.child.pid });
      process.stdout.write(`profile run: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, server CPU ${r.cpuPerRequestUs.toFixed(1)} µs/request\n`);
      server.child.kill('SIGTERM');
      await server.exited;
      return;
    }
    type Level = { connections: number; bare: RunFigures; own: RunFigures; decide: RunFigures; noAuth: RunFigures; base: RunFigures | null };
    const rounds: {
      levels: Level[];
      bare: Level;
      own: Level;
      decide: Level;
      ratio: number;
      ratioToOwn: number;
      /** Decide's best with auth on / its best with --auth off. */
      authRatio: number;
      noAuthBest: { connections: number; rps: number };
      /** With --baseline-root: the baseline code's decide best / bare best, this code's best / the baseline's. */
      baseRatio: number | null;
      newToBase: number | null;
      baseBest: { connections: number; rps: number } | null;
    }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const levels: Level[] = [];
      for (const connections of CONNECTIONS) {
        const b = await load(`${bare.url}/`, decideBody, { duration: DURATION / 2, connections, pid: bare.child.pid });
        const o = await load(`${bareFast.url}/v1/decide`, decideBody, { duration: DURATION / 2, connections, pid: bareFast.child.pid });
        const d = await load(decideUrl, decideBody, { duration: DURATION / 2, connections, pid: server.child.pid });
        decisionsOk += d.ok;
        const n = await load(noAuthDecideUrl, decideBody, { duration: DURATION / 2, connections, pid: noAuthServer.child.pid });
        decisionsOk += n.ok;
        const a = baseServer ? await load(baseDecideUrl!, decideBody, { duration: DURATION / 2, connections, pid: baseServer.child.pid }) : null;
        decisionsOk += a?.ok ?? 0;
        levels.push({ connections, bare: b, own: o, decide: d, noAuth: n, base: a });
      }
      const best = (pick: (l: Level) => RunFigures) => levels.reduce((a, l) => (pick(l).rps > pick(a).rps ? l : a));
      const bareBest = best((l) => l.bare);
      const decideBest = best((l) => l.decide);
      const ownBest = best((l) => l.own);
      const noAuthBest = best((l) => l.noAuth);
      const baseBest = baseServer ? levels.reduce((x, l) => (l.base!.rps > x.base!.rps ? l : x)) : null;
      rounds.push({
        levels,
        bare: bareBest,
        own: ownBest,
        decide: decideBest,
        ratio: decideBest.decide.rps / bareBest.bare.rps,
        ratioToOwn: decideBest.decide.rps / ownBest.own.rps,
        authRatio: decideBest.decide.rps / noAuthBest.noAuth.rps,
        noAuthBest: { connections: noAuthBest.connections, rps: noAuthBest.noAuth.rps },
        baseRatio: baseBest ? baseBest.base!.rps / bareBest.bare.rps : null,
        newToBase: baseBest ? decideBest.decide.rps / baseBest.base!.rps : null,
        baseBest: baseBest ? { connections: baseBest.connections, rps: baseBest.base!.rps } : null,
      });
    }
    const ratio = median(rounds.map((r) => r.ratio));
    const ratioToOwn = median(rounds.map((r) => r.ratioToOwn));
    const authRatio = median(rounds.map((r) => r.authRatio));
    // The same comparison in server CPU per decision (without auth / with auth, every level of every round):
    // the throughput ratio of a CPU-bound server, and far less sensitive to other load on a shared host.
    const authCpuRatio = median(rounds.flatMap((r) => r.levels.map((l) => l.noAuth.cpuPerRequestUs / l.decide.cpuPerRequestUs)));
    const ratioAt = CONNECTIONS.map((connections, k) => ({ connections, ratio: median(rounds.map((r) => r.levels[k].decide.rps / r.levels[k].bare.rps)) }));
    const fixed: { bare: PacedFigures; own: PacedFigures; decide: PacedFigures; base: PacedFigures | null }[] = [];
    for (let i = 0; i < PACED_ROUNDS; i++) {
      const b = await paced(`${bare.url}/`, decideBody, RATE, bare.child.pid!);
      const o = await paced(`${bareFast.url}/v1/decide`, decideBody, RATE, bareFast.child.pid!);
      const d = await paced(decideUrl, decideBody, RATE, server.child.pid!, `${server.url}/metrics`);
      decisionsOk += d.ok;
      const a = baseServer ? await paced(baseDecideUrl!, decideBody, RATE, baseServer.child.pid!, `${baseServer.url}/metrics`) : null;
      decisionsOk += a?.ok ?? 0;
      fixed.push({ bare: b, own: o, decide: d, base: a });
    }
    const p99Median = median(fixed.map((r) => r.decide.p99));
    const p99Max = Math.max(...fixed.map((r) => r.decide.p99));
    const fixedErrors = fixed.reduce((a, r) => a + r.decide.errors + r.decide.non2xx, 0);
    const ab = baseServer
      ? {
          baselineRoot: BASELINE_ROOT,
          ratioOfMaxima: { thisCode: ratio, baseline: median(rounds.map((r) => r.baseRatio!)) },
          thisToBaseline: median(rounds.map((r) => r.newToBase!)),
          p99AtFixedRateMs: { thisCode: median(fixed.map((r) => r.decide.p99)), baseline: median(fixed.map((r) => r.base!.p99)) },
        }
      : null;

    // Decisions the server answered (its own counter: autocannon drops responses still in flight when a run ends).
    const servedBy = async (url: string) =>
      [...(await (await fetch(`${url}/metrics`)).text()).matchAll(/^autopilot_decisions_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    const served = (await servedBy(server.url)) + (await servedBy(noAuthServer.url)) + (baseServer ? await servedBy(baseServer.url) : 0);
    server.child.kill('SIGTERM');
    noAuthServer.child.kill('SIGTERM');
    await noAuthServer.exited;
    baseServer?.child.kill('SIGTERM');
    const code = await server.exited;
    if (baseServer) await baseServer.exited;
    if (SHOW_SERVER_OUTPUT) process.stderr.write(server.output());
    const rows = Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM decisions')).rows[0].n);
    const lost = served - rows;

    const maxErrors = rounds.reduce((a, r) => a + r.levels.reduce((b, l) => b + l.decide.errors + l.decide.non2xx, 0), 0);
    const figures = {
      machine: { cpus: cpus().length, node: process.version },
      settings: { durationS: DURATION, rounds: ROUNDS, connections: CONNECTIONS, pacedConnections: PACED_CONNECTIONS, fixedRate: RATE },
      ortRunMicroseconds: ortUs,
      max: { rounds, ratio, ratioToOwnHttpLayer: ratioToOwn, ratioAtConnections: ratioAt, authOnToOff: authRatio, authOnToOffByCpu: authCpuRatio },
      fixedRate: { rounds: fixed, decideP99MedianMs: p99Median, decideP99MaxMs: p99Max },
      ab,
      decisions: { served, answered2xxSeenByClient: decisionsOk, rows, lost, serverExitCode: code },
      targets: {
        p99AtFixedRateMs: { target: 2, measured: p99Median, worstRound: p99Max, ok: p99Median <= 2 },
        throughputRatio: { target: 0.6, measured: ratio, ok: ratio >= 0.6 },
        authOnToOff: { target: 0.95, measured: authRatio, ok: authRatio >= 0.95 },
        errors: { target: 0, measured: maxErrors + fixedErrors },
        lost: { target: 0, measured: lost },
      },
    };
    if (JSON_OUT) {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      return;
    }
    const f = (n: number, d = 2) => n.toFixed(d);
    // PostgreSQL's CPU is only shown for decide: the bare server writes nothing to it (and a backend of the
    // previous run exiting meanwhile takes its CPU time out of the sum, which made the figure negative).
    const dbCpu = (r: { dbCpuPerRequestUs: number }, shown: boolean) => (shown ? `, postgres ${f(r.dbCpuPerRequestUs, 1)} µs` : '');
    const line = (name: string, r: RunFigures, withDb = true) =>
      `  ${name.padEnd(28)} ${f(r.rps, 0).padStart(8)} req/s   p50 ${f(r.p50, 3)} ms   p99 ${f(r.p99, 3)} ms   errors ${r.errors}   non-2xx ${r.non2xx}   CPU/req: server ${f(r.cpuPerRequestUs, 1)} µs${dbCpu(r, withDb)}   steal ${f(r.steal * 100, 1)}%`;
    const pacedLine = (name: string, r: PacedFigures, withDb = true) =>
      `  ${name.padEnd(28)} ${f(r.ok / r.durationS, 0).padStart(8)} req/s   p50 ${f(r.p50, 3)} ms   p90 ${f(r.p90, 3)} ms   p99 ${f(r.p99, 3)} ms   p99.9 ${f(r.p999, 3)} ms   max ${f(r.max, 1)} ms   errors ${r.errors + r.non2xx}   ` +
      `CPU/req: server ${f(r.cpuPerRequestUs, 1)} µs${dbCpu(r, withDb)}, generator ${f(r.generatorCpuPerRequestUs, 1)} µs   (generator lag p99 ${f(r.lagP99, 2)} ms, waited for a connection ${r.queued})   steal ${f(r.steal * 100, 1)}%` +
      (r.serverLoopDelay ? `\n      server's event loop held (beyond the monitor's 10-ms period) p99 ${f(r.serverLoopDelay.p99, 1)} ms, max ${f(r.serverLoopDelay.max, 1)} ms` : '') +
      (r.p99 > 2 ? `\n      slowest 100-ms windows: ${r.slowest.map((w) => `${f(w.at, 1)} s max ${f(w.max, 1)} ms p50 ${f(w.p50, 2)} ms`).join('; ')}; generator lag max ${f(r.lagMax, 1)} ms` : '');
    process.stdout.write(
      [
        `bench/inference — ${figures.machine.cpus} CPUs, ${process.version}, loopback`,
        `policy: 16 inputs, 2×64 tanh, 5 heads (champion + 25% canary, sticky unit); onnxruntime run alone: ${f(ortUs, 1)} µs`,
        `maximum throughput (autocannon at ${CONNECTIONS.join(', ')} connections, ${ROUNDS} rounds, bare, own HTTP layer and decide in turn, ${DURATION / 2} s each):`,
        ...rounds.flatMap((r, i) => [
          ...r.levels.flatMap((l) => [
            line(`bare node:http #${i + 1} c${l.connections}`, l.bare, false),
            line(`own HTTP, constant #${i + 1} c${l.connections}`, l.own, false),
            line(`POST /v1/decide #${i + 1} c${l.connections}`, l.decide),
            line(`decide --auth off #${i + 1} c${l.connections}`, l.noAuth),
            ...(l.base ? [line(`${BASE_LABEL} #${i + 1} c${l.connections}`, l.base)] : []),
          ]),
          ...(r.newToBase !== null ? [`    round ${i + 1}: baseline code's decide best ${f(r.baseBest!.rps, 0)} req/s (c${r.baseBest!.connections}) → ratio ${f(r.baseRatio!, 3)}; this code / baseline ${f(r.newToBase, 3)}`] : []),
          `    round ${i + 1}: bare best ${f(r.bare.bare.rps, 0)} req/s (c${r.bare.connections}), decide best ${f(r.decide.decide.rps, 0)} req/s (c${r.decide.connections}) → ratio ${f(r.ratio, 3)}; own HTTP layer best ${f(r.own.own.rps, 0)} req/s (c${r.own.connections}) → decide/own ${f(r.ratioToOwn, 3)}`,
        ]),
        `  ratio at the same connection count, median of ${ROUNDS}: ${ratioAt.map((a) => `c${a.connections} ${f(a.ratio, 3)}`).join(', ')}`,
        `  ratio of the maxima (decide's best / bare's best), median of ${ROUNDS}: ${f(ratio, 3)}   (target ≥ 0.6)`,
        `  decide with auth (a key limited to the deployment) / decide with --auth off, best of each, median of ${ROUNDS}: ${f(authRatio, 3)}   (target ≥ 0.95; per round ${rounds.map((r) => f(r.authRatio, 3)).join(', ')})`,
        `  the same by server CPU per decision (without auth / with auth), median of every level and round: ${f(authCpuRatio, 3)}`,
        `  decide's best / the own HTTP layer's best with a constant answer (what the decision itself costs), median of ${ROUNDS}: ${f(ratioToOwn, 3)}`,
        `fixed rate ${RATE} req/s (open loop, paced every ms, ${PACED_CONNECTIONS} connections, ${PACED_ROUNDS} alternating rounds of ${DURATION} s):`,
        ...fixed.flatMap((r, i) => [
          pacedLine(`bare node:http #${i + 1}`, r.bare, false),
          pacedLine(`own HTTP, constant #${i + 1}`, r.own, false),
          pacedLine(`POST /v1/decide #${i + 1}`, r.decide),
          ...(r.base ? [pacedLine(`${BASE_LABEL} #${i + 1}`, r.base)] : []),
        ]),
        `  decide p99 at ${RATE} req/s, median of ${PACED_ROUNDS}: ${f(p99Median, 3)} ms, worst round ${f(p99Max, 3)} ms   (target ≤ 2 ms; CPU stolen by the hypervisor in those rounds: ${fixed.map((r) => `${f(r.decide.steal * 100, 1)}%`).join(', ')})`,
        ...(ab
          ? [
              `A/B against ${DURABILITY !== null ? `${DURABILITY} durability (this code, async: the default)` : ab.baselineRoot}: ratio of the maxima ${f(ab.ratioOfMaxima.thisCode, 3)} (this code) vs ${f(ab.ratioOfMaxima.baseline, 3)} (baseline); ` +
                `this code's best / the baseline's, median of ${ROUNDS}: ${f(ab.thisToBaseline, 3)}; p99 at ${RATE} req/s ${f(ab.p99AtFixedRateMs.thisCode, 3)} vs ${f(ab.p99AtFixedRateMs.baseline, 3)} ms`,
            ]
          : []),
        `decisions: ${served} served (server counter; ${decisionsOk} 2xx counted by the load generators, warm-ups aside), ${rows} rows in decisions after SIGTERM drain (exit ${code}) → lost ${lost}`,
        '',
      ].join('\n'),
    );
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
