/**
 * A policy decision's answer and log-line texts, written directly (exactly what JSON.stringify would
 * write), so the action is serialized once and shared by the answer and the decision log.
 */
import type { Json } from '../../registry/types';
import type { Arm } from '../router';

export interface DecideResponse {
  decisionId: string;
  model: string;
  version: number | null;
  arm: Arm | 'fallback';
  action: Json;
  propensity: number;
  armProbability: number;
  density?: number;
  fallback: boolean;
}

/** A number as JSON.stringify writes it (non-finite numbers become null, as there). */
function jsonNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/**
 * `JSON.stringify` of a served decision's metadata `{ armProbability, policyProbability, mode, epsilon,
 * temperature, headPropensities? }`, written directly (the log line carries it). `headPropensities`:
 * per discrete head, the probability of its chosen value under the serving rule (product = propensity).
 */
export function decisionMetadataJson(
  armProbability: number,
  policyProbability: number,
  mode: 'sample' | 'greedy',
  epsilon: number,
  temperature: number,
  heads: { keysJson: readonly string[]; propensities: ArrayLike<number> } | null = null,
): string {
  let perHead = '';
  if (heads !== null && heads.keysJson.length > 0) {
    perHead = ',"headPropensities":{';
    for (let i = 0; i < heads.keysJson.length; i++) perHead += `${i > 0 ? ',' : ''}${heads.keysJson[i]}${jsonNumber(heads.propensities[i])}`;
    perHead += '}';
  }
  return `{"armProbability":${jsonNumber(armProbability)},"policyProbability":${jsonNumber(policyProbability)},"mode":"${mode}","epsilon":${jsonNumber(epsilon)},"temperature":${jsonNumber(temperature)}${perHead}}`;
}

/** `metadata.headPropensities` as an object (the generic logging path): head name → probability of its chosen value. */
export function headPropensitiesObject(names: readonly string[], propensities: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) out[names[i]] = propensities[i];
  return out;
}

/** The part of a served decision's answer that is the same for every request of one model version and arm. */
export function answerMiddle(model: string, version: number, arm: Arm): string {
  return `","model":${JSON.stringify(model)},"version":${jsonNumber(version)},"arm":${JSON.stringify(arm)},"action":`;
}

/**
 * A served decision's DecideResponse as the exact text JSON.stringify would write for it (keys in the
 * interface's order, `density` last and only when there is one), built around the action's JSON text.
 * `decisionId` is a uuid (newDecisionStamp), which needs no escaping.
 */
export function decideAnswerText(decisionId: string, middle: string, actionJson: string, propensity: number, armProbability: number, density: number | null): string {
  const d = density === null ? '' : `,"density":${jsonNumber(density)}`;
  return `{"decisionId":"${decisionId}${middle}${actionJson},"propensity":${jsonNumber(propensity)},"armProbability":${jsonNumber(armProbability)},"fallback":false${d}}`;
}
