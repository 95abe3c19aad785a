/**
 * Reads OPE inputs from a parsed JSON object with OBP's snake_case names — `reward`, `action`,
 * `pscore`, `action_dist` (n × actions or n × actions × positions), and optionally
 * `estimated_rewards_by_reg_model`, `position` and `context` (n × features) — into typed arrays.
 * Structural problems (not an array, ragged rows, a non-integer action) are `OpeInputError`s
 * naming the field and index; value rules are left to `checkOpeInputs`.
 */
import { OpeInputError } from './errors';
import type { ActionArray, Matrix, OpeInputs } from './types';

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

function numberAt(v: unknown, field: string): number {
  if (typeof v !== 'number') throw new OpeInputError(field, describe(v), 'a number');
  return v;
}

function vector(v: unknown, field: string): Float64Array {
  if (!Array.isArray(v)) throw new OpeInputError(field, describe(v), 'an array of numbers');
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = numberAt(v[i], `${field}[${i}]`);
  return out;
}

function intVector(v: unknown, field: string): Int32Array {
  if (!Array.isArray(v)) throw new OpeInputError(field, describe(v), 'an array of integers');
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) {
      throw new OpeInputError(`${field}[${i}]`, describe(x), 'an integer');
    }
    out[i] = x;
  }
  return out;
}

function actionArrayFrom(v: unknown, field: string): ActionArray {
  if (!Array.isArray(v) || v.length === 0) throw new OpeInputError(field, describe(v), 'a non-empty n_rounds × n_actions (× len_list) array');
  const first = v[0];
  if (!Array.isArray(first) || first.length === 0) throw new OpeInputError(`${field}[0]`, describe(first), 'a non-empty array over actions');
  const threeD = Array.isArray(first[0]);
  const nRounds = v.length, nActions = first.length;
  const lenList = threeD ? (first[0] as unknown[]).length : 1;
  const data = new Float64Array(nRounds * nActions * lenList);
  for (let i = 0; i < nRounds; i++) {
    const row = v[i];
    if (!Array.isArray(row) || row.length !== nActions) throw new OpeInputError(`${field}[${i}]`, describe(row), `an array over n_actions = ${nActions} actions`);
    for (let a = 0; a < nActions; a++) {
      if (threeD) {
        const cell = row[a];
        if (!Array.isArray(cell) || cell.length !== lenList) throw new OpeInputError(`${field}[${i}][${a}]`, describe(cell), `an array over len_list = ${lenList} positions`);
        for (let k = 0; k < lenList; k++) data[(i * nActions + a) * lenList + k] = numberAt(cell[k], `${field}[${i}][${a}][${k}]`);
      } else {
        data[i * nActions + a] = numberAt(row[a], `${field}[${i}][${a}]`);
      }
    }
  }
  return { data, nRounds, nActions, lenList };
}

function matrixFrom(v: unknown, field: string): Matrix {
  if (!Array.isArray(v) || v.length === 0) throw new OpeInputError(field, describe(v), 'a non-empty n_rounds × n_features array');
  const cols = Array.isArray(v[0]) ? (v[0] as unknown[]).length : -1;
  const data = new Float64Array(v.length * Math.max(cols, 0));
  for (let i = 0; i < v.length; i++) {
    const row = v[i];
    if (!Array.isArray(row) || row.length !== cols) throw new OpeInputError(`${field}[${i}]`, describe(row), `an array of n_features = ${cols} numbers`);
    for (let j = 0; j < cols; j++) data[i * cols + j] = numberAt(row[j], `${field}[${i}][${j}]`);
  }
  return { data, rows: v.length, cols };
}

/** Converts a parsed OPE input file into typed inputs plus the optional context matrix. */
export function opeInputsFromJson(json: unknown): { inputs: OpeInputs; context?: Matrix } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new OpeInputError('input', describe(json), 'a JSON object with reward, action, pscore and action_dist');
  const o = json as Record<string, unknown>;
  const inputs: OpeInputs = { actionDist: actionArrayFrom(o.action_dist, 'action_dist') };
  if (o.reward !== undefined) inputs.reward = vector(o.reward, 'reward');
  if (o.action !== undefined) inputs.action = intVector(o.action, 'action');
  if (o.pscore !== undefined) inputs.pscore = vector(o.pscore, 'pscore');
  if (o.position !== undefined && o.position !== null) inputs.position = intVector(o.position, 'position');
  if (o.estimated_rewards_by_reg_model !== undefined && o.estimated_rewards_by_reg_model !== null) {
    inputs.estimatedRewardsByRegModel = actionArrayFrom(o.estimated_rewards_by_reg_model, 'estimated_rewards_by_reg_model');
  }
  const context = o.context !== undefined && o.context !== null ? matrixFrom(o.context, 'context') : undefined;
  return { inputs, context };
}
