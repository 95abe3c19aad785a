/**
 * What binding rewards to existing decisions costs the reward path (issue 19 item 2). Run:
 *   node -r ./scripts/register-ts.js bench/reward-existence.ts [--rows 50000] [--batch 500] [--rounds 5] [--batches 10]
 *
 * A fresh PostgreSQL database with `--rows` decisions (UUID v7 ids, as the server makes them); then, alternating in every round, `--batches`
 * batches of `--batch` rewards of decisions not rewarded yet through decision-log `insertRewards`
 * without the check (the baseline: what the server ran before) and with it (`requireDecision`: the same
 * INSERT with one primary-key probe of `decisions` per reward). Prints rewards/s of each per round, the
 * medians and their ratio (with / without; 1.0 = free). The server's look into its own decision log runs
 * only for rewards whose decision is not in the table, so it is not on this path.
 */
import { DecisionStore, type DecisionInput } from '../decision-log';
import { migrate } from '../registry/migrate';
import { createTestDatabase } from '../test/support/pg';
import { newDecisionId } from '../inference/decisions/id';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(args[i + 1]);
};
const ROWS = arg('rows', 50_000);
const BATCH = arg('batch', 500);
const ROUNDS = arg('rounds', 5);
const BATCHES = arg('batches', 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const need = 2 * ROUNDS * BATCHES * BATCH;
  if (need > ROWS) throw new Error(`--rows ${ROWS}: need at least 2 × rounds × batches × batch = ${need} decisions`);
  const db = await createTestDatabase();
  try {
    await migrate(db.pool);
    const store = new DecisionStore({ pool: db.pool });
    const ids: string[] = [];
    const t0 = Date.now();
    for (let start = 0; start < ROWS; start += 5000) {
      const rows: DecisionInput[] = Array.from({ length: Math.min(5000, ROWS - start) }, (_, i) => {
        // The server's ids (UUID v7), one decision per millisecond up to now: rewards are for recent decisions.
        const decisionId = newDecisionId(t0 - ROWS + start + i);
        ids.push(decisionId);
        return { decisionId, time: new Date(), deployment: 'ranker', model: 'ranker', version: 1, arm: 'champion', features: [start + i, 1], action: { k: 4 }, propensity: 1 };
      });
      await store.copyDecisions(rows);
    }
    await db.pool.query('ANALYZE decisions');
    let next = 0;
    const run = async (requireDecision: boolean): Promise<number> => {
      const t0 = performance.now();
      for (let b = 0; b < BATCHES; b++) {
        const batch = ids.slice(next, next + BATCH).map((decisionId, i) => ({ decisionId, reward: (i % 10) / 10 }));
        next += BATCH;
        const out = await store.insertRewards(batch, { requireDecision });
        if (out.some((o) => !('inserted' in o) || !o.inserted)) throw new Error('a reward was not inserted');
      }
      return (BATCHES * BATCH) / ((performance.now() - t0) / 1000);
    };
    const without: number[] = [];
    const withCheck: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so a drift in the machine's speed falls on both.
      if (r % 2 === 0) {
        without.push(await run(false));
        withCheck.push(await run(true));
      } else {
        withCheck.push(await run(true));
        without.push(await run(false));
      }
      console.log(`round ${r + 1}: without the check ${without[r].toFixed(0)} rewards/s, with it ${withCheck[r].toFixed(0)} rewards/s`);
    }
    const m0 = median(without);
    const m1 = median(withCheck);
    console.log(`insertRewards, batches of ${BATCH} over ${ROWS} decisions, median of ${ROUNDS} rounds: without ${m0.toFixed(0)} rewards/s, with the existence check ${m1.toFixed(0)} rewards/s → ratio ${(m1 / m0).toFixed(3)}`);
  } finally {
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
