import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../config/load';
import { ModelSelectionSimulator, TASK_CATEGORIES } from '../../envs/model-selection';
import { DEFAULT_FEATURE_SETS_DIR, loadFeatureSet, loadFeatureSets, parseFeatureSet } from './load';

const HEAD = 'set: t\nfeatures:\n';

function problemsOf(text: string): string {
  try {
    parseFeatureSet(text, 'configs/features/t.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('feature set YAML', () => {
  test('the shipped llm-routing set loads: 20+ features of all four sources, merge keys expanded per model', () => {
    const set = loadFeatureSet(join(DEFAULT_FEATURE_SETS_DIR, 'llm-routing.yaml'));
    expect(set.name).toBe('llm-routing');
    expect(set.names.length).toBeGreaterThanOrEqual(20);
    expect(new Set(set.definitions.map((d) => d.source))).toEqual(new Set(['request', 'temporal', 'model', 'aggregate']));
    const premium = set.definitions.find((d) => d.name === 'premium_latency_p50_15m');
    expect(premium).toMatchObject({ source: 'model', model: 'premium', window: '15m', transformation: { field: 'latency_ms', agg: 'p50' } });
    expect([...loadFeatureSets(DEFAULT_FEATURE_SETS_DIR).keys()]).toContain('llm-routing');
  });

  test('the shipped model-selection set computes every input of the model-selection bandit; on the simulator\'s prompts its one-hot task columns name the true category', () => {
    const set = loadFeatureSet(join(DEFAULT_FEATURE_SETS_DIR, 'model-selection.yaml'));
    expect(set.name).toBe('model-selection');
    const bandit = parseYaml(readFileSync(join(DEFAULT_FEATURE_SETS_DIR, '..', 'bandits', 'model-selection.yaml'), 'utf8')) as { features: string[] };
    for (const name of bandit.features) expect(set.indexOf(name)).toBeDefined();
    const sim = new ModelSelectionSimulator(3);
    const miss = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const req = sim.next();
      const r = set.toRecord(set.computeLocal({ prompt: req.prompt, tenant: req.tenant, expected_tokens: req.tokens }, 0));
      const onehot = TASK_CATEGORIES.map((c) => r[`task_${c}`]);
      expect(onehot.reduce((a, b) => a + b, 0)).toBe(1);
      if (r[`task_${req.category}`] !== 1) miss.set(req.category, (miss.get(req.category) ?? 0) + 1);
      expect(r.tokens_k).toBe(req.tokens / 1000);
    }
    // A code or maths prompt of only "write"/"fix" or "x" words reads as chat: a few in 10^5 (seeded stream).
    expect([...miss.values()].reduce((a, b) => a + b, 0)).toBeLessThan(n / 1000);
    expect([...loadFeatureSets(DEFAULT_FEATURE_SETS_DIR).keys()]).toEqual(expect.arrayContaining(['llm-routing', 'model-selection']));
  });

  test.each([
    [
      'an unknown transformation',
      `${HEAD}  - { name: chars, type: int, source: request, transformation: { fn: charz } }\n`,
      /configs\/features\/t\.yaml:3:\d+: feature chars: transformation\.fn: got "charz", expected one of "chars"/,
    ],
    [
      'a bad window',
      `${HEAD}  - { name: lat, type: float, source: model, model: cheap, transformation: { field: latency_ms, agg: mean }, window: 15 minutes }\n`,
      /feature lat: window: got "15 minutes", expected a window such as "1m"/,
    ],
    [
      'an unknown key',
      `${HEAD}  - { name: h, type: int, source: temporal, transformation: { fn: hour }, windw: 1h }\n`,
      /feature h: \(definition\): got \["windw"\], expected no unknown keys/,
    ],
    [
      'a duplicate name (cross-field rule)',
      `${HEAD}  - { name: h, type: int, source: temporal, transformation: { fn: hour } }\n  - { name: h, type: int, source: temporal, transformation: { fn: weekday } }\n`,
      /configs\/features\/t\.yaml: feature h: name: got "h", expected a name not used before/,
    ],
    [
      'a quantile of cost (cross-field rule)',
      `${HEAD}  - { name: c, type: float, source: model, model: m, transformation: { field: cost_usd, agg: p90 }, window: 1h }\n`,
      /feature c: transformation\.agg: got "p90", expected count, sum or mean/,
    ],
    ['a bad time zone', `set: t\ntimezone: Mars/Olympus\nfeatures:\n  - { name: h, type: int, source: temporal, transformation: { fn: hour } }\n`, /timezone: got "Mars\/Olympus", expected an IANA time zone/],
    ['invalid YAML', `${HEAD}  - { name: h\n`, /configs\/features\/t\.yaml:\d+:\d+: \(yaml\): got invalid YAML/],
  ])('%s is refused, naming the file, the feature, the field, the value and what was expected', (_what, text, message) => {
    expect(problemsOf(text)).toMatch(message);
  });
});
