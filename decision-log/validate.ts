/**
 * The checks a decision and a reward pass before they are written; each failure is a ValidationError
 * naming the row and the field (`decisions[3].propensity`, `rewards[0].reward`).
 */
import { ValidationError } from '../registry/errors';
import { checkFinite, checkUuid, isPlainObject } from '../registry/validate';
import type { ArmFields, DecisionInput, RewardInput } from './types';

/** The fields a deployment generation's arm shares; `f` names a field for the error. */
export function checkArmFields(d: ArmFields, f: (name: string) => string): void {
  for (const k of ['deployment', 'model', 'arm'] as const) {
    if (typeof d[k] !== 'string' || d[k] === '') throw new ValidationError(f(k), d[k], 'a non-empty string');
  }
  if (d.version !== null && (!Number.isInteger(d.version) || d.version < 1)) {
    throw new ValidationError(f('version'), d.version, 'a version number >= 1, or null for a fallback action');
  }
  if (d.generation !== undefined && d.generation !== null && (!Number.isSafeInteger(d.generation) || d.generation < 1)) {
    throw new ValidationError(f('generation'), d.generation, 'a deployment generation >= 1');
  }
}

/** Decision `i` of a batch, every field. */
export function checkDecision(d: DecisionInput, i: number): void {
  const f = (name: string) => `decisions[${i}].${name}`;
  if (!isPlainObject(d)) throw new ValidationError(`decisions[${i}]`, d, 'a decision object');
  checkUuid(d.decisionId, f('decisionId'));
  if (!(d.time instanceof Date) || Number.isNaN(d.time.getTime())) throw new ValidationError(f('time'), d.time, 'a valid Date');
  checkArmFields(d, f);
  if (d.features === undefined || d.features === null) throw new ValidationError(f('features'), d.features, 'the features the policy saw (JSON; {} when none)');
  if (d.featuresJson !== undefined && (typeof d.featuresJson !== 'string' || d.featuresJson.length === 0)) {
    throw new ValidationError(f('featuresJson'), d.featuresJson, 'the JSON text of features');
  }
  if (d.action === undefined || d.action === null) throw new ValidationError(f('action'), d.action, 'the action served (JSON)');
  if (d.propensity !== undefined && d.propensity !== null) {
    const p = checkFinite(d.propensity, f('propensity'));
    if (p < 0 || p > 1) throw new ValidationError(f('propensity'), p, 'a probability in [0, 1]');
  }
  if (d.density !== undefined && d.density !== null) {
    const p = checkFinite(d.density, f('density'));
    if (p < 0) throw new ValidationError(f('density'), p, 'a density >= 0');
  }
  if (d.latencyMs !== undefined && d.latencyMs !== null) checkFinite(d.latencyMs, f('latencyMs'));
}

export interface CheckedReward {
  decisionId: string;
  reward: number;
  components: Record<string, number> | null;
}

/** A reward; `f` names a field for the error (`reward`, or `rewards[i].reward` in a batch). */
export function checkReward(input: RewardInput, f: (name: string) => string = (name) => name): CheckedReward {
  const decisionId = checkUuid(input.decisionId, f('decisionId'));
  const reward = checkFinite(input.reward, f('reward'));
  let components: Record<string, number> | null = null;
  if (input.components !== undefined && input.components !== null) {
    if (!isPlainObject(input.components)) throw new ValidationError(f('components'), input.components, 'an object of component name to number');
    for (const [k, v] of Object.entries(input.components)) checkFinite(v, f(`components.${k}`));
    components = input.components;
  }
  if (input.time !== undefined && (!(input.time instanceof Date) || Number.isNaN(input.time.getTime()))) {
    throw new ValidationError(f('time'), input.time, 'a valid Date');
  }
  return { decisionId, reward, components };
}

/** Reward `i` of a batch. */
export function checkBatchReward(input: RewardInput, i: number): CheckedReward {
  if (!isPlainObject(input)) throw new ValidationError(`rewards[${i}]`, input, 'a reward object');
  return checkReward(input, (name) => `rewards[${i}].${name}`);
}
