import { Rng } from '../rng';
import { AGG_FIELDS, AGGS, featureSetSchema, LATENCY_BOUNDS_MS, windowMs, type FeatureSetDefinition } from './definitions';
import { FeatureInputError, FeatureSet, FeatureSetError } from './feature-set';
import { pointInTimeFeatures, decisionEvents, type LoggedFeatureDecision } from './offline';
import { chars, countChar, digitRatio, dominantScript, estimatedTokens, hasCode, hasUrl, keywordCategory, lines, nonAsciiRatio, uppercaseRatio, words } from './request';
import { localTime } from './temporal';
import { ALL_FIELDS, BucketStore, aggregate, fieldsOf, latencyBucket, latencyQuantile, type FeatureEvent } from './windows';

describe('request transformations', () => {
  test.each([
    ['', 0, 0, 0],
    ['hello world', 11, 2, 1],
    ['  two  spaces\n\nand lines\n', 25, 4, 3],
    ['emoji 😀 counts once', 19, 4, 1],
    ['日本語のテキスト', 8, 1, 1],
  ])('chars/words/lines of %j', (s, c, w, l) => {
    expect(chars(s)).toBe(c);
    expect(words(s)).toBe(w);
    expect(lines(s)).toBe(l);
  });

  test('estimated tokens: ¼ per ASCII alphanumeric, 1 per punctuation and CJK character, ½ other non-ASCII', () => {
    expect(estimatedTokens('')).toBe(0);
    expect(estimatedTokens('abcd')).toBe(1);
    expect(estimatedTokens('abcde')).toBe(2); // 1.25 rounded up
    expect(estimatedTokens('Hi, you?')).toBe(4); // 5 letters (1.25) + 2 punctuation = 3.25 → 4
    expect(estimatedTokens('日本語')).toBe(3);
    expect(estimatedTokens('café')).toBe(2); // 0.75 + 0.5
    // English prose: within ±25% of the 4-characters-a-token rule of thumb.
    const prose = 'The quick brown fox jumps over the lazy dog while the cat watches from the warm windowsill. '.repeat(5);
    expect(estimatedTokens(prose) / (prose.length / 4)).toBeGreaterThan(0.75);
    expect(estimatedTokens(prose) / (prose.length / 4)).toBeLessThan(1.25);
  });

  test('ratios skip whitespace; an empty text is 0', () => {
    expect(nonAsciiRatio('ab cd')).toBe(0);
    expect(nonAsciiRatio('aé')).toBe(0.5);
    expect(nonAsciiRatio('   ')).toBe(0);
    expect(digitRatio('a1 b2')).toBe(0.5);
    expect(uppercaseRatio('ABcd 12')).toBe(0.5);
    expect(uppercaseRatio('123')).toBe(0);
  });

  test('count_char, has_code, has_url', () => {
    expect(countChar('why? how?? ', '?')).toBe(3);
    expect(hasCode('please fix ```x = 1```')).toBe(1);
    expect(hasCode('def main():\n  return 1')).toBe(1);
    expect(hasCode('const f = (a) => a + 1;')).toBe(1);
    expect(hasCode('What is the capital of France?')).toBe(0);
    expect(hasUrl('see https://example.com')).toBe(1);
    expect(hasUrl('no link here')).toBe(0);
  });

  test.each([
    ['Hello there', 'latin'],
    ['Привет, как дела?', 'cyrillic'],
    ['你好，世界', 'cjk'],
    ['こんにちは', 'cjk'],
    ['مرحبا بالعالم', 'arabic'],
    ['Καλημέρα', 'greek'],
    ['नमस्ते', 'devanagari'],
    ['1234 !!!', 'none'],
    ['Hi 你好你好', 'cjk'],
  ])('dominant script of %j is %s', (s, script) => {
    expect(dominantScript(s)).toBe(script);
  });

  test('keyword category: the first category with a keyword as a word; phrases as substrings; otherwise', () => {
    const cats = { code: ['python', 'bug'], math: ['integral'], creative: ['write a'] };
    expect(keywordCategory('Fix this Python bug', cats, 'chat')).toBe('code');
    expect(keywordCategory('pythonic style', cats, 'chat')).toBe('chat'); // a word, not a substring
    expect(keywordCategory('Compute the INTEGRAL of x', cats, 'chat')).toBe('math');
    expect(keywordCategory('Write a haiku', cats, 'chat')).toBe('creative');
    expect(keywordCategory('integral of a python bug', cats, 'chat')).toBe('code'); // definition order
    expect(keywordCategory('hello', cats, 'chat')).toBe('chat');
  });

  test('keyword category: a keyword with a character outside words (tl;dr, {, =) matches as a substring', () => {
    const cats = { code: ['{', 'def'], math: ['=', '+'], summarise: ['tl;dr'] };
    expect(keywordCategory('if (x) { y }', cats, 'chat')).toBe('code');
    expect(keywordCategory('x=1', cats, 'chat')).toBe('math');
    expect(keywordCategory('x + y', cats, 'chat')).toBe('math'); // + is a word character: the word "+"
    expect(keywordCategory('x+y', cats, 'chat')).toBe('chat'); // … and "x+y" is one word
    expect(keywordCategory('TL;DR please', cats, 'chat')).toBe('summarise');
    expect(keywordCategory('tl dr', cats, 'chat')).toBe('chat');
  });
});

