import { offlineGateVerdict, resolveOfflineGates, DEFAULT_OFFLINE_GATES } from './offline-gates';

const delta = (value: number, lower: number, upper: number) => ({ value, lower, upper, alpha: 0.05, episodes: 32 });

describe('offline gates before a canary', () => {
  it('passes a policy whose reward-delta interval lies above 0 with no gate violations', () => {
    const v = offlineGateVerdict({ rewardDelta: delta(0.05, 0.01, 0.09), gateViolations: 0, steps: 128 }, DEFAULT_OFFLINE_GATES);
    expect(v).toEqual({ passed: true, reasons: [], checks: [
      { name: 'reward_delta_lower', value: 0.01, threshold: 0, passed: true },
      { name: 'gate_violation_rate', value: 0, threshold: 0, passed: true },
    ] });
  });

  it('fails an interval that touches 0 (no evidence of improvement), saying why', () => {
    const v = offlineGateVerdict({ rewardDelta: delta(0.02, -0.01, 0.05), gateViolations: 0, steps: 128 }, DEFAULT_OFFLINE_GATES);
    expect(v.passed).toBe(false);
    expect(v.reasons).toEqual(['held-out reward vs baseline: Δ = 0.02000 per step, 95% CI [-0.01000, 0.05000] over 32 episodes; its lower bound must exceed 0']);
    // the boundary itself is not evidence either
    expect(offlineGateVerdict({ rewardDelta: delta(0, 0, 0), gateViolations: 0, steps: 1 }, DEFAULT_OFFLINE_GATES).passed).toBe(false);
  });

  it('fails on hard-gate violations above the allowed share, and both reasons are given', () => {
    const v = offlineGateVerdict({ rewardDelta: delta(-0.1, -0.2, -0.05), gateViolations: 3, steps: 100 }, resolveOfflineGates({ maxGateViolationRate: 0.02 }));
    expect(v.passed).toBe(false);
    expect(v.reasons[1]).toBe('quality gates failed on 3 of 100 held-out steps (3.00%); at most 2.00% allowed');
    expect(offlineGateVerdict({ rewardDelta: delta(0.1, 0.05, 0.2), gateViolations: 2, steps: 100 }, resolveOfflineGates({ maxGateViolationRate: 0.02 })).passed).toBe(true);
  });

  it('refuses nonsense settings, naming the field', () => {
    expect(() => resolveOfflineGates({ maxGateViolationRate: 2 })).toThrow('gates.maxGateViolationRate must be in [0, 1], got 2');
    expect(() => resolveOfflineGates({ minRewardDelta: Number.NaN })).toThrow('gates.minRewardDelta must be a finite number, got NaN');
  });
});
