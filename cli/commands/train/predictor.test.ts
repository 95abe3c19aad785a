import { CliError } from '../../errors';
import { buildTrainPredictorInput } from './predictor';

describe('autopilot train predictor: options → the qualityPredictorTraining input', () => {
  it('sends only what was given, as numbers', () => {
    expect(buildTrainPredictorInput({ wait: true })).toEqual({});
    expect(buildTrainPredictorInput({ wait: true, model: 'quality', seed: '3', trees: '80', learningRate: '0.1', shift: '-0.5', parityTolerance: '1e-6', champion: true })).toEqual({
      model: 'quality', seed: 3, trees: 80, learningRate: 0.1, shift: -0.5, parityTolerance: 1e-6, champion: true,
    });
  });

  it.each([
    [{ trees: '0' }, '--trees "0": expected an integer ≥ 1'],
    [{ learningRate: '2' }, '--learning-rate "2": expected a number in (0, 1]'],
    [{ parityTolerance: 'tight' }, '--parity-tolerance "tight": expected a number in (0, 1)'],
    [{ model: 'Quality Model' }, '--model "Quality Model": expected a registry model name (lower-case letters, digits, . _ -)'],
  ])('refuses %j', (opts, message) => {
    expect(() => buildTrainPredictorInput({ wait: true, ...opts })).toThrow(new CliError(message));
  });
});
