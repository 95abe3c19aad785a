/**
 * All input validation of the estimators, in one place (OBP: `check_ope_inputs`). Every failure is
 * an `OpeInputError` whose message names the field, the value and what was expected. Checked, in
 * this order: the shape of `action_dist`; its values (finite, in [0, 1]) and that each
 * (round, position) sums to 1 within numpy's `allclose` tolerance (|Σ − 1| ≤ 1e-8 + 1e-5);
 * `position`; `estimated_rewards_by_reg_model`; `reward`, `action`, `pscore` (lengths, NaN,
 * action range, pscore in (0, 1]). Fields an estimator requires must be present.
 */
import { OpeInputError } from './errors';
import type { ActionArray, CheckedOpeInputs, OpeField, OpeInputs } from './types';

const SNAKE: Record<OpeField, string> = {
  reward: 'reward',
  action: 'action',
  pscore: 'pscore',
  estimatedRewardsByRegModel: 'estimated_rewards_by_reg_model',
};

const WHAT: Record<OpeField, string> = {
  reward: 'an array of n_rounds rewards',
  action: 'an array of n_rounds logged actions',
  pscore: 'an array of n_rounds logging propensities',
  estimatedRewardsByRegModel: 'an n_rounds × n_actions × len_list array of predicted rewards (or `context` to fit the reward model)',
};

function shapeOf(arr: ActionArray): string {
  return `${arr.nRounds}×${arr.nActions}×${arr.lenList}`;
}

function checkShape(arr: ActionArray, field: string): void {
  for (const [dim, v] of [['n_rounds', arr.nRounds], ['n_actions', arr.nActions], ['len_list', arr.lenList]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new OpeInputError(field, `${dim} = ${v}`, `${dim} to be a positive integer`);
  }
  const expected = arr.nRounds * arr.nActions * arr.lenList;
  if (arr.data.length !== expected) {
    throw new OpeInputError(field, `${arr.data.length} values`, `n_rounds × n_actions × len_list = ${shapeOf(arr)} = ${expected} values`);
  }
}

function checkLength(length: number, field: string, nRounds: number): void {
  if (length !== nRounds) throw new OpeInputError(field, `${length} rounds`, `n_rounds = ${nRounds} (the first dimension of action_dist)`);
}

/**
 * Validates `inputs` for an estimator that reads `required` (beyond `action_dist`) and returns
 * them with shapes resolved. `estimator` names the caller in "missing input" messages.
 */
export function checkOpeInputs(inputs: OpeInputs, required: readonly OpeField[] = [], estimator = 'this estimator'): CheckedOpeInputs {
  const { actionDist } = inputs;
  if (!actionDist) throw new OpeInputError('action_dist', 'nothing', `an n_rounds × n_actions × len_list array of evaluation-policy probabilities`);
  checkShape(actionDist, 'action_dist');
  const { nRounds, nActions, lenList } = actionDist;
  const pi = actionDist.data;
  for (let i = 0; i < nRounds; i++) {
    for (let k = 0; k < lenList; k++) {
      let sum = 0;
      for (let a = 0; a < nActions; a++) {
        const p = pi[(i * nActions + a) * lenList + k];
        if (!(p >= 0 && p <= 1)) throw new OpeInputError(`action_dist[${i}, ${a}, ${k}]`, String(p), 'a probability in [0, 1]');
        sum += p;
      }
      if (!(Math.abs(sum - 1) <= 1e-8 + 1e-5)) {
        throw new OpeInputError(`action_dist[${i}, :, ${k}]`, `a sum of ${sum}`, 'probabilities over actions summing to 1');
      }
    }
  }

  let position = inputs.position;
  if (position !== undefined) {
    checkLength(position.length, 'position', nRounds);
    for (let i = 0; i < nRounds; i++) {
      if (!(position[i] >= 0 && position[i] < lenList)) throw new OpeInputError(`position[${i}]`, String(position[i]), `an integer in [0, len_list = ${lenList})`);
    }
  } else if (lenList > 1) {
    throw new OpeInputError('position', 'nothing', `an array of n_rounds positions, because len_list = ${lenList} > 1`);
  } else {
    position = new Int32Array(nRounds);
  }

  const present: Record<OpeField, boolean> = {
    reward: inputs.reward !== undefined,
    action: inputs.action !== undefined,
    pscore: inputs.pscore !== undefined,
    estimatedRewardsByRegModel: inputs.estimatedRewardsByRegModel !== undefined,
  };
  for (const field of required) {
    if (!present[field]) throw new OpeInputError(SNAKE[field], 'nothing', `${WHAT[field]} (required by ${estimator})`);
  }

  const q = inputs.estimatedRewardsByRegModel;
  if (q !== undefined) {
    const field = 'estimated_rewards_by_reg_model';
    if (q.nRounds !== nRounds || q.nActions !== nActions || q.lenList !== lenList) {
      throw new OpeInputError(field, `shape ${shapeOf(q)}`, `the shape of action_dist, ${shapeOf(actionDist)}`);
    }
    checkShape(q, field);
    for (let j = 0; j < q.data.length; j++) {
      if (!Number.isFinite(q.data[j])) {
        const k = j % lenList, a = Math.floor(j / lenList) % nActions, i = Math.floor(j / (lenList * nActions));
        throw new OpeInputError(`${field}[${i}, ${a}, ${k}]`, String(q.data[j]), 'a finite number');
      }
    }
  }

  const { reward, action, pscore } = inputs;
  if (reward !== undefined) {
    checkLength(reward.length, 'reward', nRounds);
    for (let i = 0; i < nRounds; i++) if (!Number.isFinite(reward[i])) throw new OpeInputError(`reward[${i}]`, String(reward[i]), 'a finite number');
  }
  if (action !== undefined) {
    checkLength(action.length, 'action', nRounds);
    for (let i = 0; i < nRounds; i++) {
      if (!(action[i] >= 0 && action[i] < nActions)) throw new OpeInputError(`action[${i}]`, String(action[i]), `an integer in [0, n_actions = ${nActions})`);
    }
  }
  if (pscore !== undefined) {
    checkLength(pscore.length, 'pscore', nRounds);
    for (let i = 0; i < nRounds; i++) if (!(pscore[i] > 0 && pscore[i] <= 1)) throw new OpeInputError(`pscore[${i}]`, String(pscore[i]), 'a propensity in (0, 1]');
  }
  return { nRounds, nActions, lenList, reward, action, pscore, actionDist, estimatedRewardsByRegModel: q, position };
}

/** Checks an estimator hyperparameter λ ≥ 0 (OBP: `lambda_`, may be Infinity, never NaN). */
export function checkLambda(lambda: number, estimator: string): number {
  if (typeof lambda !== 'number' || Number.isNaN(lambda) || lambda < 0) {
    throw new OpeInputError('lambda_', String(lambda), `a number ≥ 0 (Infinity allowed) for ${estimator}`);
  }
  return lambda;
}
