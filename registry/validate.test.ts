import { parseMetricFilter } from './versions';
import { checkJson, checkMetrics, checkModelName, checkTags, stableJson } from './validate';
import { parseRegistryNotification } from './audit';
import { ValidationError } from './errors';

describe('parseMetricFilter', () => {
  it.each([
    ['reward_mean>=0.7', { name: 'reward_mean', op: '>=', value: 0.7 }],
    ['p95_ms<50', { name: 'p95_ms', op: '<', value: 50 }],
    ['loss != 0', { name: 'loss', op: '!=', value: 0 }],
    ['charts/episodic_return>-3.5', { name: 'charts/episodic_return', op: '>', value: -3.5 }],
    ['x=1e-3', { name: 'x', op: '=', value: 0.001 }],
  ])('%s', (text, expected) => expect(parseMetricFilter(text)).toEqual(expected));

  it.each([
    ['reward_mean', 'metric filter: got "reward_mean"; expected NAME OP NUMBER with OP one of >, >=, <, <=, =, != (e.g. reward_mean>=0.7)'],
    ['>=3', 'metric filter: got ">=3"; expected NAME OP NUMBER'],
    ['a>high', 'metric filter "a>high": got "high"; expected a number after the comparison'],
    ['a>', 'metric filter "a>": got ""; expected a number after the comparison'],
  ])('refuses %s', (text, message) => expect(() => parseMetricFilter(text)).toThrow(message));
});

describe('input checks', () => {
  it('names the field, the value and the expectation', () => {
    expect(() => checkModelName('../etc')).toThrow('model: got "../etc"; expected a model name of 1-128 letters');
    expect(() => checkModelName('a..b')).toThrow(ValidationError);
    expect(checkModelName('ppo-rag_v2.1')).toBe('ppo-rag_v2.1');
    expect(() => checkMetrics({ ok: 1, bad: Infinity })).toThrow('metrics.bad: got Infinity; expected a finite number');
    expect(() => checkMetrics([1])).toThrow('metrics: got [1]; expected an object of metric name to number');
    expect(() => checkTags({ env: true })).toThrow('tags.env: got true; expected a string value');
    expect(() => checkJson({ a: [1, { b: Number.NaN }] }, 'fallback')).toThrow('fallback.a[1].b: got NaN; expected a finite number');
    expect(() => checkJson({ f: () => 1 }, 'config')).toThrow('config.f: got');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => checkJson(cyclic, 'config')).toThrow('config.self: got "[cycle]"; expected JSON without cycles');
  });

  it('compares JSON regardless of key order', () => {
    expect(stableJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(stableJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(stableJson({ a: 1 })).not.toBe(stableJson({ a: 2 }));
    expect(stableJson({ a: 1, u: undefined })).toBe(stableJson({ a: 1 }));
  });

  it('parses notifications and refuses foreign payloads', () => {
    expect(parseRegistryNotification('{"entity":"deployment","action":"deployment.set","model":"m","deployment":"m","generation":3,"championVersion":1,"canaryVersion":null,"canaryWeight":0}')).toMatchObject({ generation: 3 });
    expect(() => parseRegistryNotification('{"hello":1}')).toThrow('notification: got "{\\"hello\\":1}"; expected a JSON object with "entity" and "action" from channel autopilot_registry');
  });
});
