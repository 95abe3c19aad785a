/**
 * Rewards. `insertReward` is idempotent per decision id: the same reward again is accepted (not stored
 * twice); a different value is a ConflictError. Rewards have no foreign key to decisions because
 * decisions are written asynchronously and a reward may arrive first. The table is partitioned by
 * `decision_time` = decision_id_time(decision_id) (migration 016), a function of the id alone, so the
 * primary key (decision_id, decision_time) is one reward per decision. `insertRewards` does the same for
 * a batch in two statements, with one outcome per reward.
 */
import type { Db } from '../registry/db';
import { ConflictError, NotFoundError, ValidationError } from '../registry/errors';
import { stableJson } from '../registry/validate';
import type { InsertRewardsOptions, RewardInput, RewardInsertOutcome } from './types';
import { checkBatchReward, checkReward, type CheckedReward } from './validate';

function conflict(decisionId: string, stored: { reward: number; components: Record<string, number> | null }, got: { reward: number; components: Record<string, number> | null }): ConflictError {
  return new ConflictError(
    'reward of decision',
    decisionId,
    `already recorded as ${stableJson({ reward: stored.reward, components: stored.components })}; ` +
      `got ${stableJson({ reward: got.reward, components: got.components })} (a reward is recorded once per decision)`,
  );
}

/** Records the reward of a decision; `inserted: false` when the same reward was already stored. */
export async function insertReward(db: Db, input: RewardInput): Promise<{ inserted: boolean }> {
  const { decisionId, reward, components } = checkReward(input);
  const res = await db.query(
    `INSERT INTO rewards (decision_id, reward, components, time, decision_time)
     VALUES ($1, $2, $3::jsonb, COALESCE($4::timestamptz, now()), decision_id_time($1))
     ON CONFLICT (decision_id, decision_time) DO NOTHING`,
    [decisionId, reward, components === null ? null : JSON.stringify(components), input.time?.toISOString() ?? null],
  );
  if (res.rowCount === 1) return { inserted: true };
  const { rows } = await db.query('SELECT reward, components FROM rewards WHERE decision_id = $1', [decisionId]);
  const stored = rows[0] as { reward: number; components: Record<string, number> | null };
  const sameComponents = components === null || stableJson(components) === stableJson(stored.components);
  if (stored.reward === reward && sameComponents) return { inserted: false };
  throw conflict(decisionId, stored, { reward, components });
}

/**
 * `insertReward` for many rewards at once, with the same rules per reward and one outcome per input
 * (in order): one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING` for the batch,
 * then one read of the rows it did not insert, to tell the same reward again (`inserted: false`)
 * from a different one (ConflictError). An invalid input is a ValidationError outcome and does not
 * stop the others. The same decision id twice in one batch: the first wins; a later one is compared
 * with what is then stored (as if the inputs had been sent one after the other). Rows are inserted in
 * decision-id order, so concurrent batches that share ids wait for each other instead of deadlocking.
 * Database errors throw.
 *
 * `requireDecision`: a reward whose decision is not in `decisions` is not inserted (the same statement
 * checks: a correlated scalar subquery, i.e. one primary-key probe per reward — an EXISTS may be
 * planned as a hash join over a scan of the whole decisions table, bench/reward-existence.ts) and its outcome is a NotFoundError, unless a reward of that
 * decision is stored already (then it is compared as above: a retry of a reward accepted earlier stays a
 * duplicate).
 */
export async function insertRewards(db: Db, inputs: RewardInput[], opts: InsertRewardsOptions = {}): Promise<RewardInsertOutcome[]> {
  const out: RewardInsertOutcome[] = new Array(inputs.length);
  const checked: (CheckedReward | null)[] = inputs.map((input, i) => {
    try {
      return checkBatchReward(input, i);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      out[i] = { error: err };
      return null;
    }
  });
  const first = new Map<string, number>(); // decision id → index of its first valid input
  checked.forEach((c, i) => {
    if (c !== null && !first.has(c.decisionId)) first.set(c.decisionId, i);
  });
  if (first.size === 0) return out;
  const idx = [...first.values()];
  const res = await db.query<{ decision_id: string }>(
    `INSERT INTO rewards (decision_id, reward, components, time, decision_time)
     SELECT id, r, c, COALESCE(t, now()), decision_id_time(id) FROM unnest($1::uuid[], $2::float8[], $3::jsonb[], $4::timestamptz[]) AS x(id, r, c, t)
     ${opts.requireDecision === true ? 'WHERE (SELECT true FROM decisions d WHERE d.decision_id = x.id LIMIT 1)' : ''}
     ORDER BY id
     ON CONFLICT (decision_id, decision_time) DO NOTHING RETURNING decision_id`,
    [
      idx.map((i) => checked[i]!.decisionId),
      idx.map((i) => checked[i]!.reward),
      idx.map((i) => (checked[i]!.components === null ? null : JSON.stringify(checked[i]!.components))),
      idx.map((i) => inputs[i].time?.toISOString() ?? null),
    ],
  );
  const inserted = new Set(res.rows.map((r) => r.decision_id));
  const stored = new Map<string, { reward: number; components: Record<string, number> | null }>();
  const missing = idx.filter((i) => !inserted.has(checked[i]!.decisionId)).map((i) => checked[i]!.decisionId);
  if (missing.length > 0) {
    const { rows } = await db.query<{ decision_id: string; reward: number; components: Record<string, number> | null }>(
      'SELECT decision_id, reward, components FROM rewards WHERE decision_id = ANY($1::uuid[])',
      [missing],
    );
    for (const r of rows) stored.set(r.decision_id, { reward: r.reward, components: r.components });
  }
  checked.forEach((c, i) => {
    if (c === null) return;
    if (first.get(c.decisionId) === i && inserted.has(c.decisionId)) {
      out[i] = { inserted: true };
      return;
    }
    // What is stored now: this batch's first input for the id if it was inserted, else the earlier row.
    const f = checked[first.get(c.decisionId)!]!;
    const s = inserted.has(c.decisionId) ? { reward: f.reward, components: f.components } : stored.get(c.decisionId);
    if (s === undefined) {
      if (opts.requireDecision !== true) throw new Error(`insertRewards: reward of decision ${c.decisionId} neither inserted nor stored`);
      out[i] = { error: new NotFoundError('decision', c.decisionId) };
      return;
    }
    const sameComponents = c.components === null || stableJson(c.components) === stableJson(s.components);
    out[i] = s.reward === c.reward && sameComponents ? { inserted: false } : { error: conflict(c.decisionId, s, c) };
  });
  return out;
}
