import { checkOpeInputs } from './check';
import { DoublyRobust } from './dr';
import { DoublyRobustWithShrinkage } from './dr-os';
import { InverseProbabilityWeighting } from './ipw';
import { SwitchDoublyRobust } from './switch-dr';
import { DirectMethod } from './dm';
import { parseEstimatorNames } from './estimators';
import { actionArray, type OpeInputs } from './types';

const valid = (): OpeInputs => ({
  reward: Float64Array.from([1, 0, 1]),
  action: Int32Array.from([0, 1, 1]),
  pscore: Float64Array.from([0.5, 0.5, 0.5]),
  actionDist: actionArray([[0.5, 0.5], [0.1, 0.9], [1, 0]]),
  estimatedRewardsByRegModel: actionArray([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]),
});

type Case = [string, (x: OpeInputs) => OpeInputs, string];
const cases: Case[] = [
  ['action_dist of the wrong length', (x) => ({ ...x, actionDist: { ...x.actionDist, data: new Float64Array(5) } }), 'action_dist: got 5 values, expected n_rounds × n_actions × len_list = 3×2×1 = 6 values'],
  ['zero actions', (x) => ({ ...x, actionDist: { data: new Float64Array(0), nRounds: 3, nActions: 0, lenList: 1 } }), 'action_dist: got n_actions = 0, expected n_actions to be a positive integer'],
  ['NaN in action_dist', (x) => ({ ...x, actionDist: actionArray([[0.5, 0.5], [NaN, 1], [1, 0]]) }), 'action_dist[1, 0, 0]: got NaN, expected a probability in [0, 1]'],
  ['negative probability', (x) => ({ ...x, actionDist: actionArray([[0.5, 0.5], [-0.1, 1.1], [1, 0]]) }), 'action_dist[1, 0, 0]: got -0.1, expected a probability in [0, 1]'],
  ['action_dist not summing to 1', (x) => ({ ...x, actionDist: actionArray([[0.5, 0.5], [0.3, 0.3], [1, 0]]) }), 'action_dist[1, :, 0]: got a sum of 0.6, expected probabilities over actions summing to 1'],
  ['reward too short', (x) => ({ ...x, reward: Float64Array.from([1, 0]) }), 'reward: got 2 rounds, expected n_rounds = 3 (the first dimension of action_dist)'],
  ['NaN reward', (x) => ({ ...x, reward: Float64Array.from([1, NaN, 0]) }), 'reward[1]: got NaN, expected a finite number'],
  ['infinite reward', (x) => ({ ...x, reward: Float64Array.from([1, 0, Infinity]) }), 'reward[2]: got Infinity, expected a finite number'],
  ['action too long', (x) => ({ ...x, action: Int32Array.from([0, 1, 1, 0]) }), 'action: got 4 rounds, expected n_rounds = 3 (the first dimension of action_dist)'],
  ['action out of range', (x) => ({ ...x, action: Int32Array.from([0, 2, 1]) }), 'action[1]: got 2, expected an integer in [0, n_actions = 2)'],
  ['negative action', (x) => ({ ...x, action: Int32Array.from([-1, 0, 1]) }), 'action[0]: got -1, expected an integer in [0, n_actions = 2)'],
  ['zero pscore', (x) => ({ ...x, pscore: Float64Array.from([0.5, 0, 0.5]) }), 'pscore[1]: got 0, expected a propensity in (0, 1]'],
  ['negative pscore', (x) => ({ ...x, pscore: Float64Array.from([-0.5, 0.5, 0.5]) }), 'pscore[0]: got -0.5, expected a propensity in (0, 1]'],
  ['NaN pscore', (x) => ({ ...x, pscore: Float64Array.from([0.5, 0.5, NaN]) }), 'pscore[2]: got NaN, expected a propensity in (0, 1]'],
  ['pscore above 1', (x) => ({ ...x, pscore: Float64Array.from([0.5, 1.5, 0.5]) }), 'pscore[1]: got 1.5, expected a propensity in (0, 1]'],
  ['pscore too short', (x) => ({ ...x, pscore: Float64Array.from([0.5]) }), 'pscore: got 1 rounds, expected n_rounds = 3 (the first dimension of action_dist)'],
  ['missing pscore', (x) => ({ ...x, pscore: undefined }), 'pscore: got nothing, expected an array of n_rounds logging propensities (required by dr)'],
  ['missing reward', (x) => ({ ...x, reward: undefined }), 'reward: got nothing, expected an array of n_rounds rewards (required by dr)'],
  ['missing reward model', (x) => ({ ...x, estimatedRewardsByRegModel: undefined }), 'estimated_rewards_by_reg_model: got nothing, expected an n_rounds × n_actions × len_list array of predicted rewards (or `context` to fit the reward model) (required by dr)'],
  ['reward model of another shape', (x) => ({ ...x, estimatedRewardsByRegModel: actionArray([[0.5, 0.5, 0], [0.5, 0.5, 0], [0.5, 0.5, 0]]) }), 'estimated_rewards_by_reg_model: got shape 3×3×1, expected the shape of action_dist, 3×2×1'],
  ['NaN in reward model', (x) => ({ ...x, estimatedRewardsByRegModel: actionArray([[0.5, 0.5], [0.5, 0.5], [0.5, NaN]]) }), 'estimated_rewards_by_reg_model[2, 1, 0]: got NaN, expected a finite number'],
  ['position too short', (x) => ({ ...x, position: Int32Array.from([0]) }), 'position: got 1 rounds, expected n_rounds = 3 (the first dimension of action_dist)'],
  ['position out of range', (x) => ({ ...x, position: Int32Array.from([0, 1, 0]) }), 'position[1]: got 1, expected an integer in [0, len_list = 1)'],
  [
    'no position with several slots',
    (x) => ({ ...x, actionDist: actionArray([[[0.5, 1], [0.5, 0]], [[0.5, 1], [0.5, 0]], [[0.5, 1], [0.5, 0]]]), estimatedRewardsByRegModel: undefined }),
    'position: got nothing, expected an array of n_rounds positions, because len_list = 2 > 1',
  ],
];

