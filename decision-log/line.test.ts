import { DECISION_COLUMNS, decisionLineArmFields, decisionLineFields, decodeDecisionLine, decodeDecisionLines, encodeDecisionLine, encodeServedDecisionLine } from './line';
import { ValidationError } from '../registry/errors';
import type { DecisionInput } from './types';

const base: DecisionInput = {
  decisionId: '0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b',
  time: new Date('2026-12-04T09:30:00.123Z'),
  deployment: 'ranker',
  model: 'ranker',
  version: 3,
  generation: 12,
  arm: 'canary',
  features: [0.1, -2.5, 1e-7, 3],
  action: { variant: 'B', k: 12, rerank: true, fusion_weight: 0.31, prompt_id: 2 },
  propensity: 0.4375,
  density: 1.25,
  unit: 'user:42',
  latencyMs: 0.1234567,
  metadata: { armProbability: 0.25, mode: 'sample' },
  keyId: 'abcdefgh2345',
};

describe('decision lines (COPY text format)', () => {
  it('decodes exactly what it encoded, COPY escapes and nulls included', () => {
    const awkward: DecisionInput[] = [
      base,
      { ...base, version: null, generation: null, propensity: null, density: null, unit: null, latencyMs: null, metadata: null, arm: 'fallback', keyId: undefined },
      // Every character COPY treats specially, in every text and JSON field; a literal "\N" that is not null.
      { ...base, deployment: 'a\tb\\c', model: 'm\nn\ro', arm: 'x\\Ny', unit: '\\N', features: { 'we\tird\nkey\\': 'v\r\\N', é: '✓ 𝄞' }, action: ['\t', '\\'], metadata: { note: 'line1\nline2' } },
      { ...base, unit: 'user\u0000x', features: [], action: {}, propensity: 0, density: 0 },
    ];
    for (const d of awkward) {
      const line = encodeDecisionLine(d);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toMatch(/[\n\r]/); // one physical line
      expect(line.split('\t')).toHaveLength(15);
      expect(decodeDecisionLine(line)).toEqual({ ...d });
    }
    const block = awkward.map((d) => encodeDecisionLine(d)).join('');
    expect(decodeDecisionLines(block)).toEqual(awkward.map((d) => ({ ...d })));
  });

  it('carries the texts a caller already made (featuresJson, actionJson) as the same line', () => {
    const awkward: DecisionInput[] = [base, { ...base, features: { 'we\tird\nkey\\': 'v\r' }, action: ['\t', '\\', 'é'] }];
    for (const d of awkward) {
      const line = encodeDecisionLine({ ...d, featuresJson: JSON.stringify(d.features), actionJson: JSON.stringify(d.action) });
      expect(line).toBe(encodeDecisionLine(d));
      expect(decodeDecisionLine(line)).toEqual({ ...d });
    }
    // The client's own text of the features is kept as sent, whitespace (here a tab) included.
    const sent = '[ 0.1,\t-2.5 ]';
    expect(decodeDecisionLine(encodeDecisionLine({ ...base, features: [0.1, -2.5], featuresJson: sent })).features).toEqual([0.1, -2.5]);
    expect(encodeDecisionLine({ ...base, features: [0.1, -2.5], featuresJson: sent }).split('\t')[7]).toBe('[ 0.1,\\t-2.5 ]');
  });

  it('writes an omitted optional field as NULL', () => {
    const { generation, density, unit, latencyMs, metadata, keyId, ...rest } = base;
    void generation; void density; void unit; void latencyMs; void metadata; void keyId;
    expect(decodeDecisionLine(encodeDecisionLine(rest))).toEqual({ ...rest, generation: null, density: null, unit: null, latencyMs: null, metadata: null });
  });

  it('validates like insertDecisions, naming the field', () => {
    expect(() => encodeDecisionLine({ ...base, propensity: 1.5 })).toThrow(ValidationError);
    expect(() => encodeDecisionLine({ ...base, propensity: 1.5 })).toThrow(/propensity/);
    expect(() => encodeDecisionLine({ ...base, decisionId: 'nope' })).toThrow(/decisionId/);
    expect(() => encodeDecisionLine({ ...base, time: new Date(NaN) })).toThrow(/time/);
  });

  it('refuses a line that is not one it wrote', () => {
    expect(() => decodeDecisionLine('a\tb\tc')).toThrow(/15 tab-separated fields, got 3/);
    expect(() => decodeDecisionLines(encodeDecisionLine(base).slice(0, -1))).toThrow(/no newline/);
    const bad = encodeDecisionLine({ ...base, unit: 'u' }).replace('\tu\t', '\t\\q\t');
    expect(() => decodeDecisionLine(bad)).toThrow(/unexpected escape/);
  });
});