describe('one-hot and scaled request features', () => {
  const category = { fn: 'keyword_category' as const, categories: { code: ['python'], math: ['integral'] }, otherwise: 'chat', levels: ['chat', 'code', 'math'] };
  const set = new FeatureSet(
    featureSetSchema.parse({
      set: 'onehot',
      features: [
        { name: 'task', type: 'categorical', source: 'request', transformation: category },
        ...['chat', 'code', 'math'].map((l) => ({ name: `task_${l}`, type: 'bool', source: 'request', transformation: { ...category, equals: l } })),
        { name: 'tokens_k', type: 'float', source: 'request', transformation: { fn: 'number', field: 'expected_tokens', divideBy: 1000 } },
        { name: 'chars_k', type: 'float', source: 'request', transformation: { fn: 'chars', divideBy: 1000 } },
      ],
    }),
  );

  test.each([
    ['a python bug', 1, [0, 1, 0]],
    ['the integral', 2, [0, 0, 1]],
    ['hello', 0, [1, 0, 0]],
  ])('%j: category %d, one-hot %j; numbers divided by divideBy', (prompt, index, onehot) => {
    const r = set.toRecord(set.compute({ prompt, expected_tokens: 1234 }, 0, []));
    expect(r.task).toBe(index);
    expect([r.task_chat, r.task_code, r.task_math]).toEqual(onehot);
    expect(r.tokens_k).toBe(1234 / 1000);
    expect(r.chars_k).toBe(prompt.length / 1000);
  });

  test('equals must be a level of a categorical transformation, on a bool feature; divideBy only on numeric ones', () => {
    const bad = featureSetSchema.parse({
      set: 'bad',
      features: [
        { name: 'a', type: 'bool', source: 'request', transformation: { ...category, equals: 'poetry' } },
        { name: 'b', type: 'categorical', source: 'request', transformation: { ...category, equals: 'code' } },
        { name: 'c', type: 'int', source: 'request', transformation: { fn: 'chars', equals: 'code' } },
        { name: 'd', type: 'bool', source: 'request', transformation: { fn: 'has_code', divideBy: 2 } },
        { name: 'e', type: 'categorical', source: 'request', transformation: { ...category, divideBy: 2 } },
      ],
    });
    expect(featureSetSchema.safeParse({ set: 'x', features: [{ name: 'f', type: 'int', source: 'request', transformation: { fn: 'chars', divideBy: 0 } }] }).success).toBe(false);
    let err: FeatureSetError | null = null;
    try {
      new FeatureSet(bad);
    } catch (e) {
      err = e as FeatureSetError;
    }
    expect(err!.problems).toEqual([
      { feature: 'a', field: 'transformation.equals', value: 'poetry', expected: 'one of the levels chat, code, math' },
      { feature: 'b', field: 'type', value: 'categorical', expected: 'bool (keyword_category with equals)' },
      { feature: 'c', field: 'transformation.equals', value: 'code', expected: 'nothing (only keyword_category and script take equals)' },
      { feature: 'd', field: 'transformation.divideBy', value: 2, expected: 'nothing (only a numeric feature is divided)' },
      { feature: 'e', field: 'transformation.divideBy', value: 2, expected: 'nothing (only a numeric feature is divided)' },
    ]);
  });
});

