/**
 * The decision log's write cost, partitioned (migration 016) against unpartitioned (migration 015, the
 * baseline, measured in the same run): COPY of policy-shaped decision lines in 128-row batches (as the
 * inference server's decision log writes them) into two fresh databases, alternating, `--rounds` times
 * (default 3). Per run: PostgreSQL CPU per row (the COPY backend's utime + stime from /proc, so the local
 * server only) and rows/s. Run: node -r ./scripts/register-ts.js bench/decision-log-partitions.ts [--rows N] [--json]
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { DecisionStore, encodeDecisionLine } from '../decision-log';
import { newDecisionStamp } from '../inference/decisions/id';
import { defaultMigrationsDir, migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const ROWS = arg('--rows', 128_000);
const ROUNDS = arg('--rounds', 3);
const BATCH = 128;
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU in 1/100 s

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime (fields 14 and 15 of the whole line)
}

function batches(): string[] {
  const out: string[] = [];
  for (let b = 0; b < ROWS / BATCH; b++) {
    let text = '';
    for (let i = 0; i < BATCH; i++) {
      const { decisionId, time } = newDecisionStamp();
      const features = Array.from({ length: 16 }, (_, k) => Math.sin(b * BATCH + i + k));
      text += encodeDecisionLine({ decisionId, time, deployment: 'ranker', model: 'ranker', version: 1, generation: 1, arm: i % 4 === 0 ? 'canary' : 'champion', features, action: { variant: 'A', k: 8, rerank: true, fusion_weight: 0.5, prompt_id: 2 }, propensity: 1, latencyMs: 0.3 }, i);
    }
    out.push(text);
  }
  return out;
}

async function database(upTo: number | null): Promise<TestDatabase> {
  const db = await createTestDatabase({ poolSize: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'ap-bench-migrations-'));
  try {
    for (const f of readdirSync(defaultMigrationsDir())) if (upTo === null || Number(f.slice(0, 3)) <= upTo) copyFileSync(join(defaultMigrationsDir(), f), join(dir, f));
    await migrate(db.pool, { dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return db;
}

async function run(pool: Pool, data: string[]): Promise<{ usPerRow: number; rowsPerSecond: number }> {
  const store = new DecisionStore({ pool });
  const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  await pool.query('TRUNCATE decisions');
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  for (const text of data) await store.copyDecisionLines(text, BATCH);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  return { usPerRow: (cpu / data.length / BATCH) * 1e6, rowsPerSecond: (data.length * BATCH) / wall };
}

async function main(): Promise<void> {
  const [flat, parted] = await Promise.all([database(15), database(null)]);
  try {
    const data = batches();
    await run(flat.pool, data.slice(0, 50)); // warm both (catalog caches, the COPY path)
    await run(parted.pool, data.slice(0, 50));
    const res: { unpartitioned: number[]; partitioned: number[]; unpartitionedRowsPerSecond: number[]; partitionedRowsPerSecond: number[] } = { unpartitioned: [], partitioned: [], unpartitionedRowsPerSecond: [], partitionedRowsPerSecond: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const a = await run(flat.pool, data);
      const b = await run(parted.pool, data);
      res.unpartitioned.push(a.usPerRow); res.unpartitionedRowsPerSecond.push(a.rowsPerSecond);
      res.partitioned.push(b.usPerRow); res.partitionedRowsPerSecond.push(b.rowsPerSecond);
    }
    const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
    const summary = { rows: ROWS, batch: BATCH, rounds: ROUNDS, ...res, ratio: med(res.partitioned) / med(res.unpartitioned) };
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const f = (x: number[]) => x.map((v) => v.toFixed(2)).join(', ');
      process.stdout.write(`COPY of ${ROWS} decisions in ${BATCH}-row batches, ${ROUNDS} alternating rounds; PostgreSQL CPU per row (µs):\n`);
      process.stdout.write(`  unpartitioned (015)  ${f(res.unpartitioned)}   rows/s ${res.unpartitionedRowsPerSecond.map((v) => Math.round(v)).join(', ')}\n`);
      process.stdout.write(`  partitioned (016)    ${f(res.partitioned)}   rows/s ${res.partitionedRowsPerSecond.map((v) => Math.round(v)).join(', ')}\n`);
      process.stdout.write(`  median ratio partitioned / unpartitioned: ${summary.ratio.toFixed(3)}\n`);
    }
  } finally {
    await Promise.all([flat.drop(), parted.drop()]);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
