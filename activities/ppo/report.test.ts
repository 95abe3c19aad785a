import type { CandidateStats } from '../../contracts/ppo-training';
import type { PolicyEvaluation } from './evaluate';
import { configsCsv, evaluatedPoints, niceTicks, pivotMetrics, renderReportSvg, summaryCsv } from './report';

const stats = (label: string, quality: number, costUsd: number, reward: number, extra: Partial<CandidateStats> = {}): CandidateStats => ({
  label, episodes: 4, steps: 16, reward, episodicReturn: reward * 4, faithfulness: quality, relevancy: quality, quality, costUsd, latencyP95Ms: 300, gateViolations: 0, ...extra,
});
const cfg = (k: number) => ({ variant: 'A' as const, k, rerank: false, fusion_weight: 0, prompt_id: 'default' });

const evaluation: PolicyEvaluation = {
  candidates: [stats('final', 0.86, 0.0009, 0.63), stats('best', 0.85, 0.0009, 0.62)],
  chosen: 'final',
  baseline: stats('baseline', 0.81, 0.00095, 0.6, { config: cfg(8) }),
  bestStatic: stats('A k=4', 0.83, 0.0008, 0.61, { config: cfg(4) }),
  rewardDelta: { value: 0.03, lower: 0.01, upper: 0.05, alpha: 0.05, episodes: 4 },
  screened: [stats('A k=4', 0.83, 0.0008, 0.61, { config: cfg(4) }), stats('A k=16, "quoted"', 0.8, 0.0015, 0.5, { config: cfg(16) }), stats('A k=32', 0.7, 0.003, 0.3, { config: cfg(32) })],
  actions: {},
  improvementVsBaseline: 0.05,
  improvementVsBestStatic: 0.03,
};

/** Every element closed in order (a cheap well-formedness check without an XML parser). */
function wellNested(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0;
}

describe('report', () => {
  it('pivots run_metrics into one row per iteration, CleanRL columns first', () => {
    const rows = pivotMetrics([
      { step: 2, name: 'losses/approx_kl', value: 0.02 },
      { step: 1, name: 'charts/episodic_return', value: 1.5 },
      { step: 1, name: 'losses/approx_kl', value: 0.01 },
      { step: 1, name: 'zz/custom', value: 7 },
    ]);
    expect(rows).toEqual([
      { iteration: 1, values: { 'charts/episodic_return': 1.5, 'losses/approx_kl': 0.01, 'zz/custom': 7 } },
      { iteration: 2, values: { 'losses/approx_kl': 0.02 } },
    ]);
    expect(summaryCsv(rows)).toBe('iteration,charts/episodic_return,losses/approx_kl,zz/custom\n1,1.5,0.01,7\n2,,0.02,\n');
  });

  it('lists every evaluated config with the Pareto flag over all of them, quoting fields', () => {
    const points = evaluatedPoints(evaluation);
    expect(points.map((p) => p.kind)).toEqual(['grid', 'grid', 'grid', 'baseline', 'best_static', 'policy']);
    // Frontier: cheapest A k=4 (0.0008, 0.83) — twice, as grid and best static — and the policy (0.0009, 0.86).
    expect(points.filter((p) => p.pareto).map((p) => `${p.kind}:${p.stats.label}`)).toEqual(['grid:A k=4', 'best_static:A k=4', 'policy:final']);
    const lines = configsCsv(evaluation).trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[2]).toMatch(/^grid,"A k=16, ""quoted""",A,16,false,0,default,/);
    expect(lines[6]).toMatch(/^policy,final,,,,,,4,16,0\.63,/);
    expect(lines[6].endsWith(',true')).toBe(true);
  });

  it('renders an SVG with both panels, the frontier and reference lines', () => {
    const rows = pivotMetrics([1, 2, 3].map((step) => ({ step, name: 'charts/episodic_return', value: step })));
    const svg = renderReportSvg({ title: 'run <1> & co', rows, evaluation });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('run &lt;1&gt; &amp; co');
    expect(svg).toContain('Episodic return per iteration');
    expect(svg).toContain('Quality vs cost of evaluated configs');
    expect(svg.match(/<polyline /g)).toHaveLength(2); // training curve + Pareto frontier
    expect(svg.match(/<title>iteration \d: /g)).toHaveLength(3);
    expect(svg).toContain('stroke-dasharray="6 4"'); // baseline / best static reference lines
    expect(wellNested(svg)).toBe(true);
    expect(wellNested('<svg><g></svg></g>')).toBe(false);
    // Without an evaluation only the training panel is drawn.
    expect(renderReportSvg({ title: 't', rows, evaluation: null })).not.toContain('Quality vs cost');
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.62, 0.87)).toEqual([0.65, 0.7, 0.75, 0.8, 0.85]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});