describe('temporal', () => {
  test('UTC hour, ISO weekday (0 = Monday), in another zone through Intl', () => {
    const sat = Date.parse('2026-12-05T23:30:00Z'); // a Saturday
    expect(localTime(sat, 'UTC')).toEqual({ hour: 23, minute: 30, weekday: 5 });
    expect(localTime(sat, 'Europe/Paris')).toEqual({ hour: 0, minute: 30, weekday: 6 }); // UTC+1 in December: Sunday
    expect(localTime(sat, 'America/New_York')).toEqual({ hour: 18, minute: 30, weekday: 5 });
    expect(localTime(Date.parse('2026-12-07T00:00:00Z'), 'UTC').weekday).toBe(0);
  });
});

describe('windows', () => {
  test('latency quantile interpolates within the histogram bucket (Prometheus histogram_quantile)', () => {
    const s: Record<string, number> = { 'n.latency_ms': 0 };
    for (const ms of [120, 150, 180, 400]) {
      s['n.latency_ms']++;
      const b = `h.latency_ms.${latencyBucket(ms)}`;
      s[b] = (s[b] ?? 0) + 1;
    }
    // 3 in (100, 200], 1 in (300, 500]: rank 2 of 4 → 100 + 100 · 2/3
    expect(latencyQuantile(s, 0.5)).toBeCloseTo(100 + 100 * (2 / 3), 12);
    // rank 3.6 → the (300, 500] bucket: 300 + 200 · 0.6
    expect(latencyQuantile(s, 0.9)).toBeCloseTo(420, 12);
    expect(latencyQuantile({}, 0.5)).toBeNull();
    expect(latencyBucket(1e9)).toBe(LATENCY_BOUNDS_MS.length);
  });

  test('aggregate: count and sum are 0 on no data, a mean is undefined (null)', () => {
    expect(aggregate({}, 'reward', 'reward', 'count')).toBe(0);
    expect(aggregate({}, 'reward', 'cost_usd', 'sum')).toBe(0);
    expect(aggregate({}, 'reward', 'reward', 'mean')).toBeNull();
    expect(aggregate({ 'n.reward': 4, 's.reward': 3 }, 'reward', 'reward', 'mean')).toBe(0.75);
    expect(aggregate({ 'n.decision': 7 }, 'decision', 'count', 'count')).toBe(7);
  });

  test('fieldsOf names every field an aggregate reads: the aggregate of those fields alone is the same', () => {
    const rng = new Rng(5);
    const store = new BucketStore(new Map([['tenant', [1000]]]));
    for (let i = 0; i < 200; i++) {
      if (rng.uniform() < 0.3) store.apply({ type: 'decision', time: i, entities: { tenant: 'a' } });
      else store.apply({ type: 'reward', time: i, entities: { tenant: 'a' }, model: null, reward: rng.uniform(), components: { latency_ms: rng.uniform() * 9000, cost_usd: rng.uniform() / 100, error: rng.uniform() < 0.2 ? 1 : 0 } });
    }
    const s = store.window({ kind: 'tenant', id: 'a', bucketMs: 1000 }, 500);
    expect(Object.keys(s).every((f) => ALL_FIELDS.includes(f))).toBe(true);
    for (const event of ['decision', 'reward'] as const) {
      for (const field of AGG_FIELDS) {
        for (const agg of AGGS) {
          const only: Record<string, number> = {};
          for (const f of fieldsOf(event, field, agg)) if (f in s) only[f] = s[f];
          expect([event, field, agg, aggregate(only, event, field, agg)]).toEqual([event, field, agg, aggregate(s, event, field, agg)]);
        }
      }
    }
  });

  test('a window is 12 buckets of window/12: an event leaves it 11 to 12 buckets later', () => {
    const store = new BucketStore(new Map([['tenant', [5000]]])); // 1m window
    const t0 = 1_800_000_000_000; // a multiple of 5000
    store.apply({ type: 'decision', time: t0 + 100, entities: { tenant: 'a' } });
    const ref = { kind: 'tenant', id: 'a', bucketMs: 5000 };
    expect(store.window(ref, t0 + 100)['n.decision']).toBe(1);
    expect(store.window(ref, t0 + 59_999)['n.decision']).toBe(1); // bucket t0/5000 + 11 is the last
    expect(store.window(ref, t0 + 60_000)['n.decision']).toBeUndefined();
    expect(store.window({ ...ref, id: 'b' }, t0 + 100)['n.decision']).toBeUndefined();
  });
});

