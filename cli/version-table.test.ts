/** `models show` and `models search` listings fit in 100 columns, however long the tags and metrics. */
import type { Alias, Deployment, Model, ModelVersion } from '../registry/index';
import { formatModelShow } from './commands/models';
import { COLUMNS, versionTable, wrapPairs, wrapText, wrapTokens } from './version-table';

function version(n: number, tags: Record<string, string>, metrics: Record<string, number>): ModelVersion {
  return {
    model: 'rag-policy-with-a-rather-long-name',
    version: n,
    id: `id-${n}`,
    artifactUri: `s3://autopilot/models/rag-policy/versions/id-${n}/model.onnx`,
    artifactLayout: 'file',
    sha256: 'ab'.repeat(32),
    size: 123_456,
    format: 'onnx',
    signature: {} as ModelVersion['signature'],
    metrics,
    tags,
    status: n === 2 ? 'champion' : 'registered',
    description: '',
    lineage: {} as ModelVersion['lineage'],
    createdBy: 'cli:someone',
    createdAt: new Date('2026-12-06T10:11:12.345Z'),
  };
}

const longTags: Record<string, string> = {
  config: 'configs/rl/rag-tuner.yaml',
  config_sha256: 'f'.repeat(64),
  workflow: 'ppo/rag-policy/2026-12-06T10:00:00.000Z/0d9f6c1e-1234-4abc-9def-0123456789ab',
  env: 'simulator',
  note: `${'a very long free-text note '.repeat(8)}that never stops`,
  [`k${'x'.repeat(150)}`]: 'a key longer than a line',
};
const longMetrics: Record<string, number> = Object.fromEntries(
  Array.from({ length: 40 }, (_, i) => [`eval/reward_mean_${i}`, 0.123456789 * i]),
);

function widest(text: string): number {
  return Math.max(...text.split('\n').map((l) => l.length));
}

describe('versionTable', () => {
  it('keeps every line within 100 columns with long tags and metrics, and loses no item', () => {
    const versions = [version(2, longTags, longMetrics), version(1, {}, { reward_mean: 0.5 })];
    for (const withModel of [false, true]) {
      const text = versionTable(versions, withModel);
      expect(widest(text)).toBeLessThanOrEqual(COLUMNS);
      const flat = text.replace(/\s+/g, '');
      for (const [k, v] of Object.entries(longMetrics)) expect(text).toContain(`${k}=${v}`);
      for (const [k, v] of Object.entries(longTags)) expect(flat).toContain(`${k}=${v}`.replace(/\s+/g, ''));
    }
  });

  it('prints the short fields as columns and tags and metrics under their version', () => {
    const text = versionTable([version(2, { env: 'sim', seed: '1' }, { reward_mean: 0.71 }), version(1, {}, {})]);
    expect(text.split('\n')).toEqual([
      'VERSION  STATUS      FORMAT  SIZE     SHA256        CREATED',
      '2        champion    onnx    121 KiB  abababababab  2026-12-06T10:11:12Z',
      '    tags     env=sim  seed=1',
      '    metrics  reward_mean=0.71',
      '1        registered  onnx    121 KiB  abababababab  2026-12-06T10:11:12Z',
    ]);
  });

  it('across models, starts each run of one model\'s rows with its name', () => {
    const other = { ...version(3, {}, {}), model: 'other' };
    const lines = versionTable([version(2, {}, {}), version(1, {}, {}), other, version(4, {}, {})], true).split('\n');
    expect(lines.filter((l) => l.startsWith('model '))).toEqual([
      'model rag-policy-with-a-rather-long-name',
      'model other',
      'model rag-policy-with-a-rather-long-name',
    ]);
    expect(lines[0]).toBe('VERSION  STATUS      FORMAT  SIZE     SHA256        CREATED');
    expect(lines[2]).toMatch(/^2 {8}champion/);
  });
});

describe('wrapping', () => {
  it('wraps items under the first one and cuts an item longer than a line', () => {
    expect(wrapPairs('  m  ', { a: 1, b: 22, c: 333 }, 14)).toEqual(['  m  a=1  b=22', '     c=333']);
    expect(wrapTokens('> ', '  ', ['abcdefghij'], ' ', 6)).toEqual(['> abcd', '  efgh', '  ij']);
    expect(wrapTokens('> ', '  ', [], ' ', 6)).toEqual(['>']);
  });

  it('wraps prose at spaces', () => {
    expect(wrapText('one two three four', '  ', 10)).toEqual(['one two', '  three', '  four']);
  });
});

describe('formatModelShow', () => {
  it('fits in 100 columns with a long description, fallback and many aliases', () => {
    const model: Model = {
      name: 'rag-policy',
      description: 'the RAG tuner trained by PPO in the simulator, '.repeat(5),
      createdAt: new Date('2026-12-01T00:00:00Z'),
      createdBy: 'cli:someone',
    } as Model;
    const deployment = {
      model: 'rag-policy',
      kind: 'policy',
      generation: 7,
      championVersion: 2,
      canaryVersion: 1,
      canaryWeight: 25,
      fallback: { retriever: 'bm25', k: 8, rerank: false, template: 'a-long-template-name-'.repeat(4) },
      exploration: { mode: 'greedy' },
    } as unknown as Deployment;
    const aliases = Array.from({ length: 20 }, (_, i) => ({ model: 'rag-policy', alias: `experiment-${i}`, version: i + 1 })) as unknown as Alias[];
    const text = formatModelShow({ model, deployment, aliases, versions: [version(2, longTags, longMetrics)] });
    expect(widest(text)).toBeLessThanOrEqual(COLUMNS);
    expect(text.split('\n')[0]).toMatch(/^model rag-policy — the RAG tuner/);
    expect(text).toContain('experiment-19→v20');
    expect(text).toContain('    metrics  eval/reward_mean_0=0');
  });
});
