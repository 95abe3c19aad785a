import { DEPLOYMENT_KINDS } from '../types';
import { ConfigFieldError, parseDeploymentConfig, parseDeploymentKind } from '.';

const bandit = { learner: { kind: 'linucb' }, arms: ['large', 'small'], features: ['complexity'] };

describe('parseDeploymentConfig (every served kind\'s config by its schema)', () => {
  it('parses each kind\'s config', () => {
    expect(parseDeploymentConfig('policy', { shadowVersion: 4, owner: 'team-a' }, 'rag')).toEqual({ shadowVersion: 4 });
    expect(parseDeploymentConfig('policy', {}, 'rag')).toEqual({ shadowVersion: null });
    expect(parseDeploymentConfig('bandit', bandit, 'router')).toMatchObject({ learnerKind: 'linucb', d: 2, stateKey: 'router' });
    expect(parseDeploymentConfig('text-policy', { owner: 'sre' }, 'approver')).toEqual({});
    expect(parseDeploymentConfig('predictor', {}, 'quality')).toEqual({ gate: null });
    expect(parseDeploymentConfig('predictor', { gate: { threshold: 0.6, action: 'escalate', to: 'human-review' } }, 'quality')).toEqual({ gate: { threshold: 0.6, action: 'escalate', to: 'human-review' } });
    expect(parseDeploymentConfig('semantic-cache', { threshold: 0.9, cost: { llmUsdPerRequest: 0.004 }, reuseModel: { ftrl: { l1: 0.1 } } }, 'faq')).toMatchObject({
      cache: { threshold: 0.9, admission: 'learned', bits: 16, ftrl: { alpha: 0.7, l1: 0.1 } },
      llmUsdPerRequest: 0.004,
      embeddingModel: null,
      reuseModel: { algorithm: 'ftrl', loss: 'logistic', stateKey: 'semantic-cache:faq', init: null },
    });
    expect(parseDeploymentConfig('online-model', { algorithm: 'adagrad', loss: 'squared', adagrad: { eta: 0.2 } }, 'ctr')).toMatchObject({ algorithm: 'adagrad', loss: 'squared', bits: 18, adagrad: { eta: 0.2, l2: 0 }, stateKey: 'ctr', init: null });
  });

  it.each([
    ['policy', { shadowVersion: 0 }, 'config.shadowVersion', 'config.shadowVersion: got 0, expected a version number (an integer >= 1), or null for none'],
    ['bandit', { ...bandit, learner: { kind: 'ucb1' } }, 'config.learner.kind', 'config.learner.kind: got "ucb1", expected one of linucb, lints, beta-ts, gaussian-ts'],
    ['bandit', [], 'config', 'config: got [], expected an object: the settings of a bandit deployment'],
    ['online-model', { ftrl: { alpha: 0 } }, 'config.ftrl.alpha', 'config.ftrl.alpha: got 0, expected a number > 0'],
    ['online-model', { algorithm: 'ftrl', adagrad: { eta: 1 } }, 'config.adagrad', 'config.adagrad: got {"eta":1}, expected nothing: the algorithm is ftrl (set config.ftrl)'],
    ['online-model', { init: { version: 0 } }, 'config.init.version', 'config.init.version: got 0, expected a version number ≥ 1'],
    ['predictor', { gate: { threshold: 1.2, action: 'reroute', to: 'llm-premium' } }, 'config.gate.threshold', 'config.gate.threshold: got 1.2, expected a number in (0, 1): the lowest predicted quality (1 − P(low quality)) that passes'],
    ['predictor', { gate: { threshold: 0.6, action: 'retry', to: 'llm-premium' } }, 'config.gate.action', 'config.gate.action: got "retry", expected one of reroute, escalate'],
    ['predictor', { gate: { threshold: 0.6, action: 'reroute' } }, 'config.gate.to', 'config.gate.to: got nothing, expected the name of the fallback to reroute to (1–128 of A-Z a-z 0-9 _ . : - / @)'],
    ['predictor', { threshold: 0.6 }, 'config.threshold', 'config.threshold: got 0.6, expected no such setting (known: gate)'],
    ['semantic-cache', { threshold: 0 }, 'config.threshold', 'config.threshold: got 0, expected a cosine similarity in (0, 1]'],
    ['semantic-cache', { admission: 'sometimes' }, 'config.admission', 'config.admission: got "sometimes", expected one of learned, always, never'],
    ['semantic-cache', { cost: { llmUsdPerRequest: -1 } }, 'config.cost.llmUsdPerRequest', 'config.cost.llmUsdPerRequest: got -1, expected a cost in USD > 0 (or null: each request sends costUsd)'],
    ['semantic-cache', { reuseModel: { ftrl: { alpha: 0 } } }, 'config.reuseModel.ftrl.alpha', 'config.reuseModel.ftrl.alpha: got 0, expected a number > 0'],
    ['semantic-cache', { reuseModel: { algorithm: 'adagrad' } }, 'config.reuseModel.algorithm', 'config.reuseModel.algorithm: got "adagrad", expected no such setting of the reuse model, an FTRL logistic model (known: bits, ftrl, hashSeed, bias, stateKey, snapshotEverySeconds, init)'],
    ['forecaster', {}, 'kind', 'kind: got "forecaster", expected one of policy, bandit, text-policy, online-model, predictor, semantic-cache'],
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
    expect(() => parseDeploymentKind('Policy', '--kind')).toThrow(new ConfigFieldError('--kind', 'Policy', 'one of policy, bandit, text-policy, online-model, predictor, semantic-cache'));
  });
});