const SET: FeatureSetDefinition = featureSetSchema.parse({
  set: 'test-set',
  features: [
    { name: 'chars', type: 'int', source: 'request', transformation: { fn: 'chars' } },
    { name: 'budget', type: 'int', source: 'request', transformation: { fn: 'number', field: 'max_tokens' }, missing: { policy: 'default', value: 256 } },
    { name: 'hour', type: 'int', source: 'temporal', transformation: { fn: 'hour' } },
    { name: 'cheap_latency', type: 'float', source: 'model', model: 'cheap', transformation: { field: 'latency_ms', agg: 'mean' }, window: '1m', missing: { policy: 'default', value: -1 } },
    { name: 'cheap_errors', type: 'float', source: 'model', model: 'cheap', transformation: { field: 'error', agg: 'mean' }, window: '1h', missing: { policy: 'default', value: 0 } },
    { name: 'reqs_1m', type: 'int', source: 'aggregate', entity: 'tenant', transformation: { event: 'decision', agg: 'count' }, window: '1m', missing: { policy: 'default', value: 0 } },
    { name: 'reward_mean_1h', type: 'float', source: 'aggregate', entity: 'tenant', transformation: { field: 'reward', agg: 'mean' }, window: '1h', missing: { policy: 'default', value: 0.5 } },
  ],
});

describe('FeatureSet', () => {
  const set = new FeatureSet(SET);

  test('computes request, temporal and window features in definition order; defaults where there is no value', () => {
    const v = set.compute({ prompt: 'abc', tenant: 't', timestamp: '2026-01-01T07:15:00Z' }, 0, set.seriesFor({ tenant: 't' }).map(() => ({})));
    expect(set.toRecord(v)).toEqual({ chars: 3, budget: 256, hour: 7, cheap_latency: -1, cheap_errors: 0, reqs_1m: 0, reward_mean_1h: 0.5 });
  });

  test('missing policy error names the feature and the request field; a wrong type is refused', () => {
    expect(() => set.compute({ tenant: 't' }, 0, [])).toThrow(FeatureInputError);
    expect(() => set.compute({ tenant: 't' }, 0, [])).toThrow(/feature chars: request.prompt is missing/);
    expect(() => set.compute({ prompt: 42 }, 0, [])).toThrow(/feature chars: request.prompt is 42; expected a string/);
    expect(() => set.compute({ prompt: 'x', max_tokens: 'many' }, 0, [])).toThrow(/feature budget: request.max_tokens is "many"; expected a finite number/);
    expect(() => set.compute({ prompt: 'x', timestamp: 'yesterday' }, 0, [])).toThrow(/timestamp is "yesterday"; expected an ISO 8601 time/);
  });

  test('cross-field rules: duplicate names, quantiles of a field without a histogram, decision events with a field', () => {
    const bad = featureSetSchema.parse({
      set: 'bad',
      features: [
        { name: 'a', type: 'int', source: 'request', transformation: { fn: 'chars' } },
        { name: 'a', type: 'int', source: 'request', transformation: { fn: 'words' } },
        { name: 'p', type: 'float', source: 'model', model: 'm', transformation: { field: 'cost_usd', agg: 'p50' }, window: '1h' },
        { name: 'd', type: 'int', source: 'aggregate', entity: 'tenant', transformation: { event: 'decision', field: 'reward', agg: 'mean' }, window: '1h' },
        { name: 'k', type: 'categorical', source: 'request', transformation: { fn: 'keyword_category', categories: { code: ['x'] }, otherwise: 'chat', levels: ['chat', 'math'] } },
      ],
    });
    let err: FeatureSetError | null = null;
    try {
      new FeatureSet(bad);
    } catch (e) {
      err = e as FeatureSetError;
    }
    expect(err).toBeInstanceOf(FeatureSetError);
    expect(err!.problems).toEqual([
      { feature: 'a', field: 'name', value: 'a', expected: 'a name not used before (feature 0 has it)' },
      { feature: 'p', field: 'transformation.agg', value: 'p50', expected: 'count, sum or mean (quantiles are kept for latency_ms only)' },
      { feature: 'd', field: 'transformation.field', value: 'reward', expected: 'count (decision events carry no values)' },
      { feature: 'k', field: 'transformation.levels', value: ['chat', 'math'], expected: 'a list that contains the category "code"' },
    ]);
  });

  test('window strings', () => {
    expect(windowMs('15m')).toBe(900_000);
    expect(windowMs('1d')).toBe(86_400_000);
    expect(() => windowMs('15 minutes')).toThrow(/expected a number and s, m, h or d/);
    expect(featureSetSchema.safeParse({ ...SET, features: [{ ...SET.features[3], window: '7s' }] }).success).toBe(false); // not 12 whole seconds
  });
});

