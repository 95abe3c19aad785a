/**
 * Meta-learned exploration (UC5): warm starts from the nearest past deployments, ε decayed by the
 * posterior's uncertainty with exact propensities, the `exploration: { kind: meta }` config, and the
 * family comparison — on a seeded family of 30 new tasks, the meta-configured learner's family-mean
 * regret ratio (cumulative regret / a uniform policy's on the same contexts) reaches and stays below
 * 0.2 and 0.1 in at most 0.75× the steps of the best fixed ε ∈ {0.02, 0.05, 0.1, 0.2} (every task, every
 * policy and every draw is seeded: the outcome is deterministic, so the test cannot flake).
 */
import { Rng } from '../rng';
import { buildLearner, parseBanditConfig } from './config';
import { drawFamilyTask, FAMILY_CLUSTERS, familySnapshots, playFamilyTask, type FamilyRun } from './meta-family';
import { metaWarmStart, nearestSnapshots, snapshotFromStats, snapshotMoments, UncertaintyEpsilon, type DeploymentSnapshot } from './meta-exploration';
import { EpsilonGreedy, GaussianThompsonSampling, learnerFromJSON, LinUCB } from '.';

const snapshots = familySnapshots(1, 40, 50);

describe('warm start from past deployments', () => {
  it('estimates level, noise and spread of a snapshot in units of its reward scale', () => {
    // Arms with means 0.4 and 0.6 (scale 10: 4 and 6), noise sd 1 (0.1 in units), many pulls.
    const rng = new Rng(3);
    const arms = [4, 6].map((m, a) => {
      let rSum = 0, rSqSum = 0;
      for (let i = 0; i < 20_000; i++) { const r = m + rng.normal(); rSum += r; rSqSum += r * r; }
      return { name: `a${a}`, n: 20_000, rSum, rSqSum };
    });
    const m = snapshotMoments({ name: 's', task: { nArms: 2, rewardScale: 10, contextDim: 1 }, arms });
    expect(m.level).toBeCloseTo(0.5, 2);
    expect(m.noiseVar).toBeCloseTo(0.01, 3);
    expect(m.spreadVar).toBeCloseTo(0.02, 2); // sample variance of {0.4, 0.6}
  });

  it('picks the neighbours of the new task\'s cluster and a prior worth ≈ σ²/τ² observations', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 30; i++) {
      const t = drawFamilyTask(rng, `t${i}`);
      const c = FAMILY_CLUSTERS[t.cluster];
      const near = nearestSnapshots(t.task, snapshots, 5);
      // With the reward scale weighted ×3 (it tells the clusters apart; nArms and contextDim do not),
      // every neighbour shares the cluster (the same reward scale to within the family's jitter).
      expect(near).toHaveLength(5);
      for (const n of nearestSnapshots(t.task, snapshots, 5, { rewardScale: 3 })) expect(Math.abs(Math.log(n.snapshot.task.rewardScale / c.scale))).toBeLessThan(0.5);
      const warm = metaWarmStart(t.task, t.theta.map((_, a) => `${t.name}/${a}`), snapshots, { weights: { rewardScale: 3 } });
      expect(warm.level).toBeCloseTo(c.level, 0);
      expect(Math.sqrt(warm.noiseVar) / c.noise).toBeGreaterThan(0.8);
      expect(Math.sqrt(warm.noiseVar) / c.noise).toBeLessThan(1.3);
      for (const p of warm.priors) expect(p.mean / (t.task.rewardScale * warm.level)).toBeCloseTo(1, 6);
      const strength = warm.priors[0].strength, ideal = (c.noise / c.spread) ** 2;
      expect(strength / ideal).toBeGreaterThan(0.33);
      expect(strength / ideal).toBeLessThan(3);
    }
  });

  it('takes an arm\'s own mean from neighbours that deployed an arm of the same name', () => {
    const past: DeploymentSnapshot[] = [0, 1, 2].map((j) => ({
      name: `router-${j}`,
      task: { nArms: 3, rewardScale: 1, contextDim: 1 },
      arms: [
        { name: 'gpt-large', n: 100, rSum: 80, rSqSum: 65 },
        { name: 'haiku', n: 100, rSum: 50, rSqSum: 26 },
        { name: `other-${j}`, n: 100, rSum: 60, rSqSum: 37 },
      ],
    }));
    const warm = metaWarmStart({ nArms: 3, rewardScale: 1, contextDim: 1 }, ['gpt-large', 'haiku', 'new-model'], past, { neighbours: 3 });
    expect(warm.priors[0].mean).toBeCloseTo(0.8, 10);
    expect(warm.priors[1].mean).toBeCloseTo(0.5, 10);
    expect(warm.priors[2].mean).toBeCloseTo((0.8 + 0.5 + 0.6) / 3, 10);
    expect(warm.neighbours.map((n) => n.name).sort()).toEqual(['router-0', 'router-1', 'router-2']);
  });

  it('round-trips a learner\'s statistics into a snapshot', () => {
    const l = new GaussianThompsonSampling({ nArms: 2 });
    l.update(undefined, 0, 1);
    l.update(undefined, 0, 3);
    l.update(undefined, 1, 2);
    const s = snapshotFromStats('old', { nArms: 2, rewardScale: 1, contextDim: 1 }, ['x', 'y'], l.getStats());
    expect(s.arms).toEqual([{ name: 'x', n: 2, rSum: 4, rSqSum: 10 }, { name: 'y', n: 1, rSum: 2, rSqSum: 4 }]);
  });

  it.each([
    [[], 'no snapshots'],
    [[{ name: 's', task: { nArms: 2, rewardScale: 0, contextDim: 1 }, arms: [] }], 'snapshots.0.task.rewardScale: expected a finite number > 0, got 0'],
    [[{ name: 's', task: { nArms: 2, rewardScale: 1 }, arms: [] }], 'snapshots.0.task.contextDim: expected an integer >= 1'],
    [[{ name: 's', task: { nArms: 2, rewardScale: 1, contextDim: 1 }, arms: [{ name: 'a', n: -1, rSum: 0, rSqSum: 0 }, { name: 'b', n: 1, rSum: 0, rSqSum: 0 }] }], 'snapshots.0.arms.0.n: expected a finite number >= 0, got -1'],
  ])('refuses bad snapshots by field (%#)', (snaps, message) => {
    expect(() => metaWarmStart({ nArms: 2, rewardScale: 1, contextDim: 1 }, ['a', 'b'], snaps as DeploymentSnapshot[])).toThrow(message);
  });
});

