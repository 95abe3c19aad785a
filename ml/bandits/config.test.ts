import { buildLearner, parseBanditConfig } from './config';

const ok = {
  learner: { kind: 'lints', params: { v: 0.5 } },
  exploration: { kind: 'softmax', temperature: 0.2 },
  arms: [{ name: 'gpt-large', payload: { model: 'large' } }, 'haiku'],
  features: ['complexity', 'length'],
};

describe('parseBanditConfig', () => {
  it('fills defaults and derives the dimension from the features and the intercept', () => {
    const c = parseBanditConfig(ok, 'router');
    expect(c).toMatchObject({ learnerKind: 'lints', d: 3, intercept: true, stateKey: 'router', decisionTtlSeconds: 86_400, rewardSpec: null });
    expect(c.arms).toEqual([{ name: 'gpt-large', payload: { model: 'large' } }, { name: 'haiku', payload: null }]);
    const l = buildLearner(c);
    expect(l.kind).toBe('softmax');
    expect(l.nArms).toBe(2);
    expect(l.getStats()).toMatchObject({ kind: 'lints', d: 3 });
    expect(parseBanditConfig({ ...ok, intercept: false }, 'r').d).toBe(2);
    expect(parseBanditConfig({ learner: { kind: 'beta-ts' }, arms: ['a', 'b'] }, 'p').d).toBe(0);
  });

  it('takes a reward range, ±1e6 by default', () => {
    expect(parseBanditConfig(ok, 'router').rewardRange).toEqual([-1e6, 1e6]);
    expect(parseBanditConfig({ ...ok, rewardRange: [0, 1] }, 'router').rewardRange).toEqual([0, 1]);
  });

  it.each([
    [{ ...ok, learner: { kind: 'ucb1' } }, 'config.learner.kind', /one of linucb, lints, beta-ts, gaussian-ts/],
    [{ ...ok, learner: { kind: 'linucb', params: { d: 4 } } }, 'config.learner.params.d', /follows from arms and features/],
    [{ ...ok, learner: { kind: 'linucb', params: { alpha: -1 } } }, 'config.learner.params', /alpha must be a finite number >= 0, got -1/],
    [{ ...ok, exploration: { kind: 'epsilon-greedy', epsilon: 0 } }, 'config.exploration.epsilon', /\(0, 1\]/],
    [{ ...ok, arms: ['only'] }, 'config.arms', /2 to 256 arms/],
    [{ ...ok, arms: ['a', 'a'] }, 'config.arms.1.name', /not used by another arm/],
    [{ ...ok, features: ['entity'] }, 'config.features.0', /not "entity"/],
    [{ learner: { kind: 'beta-ts' }, arms: ['a', 'b'], features: ['x'] }, 'config.features', /non-contextual/],
    [{ ...ok, rewardSpec: { version: 0, components: {} } }, 'config.rewardSpec', /version/],
    [{ ...ok, decisionTtlSeconds: 0.5 }, 'config.decisionTtlSeconds', /integer number of seconds/],
    [{ ...ok, exploraton: { kind: 'softmax' } }, 'config.exploraton', /no such setting \(known: learner, exploration, /],
    [{ ...ok, rewardRange: [1, 0] }, 'config.rewardRange', /lo < hi/],
    [{ ...ok, rewardRange: [0, 1e13] }, 'config.rewardRange', /within ±1000000000000/],
    [{ ...ok, rewardRange: [0, null] }, 'config.rewardRange', /two finite numbers/],
    [{ ...ok, rewardRange: { lo: 0, hi: 1 } }, 'config.rewardRange', /\[lo, hi\]/],
  ])('refuses a bad config (%#) naming %s', (config, field, message) => {
    let err: (Error & { field?: string }) | null = null;
    try {
      parseBanditConfig(config as never, 'router');
    } catch (e) {
      err = e as Error & { field?: string };
    }
    expect(err?.field).toBe(field);
    expect(err?.message).toMatch(message);
  });
});
