import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig, parseConfig } from './load';

const schema = z
  .object({
    policy: z
      .object({
        bounds: z.object({ k: z.object({ min: z.number().int().min(1), max: z.number().int().max(64) }).strict() }).strict(),
        discrete: z.object({ variant: z.array(z.string()).min(1) }).strict(),
        mode: z.enum(['offline', 'shadow', 'canary']).default('offline'),
      })
      .strict(),
  })
  .strict();

const good = `policy:
  bounds:
    k: {min: 3, max: 32}
  discrete:
    variant: [A, B]
`;

function errorOf(text: string): ConfigError {
  try {
    parseConfig(schema, text, 'configs/test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader', () => {
  it('returns typed data with defaults filled in', () => {
    const cfg = parseConfig(schema, good, 'configs/test.yaml');
    expect(cfg.policy.bounds.k).toEqual({ min: 3, max: 32 });
    expect(cfg.policy.mode).toBe('offline');
  });

  it.each([
    ['a string where a number belongs', good.replace('min: 3', 'min: three'), 'configs/test.yaml:3:14: policy.bounds.k.min: got "three" (string), expected number'],
    ['a number below its minimum', good.replace('min: 3', 'min: 0'), 'configs/test.yaml:3:14: policy.bounds.k.min: got 0, expected >= 1'],
    ['a number above its maximum', good.replace('max: 32', 'max: 99'), 'configs/test.yaml:3:22: policy.bounds.k.max: got 99, expected <= 64'],
    ['a missing field', good.replace('    k: {min: 3, max: 32}\n', '    k: {min: 3}\n'), 'configs/test.yaml:3:8: policy.bounds.k.max: got (missing), expected number'],
    ['an enum value outside its set', `${good}  mode: live\n`, 'configs/test.yaml:6:9: policy.mode: got "live", expected one of "offline", "shadow", "canary"'],
    ['an unknown key', `${good}  extra: 1\n`, 'configs/test.yaml:6:10: policy: got ["extra"], expected no unknown keys (unknown: extra)'],
    ['an empty list', good.replace('[A, B]', '[]'), 'configs/test.yaml:5:14: policy.discrete.variant: got [], expected at least 1 item(s)'],
    ['a scalar document', '42\n', 'configs/test.yaml:1:1: (root): got 42 (number), expected object'],
  ])('reports %s with file, path, value and expectation', (_what, text, message) => {
    expect(errorOf(text).message).toBe(message);
  });

  it('reports every problem, not just the first', () => {
    const err = errorOf(good.replace('min: 3', 'min: 0').replace('max: 32', 'max: 99'));
    expect(err.problems.map((p) => p.path)).toEqual(['policy.bounds.k.min', 'policy.bounds.k.max']);
  });

  it('reports invalid YAML with its position', () => {
    const err = errorOf('policy:\n  bounds: [1, 2\n');
    expect(err.problems[0].path).toBe('(yaml)');
    expect(err.message).toMatch(/^configs\/test\.yaml:\d+:\d+: \(yaml\): got invalid YAML, expected valid YAML/);
  });

  it('reports duplicate keys as invalid YAML', () => {
    expect(errorOf('policy: 1\npolicy: 2\n').message).toContain('expected valid YAML');
  });

  it('names an unreadable file', () => {
    expect(() => loadConfig(schema, '/nonexistent/x.yaml')).toThrow('/nonexistent/x.yaml: (file): got unreadable, expected a readable YAML file (ENOENT)');
  });

  it('reads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'p.yaml'), good);
    expect(loadConfig(schema, join(dir, 'p.yaml')).policy.discrete.variant).toEqual(['A', 'B']);
  });
});