describe('UncertaintyEpsilon', () => {
  it('decays ε with the arms\' posterior uncertainty, down to the floor', () => {
    const l = new UncertaintyEpsilon(new LinUCB({ nArms: 2, d: 1, alpha: 0 }), { epsilon0: 0.2, minEpsilon: 0.01, strengths: [4, 4] });
    expect(l.epsilon()).toBeCloseTo(0.2, 12);
    for (let i = 0; i < 12; i++) l.update([1], 0, 1); // arm 0: √(4/16) = 0.5; arm 1: 1
    expect(l.epsilon()).toBeCloseTo(0.2 * (0.5 + 1) / 2, 12);
    for (let i = 0; i < 12; i++) l.update([1], 1, 0);
    expect(l.epsilon()).toBeCloseTo(0.1, 12);
    for (let i = 0; i < 100_000; i++) l.update([1], i % 2, i % 2);
    expect(l.epsilon()).toBe(0.01);
  });

  it('logs the exact probability of the arm it serves', () => {
    const l = new UncertaintyEpsilon(new LinUCB({ nArms: 3, d: 1, alpha: 0 }), { epsilon0: 0.3, minEpsilon: 0.05 });
    for (let i = 0; i < 20; i++) l.update([1], 1, 1);
    const eps = l.epsilon();
    const rng = new Rng(5);
    const counts = [0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const d = l.select([1], rng);
      expect(d.propensity).toBeCloseTo(d.arm === 1 ? 1 - eps + eps / 3 : eps / 3, 12);
      counts[d.arm]++;
    }
    // Frequencies within 6 binomial sd of the propensities (fails with probability < 1e-8).
    const p1 = 1 - eps + eps / 3;
    expect(Math.abs(counts[1] / n - p1)).toBeLessThan(6 * Math.sqrt((p1 * (1 - p1)) / n));
  });

  it('round-trips through JSON and refuses a floor of 0', () => {
    const l = new UncertaintyEpsilon(new LinUCB({ nArms: 2, d: 1 }), { epsilon0: 0.1, minEpsilon: 0.02, strengths: [3, 5] });
    l.update([1], 0, 0.5);
    const back = learnerFromJSON(JSON.parse(JSON.stringify(l.toJSON()))) as UncertaintyEpsilon;
    expect(back.kind).toBe('uncertainty-epsilon');
    expect(back.strengths).toEqual([3, 5]);
    expect(back.epsilon()).toBeCloseTo(l.epsilon(), 12);
    expect(() => new UncertaintyEpsilon(new LinUCB({ nArms: 2, d: 1 }), { epsilon0: 0.1, minEpsilon: 0 })).toThrow('minEpsilon must be a number in (0, epsilon0 = 0.1]');
  });
});

