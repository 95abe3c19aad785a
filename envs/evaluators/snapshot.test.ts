/** Dataset snapshots as replay input: what a row needs, and what is refused (naming file, line, field). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReplaySource, sha256, SNAPSHOT_FORMAT } from './snapshot';

const config = { variant: 'B', k: 9, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' };

function snapshot(predictions: object[], contexts: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-'));
  const files: Record<string, string> = {
    'predictions.jsonl': predictions.map((p) => `${JSON.stringify(p)}\n`).join(''),
    'contexts.jsonl': contexts.map((c) => `${JSON.stringify(c)}\n`).join(''),
    'summary.csv': 'model,version,arm,decisions,rewarded,mean_reward\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const entry = (name: string) => ({ sha256: sha256(files[name]), bytes: Buffer.byteLength(files[name]), rows: files[name].split('\n').length - 1 });
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      format: SNAPSHOT_FORMAT,
      deployment: 'd',
      window: { from: '2030-01-01T00:00:00.000Z', to: '2030-01-02T00:00:00.000Z', fromInclusive: true, toInclusive: false },
      createdAt: '2030-01-02T00:00:01.000Z',
      rows: predictions.length,
      rewarded: predictions.length,
      files: { 'predictions.jsonl': entry('predictions.jsonl'), 'contexts.jsonl': entry('contexts.jsonl'), 'summary.csv': entry('summary.csv') },
    }),
  );
  return dir;
}

const components = { faithfulness: 0.9, relevancy: 0.8, latency_ms: 300, cost_usd: 0.001 };

describe('loadReplaySource on a dataset snapshot', () => {
  it('turns rewarded RAG decisions into replay records, skipping unrewarded ones; the manifest path works too', () => {
    const dir = snapshot(
      [
        { decision_id: 'a', action: config, reward: 0.85, reward_components: components },
        { decision_id: 'b', action: config, reward: null, reward_components: null },
      ],
      [{ decision_id: 'a', features: { category: 'policy' } }, { decision_id: 'b', features: { category: 'policy' } }],
    );
    for (const path of [dir, join(dir, 'manifest.json')]) {
      const s = loadReplaySource(path);
      expect(s.kind).toBe('snapshot');
      expect(s.records).toEqual([{ config, category: 'policy', faithfulness: 0.9, relevancy: 0.8, latency_ms: { p50: 300, p95: 300 }, cost_usd: 0.001, error_rate: 0 }]);
    }
  });

  it.each([
    [{ decision_id: 'a', action: { arm: 2 }, reward: 1, reward_components: components }, { category: 'policy' }, /predictions\.jsonl:1: action is not a RAG config[^]*config\.variant must be A or B/],
    [{ decision_id: 'a', action: config, reward: 1, reward_components: { ...components, cost_usd: undefined } }, { category: 'policy' }, /predictions\.jsonl:1: reward_components\.cost_usd must be a number ≥ 0, got nothing/],
    [{ decision_id: 'a', action: config, reward: 1, reward_components: components }, { q_len: 3 }, /predictions\.jsonl:1: the context of decision a names no category/],
  ])('refuses a row that cannot be replayed (%#)', (prediction, features, message) => {
    expect(() => loadReplaySource(snapshot([prediction], [{ decision_id: 'a', features }]))).toThrow(message);
  });

  it('refuses a snapshot without rewarded decisions, and a missing path', () => {
    expect(() => loadReplaySource(snapshot([{ decision_id: 'a', action: config, reward: null }], [{ decision_id: 'a', features: { category: 'policy' } }]))).toThrow(/no rewarded decisions to replay \(1 unrewarded\)/);
    expect(() => loadReplaySource('/nonexistent/snap')).toThrow(/replay source \/nonexistent\/snap cannot be read \(ENOENT\)/);
  });

  describe('the category from the one-hot of a contextual policy\'s features', () => {
    const featureNames = ['f_mean', 'k', 'category=factoid', 'category=howto'];
    const row = { decision_id: 'a', action: config, reward: 0.85, reward_components: components };
    it.each([
      [[0.5, 9, 0, 1]],
      [{ f_mean: 0.5, k: 9, 'category=factoid': 0, 'category=howto': 1 }],
    ])('reads it from an array in the names\' order or an object keyed by them (%#)', (features) => {
      const s = loadReplaySource(snapshot([row], [{ decision_id: 'a', features }]), { featureNames });
      expect(s.records.map((r) => r.category)).toEqual(['howto']);
    });
    it('prefers a named category', () => {
      const s = loadReplaySource(snapshot([row], [{ decision_id: 'a', features: [0.5, 9, 0, 1], metadata: { category: 'policy' } }]), { featureNames });
      expect(s.records.map((r) => r.category)).toEqual(['policy']);
    });
    it.each([
      [[0.5, 9, 0], /has 3 features, the policy's observation has 4/],
      [[0.5, 9, 0, 0], /has 0 categories set in its category=<id> one-hot \(none\), expected exactly one/],
      [[0.5, 9, 1, 1], /has 2 categories set in its category=<id> one-hot \(factoid, howto\), expected exactly one/],
      [[0.5, 9, 0.5, 1], /has category=factoid = 0\.5, expected 0 or 1/],
    ])('refuses a context that is not the policy\'s or has no single category (%#)', (features, message) => {
      expect(() => loadReplaySource(snapshot([row], [{ decision_id: 'a', features }]), { featureNames })).toThrow(message);
    });
  });
});
