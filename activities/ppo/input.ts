/**
 * The `ppoTraining` workflow's one input object, its defaults and its validation, and the
 * effective run configuration the `startRun` activity derives from it.
 *
 * Every field is optional, so a person can start a run from the Temporal UI with `{}`:
 *   model               registry model name (default `rag-tuner`)
 *   config              the policy config inline (R-TUNER-CONFIG shape, `envs/config.ts`); wins over configPath,
 *                       which then only names where it came from (the CLI sends the file it read)
 *   configPath          a YAML policy config as the WORKER sees it, relative to the project root
 *                       (default `configs/rl/policy.defaults.yaml`)
 *   env                 `simulator` | `replay:FILE` | `http:URL` (default `simulator`)
 *   iterations          PPO iterations (default ppo.total_timesteps // (num_envs × num_steps))
 *   seed                overrides ppo.seed
 *   workers             rollout activities per iteration, in parallel (overrides ppo.num_envs)
 *   continueAsNewEvery  iterations per workflow run before continueAsNew (default 50)
 *   startCanary         start `canaryPromotion` (rollout queue, id canary/<model>) on the registered version (default false)
 *                       — only when the offline gates pass (canary/offline-gates.ts), or with `force`
 *   gates               { minRewardDelta (0), maxGateViolationRate (0) }: the offline gates
 *   force               start the canary although the gates failed (audited as `canary.forced`; default false)
 *   evaluation          held-out evaluation sizes (see `EvaluationSettings`)
 *   timeouts            heartbeatSeconds (default 60: a killed worker's activity is retried after this;
 *                       one PPO update runs without heartbeats, so it must fit in this time),
 *                       activitySeconds (default 1800: start-to-close of one rollout/update/evaluation)
 *   actor               who the registry's audit log names (default `workflow:<workflow id>`)
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../../config/settings';
import { loadConfig } from '../../config/load';
import { derivePpoSizes } from '../../ml/rl/hyperparameters';
import { parsePolicyConfig, policyConfigSchema, type PolicyConfig } from '../../envs/config';
import { formatEnvSpec, parseEnvSpec } from './env-spec';
import { DEFAULT_OFFLINE_GATES, resolveOfflineGates } from '../../canary/offline-gates';

export const DEFAULT_MODEL = 'rag-tuner';
export const DEFAULT_CONFIG_PATH = 'configs/rl/policy.defaults.yaml';
export const DEFAULT_CONTINUE_AS_NEW_EVERY = 50;

const int = (field: string, min: number) =>
  z.number({ error: (i) => `${field} must be an integer ≥ ${min}, got ${JSON.stringify(i.input)}` })
    .int({ error: (i) => `${field} must be an integer ≥ ${min}, got ${JSON.stringify(i.input)}` })
    .min(min, { error: (i) => `${field} must be an integer ≥ ${min}, got ${JSON.stringify(i.input)}` });
const positive = (field: string) =>
  z.number({ error: (i) => `${field} must be a number > 0, got ${JSON.stringify(i.input)}` })
    .positive({ error: (i) => `${field} must be a number > 0, got ${JSON.stringify(i.input)}` });

export const ppoTrainingInputSchema = z.strictObject(
  {
    model: z.string({ error: (i) => `model must be a model name, got ${JSON.stringify(i.input)}` })
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { error: (i) => `model must be 1-128 letters, digits, ".", "_" or "-" starting with a letter or digit, got ${JSON.stringify(i.input)}` })
      .default(DEFAULT_MODEL),
    config: z.unknown().optional(),
    configPath: z.string({ error: (i) => `configPath must be a path, got ${JSON.stringify(i.input)}` }).min(1).optional(),
    env: z.string({ error: (i) => `env must be a string (simulator, replay:FILE or http:URL), got ${JSON.stringify(i.input)}` }).default('simulator'),
    iterations: int('iterations', 1).optional(),
    seed: int('seed', 0).optional(),
    workers: int('workers', 1).optional(),
    continueAsNewEvery: int('continueAsNewEvery', 1).default(DEFAULT_CONTINUE_AS_NEW_EVERY),
    startCanary: z.boolean({ error: (i) => `startCanary must be true or false, got ${JSON.stringify(i.input)}` }).default(false),
    gates: z
      .strictObject(
        {
          minRewardDelta: z.number({ error: (i) => `gates.minRewardDelta must be a number, got ${JSON.stringify(i.input)}` }).optional(),
          maxGateViolationRate: z
            .number({ error: (i) => `gates.maxGateViolationRate must be a number in [0, 1], got ${JSON.stringify(i.input)}` })
            .min(0, { error: (i) => `gates.maxGateViolationRate must be a number in [0, 1], got ${JSON.stringify(i.input)}` })
            .max(1, { error: (i) => `gates.maxGateViolationRate must be a number in [0, 1], got ${JSON.stringify(i.input)}` })
            .optional(),
        },
        { error: (i) => `gates must be an object with minRewardDelta, maxGateViolationRate, got ${JSON.stringify(i.input)}` },
      )
      .transform((g) => resolveOfflineGates(g))
      .default(DEFAULT_OFFLINE_GATES),
    force: z.boolean({ error: (i) => `force must be true or false, got ${JSON.stringify(i.input)}` }).default(false),
    evaluation: z
      .strictObject(
        {
          episodes: int('evaluation.episodes', 1).default(32),
          screeningEpisodes: int('evaluation.screeningEpisodes', 1).default(2),
          shortlist: int('evaluation.shortlist', 1).default(5),
          kStep: int('evaluation.kStep', 1).default(4),
          fusionStep: positive('evaluation.fusionStep').default(0.25),
        },
        { error: (i) => `evaluation must be an object with episodes, screeningEpisodes, shortlist, kStep, fusionStep, got ${JSON.stringify(i.input)}` },
      )
      .default({ episodes: 32, screeningEpisodes: 2, shortlist: 5, kStep: 4, fusionStep: 0.25 }),
    timeouts: z
      .strictObject({ heartbeatSeconds: positive('timeouts.heartbeatSeconds').optional(), activitySeconds: positive('timeouts.activitySeconds').optional() })
      .optional(),
    actor: z.string().min(1).optional(),
  },
  { error: (i) => `the ppoTraining input must be an object, got ${JSON.stringify(i.input)}` },
);

export type ResolvedInput = z.output<typeof ppoTrainingInputSchema>;

/** Validates the input; throws one Error naming every bad field. */
export function parsePpoTrainingInput(input: unknown): ResolvedInput {
  const r = ppoTrainingInputSchema.safeParse(input ?? {});
  if (r.success) {
    parseEnvSpec(r.data.env);
    return r.data;
  }
  const lines = r.error.issues.map((i) =>
    i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')} in ${i.path.length ? i.path.join('.') : 'the input'}` : i.message,
  );
  throw new Error(`invalid ppoTraining input:\n  - ${lines.join('\n  - ')}`);
}

