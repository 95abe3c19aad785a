/**
 * `autopilot deploy <model> --champion V [--canary V --weight W] [--fallback JSON] [--kind K --config FILE]`
 * [--exploration greedy|sample [--epsilon P] [--temperature T]]
 * — sets what the inference servers serve (they pick it up through the registry's NOTIFY within a
 * second). `--config FILE` (JSON or YAML) is the deployment's `config`, checked by its kind's schema
 * (registry/deployment-config/) before anything is written: e.g. a bandit's learner, arms and features.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { explorationSupport } from '../../registry/deployments';
import { parseDeploymentConfig, parseDeploymentKind } from '../../registry/deployment-config';
import type { DeploymentKind, JsonObject } from '../../registry/types';
import { CliError } from '../errors';
import { emit } from '../output';
import { cliActor, describeDeployment, withRegistry } from './models';

/** The config file's object (JSON or YAML); a CliError naming the file and what is wrong. */
export function readDeploymentConfigFile(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--config ${file}: cannot read it (${(err as Error).message})`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new CliError(`--config ${file}: not valid JSON or YAML (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`--config ${file}: got ${JSON.stringify(value) ?? 'nothing'}, expected an object (the deployment's settings)`);
  }
  return value as JsonObject;
}

/** `config` checked by `kind`'s schema for deployment `model`; a CliError naming the field, the value and what was expected. */
export function checkDeploymentConfig(kind: DeploymentKind, config: JsonObject, model: string, source: string): void {
  try {
    parseDeploymentConfig(kind, config, model);
  } catch (err) {
    throw new CliError(`${source}: not a valid ${kind} deployment config: ${(err as Error).message}`);
  }
}

