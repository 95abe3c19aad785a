import { DEPLOYMENT_KINDS } from '../types';
import { ConfigFieldError, parseDeploymentConfig, parseDeploymentKind } from '.';

const bandit = { learner: { kind: 'linucb' }, arms: ['large', 'small'], features: ['complexity'] };

describe('parseDeploymentConfig (every served kind\'s config by its schema)', () => {
  it('parses each kind\'s config', () => {
    expect(parseDeploymentConfig('policy', { shadowVersion: 4, owner: 'team-a' }, 'rag')).toEqual({ shadowVersion: 4 });
    expect(parseDeploymentConfig('policy', {}, 'rag')).toEqual({ shadowVersion: null });
    expect(parseDeploymentConfig('bandit', bandit, 'router')).toMatchObject({ learnerKind: 'linucb', d: 2, stateKey: 'router' });
    expect(parseDeploymentConfig('text-policy', { owner: 'sre' }, 'approver')).toEqual({});
  });

  it.each([
    ['policy', { shadowVersion: 0 }, 'config.shadowVersion', 'config.shadowVersion: got 0, expected a version number (an integer >= 1), or null for none'],
    ['bandit', { ...bandit, learner: { kind: 'ucb1' } }, 'config.learner.kind', 'config.learner.kind: got "ucb1", expected one of linucb, lints, beta-ts, gaussian-ts'],
    ['bandit', [], 'config', 'config: got [], expected an object: the settings of a bandit deployment'],
    ['predictor', {}, 'kind', 'kind: got "predictor", expected one of policy, bandit, text-policy'],
  ])('refuses a bad %s config naming the field, the value and what was expected', (kind, config, field, message) => {
    let err: (Error & { field?: string }) | null = null;
    try {
      parseDeploymentConfig(kind as never, config, 'd');
    } catch (e) {
      err = e as Error & { field?: string };
    }
    expect(err?.field).toBe(field);
    expect(err?.message).toBe(message);
  });

  it('knows every kind of DEPLOYMENT_KINDS and no other', () => {
    for (const k of DEPLOYMENT_KINDS) expect(parseDeploymentKind(k)).toBe(k);
    expect(() => parseDeploymentKind('Policy', '--kind')).toThrow(new ConfigFieldError('--kind', 'Policy', 'one of policy, bandit, text-policy'));
  });
});
