/**
 * The `textPolicyTraining` workflow's one plain JSON input (its type and defaults are in
 * contracts/text-policy-training.ts), with a default for everything optional, and
 * its validation (errors name the field, the value and what was expected). Pure: no I/O.
 */
import { TEXT_POLICY_DEFAULTS, type OverrideValue, type ResolvedPolicyInput } from '../../contracts/text-policy-training';
import { parseJudgeInput } from './judge-config';

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*$/;

function fail(field: string, value: unknown, expected: string): never {
  throw new Error(`textPolicyTraining input: ${field} = ${JSON.stringify(value)}; expected ${expected}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(v: unknown, field: string, min: number, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(field, v, `an integer ≥ ${min}`);
  return v;
}

function optionalInt(v: unknown, field: string, min: number): number | null {
  if (v === undefined || v === null) return null;
  return int(v, field, min, 0);
}

function fraction(v: unknown, field: string, fallback: number, open: boolean): number {
  if (v === undefined || v === null) return fallback;
  const ok = typeof v === 'number' && Number.isFinite(v) && (open ? v > 0 && v < 1 : v >= 0 && v < 1);
  if (!ok) fail(field, v, open ? 'a number in (0, 1)' : 'a number in [0, 1)');
  return v as number;
}

/** The generator's label-noise rate: in [0, 0.5) (at 0.5 the labels carry nothing). */
function labelNoise(v: unknown): number {
  if (v === undefined || v === null) return TEXT_POLICY_DEFAULTS.generate.noise;
  if (typeof v !== 'number' || !(v >= 0 && v < 0.5)) fail('data.generate.noise', v, 'a number in [0, 0.5)');
  return v;
}

function text(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.trim() === '') fail(field, v, 'a non-empty string');
  return v;
}

function overrides(v: unknown, field: string): Record<string, OverrideValue> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) fail(field, v, 'an object of `dotted.key: value` overrides');
  for (const [k, value] of Object.entries(v)) {
    if (!KEY.test(k)) fail(`${field} key`, k, 'a dotted config key such as training.learning_rate');
    if (!['string', 'number', 'boolean'].includes(typeof value)) fail(`${field}.${k}`, value, 'a string, number or boolean');
  }
  return v as Record<string, OverrideValue>;
}

/** Validates the input and fills every default. Throws one message naming the first bad field. */
export function parsePolicyTrainingInput(raw: unknown): ResolvedPolicyInput {
  const input = raw === undefined || raw === null ? {} : raw;
  if (!isObject(input)) fail('input', raw, 'an object');
  const known = new Set([
    'model', 'data', 'evalFraction', 'valFraction', 'splitSeed', 'sftConfig', 'dpoConfig', 'sftSteps', 'dpoSteps', 'sftOverrides', 'dpoOverrides',
    'baseModel', 'tinyModelSeed', 'workDir', 'startCanary', 'force', 'actor', 'timeouts', 'progressIntervalSeconds', 'judge',
  ]);
  for (const k of Object.keys(input)) if (!known.has(k)) fail(k, input[k], `one of the known fields (${[...known].join(', ')})`);

  const model = text(input.model, 'model') ?? TEXT_POLICY_DEFAULTS.model;
  if (!MODEL_NAME.test(model)) fail('model', model, 'lower-case letters, digits, ".", "_" or "-" (at most 100)');

  let data: ResolvedPolicyInput['data'];
  if (input.data === undefined || input.data === null) data = { generate: { ...TEXT_POLICY_DEFAULTS.generate } };
  else if (typeof input.data === 'string') data = { path: text(input.data, 'data') as string };
  else if (isObject(input.data) && isObject(input.data.generate)) {
    const g = input.data.generate;
    data = {
      generate: {
        n: int(g.n, 'data.generate.n', 10, TEXT_POLICY_DEFAULTS.generate.n),
        seed: int(g.seed, 'data.generate.seed', 0, TEXT_POLICY_DEFAULTS.generate.seed),
        noise: labelNoise(g.noise),
      },
    };
  } else fail('data', input.data, 'a labeled_decisions.jsonl path or { generate: { n, seed, noise } }');

  if (input.startCanary !== undefined && typeof input.startCanary !== 'boolean') fail('startCanary', input.startCanary, 'true or false');
  if (input.force !== undefined && typeof input.force !== 'boolean') fail('force', input.force, 'true or false');
  if (input.force === true && input.startCanary !== true) fail('force', input.force, 'only with startCanary: true (force starts the canary although the targets are missed)');
  if (input.timeouts !== undefined && !isObject(input.timeouts)) fail('timeouts', input.timeouts, '{ trainSeconds?, heartbeatSeconds? }');
  if (isObject(input.timeouts)) {
    int(input.timeouts.trainSeconds, 'timeouts.trainSeconds', 1, 1);
    int(input.timeouts.heartbeatSeconds, 'timeouts.heartbeatSeconds', 1, 1);
  }

  const judge = parseJudgeInput(input.judge);
  return {
    model,
    data,
    evalFraction: fraction(input.evalFraction, 'evalFraction', TEXT_POLICY_DEFAULTS.evalFraction, true),
    valFraction: fraction(input.valFraction, 'valFraction', TEXT_POLICY_DEFAULTS.valFraction, true),
    splitSeed: int(input.splitSeed, 'splitSeed', 0, TEXT_POLICY_DEFAULTS.splitSeed),
    sftConfig: text(input.sftConfig, 'sftConfig') ?? TEXT_POLICY_DEFAULTS.sftConfig,
    dpoConfig: text(input.dpoConfig, 'dpoConfig') ?? TEXT_POLICY_DEFAULTS.dpoConfig,
    sftSteps: optionalInt(input.sftSteps, 'sftSteps', 1),
    dpoSteps: optionalInt(input.dpoSteps, 'dpoSteps', 1),
    sftOverrides: overrides(input.sftOverrides, 'sftOverrides'),
    dpoOverrides: overrides(input.dpoOverrides, 'dpoOverrides'),
    baseModel: text(input.baseModel, 'baseModel'),
    tinyModelSeed: int(input.tinyModelSeed, 'tinyModelSeed', 0, TEXT_POLICY_DEFAULTS.tinyModelSeed),
    workDir: text(input.workDir, 'workDir'),
    startCanary: input.startCanary === true,
    force: input.force === true,
    actor: text(input.actor, 'actor'),
    progressIntervalSeconds: int(input.progressIntervalSeconds, 'progressIntervalSeconds', 0, TEXT_POLICY_DEFAULTS.progressIntervalSeconds),
    ...(judge !== null ? { judge } : {}),
  };
}

