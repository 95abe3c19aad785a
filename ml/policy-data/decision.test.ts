import { generateDecisions } from './generate';
import { parseDecisionsJsonl, validateDecision } from './decision';

const valid = generateDecisions({ n: 1, seed: 3 })[0];

function withChange(change: (r: any) => void): string {
  const copy = JSON.parse(JSON.stringify(valid));
  change(copy);
  return JSON.stringify(copy);
}

describe('labelled decision validation', () => {
  it('accepts generated records and skips blank lines', () => {
    const records = parseDecisionsJsonl(`${JSON.stringify(valid)}\n\n${JSON.stringify(valid)}\n`, 'd.jsonl');
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual(valid);
  });

  it.each([
    ['a label outside good|bad', (r: any) => { r.label = 'ok'; }, /d\.jsonl line 2: field label: .*\(got "ok"\)/],
    ['a confidence above 1', (r: any) => { r.output.actions[0].confidence = 1.5; }, /line 2: field output\.actions\[0\]\.confidence: .*\(got 1\.5\)/],
    ['an unknown action type', (r: any) => { r.output.actions[0].type = 'reboot_world'; }, /line 2: field output\.actions\[0\]\.type: .*\(got "reboot_world"\)/],
    ['a missing analysis', (r: any) => { delete r.input.analysis; }, /line 2: field input\.analysis: .*\(got nothing\)/],
    ['no anomalies', (r: any) => { r.input.anomalies = []; }, /line 2: field input\.anomalies: /],
    ['an unknown extra field', (r: any) => { r.extra = 1; }, /line 2: field \(record\): .*extra/],
  ])('rejects %s, naming the line and the field', (_name, change, message) => {
    const text = `${JSON.stringify(valid)}\n${withChange(change)}\n`;
    expect(() => parseDecisionsJsonl(text, 'd.jsonl')).toThrow(message);
  });

  it('names the line of text that is not JSON', () => {
    expect(() => parseDecisionsJsonl(`${JSON.stringify(valid)}\n{oops\n`, 'd.jsonl')).toThrow(/d\.jsonl line 2: not valid JSON/);
  });

  it('rejects an empty file', () => {
    expect(() => parseDecisionsJsonl('\n\n', 'd.jsonl')).toThrow(/d\.jsonl: no records/);
  });

  it('validates a single value with the caller\'s location', () => {
    expect(() => validateDecision({ ...valid, label: 3 }, 'request body')).toThrow(/^request body: field label/);
  });
});
