/** The optimiser activities' pure helpers: the RAG space and its mapping, batch categories, config paths, the SVG charts. */
import { defaultPolicyConfig } from '../../envs';
import { baselinePoint, batchCategories, defaultRagSpace, toRagConfig } from './tuning';
import { withPoint } from './experiments';
import { chartSvg } from './svg';

describe('optimiser helpers', () => {
  const policy = defaultPolicyConfig().policy;

  it('the default RAG space covers the policy bounds and choices; the baseline is a point of it and maps back to the baseline config', () => {
    const space = defaultRagSpace(policy);
    expect(space.map((p) => p.name)).toEqual(['variant', 'k', 'rerank', 'fusion_weight', 'prompt_id']);
    expect(space[1]).toEqual({ name: 'k', type: 'integer', low: policy.bounds.k.min, high: policy.bounds.k.max });
    const point = baselinePoint(policy, space);
    expect(point).toEqual({ variant: 'A', k: 8, rerank: 'off', fusion_weight: 0, prompt_id: 'default' });
    expect(toRagConfig(policy, point)).toEqual(policy.baseline);
    // A narrowed space keeps the other fields at the baseline.
    expect(toRagConfig(policy, { k: 12, rerank: 'on' })).toEqual({ ...policy.baseline, k: 12, rerank: true });
  });

  it('batch categories follow the mix by largest cumulative share', () => {
    expect(batchCategories({ policy: 0.5, howto: 0.3, definition: 0.2 }, 10)).toEqual(['policy', 'policy', 'policy', 'policy', 'policy', 'howto', 'howto', 'howto', 'definition', 'definition']);
    expect(batchCategories({ a: 1 }, 3)).toEqual(['a', 'a', 'a']);
  });

  it('withPoint sets dotted paths in a copy, creating missing objects', () => {
    const base = { ppo: { num_steps: 16 }, policy: { thresholds: { faithfulness: 0.8 } } };
    const out = withPoint(base, { 'ppo.learning_rate': 0.001, 'policy.reward_weights.delta': 0.5 });
    expect(out).toEqual({ ppo: { num_steps: 16, learning_rate: 0.001 }, policy: { thresholds: { faithfulness: 0.8 }, reward_weights: { delta: 0.5 } } });
    expect(base).toEqual({ ppo: { num_steps: 16 }, policy: { thresholds: { faithfulness: 0.8 } } });
  });

  it('chartSvg draws every series, band and reference line, escaping labels', () => {
    const svg = chartSvg('a <title> & more', [{
      title: 'panel', xLabel: 'x', yLabel: 'y',
      series: [{ label: 'best so far', x: [1, 2, 3], y: [0.1, 0.3, 0.3], color: '#000', kind: 'step' }, { label: 'each', x: [1, 2, 3], y: [0.1, 0.3, 0.2], color: '#111', kind: 'points' }],
      bands: [{ x: [1, 2, 3], lower: [0, 0.1, 0.1], upper: [0.2, 0.4, 0.5], color: '#222' }],
      hlines: [{ y: 0.25, label: 'baseline', color: '#333' }],
    }]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt;title&gt; &amp; more');
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    // A staircase: 3 points and 2 risers.
    expect(svg.match(/<polyline points="([^"]+)"/)![1].split(' ')).toHaveLength(5);
    expect(svg).toContain('<polygon ');
    expect(svg).toContain('>baseline</text>');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });
});
