import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '../registry/errors';
import { isRowError, type DecisionInput } from './index';
import { createDecisionLogFixture, type DecisionLogFixture } from './test-helpers';

let fx: DecisionLogFixture;
beforeAll(async () => {
  fx = await createDecisionLogFixture();
});
afterAll(async () => {
  await fx.close();
});

const t0 = Date.parse('2030-01-01T00:00:00.000Z');
function decision(i: number, over: Partial<DecisionInput> = {}): DecisionInput {
  return {
    decisionId: randomUUID(),
    time: new Date(t0 + i * 10),
    deployment: 'rag',
    model: 'rag',
    version: i % 4 === 0 ? 2 : 1,
    generation: 3,
    arm: i % 4 === 0 ? 'canary' : 'champion',
    features: { q_len: i, domain: 'faq' },
    action: { variant: 'B', k: 12, rerank: true, fusion_weight: 0.31 },
    propensity: 0.75,
    density: 1.7,
    unit: `user-${i % 7}`,
    latencyMs: 0.4,
    ...over,
  };
}

describe('decisions', () => {
  it('inserts a batch, skips decision ids already stored, and reads them back exactly', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => decision(i));
    rows[1] = { ...rows[1], version: null, arm: 'fallback', propensity: null, density: null, unit: null, latencyMs: null, metadata: { why: "no model; it's \"down\"" } };
    expect(await fx.decisions.insertDecisions(rows)).toEqual({ inserted: 50 });
    expect(await fx.decisions.insertDecisions([...rows.slice(0, 10), decision(1000)])).toEqual({ inserted: 1 });
    const got = await fx.decisions.getDecision(rows[1].decisionId);
    expect(got).toMatchObject({ version: null, arm: 'fallback', propensity: null, metadata: { why: "no model; it's \"down\"" }, reward: null });
    const d0 = await fx.decisions.getDecision(rows[0].decisionId);
    expect(d0).toEqual({ ...rows[0], metadata: null, reward: null, rewardComponents: null, rewardTime: null });
  });

  it('copyDecisions (COPY) stores exactly what insertDecisions stores, escaping included, and stays idempotent', async () => {
    const tricky = { note: 'tab\there, newline\nthere, back\\slash, quote " and \\N, é ✓ 𝄞', '\\key': [1.5e-7, -0, 1e21, 3] };
    const rows = Array.from({ length: 40 }, (_, i) => decision(i, { deployment: 'copy-test' }));
    rows[3] = { ...rows[3], features: tricky, unit: 'user\t\\N\n"x"', metadata: { why: 'it\'s "down"\r\n\\' } };
    rows[4] = { ...rows[4], version: null, arm: 'fallback', propensity: null, density: null, unit: null, latencyMs: null, metadata: null, generation: null };
    expect(await fx.decisions.copyDecisions(rows)).toEqual({ inserted: 40 });
    const twins = rows.map((r) => ({ ...r, decisionId: randomUUID(), deployment: 'copy-twin' }));
    await fx.decisions.insertDecisions(twins);
    for (let i = 0; i < rows.length; i++) {
      const viaCopy = await fx.decisions.getDecision(rows[i].decisionId);
      const viaInsert = await fx.decisions.getDecision(twins[i].decisionId);
      expect({ ...viaCopy, decisionId: '', deployment: '' }).toEqual({ ...viaInsert, decisionId: '', deployment: '' });
    }
    expect((await fx.decisions.getDecision(rows[3].decisionId)).features).toEqual({ ...tricky, '\\key': [1.5e-7, 0, 1e21, 3] });
    expect((await fx.decisions.getDecision(rows[3].decisionId)).unit).toBe('user\t\\N\n"x"');
    // A batch with rows already stored (a retried or replayed batch) writes only the new ones.
    expect(await fx.decisions.copyDecisions([...rows.slice(0, 5), decision(77, { deployment: 'copy-test' })])).toEqual({ inserted: 1 });
    const n = await fx.db.pool.query("SELECT count(*)::int AS n FROM decisions WHERE deployment = 'copy-test'");
    expect(n.rows[0].n).toBe(41);
    // Validation is the same: nothing of a batch with a bad row is written.
    await expect(fx.decisions.copyDecisions([decision(1), decision(2, { propensity: 1.5 })])).rejects.toThrow('decisions[1].propensity: got 1.5');
  });

  it('a row PostgreSQL cannot store fails its batch with a data-exception SQLSTATE (what the decision log sets aside)', async () => {
    const nul = await fx.decisions.copyDecisions([decision(1), decision(2, { unit: 'user\u0000' })]).catch((e: unknown) => e);
    expect(isRowError(nul)).toBe(true);
    expect((nul as { code: string }).code).toBe('22021');
    expect(isRowError(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
  });

  it('stores the JSON columns as the text written (json, not jsonb): escapes jsonb refuses come back unchanged', async () => {
    const odd = { entity: 'x\ud800', nul: 'a\u0000b', b: 1, a: [2] };
    const row = decision(4, { features: odd, action: { z: 1, a: 2 } });
    expect(await fx.decisions.copyDecisions([row])).toEqual({ inserted: 1 });
    const back = await fx.decisions.getDecision(row.decisionId);
    expect(back.features).toEqual(odd);
    expect(Object.keys(back.action as object)).toEqual(['z', 'a']); // key order as written
    const types = await fx.db.pool.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'decisions' AND column_name IN ('features', 'action', 'metadata') ORDER BY column_name",
    );
    expect(types.rows).toEqual([{ column_name: 'action', data_type: 'json' }, { column_name: 'features', data_type: 'json' }, { column_name: 'metadata', data_type: 'json' }]);
  });

  it('refuses malformed rows naming the row and the field', async () => {
    await expect(fx.decisions.insertDecisions([decision(1), decision(2, { propensity: 1.5 })])).rejects.toThrow(
      'decisions[1].propensity: got 1.5; expected a probability in [0, 1]',
    );
    await expect(fx.decisions.insertDecisions([decision(1, { decisionId: 'nope' })])).rejects.toThrow('decisions[0].decisionId: got "nope"; expected a UUID');
    await expect(fx.decisions.insertDecisions([decision(1, { time: new Date('x') })])).rejects.toBeInstanceOf(ValidationError);
    await expect(fx.decisions.insertDecisions([decision(1, { features: null })])).rejects.toThrow('decisions[0].features: got null; expected the features the policy saw');
    await expect(fx.decisions.insertDecisions([decision(1, { version: 0 })])).rejects.toThrow('decisions[0].version: got 0; expected a version number >= 1, or null');
  });

  it('pages through a time window with a cursor, never skipping or repeating a row, joined with rewards', async () => {
    const dep = `paged-${randomUUID().slice(0, 8)}`;
    // Several rows share a timestamp (microsecond ties too) so the cursor must break ties by id.
    const rows = Array.from({ length: 237 }, (_, i) => decision(Math.floor(i / 3), { deployment: dep }));
    await fx.decisions.insertDecisions(rows);
    await fx.db.pool.query(
      `UPDATE decisions SET time = time + interval '1 microsecond' * (abs(hashtext(decision_id::text)) % 3) WHERE deployment = $1`,
      [dep],
    );
    for (const r of rows.filter((_, i) => i % 2 === 0)) await fx.decisions.insertReward({ decisionId: r.decisionId, reward: (r.features as { q_len: number }).q_len });
    const from = new Date(t0 + 50);
    const to = new Date(t0 + 600);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await fx.decisions.readDecisionsWithRewards({ deployment: dep, from, to, cursor, limit: 17 });
      seen.push(...page.rows.map((r) => r.decisionId));
      for (const r of page.rows) {
        expect(r.time.getTime()).toBeGreaterThanOrEqual(from.getTime());
        expect(r.time.getTime()).toBeLessThan(to.getTime());
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    const expected = rows.filter((r) => r.time.getTime() >= from.getTime() && r.time.getTime() < to.getTime()).map((r) => r.decisionId);
    expect(seen.length).toBe(expected.length);
    expect(new Set(seen)).toEqual(new Set(expected));
    expect(pages).toBe(Math.ceil(expected.length / 17) + (expected.length % 17 === 0 ? 1 : 0));

    const all: number[] = [];
    for await (const page of fx.decisions.iterateDecisionsWithRewards({ deployment: dep, from, to, limit: 50, rewardedOnly: true })) {
      for (const r of page) {
        expect(r.reward).toBe((r.features as { q_len: number }).q_len);
        all.push(r.reward!);
      }
    }
    const rewarded = new Set(rows.filter((_, i) => i % 2 === 0).map((r) => r.decisionId));
    expect(all.length).toBe(expected.filter((id) => rewarded.has(id)).length);
    const canary = await fx.decisions.readDecisionsWithRewards({ deployment: dep, from, to, arm: 'canary', limit: 1000 });
    expect(canary.rows.every((r) => r.arm === 'canary' && r.version === 2)).toBe(true);
    expect(canary.rows.length).toBeGreaterThan(0);
    await expect(fx.decisions.readDecisionsWithRewards({ deployment: dep, from, to, cursor: 'garbage' })).rejects.toThrow(
      'cursor: got "garbage"; expected the nextCursor of a previous page',
    );
  });
});

