import { parseExpiry, parseScope, secretMatches, sha256, splitToken } from './keys';
import { ValidationError } from './errors';
import { parseAccessConfig, parseDeploymentConfig } from './deployment-config';

describe('API key parsing', () => {
  it('reads scopes alone or limited to a deployment, and names a bad one', () => {
    expect(parseScope('decide')).toEqual({ scope: 'decide', deployment: null });
    expect(parseScope('reward:rag-tuner')).toEqual({ scope: 'reward', deployment: 'rag-tuner' });
    expect(parseScope('admin:a.b_c-1')).toEqual({ scope: 'admin', deployment: 'a.b_c-1' });
    for (const bad of ['deploy', 'decide:', 'decide:-x', 'Decide', 'read:a:b', 42]) {
      expect(() => parseScope(bad, 'scopes[1]')).toThrow(ValidationError);
    }
    expect(() => parseScope('deploy', 'scopes[1]')).toThrow(/^scopes\[1\]: got "deploy"; expected one of decide, reward, read, admin/);
  });

  it('splits a token into its public id and secret, refusing other shapes', () => {
    const secret = 'x_y-Z'.repeat(8);
    expect(splitToken(`apk_abcdefgh2345_${secret}`)).toEqual({ keyId: 'abcdefgh2345', secret });
    for (const bad of ['', 'apk_', `apk_ABCDEFGH2345_${secret}`, `apk_abcdefgh234_${secret}`, `apk_abcdefgh2345${secret}`, `key_abcdefgh2345_${secret}`, 'apk_abcdefgh2345_']) {
      expect(splitToken(bad)).toBeNull();
    }
  });

  it('matches a secret against its stored SHA-256 only', () => {
    const h = sha256('s3cret');
    expect(secretMatches('s3cret', h)).toBe(true);
    expect(secretMatches('s3cret ', h)).toBe(false);
    expect(secretMatches('s3cret', Buffer.alloc(16))).toBe(false);
  });

  it('reads --expires-in as a duration or an ISO date', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    expect(parseExpiry('30d', now).toISOString()).toBe('2027-01-05T12:00:00.000Z');
    expect(parseExpiry('12h', now).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(parseExpiry('90m', now).toISOString()).toBe('2026-12-06T13:30:00.000Z');
    expect(parseExpiry('2w', now).toISOString()).toBe('2026-12-20T12:00:00.000Z');
    expect(parseExpiry('2027-01-31', now).toISOString()).toBe('2027-01-31T00:00:00.000Z');
    for (const bad of ['30', '30y', 'tomorrow', '2027-13-45', '-1d']) expect(() => parseExpiry(bad, now)).toThrow(/expires-in: got .*; expected a duration such as 30d/);
  });
});

describe('rewardsFromDecidingKeyOnly (any kind)', () => {
  it('is read for every kind and hidden from the kind parser (a bandit config refuses unknown keys)', () => {
    expect(parseAccessConfig({})).toEqual({ rewardsFromDecidingKeyOnly: false });
    expect(parseAccessConfig({ rewardsFromDecidingKeyOnly: true })).toEqual({ rewardsFromDecidingKeyOnly: true });
    expect(() => parseAccessConfig({ rewardsFromDecidingKeyOnly: 'yes' })).toThrow(/config.rewardsFromDecidingKeyOnly/);
    const bandit = { learner: { kind: 'linucb' }, arms: ['large', 'small'], features: ['complexity'], rewardsFromDecidingKeyOnly: true };
    expect(parseDeploymentConfig('bandit', bandit, 'b1')).toMatchObject({ learnerKind: 'linucb' });
    expect(() => parseDeploymentConfig('bandit', { ...bandit, rewardsFromDecidingKeyOnly: undefined, other: 1 }, 'b1')).toThrow(/config.other/);
    expect(() => parseDeploymentConfig('policy', { rewardsFromDecidingKeyOnly: 1 }, 'p1')).toThrow(/rewardsFromDecidingKeyOnly/);
  });
});
