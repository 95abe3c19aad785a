/**
 * The vocabulary of off-policy evaluation, as Open Bandit Pipeline names it (camelCase here,
 * snake_case in files and messages): `reward`, `action`, `pscore`, `actionDist`,
 * `estimatedRewardsByRegModel`, `position`.
 */

/**
 * A dense n_rounds × n_actions × len_list array of float64, stored row-major in `data`:
 * element (i, a, k) is `data[(i * nActions + a) * lenList + k]`. `lenList` is the number of
 * positions (slots) a round shows; it is 1 for a plain contextual bandit.
 */
export interface ActionArray {
  data: Float64Array;
  nRounds: number;
  nActions: number;
  lenList: number;
}

/** Logged bandit feedback plus the evaluation policy, for n rounds. */
export interface OpeInputs {
  /** r_i, shape (n_rounds,). */
  reward?: Float64Array;
  /** a_i ∈ [0, n_actions), the logged action, shape (n_rounds,). */
  action?: Int32Array;
  /** π_b(a_i | x_i) > 0, the logging policy's propensity of the logged action, shape (n_rounds,). */
  pscore?: Float64Array;
  /** π_e(a | x_i, k), the evaluation policy, shape (n_rounds, n_actions, len_list). */
  actionDist: ActionArray;
  /** q̂(x_i, a, k), a reward model's predictions, same shape as `actionDist`. */
  estimatedRewardsByRegModel?: ActionArray;
  /** k_i ∈ [0, len_list), the slot of the logged action; needed when len_list > 1. */
  position?: Int32Array;
}

/** Inputs after `checkOpeInputs`: shapes agree and `position` is filled in (zeros if absent). */
export interface CheckedOpeInputs {
  nRounds: number;
  nActions: number;
  lenList: number;
  reward: Float64Array | undefined;
  action: Int32Array | undefined;
  pscore: Float64Array | undefined;
  actionDist: ActionArray;
  estimatedRewardsByRegModel: ActionArray | undefined;
  position: Int32Array;
}

/** The inputs an estimator may require. */
export type OpeField = 'reward' | 'action' | 'pscore' | 'estimatedRewardsByRegModel';

/** A row-major n × d matrix of context features. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

/**
 * Builds an `ActionArray` from nested arrays: n × actions (len_list = 1) or n × actions × positions.
 * Ragged input throws; use `checkOpeInputs` for everything about values.
 */
export function actionArray(nested: readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[]): ActionArray {
  const nRounds = nested.length;
  if (nRounds === 0) throw new RangeError('actionArray: got no rounds, expected at least one');
  const first = nested[0];
  const nActions = first.length;
  const threeD = nActions > 0 && Array.isArray(first[0]);
  const lenList = threeD ? (first[0] as readonly number[]).length : 1;
  const data = new Float64Array(nRounds * nActions * lenList);
  for (let i = 0; i < nRounds; i++) {
    const row = nested[i];
    if (row.length !== nActions) throw new RangeError(`actionArray: row ${i} has ${row.length} actions, expected ${nActions}`);
    for (let a = 0; a < nActions; a++) {
      if (threeD) {
        const cell = row[a] as unknown as readonly number[];
        if (!Array.isArray(cell) || cell.length !== lenList) throw new RangeError(`actionArray: [${i}][${a}] is not a list of ${lenList} positions`);
        for (let k = 0; k < lenList; k++) data[(i * nActions + a) * lenList + k] = cell[k];
      } else {
        data[i * nActions + a] = row[a] as number;
      }
    }
  }
  return { data, nRounds, nActions, lenList };
}

/** Element (i, a, k) of an `ActionArray`. */
export function at(arr: ActionArray, i: number, a: number, k = 0): number {
  return arr.data[(i * arr.nActions + a) * arr.lenList + k];
}