describe('checkOpeInputs: every invalid input gets its exact message', () => {
  it.each(cases)('%s', (_name, mutate, message) => {
    expect(() => new DoublyRobust().estimatePolicyValue(mutate(valid()))).toThrow(message);
    try {
      new DoublyRobust().estimatePolicyValue(mutate(valid()));
    } catch (err) {
      expect((err as Error).message).toBe(message);
      expect((err as Error).name).toBe('OpeInputError');
    }
  });

  it('accepts the valid fixture and fills position with zeros', () => {
    const c = checkOpeInputs(valid(), ['reward', 'action', 'pscore', 'estimatedRewardsByRegModel'], 'dr');
    expect(Array.from(c.position)).toEqual([0, 0, 0]);
    expect([c.nRounds, c.nActions, c.lenList]).toEqual([3, 2, 1]);
  });

  it('accepts sums within allclose tolerance and rejects just outside', () => {
    expect(() => checkOpeInputs({ actionDist: actionArray([[0.5, 0.500009]]) })).not.toThrow();
    expect(() => checkOpeInputs({ actionDist: actionArray([[0.5, 0.50002]]) })).toThrow('action_dist[0, :, 0]: got a sum of 1.00002');
  });

  it('DM needs only action_dist and the reward model', () => {
    const x = valid();
    expect(() => new DirectMethod().estimatePolicyValue({ actionDist: x.actionDist, estimatedRewardsByRegModel: x.estimatedRewardsByRegModel })).not.toThrow();
  });

  it('validates λ on construction', () => {
    expect(() => new InverseProbabilityWeighting({ lambda: -1 })).toThrow('lambda_: got -1, expected a number ≥ 0 (Infinity allowed) for InverseProbabilityWeighting');
    expect(() => new SwitchDoublyRobust({ lambda: NaN })).toThrow('lambda_: got NaN, expected a number ≥ 0 (Infinity allowed) for SwitchDoublyRobust');
    expect(() => new DoublyRobustWithShrinkage({ lambda: -0.5 })).toThrow('lambda_: got -0.5, expected a number ≥ 0 (Infinity allowed) for DoublyRobustWithShrinkage');
    expect(new DoublyRobustWithShrinkage().lambda).toBe(0);
    expect(new SwitchDoublyRobust().lambda).toBe(Infinity);
  });

  it('rejects unknown estimator names', () => {
    expect(() => parseEstimatorNames('ipw,foo')).toThrow('estimators: got "foo", expected one of ipw, snipw, dm, dr, sndr, switch-dr, dr-os');
    expect(parseEstimatorNames('dr, ipw,dr')).toEqual(['dr', 'ipw']);
  });
});