describe('rewards', () => {
  it('accepts a reward before its decision, a same-value repeat once, and refuses a conflicting one', async () => {
    const id = randomUUID();
    expect(await fx.decisions.insertReward({ decisionId: id, reward: 0.8, components: { quality: 0.9, cost: -0.1 } })).toEqual({ inserted: true });
    expect(await fx.decisions.insertReward({ decisionId: id, reward: 0.8, components: { cost: -0.1, quality: 0.9 } })).toEqual({ inserted: false });
    expect(await fx.decisions.insertReward({ decisionId: id, reward: 0.8 })).toEqual({ inserted: false });
    const err = await fx.decisions.insertReward({ decisionId: id, reward: 0.2 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe(
      `reward of decision ${id}: already recorded as {"components":{"cost":-0.1,"quality":0.9},"reward":0.8}; got {"components":null,"reward":0.2} (a reward is recorded once per decision)`,
    );
    await expect(fx.decisions.insertReward({ decisionId: id, reward: 0.8, components: { quality: 1 } })).rejects.toBeInstanceOf(ConflictError);
    const { rows } = await fx.db.pool.query('SELECT count(*)::int AS n FROM rewards WHERE decision_id = $1', [id]);
    expect(rows[0].n).toBe(1);
    // The decision arrives later (asynchronous batch) and joins its reward.
    const d = decision(5, { decisionId: id, deployment: 'late' });
    await fx.decisions.insertDecisions([d]);
    expect(await fx.decisions.getDecision(id)).toMatchObject({ reward: 0.8, rewardComponents: { quality: 0.9, cost: -0.1 } });
    await expect(fx.decisions.insertReward({ decisionId: id, reward: Number.NaN })).rejects.toThrow('reward: got NaN; expected a finite number');
  });

  it('is race-free: concurrent identical rewards store one row and all succeed', async () => {
    const id = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => fx.decisions.insertReward({ decisionId: id, reward: 1 })));
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
  });
});