describe('point in time (offline)', () => {
  const set = new FeatureSet(SET);

  test('each decision sees only the events strictly before its asOf; a later reward of an earlier decision is not seen', () => {
    const t0 = 1_800_000_000_000;
    const decisions: LoggedFeatureDecision[] = [
      { decisionId: 'd1', asOf: t0 + 1000, request: { prompt: 'a', tenant: 'acme' } },
      { decisionId: 'd2', asOf: t0 + 2000, request: { prompt: 'bb', tenant: 'acme' } },
      { decisionId: 'd3', asOf: t0 + 4000, request: { prompt: 'ccc', tenant: 'acme' } },
    ];
    const reward = (time: number, r: number, latency: number): FeatureEvent => ({ type: 'reward', time, entities: { tenant: 'acme' }, model: 'cheap', reward: r, components: { latency_ms: latency, error: 0 } });
    // d1's reward arrives after d2 was decided (3000): d2 must not see it, d3 must.
    const events = [...decisionEvents(set, decisions), reward(t0 + 3000, 1, 200), reward(t0 + 9000, 0, 900)];
    const rows = pointInTimeFeatures(set, decisions, events);
    const r = rows.map((x) => set.toRecord(x.values));
    expect(r.map((x) => x.reqs_1m)).toEqual([0, 1, 2]);
    expect(r.map((x) => x.reward_mean_1h)).toEqual([0.5, 0.5, 1]);
    expect(r.map((x) => x.cheap_latency)).toEqual([-1, -1, 200]);
  });

  test('rows come back in the order of the decisions given, whatever their times', () => {
    const t0 = 1_800_000_000_000;
    const rng = new Rng(7);
    const decisions: LoggedFeatureDecision[] = [];
    for (let i = 0; i < 50; i++) decisions.push({ decisionId: `d${i}`, asOf: t0 + Math.floor(rng.uniform() * 100_000), request: { prompt: 'x', tenant: rng.uniform() < 0.5 ? 'a' : 'b' } });
    const rows = pointInTimeFeatures(set, decisions, decisionEvents(set, decisions));
    expect(rows.map((r) => r.decisionId)).toEqual(decisions.map((d) => d.decisionId));
    // Brute force: count the same tenant's decisions strictly before, in the same 12 five-second buckets.
    for (const [i, d] of decisions.entries()) {
      const last = Math.floor(d.asOf / 5000);
      const expected = decisions.filter((o) => o.request.tenant === d.request.tenant && o.asOf < d.asOf && Math.floor(o.asOf / 5000) > last - 12).length;
      expect(set.toRecord(rows[i].values).reqs_1m).toBe(expected);
    }
  });
});
