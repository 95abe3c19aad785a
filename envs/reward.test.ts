import { defaultPolicyConfig } from './config';
import { computeReward, evaluateGates, type RewardSettings } from './reward';
import type { Evaluation } from './types';

const settings: RewardSettings = defaultPolicyConfig().policy;

function ev(over: Partial<Evaluation> & { p95?: number } = {}): Evaluation {
  const { p95, ...rest } = over;
  return {
    faithfulness: 0.9,
    relevancy: 0.8,
    latency_ms: { p50: 150, p95: p95 ?? 250 },
    cost_usd: 0.001,
    error_rate: 0,
    ...rest,
  };
}

describe('computeReward (R-TUNER-REWARD, α=β=0.5, γ=δ=0.2, λ=1, T_l=500 ms, C_ref=$0.002)', () => {
  // Each row is computed by hand: r = αF + βR − γL̂ − δĈ − λP.
  const table: Array<[string, Evaluation, number, number, number, number]> = [
    // name, evaluation, L̂, Ĉ, P, r
    ['healthy batch', ev(), 0.5, 0.5, 0, 0.45 + 0.4 - 0.1 - 0.1],
    ['latency and cost capped at 2; p95 breach', ev({ faithfulness: 0.8, relevancy: 0.8, p95: 1500, cost_usd: 0.01 }), 2, 2, 1, 0.4 + 0.4 - 0.4 - 0.4 - 1],
    ['faithfulness below 0.75; p95 exactly at the gate passes', ev({ faithfulness: 0.7, relevancy: 0.9, p95: 500, cost_usd: 0.002 }), 1, 1, 1, 0.35 + 0.45 - 0.2 - 0.2 - 1],
    ['relevancy below 0.75', ev({ relevancy: 0.74 }), 0.5, 0.5, 1, 0.45 + 0.37 - 0.1 - 0.1 - 1],
    ['error rate at 1% breaches (< 1% required)', ev({ error_rate: 0.01 }), 0.5, 0.5, 1, 0.65 - 1],
    ['score std above the 0.2 band: instability', ev({ faithfulness_std: 0.25, relevancy_std: 0.1 }), 0.5, 0.5, 0.5, 0.65 - 0.5],
    ['score std exactly at the band is stable', ev({ faithfulness_std: 0.2, relevancy_std: 0.2 }), 0.5, 0.5, 0, 0.65],
    ['any policy violation', ev({ policy_violation_rate: 0.005 }), 0.5, 0.5, 1, 0.65 - 1],
    [
      'every penalty at once',
      ev({ faithfulness: 0.7, p95: 600, cost_usd: 0.003, relevancy_std: 0.3, policy_violation_rate: 0.01 }),
      1.2, 1.5, 3.5, 0.35 + 0.4 - 0.24 - 0.3 - 3.5,
    ],
  ];

  it.each(table)('%s', (_name, e, latencyHat, costHat, penalty, reward) => {
    const r = computeReward(e, settings);
    expect(r.latencyHat).toBeCloseTo(latencyHat, 12);
    expect(r.costHat).toBeCloseTo(costHat, 12);
    expect(r.penalty).toBeCloseTo(penalty, 12);
    expect(r.reward).toBeCloseTo(reward, 12);
  });

  it('λ scales the penalty and the weights come from the config', () => {
    const s: RewardSettings = { ...settings, reward_weights: { alpha: 1, beta: 0, gamma: 0.5, delta: 0, lambda: 2 } };
    const r = computeReward(ev({ relevancy: 0.5 }), s);
    // 1·0.9 + 0·0.5 − 0.5·0.5 − 0 − 2·1
    expect(r.reward).toBeCloseTo(0.9 - 0.25 - 2, 12);
    expect(r.penalties).toEqual({ gate_breach: 1, slo_breach: 0, instability: 0, policy_violation: 0 });
  });

  it('slo_breach 0 gives the seed\'s literal formula (latency/error gates reported, not penalised)', () => {
    const s: RewardSettings = { ...settings, penalties: { ...settings.penalties, slo_breach: 0 } };
    const r = computeReward(ev({ p95: 800 }), s);
    expect(r.gates.p95_latency).toBe(false);
    expect(r.penalty).toBe(0);
    expect(r.reward).toBeCloseTo(0.45 + 0.4 - 0.2 * 1.6 - 0.1, 12);
  });

  it('reports each gate', () => {
    expect(evaluateGates(ev(), settings.thresholds)).toEqual({ faithfulness: true, relevancy: true, p95_latency: true, error_rate: true, passed: true });
    expect(evaluateGates(ev({ faithfulness: 0.74, p95: 501, error_rate: 0.02 }), settings.thresholds)).toEqual({
      faithfulness: false, relevancy: true, p95_latency: false, error_rate: false, passed: false,
    });
  });

  it.each([
    [{ faithfulness: 1.2 }, 'evaluation.faithfulness must be a number in [0, 1], got 1.2'],
    [{ relevancy: Number.NaN }, 'evaluation.relevancy must be a number in [0, 1], got null'],
    [{ cost_usd: -1 }, 'evaluation.cost_usd must be a number in [0, Infinity], got -1'],
    [{ latency_ms: undefined as never }, 'evaluation.latency_ms must be {p50, p95} in milliseconds, got undefined'],
    [{ error_rate: 2 }, 'evaluation.error_rate must be a number in [0, 1], got 2'],
  ])('rejects %j', (over, message) => {
    expect(() => computeReward({ ...ev(), ...over } as Evaluation, settings)).toThrow(message);
  });
});
