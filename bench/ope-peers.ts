/**
 * OPE against its peer: Open Bandit Pipeline itself (0.5.7, from .venv-obp: scripts/obp-venv.sh) and
 * `autopilot ope` on the same generated NDJSON file — all seven estimators, 10,000 bootstrap
 * resamples, 10 actions, 100,000 and 1,000,000 rounds by default. Each side runs as its own process,
 * timed from outside (wall clock, start-up and file reading included); OBP also reports its reading
 * and estimating seconds. Prints per size: both wall times and their ratio, `autopilot ope` on 1 and
 * on 2 threads (its intervals must be identical), the largest relative difference of the point
 * estimates, and, where /usr/bin/time is available, peak resident memory and CPU seconds (on a
 * machine that others are using, CPU seconds move less than wall clock).
 *
 *   scripts/obp-venv.sh
 *   node -r ./scripts/register-ts.js bench/ope-peers.ts [--rounds 100000,1000000] [--actions 10]
 *     [--resamples 10000] [--obp-resamples N] [--lambda 1.5] [--repeat 2] [--dir DIR] [--generate-only]
 *
 * --obp-resamples N[,N2…] (one per size; the last repeats) < --resamples runs OBP with N resamples and scales its estimating time to
 * --resamples (OBP's bootstrap is a Python loop over resamples, linear in their number); the output
 * says so.
 * --repeat R runs `autopilot ope` R times on each thread count, alternating, and reports the fastest
 * (the machine may be shared). --generate-only writes the NDJSON files (into --dir, reused when present) and stops.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Xorshift128 } from '../ml/stats/fast-random';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const root = join(__dirname, '..');
const SIZES = arg('rounds', '100000,1000000').split(',').map(Number);
const A = Number(arg('actions', '10'));
const B = Number(arg('resamples', '10000'));
const B_OBP_LIST = arg('obp-resamples', String(B)).split(',').map(Number);
const LAMBDA = Number(arg('lambda', '1.5'));
const GENERATE_ONLY = process.argv.includes('--generate-only');
const REPEAT = Number(arg('repeat', '2'));
const dir = process.argv.includes('--dir') ? arg('dir', '') : mkdtempSync(join(tmpdir(), 'ope-peers-'));
mkdirSync(dir, { recursive: true });
const python = join(root, '.venv-obp', 'bin', 'python');
const hasTime = existsSync('/usr/bin/time');

/**
 * Writes n logged rounds as NDJSON: softmax logging and evaluation policies over A actions,
 * Bernoulli rewards, a reward model q̂ = the truth plus noise. Streamed in 1 MiB pieces.
 */
function writeRounds(file: string, n: number): void {
  const g = new Xorshift128(2026);
  const fd = openSync(file, 'w');
  const logits = new Float64Array(A), dist = new Float64Array(A), q = new Float64Array(A);
  let out = '';
  for (let i = 0; i < n; i++) {
    let zb = 0, ze = 0;
    for (let a = 0; a < A; a++) {
      logits[a] = Math.exp(g.uniform());
      zb += logits[a];
      dist[a] = Math.exp(3 * g.uniform());
      ze += dist[a];
      q[a] = g.uniform();
    }
    let u = g.uniform() * zb, action = 0;
    while (action < A - 1 && (u -= logits[action]) >= 0) action++;
    for (let a = 0; a < A; a++) dist[a] /= ze;
    const reward = g.uniform() < q[action] ? 1 : 0;
    for (let a = 0; a < A; a++) q[a] = Math.min(1, Math.max(0, q[a] + 0.1 * (g.uniform() - 0.5)));
    out += `{"reward":${reward},"action":${action},"pscore":${logits[action] / zb},"action_dist":[${Array.from(dist).join(',')}],"estimated_rewards_by_reg_model":[${Array.from(q).join(',')}]}\n`;
    if (out.length > 1 << 20) {
      writeSync(fd, out);
      out = '';
    }
  }
  writeSync(fd, out);
  closeSync(fd);
}

interface Run {
  wall: number;
  peakMiB: number | null;
  /** User + system CPU seconds of the process (all its threads), when /usr/bin/time is available. */
  cpu: number | null;
  out: string;
}

