/**
 * The three ways a decision reaches the `decisions` table — the server's served line (COPY), the generic
 * line (COPY) and INSERT — store the same row, column for column, read back as PostgreSQL's own text of
 * each column (so a JSON column's key order, whitespace and number spelling count, not only its value).
 */
import { DECISION_COLUMNS, decisionLineArmFields, encodeServedDecisionLine, type DecisionInput } from './index';
import { createDecisionLogFixture, type DecisionLogFixture } from './test-helpers';

let fx: DecisionLogFixture;
beforeAll(async () => {
  fx = await createDecisionLogFixture();
});
afterAll(async () => {
  await fx.close();
});

let n = 0;
const id = () => `0190a0b1-2c3d-7e4f-8a9b-${String(++n).padStart(12, '0')}`;

/** Every column but decision_id, as text, of each id in order. */
async function stored(ids: string[]): Promise<Record<string, string | null>[]> {
  const cols = DECISION_COLUMNS.filter((c) => c.name !== 'decision_id').map((c) => `${c.name}::text AS ${c.name}`);
  const { rows } = await fx.db.pool.query(`SELECT decision_id::text AS id, ${cols.join(', ')} FROM decisions WHERE decision_id = ANY($1::uuid[])`, [ids]);
  const byId = new Map(rows.map(({ id: rowId, ...rest }) => [rowId as string, rest as Record<string, string | null>]));
  return ids.map((i) => byId.get(i)!);
}

const base = {
  time: new Date('2026-12-04T09:30:00.123Z'),
  deployment: 'ranker',
  model: 'ranker',
  version: 3,
  generation: 12,
  arm: 'canary',
  propensity: 0.4375,
  density: 1.25 as number | null,
  unit: 'user:42' as string | null,
  latencyMs: 0.1234567,
};
const metadata = { armProbability: 0.25, policyProbability: 0.4375, mode: 'sample', epsilon: 0.05, temperature: 1.5 };

describe('served line, COPY and INSERT', () => {
  it('store identical rows for the same decision, escapes, nulls and the client\'s own JSON text included', async () => {
    const cases: (typeof base & { featuresJson: string; action: DecisionInput['action'] })[] = [
      { ...base, featuresJson: '[0.1,-2.5,1e-7,3]', action: { variant: 'B', k: 12, rerank: true } },
      { ...base, density: null, unit: null, featuresJson: '{ "z": 1,\t"a": [1.50, 1E21, -0] }', action: [1e21, 1.5e-7, -0] },
      // Every character COPY treats specially, where a deployment, a client or a model can put one.
      { ...base, deployment: 'a\tb\\c', model: 'm\nn\ro', arm: 'x\\Ny', unit: 'u\t\\N', featuresJson: '{ "we\\tird\\nkey\\\\":\t[1,\n2], "\\u00e9": "\\ud83c\\udfb5" }', action: { note: 'q"\\ é ✓ 𝄞\t', z: 1, a: 2 } },
    ];
    for (const c of cases) {
      const decision = (decisionId: string): DecisionInput => ({
        decisionId,
        ...c,
        features: JSON.parse(c.featuresJson),
        actionJson: JSON.stringify(c.action),
        metadata,
      });
      const ids = [id(), id(), id(), id()];
      const served = encodeServedDecisionLine(ids[0], c.time, decisionLineArmFields(c), c.featuresJson, JSON.stringify(c.action), c.propensity, c.density, c.unit, c.latencyMs, JSON.stringify(metadata));
      expect(served).not.toBeNull();
      expect(await fx.decisions.copyDecisionLines(served!, 1)).toEqual({ inserted: 1 });
      expect(await fx.decisions.copyDecisions([decision(ids[1])])).toEqual({ inserted: 1 });
      expect(await fx.decisions.insertDecisions([decision(ids[2])])).toEqual({ inserted: 1 });
      expect(await fx.decisions.insertDecisionLines([served!.replace(ids[0], ids[3])])).toEqual({ inserted: 1 });
      const [viaServed, viaCopy, viaInsert, viaInsertedLine] = await stored(ids);
      expect(viaServed.features).toBe(c.featuresJson); // the client's text, as sent
      expect(viaCopy).toEqual(viaServed);
      expect(viaInsert).toEqual(viaServed);
      expect(viaInsertedLine).toEqual(viaServed);
    }
  });

  it('store identical rows for a decision logged from values (no texts at hand), nulls and omitted fields included', async () => {
    const rows: Omit<DecisionInput, 'decisionId'>[] = [
      { ...base, features: { z: 1, a: [1.5, 1e21, -0], n: null }, action: { z: 1, a: 'é\t\\' }, metadata: { why: 'it\'s "down"\r\n\\' } },
      { time: base.time, deployment: 'ranker', model: 'ranker', version: null, arm: 'fallback', features: {}, action: { k: 1 } },
    ];
    for (const r of rows) {
      const ids = [id(), id()];
      await fx.decisions.copyDecisions([{ ...r, decisionId: ids[0] }]);
      await fx.decisions.insertDecisions([{ ...r, decisionId: ids[1] }]);
      const [viaCopy, viaInsert] = await stored(ids);
      expect(viaInsert).toEqual(viaCopy);
      expect(viaCopy.features).toBe(JSON.stringify(r.features)); // key order as written
    }
  });
});
