import { Rng } from '../rng';
import { RegressionModel } from './regression-model';

describe('ridge reward model with cross-fitting', () => {
  const rng = new Rng(1);
  const n = 3000, d = 2;
  const context = new Float64Array(n * d);
  const action = new Int32Array(n);
  const reward = new Float64Array(n);
  // r = 1 + 2·x0 for action 0, −1 + 0.5·x1 for action 1, plus a little noise.
  for (let i = 0; i < n; i++) {
    context[i * d] = rng.normal();
    context[i * d + 1] = rng.normal();
    action[i] = rng.int(2);
    reward[i] = (action[i] === 0 ? 1 + 2 * context[i * d] : -1 + 0.5 * context[i * d + 1]) + 0.01 * rng.normal();
  }
  const X = { data: context, rows: n, cols: d };

  it('recovers per-action linear rewards for every action, including the one not logged', () => {
    const q = new RegressionModel({ nActions: 2, alpha: 1e-6 }).fitPredict(X, action, reward, undefined, { nFolds: 5, randomState: 3 });
    expect([q.nRounds, q.nActions, q.lenList]).toEqual([n, 2, 1]);
    for (const i of [0, 17, 2999]) {
      const x0 = context[i * d], x1 = context[i * d + 1];
      expect(q.data[i * 2]).toBeCloseTo(Math.min(Math.max(1 + 2 * x0, Math.min(...reward)), Math.max(...reward)), 1);
      expect(q.data[i * 2 + 1]).toBeCloseTo(-1 + 0.5 * x1, 1);
    }
  });

  it('cross-fitting: a round\'s prediction does not use its own reward', () => {
    // Change one round's reward wildly: with one fold its own prediction moves; cross-fitted it does not.
    const r2 = reward.slice();
    r2[5] += 1e4;
    const model = new RegressionModel({ nActions: 2 });
    const a = model.fitPredict(X, action, reward, undefined, { nFolds: 5, randomState: 1 });
    const b = model.fitPredict(X, action, r2, undefined, { nFolds: 5, randomState: 1 });
    expect(b.data[5 * 2 + action[5]]).toBeCloseTo(a.data[5 * 2 + action[5]], 10);
    const c = model.fitPredict(X, action, reward, undefined, { nFolds: 1 });
    const e = model.fitPredict(X, action, r2, undefined, { nFolds: 1 });
    expect(e.data[5 * 2 + action[5]]).not.toBeCloseTo(c.data[5 * 2 + action[5]], 3);
  });

  it('is seeded: same seed, same folds', () => {
    const m = new RegressionModel({ nActions: 2 });
    expect(m.fitPredict(X, action, reward, undefined, { randomState: 4 }).data).toEqual(m.fitPredict(X, action, reward, undefined, { randomState: 4 }).data);
  });

  it('names bad inputs', () => {
    expect(() => new RegressionModel({ nActions: 0 })).toThrow('n_actions: got 0, expected a positive integer');
    expect(() => new RegressionModel({ nActions: 2 }).fitPredict(X, action.slice(1), reward, undefined)).toThrow(`action: got ${n - 1} rounds, expected n_rounds = ${n} (the rows of context)`);
    expect(() => new RegressionModel({ nActions: 2 }).fitPredict(X, action, reward, undefined, { nFolds: 0 })).toThrow(`n_folds: got 0, expected an integer in [1, n_rounds = ${n}]`);
  });
});
