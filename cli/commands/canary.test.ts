import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateCanaryPlan } from '../../activities/canary/plan-config';
import type { CheckResult } from '../../canary/status';
import { initialStatus, startProgressing, tick } from '../../canary/tick';
import { CliError } from '../errors';
import { readPlanFile, renderStatus } from './canary';

const T0 = Date.parse('2025-03-01T10:00:00Z');

describe('autopilot canary (pure parts)', () => {
  it('renders phase, weight, counters, the last checks with their numbers, and recent history', () => {
    const plan = validateCanaryPlan({ interval: '1h', checkInterval: '1h' });
    let s = startProgressing({ ...initialStatus('ppo', 3, T0), championVersion: 2 }, plan, T0).status;
    const check: CheckResult = {
      outcome: 'fail',
      breach: false,
      reasons: ['error_rate 0.05 outside [-inf, 0.01] (reward component error > 0)'],
      at: '2025-03-01T11:00:00.000Z',
      window: { from: '', to: '' },
      samples: { canary: 410, champion: 7800 },
      metrics: [{ name: 'error_rate', value: 0.05, max: 0.01, ok: false }, { name: 'reward_delta', value: 0.012, min: -0.02, ok: true }],
      delta: { estimate: 0.012, ci95: { lower: -0.004, upper: 0.028 }, lower: -0.01, upper: 0.03, look: 1, informationFraction: 0.14, nominalAlpha: 0.001, comparison: 'non-inferiority', tolerance: 0.02 },
      burnRate: [],
      decisionLook: true,
    };
    s = tick(s, check, plan, T0 + 3_600_000).status;
    expect(renderStatus(s).split('\n')).toEqual([
      'canary ppo v3 vs champion v2: Progressing',
      '  weight 5%  step 1  failed checks 1  iterations 1',
      '  step 1 at 5%: bake extended (1/6): error_rate 0.05 outside [-inf, 0.01] (reward component error > 0)',
      '  last checks:',
      '    11:00:00 5% FAIL n=410/7800 error_rate=0.0500! reward_delta=0.0120 Δ=0.0120 95%CI[-0.00400, 0.0280]',
      '      error_rate 0.05 outside [-inf, 0.01] (reward component error > 0)',
      '  history:',
      '    2025-03-01 10:00:00 started: canary ppo v3',
      '    2025-03-01 10:00:00 phase: Initializing → Progressing',
      '    2025-03-01 10:00:00 weight: 0% → 5%',
      '    2025-03-01 11:00:00 check-failed: 1/2: error_rate 0.05 outside [-inf, 0.01] (reward component error > 0)',
      '    2025-03-01 11:00:00 extended: fail: error_rate 0.05 outside [-inf, 0.01] (reward component error > 0); extra check 1/6',
    ]);
  });

  it('reads a plan file into the inline plan, and names the problem of a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-plan-'));
    writeFileSync(join(dir, 'ok.yaml'), 'stepWeights: [10, 100]\ninterval: 30m\ncheckInterval: 10m\n');
    expect(readPlanFile(join(dir, 'ok.yaml'))).toEqual({ stepWeights: [10, 100], interval: '30m', checkInterval: '10m' });
    writeFileSync(join(dir, 'bad.yaml'), 'stepWeights: [50, 20]\n');
    const err = (() => {
      try {
        readPlanFile(join(dir, 'bad.yaml'));
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(CliError);
    expect(err!.message).toBe(`${join(dir, 'bad.yaml')}:1:19: stepWeights.1: got 20, expected a weight above the previous step's 50 (weights strictly increase)`);
  });
});
