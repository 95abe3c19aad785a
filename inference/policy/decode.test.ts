import { decodeAction, scoreAction } from '../../ml/onnx/decode';
import { Rng } from '../../ml/rng';
import { buildTestPolicy } from '../testing/test-policy';
import { ActionDecoder } from './decode';
import { bindSignature } from './signature';

const policy = buildTestPolicy(3);
const x = Array.from({ length: 16 }, (_, i) => Math.sin(i));
const outputs = policy.forward(x);
const decoder = new ActionDecoder(policy.signature);

describe('ActionDecoder', () => {
  it('is ml/onnx decodeAction when exploration is at its defaults', () => {
    const g = decoder.decode(outputs, { mode: 'greedy', epsilon: 0, temperature: 1, rng: new Rng(1) });
    const ref = decodeAction(policy.signature, outputs, { mode: 'greedy' });
    expect(g).toEqual({ action: ref.action, propensity: 1, density: null, policyProbability: ref.policyProbability, headPropensities: new Float64Array([1, 1, 1, 1]) });
    expect(decoder.discreteHeadNames).toEqual(['variant', 'k', 'rerank', 'prompt_id']);
    const rng = new Rng(9);
    for (let i = 0; i < 50; i++) {
      const s = decoder.decode(outputs, { mode: 'sample', epsilon: 0, temperature: 1, rng });
      const score = scoreAction(policy.signature, outputs, s.action);
      expect(s.propensity).toBeCloseTo(score.probability, 12);
      expect(s.headPropensities.reduce((a, b) => a * b, 1)).toBeCloseTo(s.propensity, 12);
      expect(s.density).toBeCloseTo(score.density, 9);
    }
  });

  it('logs the ε-greedy probability of what it served, and serves it at that rate', () => {
    const eps = 0.3;
    const rng = new Rng(4);
    const greedy = decodeAction(policy.signature, outputs, { mode: 'greedy' }).action;
    const n = 20000;
    let sameVariant = 0;
    for (let i = 0; i < n; i++) {
      const d = decoder.decode(outputs, { mode: 'greedy', epsilon: eps, temperature: 1, rng });
      // Per head: (1 − ε) + ε/K for the argmax, ε/K otherwise; the propensity is their product.
      const want =
        (d.action.variant === greedy.variant ? 1 - eps + eps / 3 : eps / 3) *
        (d.action.k === greedy.k ? 1 - eps + eps / 30 : eps / 30) *
        (d.action.rerank === greedy.rerank ? 1 - eps + eps / 2 : eps / 2) *
        (d.action.prompt_id === greedy.prompt_id ? 1 - eps + eps / 4 : eps / 4);
      expect(d.propensity).toBeCloseTo(want, 12);
      expect(d.headPropensities[1]).toBeCloseTo(d.action.k === greedy.k ? 1 - eps + eps / 30 : eps / 30, 12);
      expect(d.headPropensities.reduce((a, b) => a * b, 1)).toBeCloseTo(d.propensity, 12);
      expect(d.density).toBeNull();
      if (d.action.variant === greedy.variant) sameVariant++;
    }
    const p = 1 - eps + eps / 3;
    expect(Math.abs(sameVariant / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
  });

  it('samples at temperature T with ε mixing at the probabilities it logs', () => {
    const eps = 0.1;
    const t = 2;
    const rng = new Rng(5);
    const counts = [0, 0, 0];
    const logged = [0, 0, 0];
    const n = 30000;
    for (let i = 0; i < n; i++) {
      const d = decoder.decode(outputs, { mode: 'sample', epsilon: eps, temperature: t, rng });
      const j = ['A', 'B', 'C'].indexOf(d.action.variant as string);
      counts[j]++;
      expect(d.density).toBeGreaterThan(0);
      logged[j] = 1; // presence
    }
    const pv = Array.from(outputs.variant_probs, (p) => Math.pow(p, 1 / t));
    const z = pv.reduce((a, b) => a + b, 0);
    pv.forEach((q, j) => {
      const want = (1 - eps) * (q / z) + eps / 3;
      expect(Math.abs(counts[j] / n - want)).toBeLessThan(4 * Math.sqrt((want * (1 - want)) / n));
    });
    expect(logged).toEqual([1, 1, 1]);
  });
});

describe('bindSignature', () => {
  const graph = {
    inputNames: ['obs'],
    outputNames: ['variant_probs', 'k_probs', 'rerank_prob', 'fusion_weight_mean', 'fusion_weight_log_std', 'prompt_id_probs', 'value'],
    inputMetadata: [{ name: 'obs', isTensor: true, type: 'float32', shape: ['batch', 16] }],
  };

  it('binds an exported policy: input, feature names, signature', () => {
    const b = bindSignature(policy.signature, graph);
    expect(b.input).toEqual({ name: 'obs', size: 16, features: policy.signature.observation.names });
    expect(b.policy).toEqual(policy.signature);
  });

  it('treats a signature without a policy format as a plain model', () => {
    expect(bindSignature({}, graph)).toMatchObject({ input: { name: 'obs', size: 16, features: null }, policy: null });
  });

  it.each([
    [{ ...graph, outputNames: graph.outputNames.slice(1) }, 'signature.heads: got "variant_probs"; expected outputs the graph has'],
    [{ ...graph, inputNames: ['x'], inputMetadata: [{ name: 'x', isTensor: true, type: 'float32', shape: ['batch', 16] }] }, 'signature.input.name: got "obs"; expected the graph\'s input "x"'],
    [{ ...graph, inputMetadata: [{ name: 'obs', isTensor: true, type: 'float32', shape: ['batch', 12] }] }, 'signature.observation.size: got 16; expected 12'],
    [{ ...graph, inputMetadata: [{ name: 'obs', isTensor: true, type: 'int64', shape: ['batch', 16] }] }, 'expected a float32 tensor input'],
    [{ ...graph, inputNames: ['a', 'b'] }, 'exactly one float32 input'],
  ])('refuses a graph that disagrees with the signature (%#)', (g, message) => {
    expect(() => bindSignature(policy.signature, g as never)).toThrow(message);
  });

  it('refuses an invalid policy signature with the parser\'s message', () => {
    expect(() => bindSignature({ ...policy.signature, opset: 0 }, graph)).toThrow(/signature\.opset = 0: expected an integer ≥ 1/);
  });
});
