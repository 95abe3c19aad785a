import { applyGate, parsePredictorConfig } from './gate';
import { PredictorFieldError, encodeFeatures, parsePredictorSignature } from './signature';

const signature = {
  predictor: {
    input: 'features',
    output: 'probabilities',
    positiveClass: 1,
    target: 'low_quality',
    features: [
      { name: 'prompt_tokens', type: 'numeric' },
      { name: 'task', type: 'categorical', categories: ['chat', 'code', 'math'] },
    ],
  },
};

function refusal(fn: () => unknown): { field: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!(e instanceof PredictorFieldError)) throw e;
    return { field: e.field, message: e.message };
  }
}

describe('quality predictor signature: request features → the float32 row the trees read', () => {
  const sig = parsePredictorSignature(signature);

  it('encodes numbers as they are and categories as their index', () => {
    expect(Array.from(encodeFeatures(sig, { prompt_tokens: 812, task: 'math' }, new Float32Array(2)))).toEqual([812, 2]);
    expect(Array.from(encodeFeatures(sig, { task: 'chat', prompt_tokens: 0.5 }, new Float32Array(2)))).toEqual([0.5, 0]);
  });

  it.each([
    [{ task: 'math' }, 'features.prompt_tokens', 'features.prompt_tokens: got nothing, expected a finite number (every feature of the model is required)'],
    [{ prompt_tokens: '812', task: 'math' }, 'features.prompt_tokens', 'features.prompt_tokens: got "812", expected a finite number'],
    [{ prompt_tokens: 812, task: 'poetry' }, 'features.task', 'features.task: got "poetry", expected one of chat, code, math'],
    [{ prompt_tokens: 812, task: 2 }, 'features.task', 'features.task: got 2, expected one of chat, code, math'],
    [{ prompt_tokens: 812, task: 'math', colour: 'red' }, 'features.colour', 'features.colour: got "red", expected no such feature (the model reads prompt_tokens, task)'],
    [[812, 2], 'features', 'features: got [812,2], expected an object with exactly prompt_tokens (number), task (one of chat, code, math)'],
  ])('refuses %j naming the field, the value and what was expected', (features, field, message) => {
    expect(refusal(() => encodeFeatures(sig, features, new Float32Array(2)))).toEqual({ field, message });
  });

  it.each([
    [{}, 'signature.predictor'],
    [{ predictor: { ...signature.predictor, positiveClass: 2 } }, 'signature.predictor.positiveClass'],
    [{ predictor: { ...signature.predictor, features: [{ name: 'a', type: 'numeric' }, { name: 'a', type: 'numeric' }] } }, 'signature.predictor.features[1].name'],
    [{ predictor: { ...signature.predictor, features: [{ name: 'a', type: 'categorical', categories: [] }] } }, 'signature.predictor.features[0].categories'],
  ])('refuses a bad signature %#', (sigJson, field) => {
    expect(refusal(() => parsePredictorSignature(sigJson))?.field).toBe(field);
  });
});

describe('quality gate: act when the predicted quality 1 − P(low quality) is below the threshold', () => {
  const { gate } = parsePredictorConfig({ gate: { threshold: 0.6, action: 'reroute', to: 'llm-premium' } });

  it('passes at or above the threshold and answers the action below it', () => {
    expect(applyGate(gate, 0.25)).toEqual({ probability: 0.25, quality: 0.75, passed: true, action: null });
    expect(applyGate(gate, 0.5).passed).toBe(false);
    expect(applyGate(gate, 0.9)).toMatchObject({ passed: false, action: { type: 'reroute', to: 'llm-premium' } });
    expect(applyGate(null, 0.99)).toMatchObject({ passed: true, action: null });
  });

  it.each([
    [{ gate: { threshold: 0, action: 'reroute', to: 'x' } }, 'config.gate.threshold'],
    [{ gate: { threshold: 0.5, action: 'escalate', to: '' } }, 'config.gate.to'],
    [{ gate: { threshold: 0.5, action: 'escalate', to: 'q', after: 3 } }, 'config.gate.after'],
    [{ gate: 'strict' }, 'config.gate'],
  ])('refuses a bad gate %#', (config, field) => {
    expect(refusal(() => parsePredictorConfig(config))?.field).toBe(field);
  });
});
