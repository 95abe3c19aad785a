import { TEXT_POLICY_DEFAULTS } from '../../contracts/text-policy-training';
import { parsePolicyTrainingInput } from './input';

describe('parsePolicyTrainingInput', () => {
  it('fills every default from an empty input', () => {
    expect(parsePolicyTrainingInput(undefined)).toEqual({
      model: 'action-policy',
      data: { generate: { n: 500, seed: 1, noise: 0.02 } },
      evalFraction: 0.2,
      valFraction: 0.15,
      splitSeed: 0,
      sftConfig: 'configs/oumi/policy_sft.yaml',
      dpoConfig: 'configs/oumi/policy_dpo.yaml',
      sftSteps: null,
      dpoSteps: null,
      sftOverrides: {},
      dpoOverrides: {},
      baseModel: null,
      tinyModelSeed: TEXT_POLICY_DEFAULTS.tinyModelSeed,
      workDir: null,
      startCanary: false,
      force: false,
      actor: null,
      progressIntervalSeconds: 5,
    });
  });

  it('keeps what is given: a data path, steps, overrides, a base model', () => {
    const r = parsePolicyTrainingInput({
      model: 'ops-policy', data: 'data/labeled_decisions.jsonl', sftSteps: 40, dpoSteps: 10,
      dpoOverrides: { 'training.learning_rate': 5e-4, 'data.train.datasets[0].dataset_path': 'x' }, baseModel: '/models/SmolLM2-135M', startCanary: true,
    });
    expect(r).toMatchObject({ model: 'ops-policy', data: { path: 'data/labeled_decisions.jsonl' }, sftSteps: 40, dpoSteps: 10, baseModel: '/models/SmolLM2-135M', startCanary: true });
    expect(r.dpoOverrides['training.learning_rate']).toBe(5e-4);
    expect(parsePolicyTrainingInput({ data: { generate: { n: 50 } } }).data).toEqual({ generate: { n: 50, seed: 1, noise: 0.02 } });
  });

  it.each([
    [{ model: 'Bad Name' }, 'model = "Bad Name"; expected lower-case letters'],
    [{ data: 42 }, 'data = 42; expected a labeled_decisions.jsonl path or { generate: { n, seed, noise } }'],
    [{ data: { generate: { n: 3 } } }, 'data.generate.n = 3; expected an integer ≥ 10'],
    [{ data: { generate: { noise: 0.7 } } }, 'data.generate.noise = 0.7; expected a number in [0, 0.5)'],
    [{ sftSteps: 0 }, 'sftSteps = 0; expected an integer ≥ 1'],
    [{ evalFraction: 1 }, 'evalFraction = 1; expected a number in (0, 1)'],
    [{ sftOverrides: { 'not a key': 1 } }, 'sftOverrides key = "not a key"; expected a dotted config key'],
    [{ dpoOverrides: { 'training.x': [1] } }, 'dpoOverrides.training.x = [1]; expected a string, number or boolean'],
    [{ startCanary: 'yes' }, 'startCanary = "yes"; expected true or false'],
    [{ force: true }, 'force = true; expected only with startCanary: true (force starts the canary although the targets are missed)'],
    [{ stpes: 3 }, 'stpes = 3; expected one of the known fields'],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parsePolicyTrainingInput(input)).toThrow(message);
  });
});