describe('exploration: { kind: meta } in a bandit config', () => {
  const past: DeploymentSnapshot[] = snapshots.slice(0, 20);
  const base = { learner: { kind: 'linucb' }, arms: ['a', 'b', 'c'], features: ['u'] };

  it('resolves priors, the ε schedule and LinUCB\'s alpha from the nearest snapshots', () => {
    const c = parseBanditConfig({ ...base, exploration: { kind: 'meta', task: { rewardScale: 20 }, snapshots: past, neighbours: 3 }, priors: { c: { mean: 7, strength: 2 } } }, 'dep');
    expect(c.exploration.kind).toBe('meta');
    if (c.exploration.kind !== 'meta') return;
    expect(c.exploration.neighbours).toHaveLength(3);
    expect(c.priors[2]).toEqual({ mean: 7, strength: 2 }); // explicit prior kept
    const warm = metaWarmStart({ nArms: 3, rewardScale: 20, contextDim: 2 }, ['a', 'b', 'c'], past, { neighbours: 3 });
    expect(c.priors[0]).toEqual(warm.priors[0]);
    expect(c.exploration.strengths).toEqual([warm.priors[0].strength, warm.priors[1].strength, 2]);
    expect(c.learnerParams.alpha).toBeCloseTo(20 * Math.sqrt(warm.noiseVar), 10);
    const l = buildLearner(c);
    expect(l.kind).toBe('uncertainty-epsilon');
    const d = l.select([1, 0.3], new Rng(1));
    expect(d.propensity).toBeGreaterThanOrEqual(0.01 / 3);
    // An explicit alpha wins.
    const c2 = parseBanditConfig({ ...base, learner: { kind: 'linucb', params: { alpha: 0.7 } }, exploration: { kind: 'meta', snapshots: past } }, 'dep');
    expect(c2.learnerParams.alpha).toBe(0.7);
  });

  it.each([
    [{ kind: 'meta' }, 'config.exploration.snapshots: got nothing, expected a non-empty array of past deployments'],
    [{ kind: 'meta', snapshots: [], epsilon0: 0 }, 'config.exploration.epsilon0: got 0, expected a number in (0, 1]'],
    [{ kind: 'meta', snapshots: [], epsilon0: 0.1, minEpsilon: 0.2 }, 'config.exploration.minEpsilon: got 0.2, expected a number in (0, epsilon0 = 0.1]'],
    [{ kind: 'meta', snapshots: [{ name: 'x' }] }, 'config.exploration.snapshots: got "(1 snapshots)", expected snapshots.0.task'],
    [{ kind: 'meta', snapshots: [], task: { nArms: 3 } }, 'config.exploration.task.nArms: got 3, expected nothing: it follows from arms and features'],
    [{ kind: 'meta', snapshots: [], typo: 1 }, 'config.exploration.typo: got 1, expected no such setting'],
  ])('refuses a bad meta exploration by field (%#)', (exploration, message) => {
    expect(() => parseBanditConfig({ ...base, exploration }, 'dep')).toThrow(message);
  });
});

describe('on a family of 30 simulated tasks (seeded)', () => {
  const T = 10_000, N = 30;

  /** The family-mean regret ratio curve of a policy factory over the same N tasks. */
  function familyCurve(make: (t: ReturnType<typeof drawFamilyTask>) => Parameters<typeof playFamilyTask>[1]): Float64Array {
    const rng = new Rng(7);
    const curve = new Float64Array(T);
    for (let i = 0; i < N; i++) {
      const t = drawFamilyTask(rng, `new-${i}`);
      const run: FamilyRun = playFamilyTask(t, make(t), T, 100 + i);
      expect(run.minPropensity).toBeGreaterThan(0);
      for (let s = 0; s < T; s++) curve[s] += run.regret[s] / run.uniformRegret[s] / N;
    }
    return curve;
  }

  /** First step after which the curve stays ≤ target (T + 1: not reached). */
  const steps = (c: Float64Array, target: number) => {
    if (c[T - 1] > target) return T + 1;
    for (let s = T - 1; s >= 0; s--) if (c[s] > target) return s + 2;
    return 1;
  };

  it('reaches the target regret in at most 0.75× the steps of the best fixed ε', () => {
    // The deployment's config as a user writes it: the task's reward scale, the past deployments.
    const meta = familyCurve((t) => buildLearner(parseBanditConfig({
      learner: { kind: 'linucb' },
      arms: t.theta.map((_, a) => `${t.name}/arm-${a}`),
      features: Array.from({ length: t.task.contextDim - 1 }, (_, j) => `u${j}`),
      exploration: { kind: 'meta', task: { rewardScale: t.task.rewardScale }, snapshots },
    }, t.name)));
    const fixed = [0.02, 0.05, 0.1, 0.2].map((epsilon) => ({ epsilon, curve: familyCurve((t) => new EpsilonGreedy(new LinUCB({ nArms: t.task.nArms, d: t.task.contextDim, alpha: 0 }), { epsilon })) }));
    const lines = [`meta: steps to 0.2 = ${steps(meta, 0.2)}, to 0.1 = ${steps(meta, 0.1)}; final ${meta[T - 1].toFixed(3)}`];
    for (const f of fixed) lines.push(`fixed ε ${f.epsilon}: steps to 0.2 = ${steps(f.curve, 0.2)}, to 0.1 = ${steps(f.curve, 0.1)}; final ${f.curve[T - 1].toFixed(3)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    for (const target of [0.2, 0.1]) {
      const m = steps(meta, target);
      expect(m).toBeLessThanOrEqual(T);
      for (const f of fixed) expect(m).toBeLessThanOrEqual(0.75 * steps(f.curve, target));
    }
  }, 600_000); // ~75 s alone, ~140 s on the shared 2-core machine under load
});
