import type { PredictorAnswer } from '../predictor/kind';
import { predictResponse } from './wire-schemas';

describe('wire schemas', () => {
  it('/v1/predict describes both answers: an online model\'s and a predictor\'s', () => {
    const predictor: PredictorAnswer = {
      decisionId: '0190a6f2-8e5b-7c3d-9a1b-2c3d4e5f6a7b', model: 'quality', version: 3, arm: 'champion', armProbability: 1,
      probability: 0.3, quality: 0.7, threshold: 0.6, passed: true, action: null,
    };
    expect(predictResponse.safeParse(predictor).success).toBe(true);
    expect(predictResponse.safeParse({ ...predictor, passed: false, action: { type: 'reroute', to: 'llm-premium' } }).success).toBe(true);
    expect(predictResponse.safeParse({ model: 'ctr', stateKey: 'ctr', seq: 3, output: 'probability', prediction: 0.4 }).success).toBe(true);
    expect(predictResponse.safeParse({ model: 'ctr', stateKey: 'ctr', seq: 3, output: 'value', predictions: [1, 2] }).success).toBe(true);
    expect(predictResponse.safeParse({ model: 'ctr', surprise: 1 }).success).toBe(false);
  });
});