/** `--kind`, checked. */
export function parseKindFlag(value: string): DeploymentKind {
  try {
    return parseDeploymentKind(value, '--kind');
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function parseVersionFlag(flag: string, value: string): number | null {
  if (value === 'none') return null;
  const m = /^v?(\d+)$/.exec(value);
  if (!m) throw new CliError(`${flag} ${JSON.stringify(value)}: expected a version number (e.g. 3 or v3)${flag === '--canary' ? ', or none' : ''}`);
  return Number(m[1]);
}

export function register(program: Command): void {
  program
    .command('deploy <model>')
    .description('set the deployment of a model: its champion, its canary and the canary\'s share of traffic (percent)')
    .option('--champion <version>', 'the version serving the rest of the traffic (required the first time)')
    .option('--canary <version>', 'the canary version, or "none" to remove it')
    .option('--weight <percent>', 'percentage of traffic for the canary, 0..100')
    .option('--fallback <json>', 'static action served when no model can serve, or "null" to remove it')
    .option('--exploration <mode>', 'policy kind: greedy (argmax; with --epsilon, ε-greedy) or sample (softmax over the policy); a new deployment explores by default (ε-greedy, ε = 0.05)')
    .option('--epsilon <p>', 'exploration floor in [0, 1]: each discrete head takes a uniform value with probability ε (0 with --exploration greedy: no exploration, OPE has no support)')
    .option('--temperature <t>', 'softmax temperature > 0 of --exploration sample')
    .option('--kind <kind>', 'policy (default), bandit or text-policy')
    .option('--config <file>', 'the deployment\'s settings (JSON or YAML), checked by its kind\'s schema; e.g. a bandit\'s learner, arms, features (a new bandit takes --champion none)')
    .option('--expect-generation <n>', 'fail unless the deployment is at this generation')
    .option('--reason <text>', 'recorded in the audit log')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string,
        opts: {
          champion?: string;
          canary?: string;
          weight?: string;
          fallback?: string;
          exploration?: string;
          epsilon?: string;
          temperature?: string;
          kind?: string;
          config?: string;
          expectGeneration?: string;
          reason?: string;
          json?: boolean;
        },
      ) => {
        const championVersion = opts.champion === undefined ? undefined : parseVersionFlag('--champion', opts.champion);
        const canaryVersion = opts.canary === undefined ? undefined : parseVersionFlag('--canary', opts.canary);
        let canaryWeight: number | undefined;
        if (opts.weight !== undefined) {
          canaryWeight = Number(opts.weight.replace(/%$/, ''));
          if (opts.weight.trim() === '' || !Number.isFinite(canaryWeight)) throw new CliError(`--weight ${JSON.stringify(opts.weight)}: expected a percentage 0..100`);
        }
        let fallback: unknown;
        if (opts.fallback !== undefined) {
          try {
            fallback = JSON.parse(opts.fallback);
          } catch (err) {
            throw new CliError(`--fallback: not valid JSON (${(err as Error).message}); e.g. --fallback '{"variant":"A","k":8}'`);
          }
        }
        if (opts.exploration !== undefined && opts.exploration !== 'greedy' && opts.exploration !== 'sample') {
          throw new CliError(`--exploration ${JSON.stringify(opts.exploration)}: expected greedy or sample`);
        }
        const epsilon = opts.epsilon === undefined ? undefined : Number(opts.epsilon);
        if (epsilon !== undefined && (opts.epsilon!.trim() === '' || !(epsilon >= 0 && epsilon <= 1))) throw new CliError(`--epsilon ${JSON.stringify(opts.epsilon)}: expected a probability in [0, 1]`);
        const temperature = opts.temperature === undefined ? undefined : Number(opts.temperature);
        if (temperature !== undefined && (opts.temperature!.trim() === '' || !(temperature > 0 && Number.isFinite(temperature)))) throw new CliError(`--temperature ${JSON.stringify(opts.temperature)}: expected a number > 0`);
        if ((epsilon !== undefined || temperature !== undefined) && opts.exploration === undefined) {
          throw new CliError(`--${epsilon !== undefined ? 'epsilon' : 'temperature'} needs --exploration greedy or sample (the whole rule is replaced, e.g. --exploration greedy --epsilon 0.05)`);
        }
        if (temperature !== undefined && opts.exploration !== 'sample') throw new CliError('--temperature: only with --exploration sample (greedy takes the argmax, no temperature)');
        let expectedGeneration: number | undefined;
        if (opts.expectGeneration !== undefined) {
          expectedGeneration = Number(opts.expectGeneration);
          if (!Number.isInteger(expectedGeneration) || expectedGeneration < 0) throw new CliError(`--expect-generation ${opts.expectGeneration}: expected an integer >= 0`);
        }
        if ([championVersion, canaryVersion, canaryWeight, fallback, opts.exploration, opts.kind, opts.config].every((v) => v === undefined)) {
          throw new CliError('nothing to change: give --champion, --canary, --weight, --fallback, --exploration, --kind or --config');
        }
        const kindFlag = opts.kind === undefined ? undefined : parseKindFlag(opts.kind);
        const config = opts.config === undefined ? undefined : readDeploymentConfigFile(opts.config);
        const res = await withRegistry(async (r) => {
          if (kindFlag !== undefined || config !== undefined) {
            // The config that will be served, checked by the kind that will serve it (a new kind checks the kept config too).
            const current = await r.findDeployment(model);
            const kind = kindFlag ?? current?.kind ?? 'policy';
            checkDeploymentConfig(kind, config ?? current?.config ?? {}, model, config !== undefined ? `--config ${opts.config}` : `the current config of ${model}`);
          }
          return r.setDeployment({
            model,
            championVersion,
            canaryVersion,
            canaryWeight,
            fallback: fallback as never,
            exploration: opts.exploration
              ? { mode: opts.exploration as 'greedy' | 'sample', ...(epsilon !== undefined ? { epsilon } : {}), ...(temperature !== undefined ? { temperature } : {}) }
              : undefined,
            kind: kindFlag,
            config,
            expectedGeneration,
            reason: opts.reason,
            actor: cliActor(),
          });
        });
        // Logs without exploration cannot evaluate any other policy: say so where the person deploying sees it.
        const support = explorationSupport(res.deployment);
        if (!support.explores && res.deployment.kind !== 'text-policy') {
          process.stderr.write(`warning: ${model} serves ${support.rule}: its logged decisions give off-policy evaluation no support for any other policy (the propensity of every other action is 0); ${support.advice}\n`);
        }
        emit(opts.json, res, () => {
          if (!res.changed) return `${model} unchanged: ${describeDeployment(res.deployment)}`;
          const changes = res.statusChanges.map((c) => `v${c.version} ${c.from}→${c.to}`).join(', ');
          return `deployed ${model} ${describeDeployment(res.deployment)}${changes ? `\n  status: ${changes}` : ''}`;
        });
      },
    );
}