/** Runs a command, timed from outside; peak RSS through /usr/bin/time when present. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const t0 = process.hrtime.bigint();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', 'PEAK_KIB=%M CPU_S=%U %S', cmd, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 26 })
    : spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const m = /PEAK_KIB=(\d+) CPU_S=([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { wall, peakMiB: m ? Number(m[1]) / 1024 : null, cpu: m ? Number(m[2]) + Number(m[3]) : null, out: r.stdout };
}

type Estimates = Record<string, { value: number; lower: number; upper: number }>;

function ours(file: string, threads: number): { run: Run; estimates: Estimates } {
  const run = timed(process.execPath, [join(root, 'bin', 'autopilot'), 'ope', '--input', file, '--n-bootstrap', String(B), '--seed', '0', '--lambda', String(LAMBDA), '--threads', String(threads)]);
  return { run, estimates: JSON.parse(run.out).estimates };
}

const fmt = (s: number) => `${s.toFixed(2)} s`;
const mib = (r: Run) => (r.peakMiB === null ? '' : `, peak ${r.peakMiB.toFixed(0)} MiB, ${r.cpu!.toFixed(2)} s CPU`);

if (!existsSync(python)) {
  console.error(`bench/ope-peers: ${python} is missing; build it with scripts/obp-venv.sh`);
  process.exit(1);
}
console.log(`OPE peers: OBP 0.5.7 vs autopilot ope; ${A} actions, ${B} resamples, 7 estimators, λ = ${LAMBDA}`);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average at start ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
for (const [sizeIndex, n] of SIZES.entries()) {
  const B_OBP = B_OBP_LIST[Math.min(sizeIndex, B_OBP_LIST.length - 1)];
  const file = join(dir, `rounds-${n}.ndjson`);
  if (!existsSync(file)) writeRounds(file, n);
  if (GENERATE_ONLY) {
    console.log(`wrote ${file}`);
    continue;
  }
  console.log(`\n${n} rounds (${(statSync(file).size / 2 ** 20).toFixed(0)} MiB NDJSON), load average ${loadavg()[0].toFixed(1)}`);
  // The machine may be shared: alternate 2 and 1 threads, REPEAT times each, and keep the fastest.
  const twos: ReturnType<typeof ours>[] = [], ones: ReturnType<typeof ours>[] = [];
  for (let rep = 0; rep < REPEAT; rep++) {
    twos.push(ours(file, 2));
    ones.push(ours(file, 1));
  }
  const fastest = (runs: ReturnType<typeof ours>[]) => runs.reduce((a, b) => (b.run.wall < a.run.wall ? b : a));
  const two = fastest(twos), one = fastest(ones);
  const allSame = [...twos, ...ones].every((r) => JSON.stringify(r.estimates) === JSON.stringify(two.estimates));
  const obpRun = timed(python, [join(__dirname, 'ope-peers.py'), file, String(LAMBDA), String(B_OBP)], { ...process.env, MPLBACKEND: 'Agg' });
  const obp = JSON.parse(obpRun.out) as { estimates: Estimates; load_s: number; estimate_s: number };
  const scaled = B_OBP === B ? obpRun.wall : obpRun.wall - obp.estimate_s + (obp.estimate_s * B) / B_OBP;
  let maxRel = 0, worst = '';
  for (const [name, e] of Object.entries(obp.estimates)) {
    const rel = Math.abs(two.estimates[name].value - e.value) / Math.max(Math.abs(e.value), Number.MIN_VALUE);
    if (rel >= maxRel) { maxRel = rel; worst = name; }
  }
  const walls = (runs: ReturnType<typeof ours>[]) => runs.map((r) => r.run.wall.toFixed(2)).join(', ');
  console.log(`  OBP            ${fmt(obpRun.wall)} wall (reading ${fmt(obp.load_s)}, estimating ${fmt(obp.estimate_s)} for ${B_OBP} resamples)${mib(obpRun)}`);
  if (B_OBP !== B) console.log(`  OBP, scaled    ${fmt(scaled)} for ${B} resamples (estimating time × ${B}/${B_OBP})`);
  console.log(`  autopilot ope  ${fmt(two.run.wall)} on 2 threads${mib(two.run)}; ${fmt(one.run.wall)} on 1 thread${mib(one.run)} (fastest of ${REPEAT}: 2 threads ${walls(twos)} s; 1 thread ${walls(ones)} s)`);
  console.log(`  ratio          OBP / autopilot = ${(scaled / two.run.wall).toFixed(1)}× (2 threads), ${(scaled / one.run.wall).toFixed(1)}× (1 thread), wall clock`);
  if (obpRun.cpu !== null && one.run.cpu !== null && two.run.cpu !== null) {
    const obpCpu = B_OBP === B ? obpRun.cpu : obpRun.cpu - obp.estimate_s + (obp.estimate_s * B) / B_OBP;
    console.log(`  CPU seconds    OBP ${obpCpu.toFixed(2)}${B_OBP === B ? '' : ' (scaled)'}, autopilot ${two.run.cpu.toFixed(2)} (2 threads) / ${one.run.cpu.toFixed(2)} (1 thread): OBP / autopilot 1 thread = ${(obpCpu / one.run.cpu).toFixed(1)}× (less sensitive to a busy machine than wall clock)`);
  }
  console.log(`  point estimates: max relative difference ${maxRel.toExponential(2)} (${worst}); intervals identical in all ${2 * REPEAT} runs (1 and 2 threads): ${allSame}`);
  for (const [name, e] of Object.entries(obp.estimates)) {
    const o = two.estimates[name];
    console.log(`    ${name.padEnd(10)} ours ${o.value.toFixed(12)} [${o.lower.toFixed(5)}, ${o.upper.toFixed(5)}]   OBP ${e.value.toFixed(12)} [${e.lower.toFixed(5)}, ${e.upper.toFixed(5)}]`);
  }
}
console.log(`\nload average at end ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
