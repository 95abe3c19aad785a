import { escapeLabelValue, promDuration, queryTemplateProblems, renderQuery, withQueryGates, type QueryOutcome } from './promql';
import type { CheckResult } from './status';

const vars = { deployment: 'ranker', arm: 'canary', version: 7, intervalMs: 90_000 };

function check(outcome: CheckResult['outcome'], extra: Partial<CheckResult> = {}): CheckResult {
  return {
    outcome,
    breach: false,
    reasons: outcome === 'pass' ? [] : [`rows ${outcome}`],
    at: '2026-12-06T00:00:00.000Z',
    window: { from: '2026-12-06T00:00:00.000Z', to: '2026-12-06T00:00:00.000Z' },
    samples: { champion: 500, canary: 500 },
    metrics: [{ name: 'error_rate', value: 0, max: 0.01, ok: true }],
    delta: null,
    burnRate: [],
    decisionLook: true,
    ...extra,
  };
}

describe('PromQL metric templates', () => {
  it('fills every placeholder, with or without spaces inside the braces', () => {
    const q = 'sum(rate(autopilot_decisions_total{deployment="{{ deployment }}",arm="{{arm}}",version="{{  version }}"}[{{ interval }}]))';
    expect(renderQuery(q, vars)).toBe('sum(rate(autopilot_decisions_total{deployment="ranker",arm="canary",version="7"}[1m30s]))');
  });

  it.each([
    ['a"b', 'a\\"b'],
    ["it's", "it\\'s"],
    ['back\\slash', 'back\\\\slash'],
    ['two\nlines', 'two\\nlines'],
    ['"}) or vector(1) # ', '\\"}) or vector(1) # '],
  ])('escapes the label value %j so it cannot end the string literal', (value, escaped) => {
    expect(escapeLabelValue(value)).toBe(escaped);
    const rendered = renderQuery('up{job="{{ deployment }}"}', { ...vars, deployment: value });
    expect(rendered).toBe(`up{job="${escaped}"}`);
    // the literal ends at the last quote only: every quote inside is preceded by an odd run of backslashes
    const inner = rendered.slice('up{job="'.length, -2);
    for (let i = 0; i < inner.length; i++) {
      if (inner[i] !== '"') continue;
      let run = 0;
      for (let j = i - 1; j >= 0 && inner[j] === '\\'; j--) run++;
      expect(run % 2).toBe(1);
    }
  });

  it('writes intervals as exact PromQL durations', () => {
    expect([promDuration(1000), promDuration(90_000), promDuration(3_600_000), promDuration(86_400_000 + 1000), promDuration(1500), promDuration(250)]).toEqual(['1s', '1m30s', '1h', '1d1s', '1500ms', '250ms']);
    expect(() => promDuration(0)).toThrow('promDuration: got 0, expected a whole number of milliseconds > 0');
  });

  it('names unknown placeholders and stray braces', () => {
    expect(queryTemplateProblems('up{a="{{ deployment }}"}')).toEqual([]);
    expect(queryTemplateProblems('up{a="{{ namespace }}"}')).toEqual(['unknown placeholder {{ namespace }} (known: {{ deployment }}, {{ arm }}, {{ version }}, {{ interval }})']);
    expect(queryTemplateProblems('rate(x[{{ interval ]])')).toEqual(['an unclosed {{ or a stray }}']);
    expect(queryTemplateProblems('  ')).toEqual(['an empty query']);
    expect(() => renderQuery('x{{ target }}', vars)).toThrow('query "x{{ target }}": unknown placeholder {{ target }}');
  });
});

describe('withQueryGates', () => {
  const gates = [{ name: 'error_ratio', max: 0.05, query: 'q' }, { name: 'qps', min: 1, query: 'q' }];
  const ok = (name: string, value: number): QueryOutcome => ({ name, query: `rendered ${name}`, value, error: null });

  it('adds the values to the metrics and keeps the rows\' outcome when every query is in range', () => {
    for (const outcome of ['pass', 'inconclusive', 'fail'] as const) {
      const r = withQueryGates(check(outcome), [ok('error_ratio', 0.01), ok('qps', 3)], gates);
      expect(r.outcome).toBe(outcome);
      expect(r.reasons).toEqual(check(outcome).reasons);
      expect(r.metrics.slice(1)).toEqual([
        { name: 'error_ratio', value: 0.01, max: 0.05, ok: true, source: 'prometheus: rendered error_ratio' },
        { name: 'qps', value: 3, min: 1, ok: true, source: 'prometheus: rendered qps' },
      ]);
    }
  });

  it('fails a passing or inconclusive check on a value out of range, with the reason first', () => {
    const r = withQueryGates(check('inconclusive'), [ok('error_ratio', 0.2), ok('qps', 3)], gates);
    expect(r).toMatchObject({ outcome: 'fail', breach: false });
    expect(r.reasons).toEqual(['error_ratio 0.200 outside [-inf, 0.05] (prometheus: rendered error_ratio)', 'rows inconclusive']);
    expect(r.metrics.find((m) => m.name === 'error_ratio')!.ok).toBe(false);
  });

  it('fails the check when a query has no value (no data, NaN, error), as Flagger counts a failed check', () => {
    const r = withQueryGates(check('pass'), [{ name: 'error_ratio', query: 'sum(x)', value: null, error: 'no data (the query returned no series)' }, ok('qps', 0.5)], gates);
    expect(r.outcome).toBe('fail');
    expect(r.reasons).toEqual(['error_ratio: no data (the query returned no series) (query sum(x))', 'qps 0.500 outside [1, inf] (prometheus: rendered qps)']);
    expect(r.metrics.find((m) => m.name === 'error_ratio')).toMatchObject({ value: null, ok: false });
  });

  it('keeps a breach a breach, adding the query reasons after it', () => {
    const r = withQueryGates(check('fail', { breach: true, reasons: ['canary ejected'] }), [ok('error_ratio', 1), ok('qps', 3)], gates);
    expect(r).toMatchObject({ outcome: 'fail', breach: true });
    expect(r.reasons).toEqual(['canary ejected', 'error_ratio 1.00 outside [-inf, 0.05] (prometheus: rendered error_ratio)']);
  });

  it('changes nothing without queries', () => {
    const c = check('pass');
    expect(withQueryGates(c, [], gates)).toBe(c);
  });
});
