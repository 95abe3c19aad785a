import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { parsePpoHyperparameters } from '../ml/rl/hyperparameters';
import { defaultPolicyConfig, parsePolicyConfig, policyConfigSchema } from './config';

const defaultsFile = resolve(__dirname, '../configs/rl/policy.defaults.yaml');

function messages(value: unknown): string[] {
  const r = policyConfigSchema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => i.message);
}

describe('policyConfigSchema', () => {
  it('configs/rl/policy.defaults.yaml spells out exactly the schema defaults', () => {
    const fromFile = parsePolicyConfig(parse(readFileSync(defaultsFile, 'utf8')), defaultsFile);
    expect(fromFile).toEqual(defaultPolicyConfig());
  });

  it('has the R-TUNER-PPO/R-TUNER-CONFIG defaults', () => {
    const c = defaultPolicyConfig();
    expect(c.policy.bounds).toEqual({ k: { min: 3, max: 32 }, fusion_weight: { min: 0, max: 1 } });
    expect(c.policy.discrete.variant).toEqual(['A', 'B']);
    expect(c.policy.thresholds).toMatchObject({ faithfulness: 0.75, relevancy: 0.75, p95_latency_ms: 500, error_rate: 0.01 });
    expect(c.policy.reward_weights).toEqual({ alpha: 0.5, beta: 0.5, gamma: 0.2, delta: 0.2, lambda: 1 });
    expect(c.policy.baseline).toEqual({ variant: 'A', k: 8, rerank: false, fusion_weight: 0, prompt_id: 'default' });
    expect(c.ppo).toMatchObject({ gamma: 0.99, gae_lambda: 0.95, clip_coef: 0.2, target_kl: 0.02, num_minibatches: 4, update_epochs: 10, hidden_sizes: [64, 64] });
    // the trainer accepts the section as it is
    expect(parsePpoHyperparameters(c.ppo)).toEqual(c.ppo);
  });

  it('fills defaults under a partial config', () => {
    const c = parsePolicyConfig({ policy: { reward_weights: { gamma: 0.5 } }, ppo: { target_kl: null, kl_adaptive_lr: false } });
    expect(c.policy.reward_weights).toEqual({ alpha: 0.5, beta: 0.5, gamma: 0.5, delta: 0.2, lambda: 1 });
    expect(c.ppo.target_kl).toBeNull();
    expect(c.environment.episode_length).toBe(16);
  });

  it.each([
    [{ policy: { bounds: { k: { min: 0.5 } } } }, ['policy.bounds.k.min must be an integer ≥ 1, got 0.5']],
    [{ policy: { bounds: { k: { min: 20, max: 10 } } } }, ['policy.bounds.k must have min ≤ max, got min 20 > max 10', 'policy.baseline.k must be within policy.bounds.k [20, 10], got 8']],
    [{ policy: { bounds: { fusion_weight: { max: 2 } } } }, ['policy.bounds.fusion_weight.max must be a number ≥ 0 and ≤ 1, got 2']],
    [{ policy: { thresholds: { faithfulness: 'high' } } }, ['policy.thresholds.faithfulness must be a number ≥ 0 and ≤ 1, got "high"']],
    [{ policy: { discrete: { variant: ['A', 'C'] } } }, ['policy.discrete.variant must be a list of distinct values from A, B, got "C"']],
    [{ policy: { discrete: { rerank: ['on'] } } }, ['policy.discrete.rerank must be [off, on] (the re-rank part is a yes/no switch), got ["on"]']],
    [{ policy: { discrete: { prompt_id: [] } } }, ['policy.discrete.prompt_id must be a list of distinct non-empty ids, got an empty list', 'policy.baseline.prompt_id must be one of policy.discrete.prompt_id (), got "default"']],
    [{ policy: { cost_ref: 0 } }, ['policy.cost_ref must be a number > 0, got 0']],
    [{ policy: { baseline: { prompt_id: 'terse' } } }, ['policy.baseline.prompt_id must be one of policy.discrete.prompt_id (default, cite-sources, step-by-step), got "terse"']],
    [{ policy: { baseline: { variant: 'C' } } }, ['policy.baseline.variant must be one of A, B, got "C"']],
    [{ policy: { reward_weight: {} } }, ['policy has unknown field policy.reward_weight (expected bounds, discrete, thresholds, cost_ref, reward_weights, penalties, baseline)']],
    [{ polcy: {} }, ['the policy config has unknown field polcy (expected policy, environment, ppo)']],
    [{ environment: { episode_length: 0 } }, ['environment.episode_length must be an integer ≥ 1, got 0']],
    [{ environment: { contextual: 'yes' } }, ['environment.contextual must be true or false, got "yes"']],
    [{ ppo: { num_envs: 1, num_steps: 2, num_minibatches: 4 } }, ['ppo.num_minibatches = 4: expected at most batch_size = num_envs × num_steps = 2']],
    [{ ppo: { kl_adaptive_lr: true, target_kl: null } }, ['ppo.kl_adaptive_lr = true: expected target_kl to be set (a number > 0), got null']],
    [null, ['the policy config must be a mapping, got null']],
  ])('%j → %j', (value, expected) => {
    expect(messages(value)).toEqual(expected);
  });

  it('parsePolicyConfig joins every problem into one error naming the source, the field and the value', () => {
    expect(() => parsePolicyConfig({ ppo: { gamma: 2, lr: 1 }, environment: { batch_size: -1 } }, 'my.yaml')).toThrow(
      'my.yaml: invalid policy config:\n  - environment.batch_size must be an integer ≥ 1, got -1\n  - ppo.gamma = 2: expected a number in [0, 1]\n  - ppo has unknown field lr',
    );
  });
});