/** The run's effective configuration: the policy config with the input's overrides applied. */
export interface EffectiveConfig {
  config: PolicyConfig;
  /** Where it came from: `inline` or the config file. */
  source: string;
  iterations: number;
  workers: number;
  seed: number;
  env: string;
}

/** Loads (or takes inline) the policy config and applies seed, workers and iterations. */
export function resolveEffectiveConfig(input: ResolvedInput, root = projectRoot): EffectiveConfig {
  let base: PolicyConfig;
  let source: string;
  if (input.config !== undefined) {
    source = input.configPath ?? 'inline';
    base = parsePolicyConfig(input.config, `config (${source})`);
  } else {
    const path = input.configPath ?? DEFAULT_CONFIG_PATH;
    const file = isAbsolute(path) ? path : resolve(root, path);
    base = loadConfig(policyConfigSchema, file);
    source = path;
  }
  const seed = input.seed ?? base.ppo.seed;
  const workers = input.workers ?? base.ppo.num_envs;
  const withWorkers = { ...base.ppo, seed, num_envs: workers };
  const batch = workers * base.ppo.num_steps;
  const iterations = input.iterations ?? derivePpoSizes(withWorkers).num_iterations;
  if (iterations < 1) {
    throw new Error(`ppo.total_timesteps = ${base.ppo.total_timesteps} gives 0 iterations with batch_size = workers × num_steps = ${batch}; give iterations or raise total_timesteps`);
  }
  // total_timesteps = iterations × batch so learning-rate annealing ends with the run (as trainPpo does).
  const config = parsePolicyConfig({ ...base, ppo: { ...withWorkers, total_timesteps: iterations * batch } }, source);
  return { config, source, iterations, workers, seed, env: formatEnvSpec(parseEnvSpec(input.env)) };
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `sha256:<hex>` of the canonical JSON of the effective policy config. */
export function configHash(config: PolicyConfig): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}
