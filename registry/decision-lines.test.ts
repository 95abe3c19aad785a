import { decodeDecisionLine, decodeDecisionLines, encodeDecisionLine } from './decisions';
import { ValidationError } from './errors';
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
};

describe('decision lines (COPY text format)', () => {
  it('decodes exactly what it encoded, COPY escapes and nulls included', () => {
    const awkward: DecisionInput[] = [
      base,
      { ...base, version: null, generation: null, propensity: null, density: null, unit: null, latencyMs: null, metadata: null, arm: 'fallback' },
      // Every character COPY treats specially, in every text and JSON field; a literal "\N" that is not null.
      { ...base, deployment: 'a\tb\\c', model: 'm\nn\ro', arm: 'x\\Ny', unit: '\\N', features: { 'we\tird\nkey\\': 'v\r\\N', é: '✓ 𝄞' }, action: ['\t', '\\'], metadata: { note: 'line1\nline2' } },
      { ...base, unit: 'user\u0000x', features: [], action: {}, propensity: 0, density: 0 },
    ];
    for (const d of awkward) {
      const line = encodeDecisionLine(d);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toMatch(/[\n\r]/); // one physical line
      expect(line.split('\t')).toHaveLength(14);
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
    const { generation, density, unit, latencyMs, metadata, ...rest } = base;
    void generation; void density; void unit; void latencyMs; void metadata;
    expect(decodeDecisionLine(encodeDecisionLine(rest))).toEqual({ ...rest, generation: null, density: null, unit: null, latencyMs: null, metadata: null });
  });

  it('validates like insertDecisions, naming the field', () => {
    expect(() => encodeDecisionLine({ ...base, propensity: 1.5 })).toThrow(ValidationError);
    expect(() => encodeDecisionLine({ ...base, propensity: 1.5 })).toThrow(/propensity/);
    expect(() => encodeDecisionLine({ ...base, decisionId: 'nope' })).toThrow(/decisionId/);
    expect(() => encodeDecisionLine({ ...base, time: new Date(NaN) })).toThrow(/time/);
  });

  it('refuses a line that is not one it wrote', () => {
    expect(() => decodeDecisionLine('a\tb\tc')).toThrow(/14 tab-separated fields, got 3/);
    expect(() => decodeDecisionLines(encodeDecisionLine(base).slice(0, -1))).toThrow(/no newline/);
    const bad = encodeDecisionLine({ ...base, unit: 'u' }).replace('\tu\t', '\t\\q\t');
    expect(() => decodeDecisionLine(bad)).toThrow(/unexpected escape/);
  });
});
