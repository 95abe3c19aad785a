import type { LoopStatus } from '../../contracts/optimization-loop';
import { loopInputFromOptions, renderLoopStatus, type LoopStartOptions } from './loop';

const DEFAULTS: LoopStartOptions = { interval: '24h', window: '24h', retrain: 'ppo', tolerance: '0.02', minRewarded: '200' };

describe('autopilot loop', () => {
  it('builds the workflow input from the options', () => {
    expect(loopInputFromOptions('ranker', { ...DEFAULTS, interval: '0', retrain: 'refit', ridge: '10', estimator: 'snipw', requireApproval: true }, 'cli:alice')).toEqual({
      deployment: 'ranker', intervalSeconds: 0, window: '24h', minRewarded: 200, retrain: { kind: 'refit', ridge: 10 },
      ope: { estimator: 'snipw', tolerance: 0.02 }, holdout: 0.5, requireApproval: true, actor: 'cli:alice',
    });
    expect(loopInputFromOptions('ranker', { ...DEFAULTS, requireApproval: true, approvalTimeout: '2d' }, 'a')).toMatchObject({ requireApproval: true, approvalTimeout: '2d' });
    expect(loopInputFromOptions('ranker', { ...DEFAULTS, interval: '6h', iterations: '20' }, 'a')).toMatchObject({ intervalSeconds: 21_600, retrain: { kind: 'ppo', input: { iterations: 20 } }, ope: { tolerance: 0.02 } });
  });

  it.each([
    [{ interval: 'daily' }, '--interval "daily": expected a duration such as 30m, 24h or 2d (0: only on signals)'],
    [{ retrain: 'sgd' }, '--retrain "sgd": expected ppo or refit'],
    [{ estimator: 'magic' }, '--estimator "magic": expected one of ipw, snipw, dm, dr, sndr, switch-dr, dr-os'],
    [{ minRewarded: '0' }, '--min-rewarded "0": expected an integer >= 1'],
    [{ ridge: '1' }, '--ridge is a setting of --retrain refit'],
    [{ tolerance: '-1' }, '--tolerance "-1": expected a number >= 0'],
    [{ holdout: '1' }, '--holdout "1": expected a number in [0, 1)'],
    [{ approvalTimeout: '2d' }, '--approval-timeout is a setting of --require-approval'],
    [{ requireApproval: true, approvalTimeout: 'soon' }, '--approval-timeout "soon": expected a duration such as 30m, 24h or 2d'],
  ])('refuses %j by the flag', (bad, message) => {
    expect(() => loopInputFromOptions('ranker', { ...DEFAULTS, ...bad }, 'a')).toThrow(message);
  });

  it('renders the status: the cycle in flight with its stages, the recent ones with why they ended', () => {
    const cycle = {
      loopId: 'l', workflowId: 'loop/ranker', deployment: 'ranker', trigger: { kind: 'drift' as const, by: 'driftMonitor:d', reason: 'drift: reward' },
      window: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' }, holdoutFrom: null, championVersion: 3, dataset: null, ope: null, canary: null, startedAt: '', finishedAt: null,
    };
    const s: LoopStatus = {
      deployment: 'ranker', loopId: 'l', state: 'awaiting-approval', cycles: 2, nextDueAt: null, championSince: null, pending: [{ kind: 'manual', by: 'cli:bob', reason: 'x' }],
      current: { ...cycle, cycle: 2, outcome: null, stage: null, reasons: [], candidateVersion: 5, stages: [{ stage: 'ope', status: 'passed', startedAt: '', finishedAt: '', detail: 'pass: snipw lower bound 0.5 > 0.4', workflowId: 'loop/ranker/l/cycle-2/ope' }] },
      recent: [{ ...cycle, cycle: 1, outcome: 'rejected', stage: 'ope', reasons: ['off-policy evaluation gate: too low'], candidateVersion: 4, stages: [] }],
    };
    expect(renderLoopStatus(s).split('\n')).toEqual([
      'loop ranker: awaiting-approval, 2 cycles, waiting: manual by cli:bob',
      'current:',
      '  cycle 2 (drift by driftMonitor:d): running, champion v3, candidate v5, window 2026-01-01T00:00:00.000Z → 2026-01-02T00:00:00.000Z',
      '    ope                passed   pass: snipw lower bound 0.5 > 0.4 [loop/ranker/l/cycle-2/ope]',
      'recent:',
      '  cycle 1 (drift by driftMonitor:d): rejected at ope, champion v3, candidate v4, window 2026-01-01T00:00:00.000Z → 2026-01-02T00:00:00.000Z',
      '    → off-policy evaluation gate: too low',
      'approve: autopilot loop approve ranker   reject: autopilot loop reject ranker',
    ]);
  });
});
