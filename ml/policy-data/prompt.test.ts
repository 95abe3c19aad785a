import { judge } from './judge';
import { generateDecisions } from './generate';
import { renderUserPrompt } from './prompt';

describe('the policy prompt', () => {
  const records = generateDecisions({ n: 300, seed: 11 });

  it('states the primary anomaly, any other one and the flags, then one line per action that restates them', () => {
    for (const r of records) {
      const [primary, ...others] = r.input.anomalies;
      const a = r.input.analysis;
      const flags = `recent_deploy=${a.recent_deploy ? 'yes' : 'no'} blast_radius=${a.blast_radius} risk=${a.risk_level}`;
      expect(renderUserPrompt(r.input, r.output.actions).split('\n')).toEqual([
        `primary ${primary.kind} ${primary.severity}`,
        ...others.map((o) => `also ${o.kind} ${o.severity}`),
        flags,
        ...r.output.actions.map((x) => `action ${x.type} for ${primary.kind} ${primary.severity} ${flags} confidence=${x.confidence.toFixed(2)} auto_approved=${x.auto_approved ? 'yes' : 'no'}`),
      ]);
    }
  });

  it('keeps every fact the reviewing rule reads: records the rule tells apart render differently', () => {
    const byPrompt = new Map<string, boolean>();
    for (const r of generateDecisions({ n: 3000, seed: 12 })) {
      const prompt = renderUserPrompt(r.input, r.output.actions);
      const good = judge(r.input, r.output.actions).good;
      if (byPrompt.has(prompt)) expect(byPrompt.get(prompt)).toBe(good);
      byPrompt.set(prompt, good);
    }
  });
});
