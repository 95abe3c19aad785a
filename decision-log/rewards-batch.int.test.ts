/**
 * `insertRewards` against a real PostgreSQL: one outcome per input with insertReward's rules (the
 * same reward again is a duplicate, a different one a ConflictError, an invalid input a
 * ValidationError that stops nothing), first wins for a decision repeated inside a batch, and
 * overlapping batches written concurrently store each reward once; with `requireDecision`, a reward
 * without its decision row is a NotFoundError unless a reward of it is stored already.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '../registry/errors';
import { createDecisionLogFixture, type DecisionLogFixture } from './test-helpers';
import type { RewardInsertOutcome } from './types';

const kinds = (out: RewardInsertOutcome[]) => out.map((o) => ('inserted' in o ? (o.inserted ? 'inserted' : 'duplicate') : o.error.constructor.name));

describe('insertRewards', () => {
  let fx: DecisionLogFixture;
  beforeAll(async () => {
    fx = await createDecisionLogFixture();
  });
  afterAll(() => fx?.close());

  it('with requireDecision records only rewards of stored decisions (a stored reward is still compared)', async () => {
    const [known, unknown, earlier] = Array.from({ length: 3 }, () => randomUUID());
    await fx.decisions.insertDecisions([{ decisionId: known, time: new Date(), deployment: 'r', model: 'r', version: 1, arm: 'champion', features: [1], action: { k: 1 }, propensity: 1 }]);
    await fx.decisions.insertReward({ decisionId: earlier, reward: 0.5 }); // accepted before its decision row existed
    const out = await fx.decisions.insertRewards(
      [
        { decisionId: known, reward: 1 },
        { decisionId: unknown, reward: 1 },
        { decisionId: unknown, reward: 2 },
        { decisionId: earlier, reward: 0.5 },
        { decisionId: earlier, reward: 0.75 },
        { decisionId: known, reward: 1 },
      ],
      { requireDecision: true },
    );
    expect(kinds(out)).toEqual(['inserted', 'NotFoundError', 'NotFoundError', 'duplicate', 'ConflictError', 'duplicate']);
    expect((out[1] as { error: Error }).error.message).toBe(`decision ${unknown} not found`);
    const { rows } = await fx.db.pool.query('SELECT decision_id::text AS id FROM rewards WHERE decision_id = ANY($1::uuid[])', [[known, unknown]]);
    expect(rows).toEqual([{ id: known }]);
  });

  it('answers each input as insertReward would, in order, in one batch', async () => {
    const [a, b, c, stored, storedC] = Array.from({ length: 5 }, () => randomUUID());
    await fx.decisions.insertReward({ decisionId: stored, reward: 0.25 });
    await fx.decisions.insertReward({ decisionId: storedC, reward: 1, components: { quality: 1, cost: 0 } });
    const time = new Date('2026-01-02T03:04:05.678Z');
    const out = await fx.decisions.insertRewards([
      { decisionId: a, reward: 0.5 },
      { decisionId: a.toUpperCase(), reward: 0.5 }, // the same again: duplicate
      { decisionId: a, reward: 0.75 }, // different: conflict with the first
      { decisionId: 'nope', reward: 1 },
      { decisionId: b, reward: Number.NaN },
      { decisionId: b, reward: -1, components: { cost: 1 }, time },
      { decisionId: stored, reward: 0.25 },
      { decisionId: stored, reward: 0.5 },
      { decisionId: storedC, reward: 1, components: { cost: 0, quality: 1 } }, // key order does not matter
      { decisionId: storedC, reward: 1 }, // no components: the same reward
      { decisionId: storedC, reward: 1, components: { quality: 0.5 } },
      { decisionId: c, reward: 0 },
    ]);
    expect(kinds(out)).toEqual([
      'inserted', 'duplicate', 'ConflictError', 'ValidationError', 'ValidationError', 'inserted',
      'duplicate', 'ConflictError', 'duplicate', 'duplicate', 'ConflictError', 'inserted',
    ]);
    expect((out[3] as { error: ValidationError }).error.field).toBe('rewards[3].decisionId');
    expect((out[4] as { error: ValidationError }).error.field).toBe('rewards[4].reward');
    expect((out[2] as { error: ConflictError }).error.message).toMatch(/already recorded as \{"components":null,"reward":0.5\}/);
    expect((out[7] as { error: ConflictError }).error.message).toMatch(/already recorded as \{"components":null,"reward":0.25\}/);
    const { rows } = await fx.db.pool.query<{ decision_id: string; reward: number; components: unknown; time: Date }>(
      'SELECT decision_id, reward, components, time FROM rewards WHERE decision_id = ANY($1::uuid[])',
      [[a, b, c, stored, storedC]],
    );
    const by = Object.fromEntries(rows.map((r) => [r.decision_id, r]));
    expect(by[a]).toMatchObject({ reward: 0.5, components: null });
    expect(by[b]).toMatchObject({ reward: -1, components: { cost: 1 }, time });
    expect(by[c].reward).toBe(0);
    expect(Math.abs(by[c].time.getTime() - Date.now())).toBeLessThan(60_000);
    expect(by[stored].reward).toBe(0.25);
    expect(await fx.decisions.insertRewards([])).toEqual([]);
    expect(kinds(await fx.decisions.insertRewards([{ decisionId: 'x', reward: 1 }]))).toEqual(['ValidationError']);
  });

  it('stores each reward once when overlapping batches are written concurrently', async () => {
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    // Four writers, each with every id in its own order; the same reward everywhere except id 0.
    const batches = Array.from({ length: 4 }, (_, w) => {
      const order = w % 2 === 0 ? ids : [...ids].reverse();
      return order.map((decisionId) => ({ decisionId, reward: decisionId === ids[0] ? w : 1 }));
    });
    const outs = await Promise.all(batches.map((b) => fx.decisions.insertRewards(b)));
    const inserted = new Map<string, number>();
    outs.forEach((out, w) =>
      out.forEach((o, i) => {
        if ('inserted' in o && o.inserted) inserted.set(batches[w][i].decisionId, (inserted.get(batches[w][i].decisionId) ?? 0) + 1);
      }),
    );
    expect(inserted.size).toBe(ids.length);
    expect([...inserted.values()].every((n) => n === 1)).toBe(true);
    // id 0: one writer won; the others see a conflict (a different reward), never a duplicate.
    const firstId = outs.map((out, w) => kinds(out)[batches[w].findIndex((x) => x.decisionId === ids[0])]);
    expect(firstId.filter((k) => k === 'inserted')).toHaveLength(1);
    expect(firstId.filter((k) => k === 'ConflictError')).toHaveLength(3);
    const { rows } = await fx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM rewards WHERE decision_id = ANY($1::uuid[])', [ids]);
    expect(Number(rows[0].n)).toBe(ids.length);
  });
});
