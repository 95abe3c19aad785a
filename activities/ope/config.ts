/**
 * The input of the `offPolicyEvaluation` workflow: ONE plain JSON object, every optional field with a
 * default, checked in one place with messages that name the field, the value and what was expected.
 * Pure (no I/O): the CLI checks a request with it before starting a run, and the `prepareEvaluation`
 * activity checks it again on the worker.
 */
import type { OpeConfig } from '../../contracts/off-policy-evaluation';
import { ESTIMATOR_NAMES, type EstimatorName } from '../../ml/ope/estimators';

export const OPE_DEFAULTS = {
  alpha: 0.05,
  nBootstrap: 10_000,
  seed: 0,
  chunkSize: 5_000,
  tolerance: 0,
  maxJointActions: 64,
  nFolds: 5,
  chunksPerRun: 500,
  actor: 'workflow:offPolicyEvaluation',
  rewardModel: 'auto',
  minEffectiveSampleSize: 100,
} as const;

export const REWARD_MODELS = ['auto', 'per-joint-action', 'action-features'] as const;

const KNOWN_FIELDS = new Set([
  'deployment', 'from', 'to', 'candidate', 'estimators', 'gateEstimator', 'alpha', 'nBootstrap', 'seed', 'chunkSize',
  'tolerance', 'minImprovement', 'clip', 'lambda', 'maxJointActions', 'nFolds', 'chunksPerRun', 'keepChunks', 'actor', 'resume',
  'rewardModel', 'minEffectiveSampleSize',
]);

export class OpeConfigError extends Error {
  constructor(readonly field: string, value: unknown, expected: string) {
    super(`offPolicyEvaluation input${field ? `.${field}` : ''} = ${show(value)}: expected ${expected}`);
    this.name = 'OpeConfigError';
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new OpeConfigError(field, v, 'a non-empty string');
  return v;
}

function isoTime(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new OpeConfigError(field, v, 'an ISO 8601 time such as 2025-01-31T00:00:00Z');
  }
  return new Date(v).toISOString();
}

function int(v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new OpeConfigError(field, v, `an integer in [${min}, ${max}]`);
  return v;
}

function nonNegative(v: unknown, field: string, fallback: number | null): number | null {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new OpeConfigError(field, v, 'a finite number ≥ 0');
  return v;
}

function estimatorName(v: unknown, field: string): EstimatorName {
  if (typeof v !== 'string' || !(ESTIMATOR_NAMES as readonly string[]).includes(v)) {
    throw new OpeConfigError(field, v, `one of ${ESTIMATOR_NAMES.join(', ')}`);
  }
  return v as EstimatorName;
}

/** Checks the workflow input and fills in the defaults. Throws `OpeConfigError` naming the first bad field. */
export function resolveOpeInput(input: unknown): OpeConfig {
  if (!isObject(input)) throw new OpeConfigError('', input, 'an object { deployment, from, to, candidate: { model, version }, … }');
  for (const k of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(k)) throw new OpeConfigError(k, input[k], `no such field (known: ${[...KNOWN_FIELDS].filter((f) => f !== 'resume').join(', ')})`);
  }
  const deployment = text(input.deployment, 'deployment');
  const from = isoTime(input.from, 'from');
  const to = isoTime(input.to, 'to');
  if (!(Date.parse(to) > Date.parse(from))) throw new OpeConfigError('to', input.to, `a time after from = ${from}`);
  if (!isObject(input.candidate)) throw new OpeConfigError('candidate', input.candidate, 'an object { model, version }');
  const model = text(input.candidate.model, 'candidate.model');
  const version = int(input.candidate.version, 'candidate.version', 1, 2 ** 31 - 1, NaN);
  if (Number.isNaN(version)) throw new OpeConfigError('candidate.version', input.candidate.version, 'an integer ≥ 1');

  let estimators: EstimatorName[] = [...ESTIMATOR_NAMES];
  if (input.estimators !== undefined && input.estimators !== null) {
    if (!Array.isArray(input.estimators) || input.estimators.length === 0) {
      throw new OpeConfigError('estimators', input.estimators, `a non-empty list of ${ESTIMATOR_NAMES.join(', ')}`);
    }
    estimators = [...new Set(input.estimators.map((e, i) => estimatorName(e, `estimators[${i}]`)))];
  }
  let gateEstimator: EstimatorName | null = null;
  if (input.gateEstimator !== undefined && input.gateEstimator !== null) {
    gateEstimator = estimatorName(input.gateEstimator, 'gateEstimator');
    if (!estimators.includes(gateEstimator)) throw new OpeConfigError('gateEstimator', gateEstimator, `one of the estimators run (${estimators.join(', ')})`);
  }
  let alpha: number = OPE_DEFAULTS.alpha;
  if (input.alpha !== undefined && input.alpha !== null) {
    if (typeof input.alpha !== 'number' || !(input.alpha > 0 && input.alpha < 1)) throw new OpeConfigError('alpha', input.alpha, 'a number in (0, 1), e.g. 0.05');
    alpha = input.alpha;
  }
  const minImprovement = input.minImprovement === undefined || input.minImprovement === null ? null : (() => {
    if (typeof input.minImprovement !== 'number' || !Number.isFinite(input.minImprovement)) throw new OpeConfigError('minImprovement', input.minImprovement, 'a finite number or null');
    return input.minImprovement;
  })();
  const clip = nonNegative(input.clip, 'clip', null);
  if (clip !== null && clip === 0) throw new OpeConfigError('clip', clip, 'a clipping threshold > 0 (or null for none)');
  let keepChunks = false;
  if (input.keepChunks !== undefined && input.keepChunks !== null) {
    if (typeof input.keepChunks !== 'boolean') throw new OpeConfigError('keepChunks', input.keepChunks, 'true or false');
    keepChunks = input.keepChunks;
  }
  const rewardModel = input.rewardModel ?? OPE_DEFAULTS.rewardModel;
  if (!(REWARD_MODELS as readonly unknown[]).includes(rewardModel)) throw new OpeConfigError('rewardModel', rewardModel, REWARD_MODELS.join(', '));
  return {
    deployment,
    from,
    to,
    candidate: { model, version },
    estimators,
    gateEstimator,
    alpha,
    nBootstrap: int(input.nBootstrap, 'nBootstrap', 1, 1_000_000, OPE_DEFAULTS.nBootstrap),
    seed: int(input.seed, 'seed', -(2 ** 31), 2 ** 31 - 1, OPE_DEFAULTS.seed),
    chunkSize: int(input.chunkSize, 'chunkSize', 1, 50_000, OPE_DEFAULTS.chunkSize),
    tolerance: nonNegative(input.tolerance, 'tolerance', OPE_DEFAULTS.tolerance) as number,
    minImprovement,
    clip,
    lambda: nonNegative(input.lambda, 'lambda', null),
    maxJointActions: int(input.maxJointActions, 'maxJointActions', 2, 4096, OPE_DEFAULTS.maxJointActions),
    nFolds: int(input.nFolds, 'nFolds', 1, 100, OPE_DEFAULTS.nFolds),
    chunksPerRun: int(input.chunksPerRun, 'chunksPerRun', 1, 5_000, OPE_DEFAULTS.chunksPerRun),
    keepChunks,
    actor: input.actor === undefined || input.actor === null ? OPE_DEFAULTS.actor : text(input.actor, 'actor'),
    rewardModel: rewardModel as OpeConfig['rewardModel'],
    minEffectiveSampleSize: nonNegative(input.minEffectiveSampleSize, 'minEffectiveSampleSize', OPE_DEFAULTS.minEffectiveSampleSize) as number,
  };
}