it('reads a line of the 14 fields before key_id (a journal of an older server), without a keyId', () => {
  const line = encodeDecisionLine(base);
  const legacy = `${line.slice(0, line.lastIndexOf('\t'))}\n`;
  expect(legacy.split('\t')).toHaveLength(14);
  expect(decodeDecisionLine(legacy)).toEqual({ ...base, keyId: undefined });
  expect('keyId' in decodeDecisionLine(legacy)).toBe(false);
  expect(decisionLineFields(legacy)).toEqual([...decisionLineFields(line).slice(0, 14), null]);
});

describe('encodeServedDecisionLine (a served decision from the texts at hand)', () => {
  const metadata = { armProbability: 0.25, policyProbability: 0.4375, mode: 'sample', epsilon: 0.05, temperature: 1.5 };
  /** The same decision both ways: the generic encoder's line, and the served one's (or its null). */
  const both = (d: DecisionInput & { featuresJson: string }) => {
    const served = encodeServedDecisionLine(
      d.decisionId,
      d.time,
      decisionLineArmFields(d),
      d.featuresJson,
      JSON.stringify(d.action),
      d.propensity as number,
      d.density ?? null,
      d.unit ?? null,
      d.latencyMs as number,
      JSON.stringify(d.metadata),
      d.keyId ?? null,
    );
    return { served, generic: () => encodeDecisionLine(d) };
  };
  const served = { ...base, metadata, featuresJson: JSON.stringify(base.features) };

  it('writes exactly the line encodeDecisionLine writes, escapes and nulls included', () => {
    const cases: (DecisionInput & { featuresJson: string })[] = [
      served,
      { ...served, density: null, unit: null, propensity: 1, latencyMs: 0.05, keyId: null },
      { ...served, propensity: 0, density: 0, generation: null, latencyMs: 1234.5678901234 },
      // Every character COPY treats specially where a client or a deployment can put one.
      { ...served, deployment: 'a\tb\\c', model: 'm\nn\ro', arm: 'x\\Ny', unit: 'u\t\\N', featuresJson: '{ "we\\tird\\nkey\\\\":\t[1,\n2] }', features: { 'we\tird\nkey\\': [1, 2] } },
      { ...served, action: { variant: 'q"\\', note: 'é ✓ 𝄞\t' }, metadata: { ...metadata, mode: 'greedy' } },
    ];
    for (const d of cases) {
      const { served: line, generic } = both(d);
      expect(line).toBe(generic());
      expect(decodeDecisionLine(line!)).toMatchObject({ decisionId: d.decisionId, deployment: d.deployment, arm: d.arm, unit: d.unit ?? null, action: d.action, metadata: d.metadata });
    }
  });

  it('gives null for a row the generic path refuses, so the caller can log it that way (and have it set aside)', () => {
    const refused: (DecisionInput & { featuresJson: string })[] = [
      { ...served, propensity: Number.NaN },
      { ...served, propensity: 1.5 },
      { ...served, propensity: -0.1 },
      { ...served, density: -1 },
      { ...served, density: Infinity },
      { ...served, latencyMs: Number.NaN },
      { ...served, decisionId: 'nope' },
      { ...served, time: new Date(Number.NaN) },
    ];
    for (const d of refused) {
      const { served: line, generic } = both(d);
      expect(line).toBeNull();
      expect(generic).toThrow(ValidationError);
    }
  });

  it('checks the arm fields as the generic path does, naming the field', () => {
    expect(() => decisionLineArmFields({ ...base, version: 0 })).toThrow(/version/);
    expect(() => decisionLineArmFields({ ...base, generation: 1.5 })).toThrow(/generation/);
    expect(() => decisionLineArmFields({ ...base, arm: '' })).toThrow(ValidationError);
    expect(decisionLineArmFields({ ...base, version: null, generation: null })).toBe('\tranker\tranker\t\\N\t\\N\tcanary\t');
  });
});

describe('decisionLineFields (what COPY and INSERT hand each column)', () => {
  it('gives one text per column of DECISION_COLUMNS, escapes undone, null for NULL', () => {
    const d: DecisionInput = { ...base, unit: 'u\t\\N', density: null, featuresJson: '{ "a":\t1 }', features: { a: 1 } };
    const fields = decisionLineFields(encodeDecisionLine(d));
    const byColumn = Object.fromEntries(DECISION_COLUMNS.map((c, i) => [c.name, fields[i]]));
    expect(fields).toHaveLength(DECISION_COLUMNS.length);
    expect(byColumn).toEqual({
      decision_id: d.decisionId,
      time: '2026-12-04T09:30:00.123Z',
      deployment: 'ranker',
      model: 'ranker',
      version: '3',
      generation: '12',
      arm: 'canary',
      features: '{ "a":\t1 }',
      action: JSON.stringify(base.action),
      propensity: '0.4375',
      density: null,
      unit: 'u\t\\N',
      latency_ms: '0.1234567',
      metadata: JSON.stringify(base.metadata),
      key_id: 'abcdefgh2345',
    });
  });
});
