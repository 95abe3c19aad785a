import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors';
import { checkDeploymentConfig, parseKindFlag, readDeploymentConfigFile } from './deploy';

const dir = mkdtempSync(join(tmpdir(), 'deploy-config-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** What the command does with --kind and --config before anything reaches the registry. */
function check(kind: string, path: string): void {
  checkDeploymentConfig(parseKindFlag(kind), readDeploymentConfigFile(path), 'router', `--config ${path}`);
}

describe('autopilot deploy --config FILE', () => {
  it('accepts a good bandit config (YAML or JSON) and hands it on as the object it holds', () => {
    const yaml = file('good.yaml', ['learner: { kind: linucb, params: { alpha: 0.5 } }', 'exploration: { kind: epsilon-greedy, epsilon: 0.05 }', 'arms: [large, small]', 'features: [complexity]', ''].join('\n'));
    expect(() => check('bandit', yaml)).not.toThrow();
    expect(readDeploymentConfigFile(yaml)).toEqual({ learner: { kind: 'linucb', params: { alpha: 0.5 } }, exploration: { kind: 'epsilon-greedy', epsilon: 0.05 }, arms: ['large', 'small'], features: ['complexity'] });
    const json = file('good.json', JSON.stringify({ shadowVersion: 3, owner: 'team-a' }));
    expect(() => check('policy', json)).not.toThrow();
  });

  it('refuses a bad config by its kind\'s schema, naming the field, the value and what was expected (exit 2)', () => {
    const bad = file('bad.json', JSON.stringify({ learner: { kind: 'ucb1' }, arms: ['a', 'b'] }));
    let err: unknown = null;
    try {
      check('bandit', bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toBe(`--config ${bad}: not a valid bandit deployment config: config.learner.kind: got "ucb1", expected one of linucb, lints, beta-ts, gaussian-ts`);
  });

  it('refuses a file that is not an object, is not JSON or YAML, or is missing; and an unknown kind', () => {
    expect(() => readDeploymentConfigFile(file('list.json', '[1, 2]'))).toThrow(/got \[1,2\], expected an object \(the deployment's settings\)/);
    expect(() => readDeploymentConfigFile(file('broken.json', '{"learner": '))).toThrow(/not valid JSON or YAML/);
    expect(() => readDeploymentConfigFile(join(dir, 'absent.json'))).toThrow(/absent\.json: cannot read it/);
    expect(() => parseKindFlag('forecaster')).toThrow(new CliError('--kind: got "forecaster", expected one of policy, bandit, text-policy, online-model, predictor, semantic-cache'));
  });
});
