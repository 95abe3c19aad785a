/**
 * Exploration defaults are applied when a deployment is created and written into it; an existing
 * deployment keeps what it has, however it is changed later.
 */
import { DEFAULT_BANDIT_EXPLORATION, DEFAULT_POLICY_EXPLORATION, explorationSupport } from './deployments';
import { ACTOR, createRegistryFixture, type RegistryFixture } from './test-helpers';

let fx: RegistryFixture;
beforeAll(async () => {
  fx = await createRegistryFixture();
});
afterAll(async () => {
  await fx.close();
});

let n = 0;
async function model(versions = 2): Promise<string> {
  const name = `explore-${++n}`;
  await fx.registry.createModel({ name, actor: ACTOR });
  for (let i = 1; i <= versions; i++) await fx.registry.registerVersion({ model: name, artifact: { buffer: Buffer.from(`${name} v${i}`) }, format: 'onnx', actor: ACTOR });
  return name;
}
const BANDIT = { learner: { kind: 'linucb' }, arms: ['a', 'b'], features: ['x'] };

describe('exploration defaults', () => {
  it('a new policy deployment explores (ε-greedy, ε = 0.05), stored with it', async () => {
    const m = await model();
    const r = await fx.registry.setDeployment({ model: m, championVersion: 1, actor: ACTOR });
    expect(r.deployment.exploration).toEqual(DEFAULT_POLICY_EXPLORATION);
    expect((await fx.registry.getDeployment(m)).exploration).toEqual({ mode: 'greedy', epsilon: 0.05 });
    expect(explorationSupport(r.deployment)).toEqual({ explores: true, rule: 'ε-greedy, ε = 0.05' });
  });

  it('an existing greedy deployment (stored before the default changed) stays greedy through later changes', async () => {
    const m = await model();
    await fx.registry.setDeployment({ model: m, championVersion: 1, actor: ACTOR });
    // What an older registry wrote for a deployment created without exploration.
    await fx.db.pool.query(`UPDATE deployments SET exploration = '{"mode": "greedy"}' WHERE model = $1`, [m]);
    const r = await fx.registry.setDeployment({ model: m, canaryVersion: 2, canaryWeight: 10, actor: ACTOR });
    expect(r.deployment.exploration).toEqual({ mode: 'greedy' });
    expect(explorationSupport(r.deployment)).toMatchObject({ explores: false, rule: 'greedy (argmax, propensity 1)' });
  });

  it('greedy stays available explicitly', async () => {
    const m = await model();
    const r = await fx.registry.setDeployment({ model: m, championVersion: 1, exploration: { mode: 'greedy' }, actor: ACTOR });
    expect(r.deployment.exploration).toEqual({ mode: 'greedy' });
  });

  it('a new bandit deployment gets an epsilon-greedy rule in its config; a replaced config keeps the rule the deployment had', async () => {
    const m = await model(0);
    const r = await fx.registry.setDeployment({ model: m, kind: 'bandit', championVersion: null, config: BANDIT, actor: ACTOR });
    expect(r.deployment.config.exploration).toEqual(DEFAULT_BANDIT_EXPLORATION);
    expect(explorationSupport(r.deployment)).toMatchObject({ explores: true });
    // A new config without the field keeps the deployment's rule.
    const r2 = await fx.registry.setDeployment({ model: m, config: { ...BANDIT, arms: ['a', 'b', 'c'] }, actor: ACTOR });
    expect(r2.deployment.config.exploration).toEqual(DEFAULT_BANDIT_EXPLORATION);
    // A bandit stored without a rule (older registry) keeps none, now written explicitly.
    await fx.db.pool.query(`UPDATE deployments SET config = config - 'exploration' WHERE model = $1`, [m]);
    const r3 = await fx.registry.setDeployment({ model: m, config: BANDIT, actor: ACTOR });
    expect(r3.deployment.config.exploration).toEqual({ kind: 'none' });
    expect(explorationSupport(r3.deployment)).toMatchObject({ explores: false, rule: 'linucb without exploration (argmax, propensity 1)' });
    // An explicit rule is kept as given.
    const r4 = await fx.registry.setDeployment({ model: m, config: { ...BANDIT, exploration: { kind: 'softmax', temperature: 0.5 } }, actor: ACTOR });
    expect(r4.deployment.config.exploration).toEqual({ kind: 'softmax', temperature: 0.5 });
  });
});
