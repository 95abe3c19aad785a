import { compositeReward, parseRewardSpec, RewardComponentsError, RewardSpecError, RewardSpecInput } from '.';

/** An LLM-serving spec: thumbs feedback, judge quality, latency against a 800 ms SLO, cost, conversion. */
const spec: RewardSpecInput = {
  version: 3,
  components: {
    thumbs: { source: 'user_feedback', weight: 0.4, range: { min: -1, max: 1 } },
    judge_score: { source: 'quality', weight: 0.3, transform: { kind: 'clip', min: 0, max: 1 } },
    latency_ms: { source: 'latency', weight: 0.1, direction: 'penalty', transform: { kind: 'ratio', target: 800, cap: 2 } },
    cost_usd: { source: 'cost', weight: 0.2, direction: 'penalty', transform: { kind: 'linear', scale: 100 } },
    converted: { source: 'business', weight: 0.5, required: false },
  },
  clip: { min: -1, max: 2 },
};

describe('compositeReward', () => {
  it('weights the transformed components (hand-computed)', () => {
    const r = compositeReward(spec, { thumbs: 1, judge_score: 1.2, latency_ms: 400, cost_usd: 0.002 });
    // 0.4·1 + 0.3·min(1.2, 1) − 0.1·(400/800) − 0.2·(100·0.002) = 0.4 + 0.3 − 0.05 − 0.04 = 0.61
    expect(r.reward).toBeCloseTo(0.61, 14);
    expect(r.version).toBe(3);
    expect(Object.keys(r.contributions)).toEqual(['thumbs', 'judge_score', 'latency_ms', 'cost_usd']);
    expect(r.contributions.latency_ms).toBeCloseTo(-0.05, 15);
  });

  it('caps the latency ratio, adds optional components when reported and clips the total', () => {
    const slow = compositeReward(spec, { thumbs: -1, judge_score: 0, latency_ms: 60000, cost_usd: 0 });
    expect(slow.contributions.latency_ms).toBeCloseTo(-0.2, 15); // ratio capped at 2
    expect(slow.reward).toBeCloseTo(-0.6, 14);
    const big = compositeReward({ ...spec, components: { ...spec.components, converted: { source: 'business', weight: 5, required: false } } },
      { thumbs: 1, judge_score: 1, latency_ms: 0, cost_usd: 0, converted: 1 });
    expect(big.reward).toBe(2); // 0.4 + 0.3 + 5 clipped at 2
  });

  it('uses the default of a missing optional component', () => {
    const s = parseRewardSpec({ version: 1, components: { q: { source: 'quality', weight: 1 }, rev: { source: 'business', weight: 0.5, required: false, default: 3, transform: { kind: 'log1p', scale: 3 } } } });
    expect(compositeReward(s, { q: 0.5 }).reward).toBeCloseTo(0.5 + 0.5 * Math.log(2), 14);
  });

  it('supports threshold transforms (SLO met → 1)', () => {
    const s = parseRewardSpec({ version: 1, components: { lat: { source: 'latency', weight: 1, transform: { kind: 'threshold', threshold: 500, below: true } } } });
    expect(compositeReward(s, { lat: 499 }).reward).toBe(1);
    expect(compositeReward(s, { lat: 501 }).reward).toBe(0);
  });

  it('names missing required and unknown components, and bad values', () => {
    expect(() => compositeReward(spec, { thumbs: 1, judge_score: 1 })).toThrow(new RewardComponentsError('missing required reward components "latency_ms", "cost_usd" (reward spec version 3)'));
    expect(() => compositeReward(spec, { thumbs: 1, judge_score: 1, latency_ms: 1, cost_usd: 0, clicks: 3 }))
      .toThrow('unknown reward component "clicks" for reward spec version 3 (expected: thumbs, judge_score, latency_ms, cost_usd, converted)');
    expect(() => compositeReward(spec, { thumbs: 1, judge_score: Number.NaN, latency_ms: 1, cost_usd: 0 })).toThrow('reward component "judge_score" must be a finite number, got null');
    expect(() => compositeReward(spec, { thumbs: 5, judge_score: 1, latency_ms: 1, cost_usd: 0 })).toThrow('reward component "thumbs" is 5, expected a value in [-1, 1]');
  });
});

describe('parseRewardSpec', () => {
  it('fills defaults', () => {
    const s = parseRewardSpec({ version: 1, components: { q: { source: 'quality', weight: 1 } } });
    expect(s.components.q).toEqual({ source: 'quality', weight: 1, direction: 'reward', transform: { kind: 'identity' }, required: true });
  });

  it.each([
    [{ components: { q: { source: 'quality', weight: 1 } } }, 'version: got nothing, expected a number'],
    [{ version: 1.5, components: { q: { source: 'quality', weight: 1 } } }, 'version: got 1.5, expected an integer'],
    [{ version: 0, components: { q: { source: 'quality', weight: 1 } } }, 'version: got 0, expected > 0'],
    [{ version: 1, components: {} }, 'components: got {}, expected at least one component'],
    [{ version: 1, components: { q: { source: 'vibes', weight: 1 } } }, 'components.q.source: got "vibes", expected one of "user_feedback", "quality", "latency", "cost", "business"'],
    [{ version: 1, components: { q: { source: 'quality', weight: -0.5 } } }, 'components.q.weight: got -0.5, expected a number >= 0'],
    [{ version: 1, components: { q: { source: 'quality', weight: 1, transform: { kind: 'sigmoid' } } } }, 'components.q.transform.kind: got "sigmoid", expected one of "identity", "linear", "clip", "ratio", "log1p", "threshold"'],
    [{ version: 1, components: { q: { source: 'quality', weight: 1, transform: { kind: 'ratio', target: 0 } } } }, 'components.q.transform.target: got 0, expected a number > 0'],
    [{ version: 1, components: { q: { source: 'quality', weight: 1, transform: { kind: 'clip', min: 1, max: 0 } } } }, 'components.q.transform.max: got 0, expected min < max'],
    [{ version: 1, components: { q: { source: 'quality', weight: 1, wieght: 2 } } }, 'components.q: unknown field "wieght"'],
    [{ version: 1, components: { q: { source: 'quality', weight: 1, default: 0 } } }, 'components.q.default: got 0, expected no default on a required component (set required: false to use one)'],
    [{ version: 1, components: { 'Bad Name': { source: 'quality', weight: 1 } } }, 'components.Bad Name: key "Bad Name" is invalid: expected a snake_case name (a-z, 0-9, _)'],
    [{ version: 1, components: { q: { source: 'quality', weight: 1 } }, extra: true }, '(spec): unknown field "extra"'],
    [null, '(spec): got null, expected an object'],
  ])('rejects %j naming the field', (input, message) => {
    let err: unknown;
    try {
      parseRewardSpec(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RewardSpecError);
    expect((err as RewardSpecError).issues.join('\n')).toContain(message);
  });

  it('validates a raw spec passed straight to compositeReward', () => {
    expect(() => compositeReward({ version: -1, components: {} } as never, {})).toThrow(/invalid reward spec:\n {2}version: got -1, expected > 0\n {2}components: got \{\}, expected at least one component/);
  });
});
