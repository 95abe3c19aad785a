import { Rng } from '../rng';
import { linearSoftmaxPolicy, ridgePerAction } from './linear-softmax';

describe('the linear softmax refit', () => {
  const d = 3, k = 2;
  const truth = [[0.5, -0.2, 0.1, 0.3], [-0.4, 0.6, 0, -0.1]]; // θ_a (d coefficients, then the intercept)
  const rng = new Rng(5);
  const n = 4000;
  const x = new Float64Array(n * d), a = new Int32Array(n), r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal();
    a[i] = rng.int(k);
    const t = truth[a[i]];
    r[i] = t[d] + t.slice(0, d).reduce((s, c, j) => s + c * x[i * d + j], 0) + 0.05 * rng.normal();
  }

  it('ridge per action recovers the coefficients; a huge penalty shrinks them all to 0', () => {
    const theta = ridgePerAction(x, a, r, d, k, 1);
    for (let q = 0; q < k; q++) for (let j = 0; j <= d; j++) expect(theta[q * (d + 1) + j]).toBeCloseTo(truth[q][j], 1);
    expect(Math.max(...ridgePerAction(x, a, r, d, k, 1e9).map(Math.abs))).toBeLessThan(1e-5);
    expect(() => ridgePerAction(x, a, r, d, k, 0)).toThrow('ridge alpha must be a finite number > 0, got 0');
  });

  it('the policy is softmax(β·q̂(x, ·)) up to tanh curvature; β = 0 is uniform', () => {
    const theta = ridgePerAction(x, a, r, d, k, 1);
    const obs = Float64Array.from([0.7, -1.2, 0.4]);
    const q = [0, 1].map((b) => theta[b * (d + 1) + d] + [0, 1, 2].reduce((s, j) => s + theta[b * (d + 1) + j] * obs[j], 0));
    const beta = 4;
    const policy = linearSoftmaxPolicy(theta, d, 'variant', ['a0', 'a1'], beta);
    policy.forward(obs, 1);
    const logits = policy.headOutput(0);
    expect(logits[0] - logits[1]).toBeCloseTo(beta * (q[0] - q[1]), 2);
    const flat = linearSoftmaxPolicy(theta, d, 'variant', ['a0', 'a1'], 0);
    flat.forward(obs, 1);
    expect(flat.headOutput(0)[0] - flat.headOutput(0)[1]).toBe(0);
  });
});
