import { encodeDecisionLine } from '../../decision-log';
import { testDecision } from '../testing/decision-row';
import { DecisionBatch } from './batch';

const row = testDecision;

describe('DecisionBatch', () => {
  it('holds rows as encoded lines, refuses a line that does not fit, and decodes them back', () => {
    const lines = Array.from({ length: 10 }, (_, i) => encodeDecisionLine(row(i, { unit: i % 2 ? 'ü✓𝄞\t\n' : null })));
    const bytes = lines.reduce((a, l) => a + Buffer.byteLength(l), 0);
    const batch = new DecisionBatch(bytes - 1);
    for (let i = 0; i < 9; i++) expect(batch.add(lines[i])).toBe(true);
    expect(batch.add(lines[9])).toBe(false); // one byte short
    expect(batch.count).toBe(9);
    expect(batch.text.toString('utf8')).toBe(lines.slice(0, 9).join(''));
    expect(batch.rows().map((r) => r.decisionId)).toEqual(Array.from({ length: 9 }, (_, i) => row(i).decisionId));
  });

  it('splits into halves on line boundaries, down to single rows', () => {
    const rows = Array.from({ length: 7 }, (_, i) => row(i, { unit: `ü${i}` }));
    const { batch, invalid } = DecisionBatch.fromRows(rows);
    expect(invalid).toEqual([]);
    const [a, b] = batch.halves();
    expect([a.count, b.count]).toEqual([3, 4]);
    expect([...a.rows(), ...b.rows()]).toEqual(rows.map((r) => ({ ...r, generation: null, density: null, latencyMs: null, metadata: null })));
    const [b1, b2] = b.halves();
    const [b21, b22] = b2.halves();
    expect([b1.count, b21.count, b22.count]).toEqual([2, 1, 1]);
    expect(b22.rows()[0].decisionId).toBe(rows[6].decisionId);
  });

  it('fromRows sets aside rows that fail validation', () => {
    const { batch, invalid } = DecisionBatch.fromRows([row(1), row(2, { propensity: 7 }), row(3)]);
    expect(batch.count).toBe(2);
    expect(invalid).toHaveLength(1);
    expect(invalid[0].row.decisionId).toBe(row(2).decisionId);
    expect(invalid[0].error.message).toMatch(/propensity/);
  });
});
