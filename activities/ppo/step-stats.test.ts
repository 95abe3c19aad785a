import type { Action, Environment, StepResult } from '../../ml/rl/environment';
import { recordingStepStats, stepStatsMetrics, type RolloutStepStats } from './step-stats';

/** A scripted environment whose infos look like the RAG environment's: step t returns script[t]. */
function scripted(script: { variant: string; p50: number; p95: number; passed: boolean; reward: number }[], async = false): Environment {
  let t = 0;
  const obs = new Float64Array([0]);
  return {
    observationSize: 1,
    actionSpace: [{ kind: 'categorical', name: 'variant', choices: ['A', 'B', 'C'] }, { kind: 'bernoulli', name: 'rerank' }],
    reset: () => obs,
    step: (action: Action) => {
      const s = script[t++];
      const res: StepResult = {
        observation: obs, reward: s.reward, done: false,
        info: { config: { variant: s.variant, rerank: action.rerank }, latency_p50_ms: s.p50, latency_p95_ms: s.p95, gates: { passed: s.passed } },
      };
      return async ? Promise.resolve(res) : res;
    },
  };
}

async function run(env: Environment, steps: number): Promise<void> {
  const r0 = env.reset(1);
  if (r0 instanceof Promise) await r0;
  for (let i = 0; i < steps; i++) {
    const r = env.step({ variant: 'A', rerank: true });
    if (r instanceof Promise) await r;
  }
}

describe('PPO rollout step stats (seed 002 §17 metrics)', () => {
  const first = [
    { variant: 'A', p50: 100, p95: 300, passed: true, reward: 1 },
    { variant: 'B', p50: 200, p95: 600, passed: false, reward: -1 },
    { variant: 'A', p50: 120, p95: 310, passed: true, reward: 0.5 },
  ];
  const second = [
    { variant: 'B', p50: 90, p95: 250, passed: true, reward: 0.25 },
  ];

  it('records every step as the env returns it (sync and async envs) and merges the rollouts of an iteration', async () => {
    const a = recordingStepStats(scripted(first));
    const b = recordingStepStats(scripted(second, true));
    await run(a.env, 3);
    await run(b.env, 1);
    expect(a.stats).toEqual({
      steps: 3, latencyP50Ms: [100, 200, 120], latencyP95Ms: [300, 600, 310], gateBreaches: 1,
      variants: { A: { steps: 2, rewardSum: 1.5 }, B: { steps: 1, rewardSum: -1 }, C: { steps: 0, rewardSum: 0 } },
    });
    const m = stepStatsMetrics([a.stats, b.stats]);
    expect(m).toEqual({
      'charts/latency_p50_ms': 110, // median of 90, 100, 120, 200
      'charts/latency_p95_ms': 305, // median of 250, 300, 310, 600
      'charts/gate_breaches': 1,
      'charts/gate_breach_rate': 0.25,
      'variant/A/share': 0.5,
      'variant/A/return': 0.75,
      'variant/B/share': 0.5,
      'variant/B/return': -0.375,
      'variant/C/share': 0, // never chosen: a share of 0 and no conditional return
    });
  });

  it('no steps, no metrics', () => {
    const empty: RolloutStepStats = { steps: 0, latencyP50Ms: [], latencyP95Ms: [], gateBreaches: 0, variants: { A: { steps: 0, rewardSum: 0 } } };
    expect(stepStatsMetrics([empty])).toEqual({});
  });

  it('refuses an env without a variant part, and a step whose info lacks a field, naming it', async () => {
    const noVariant: Environment = { ...scripted(first), actionSpace: [{ kind: 'bernoulli', name: 'rerank' }] };
    expect(() => recordingStepStats(noVariant)).toThrow('step stats: the environment\'s action space has no categorical part "variant" (parts: bernoulli:rerank)');
    const base = scripted(first);
    const broken = (info: Record<string, unknown>): Environment => ({ ...base, step: () => ({ observation: new Float64Array([0]), reward: 0, done: false, info }) });
    const ok = { config: { variant: 'A' }, latency_p50_ms: 1, latency_p95_ms: 2, gates: { passed: true } };
    expect(() => recordingStepStats(broken({ ...ok, latency_p95_ms: NaN })).env.step({})).toThrow('step stats: info.latency_p95_ms = NaN, expected a finite number');
    expect(() => recordingStepStats(broken({ ...ok, gates: {} })).env.step({})).toThrow('step stats: info.gates.passed = undefined, expected a boolean');
    expect(() => recordingStepStats(broken({ ...ok, config: { variant: 'Z' } })).env.step({})).toThrow('step stats: info.config.variant = "Z", expected one of A, B, C');
  });
});
