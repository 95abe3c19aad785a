import { answerMiddle, decideAnswerText, decisionMetadataJson, headPropensitiesObject, type DecideResponse } from './answer';
import { newDecisionStamp } from '../decisions/id';

/** The answer as the object decide used to return, serialized the generic way. */
function generic(r: Omit<DecideResponse, 'fallback' | 'density'>, density: number | null): string {
  const res: DecideResponse = { ...r, fallback: false };
  if (density !== null) res.density = density;
  return JSON.stringify(res);
}

describe('decideAnswerText', () => {
  const cases: { name: string; model: string; version: number; arm: 'champion' | 'canary'; action: DecideResponse['action']; propensity: number; armProbability: number; density: number | null }[] = [
    { name: 'greedy champion', model: 'ranker', version: 3, arm: 'champion', action: { variant: 'B', k: 12, rerank: true, fusion_weight: 0.31, prompt_id: 2 }, propensity: 1, armProbability: 0.75, density: null },
    { name: 'sampled canary with a density', model: 'ranker', version: 12, arm: 'canary', action: { k: 4, fusion_weight: 0.0006355748686122653 }, propensity: 0.1496991251361382, armProbability: 0.25, density: 3.2e-7 },
    { name: 'a model name that needs escaping', model: 'r"an\\ker\u00e9\n', version: 1, arm: 'champion', action: { variant: 'q"\\' }, propensity: 1e-300, armProbability: 1, density: 0 },
    { name: 'non-finite numbers become null, as in JSON.stringify', model: 'm', version: 2, arm: 'canary', action: {}, propensity: Number.NaN, armProbability: Infinity, density: -Infinity },
  ];
  it.each(cases)('writes exactly what JSON.stringify writes: $name', (c) => {
    const { decisionId } = newDecisionStamp();
    const text = decideAnswerText(decisionId, answerMiddle(c.model, c.version, c.arm), JSON.stringify(c.action), c.propensity, c.armProbability, c.density);
    expect(text).toBe(generic({ decisionId, model: c.model, version: c.version, arm: c.arm, action: c.action, propensity: c.propensity, armProbability: c.armProbability }, c.density));
    expect(JSON.parse(text)).toMatchObject({ decisionId, model: c.model, version: c.version, arm: c.arm, action: c.action, fallback: false });
  });
});

describe('decisionMetadataJson', () => {
  it.each([
    [0.75, 0.8123456789012345, 'greedy', 0, 1],
    [0.25, 1e-300, 'sample', 0.05, 1.5],
    [1, Number.NaN, 'sample', Infinity, 2],
  ] as const)('writes exactly what JSON.stringify writes (%p, %p, %p, %p, %p)', (armProbability, policyProbability, mode, epsilon, temperature) => {
    expect(decisionMetadataJson(armProbability, policyProbability, mode, epsilon, temperature)).toBe(JSON.stringify({ armProbability, policyProbability, mode, epsilon, temperature }));
  });

  it('writes the per-head propensities exactly as JSON.stringify does', () => {
    const names = ['variant', 'k', 'a "quoted" head'];
    const propensities = [0.9666666666666667, 0.0016666666666666668, 1];
    const keysJson = names.map((n) => `${JSON.stringify(n)}:`);
    expect(decisionMetadataJson(1, 0.5, 'greedy', 0.05, 1, { keysJson, propensities })).toBe(
      JSON.stringify({ armProbability: 1, policyProbability: 0.5, mode: 'greedy', epsilon: 0.05, temperature: 1, headPropensities: headPropensitiesObject(names, propensities) }),
    );
  });
});
