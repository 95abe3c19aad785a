/**
 * `autopilot models list | show | register | download | search | alias` — the model registry from the
 * shell. Each prints what it did; `--json` prints the machine-readable result instead.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { createArtifactStore } from '../../registry/artifacts';
import {
  ConflictError,
  NotFoundError,
  Registry,
  RegistryError,
  ValidationError,
  parseMetricFilter,
  type Alias,
  type ArtifactFormat,
  type Deployment,
  type Model,
  type ModelVersion,
} from '../../registry/index';
import { redact, withPool } from '../../registry/pool';
import { explorationSupport } from '../../registry/deployments';
import { CliError } from '../errors';
import { emit } from '../output';
import { alignColumns, formatBytes, versionTable, wrapText } from '../version-table';

/** Who the audit log says made a change from this shell. */
export function cliActor(): string {
  if (process.env.AUTOPILOT_ACTOR) return process.env.AUTOPILOT_ACTOR;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:${process.env.USER ?? 'unknown'}`;
  }
}

/**
 * Runs `fn` with a Registry on the configured database and artifact store, and turns registry errors
 * into one-line messages: exit 2 for bad input, 3 for not found, 4 for a conflict.
 */
export async function withRegistry<T>(fn: (registry: Registry) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  try {
    return await withPool(settings.databaseUrl, (pool) => {
      let store;
      try {
        store = createArtifactStore(settings.artifactUri, settings.s3);
      } catch (err) {
        throw new CliError(`artifact store: ${(err as Error).message} (set AUTOPILOT_ARTIFACT_URI)`);
      }
      return fn(new Registry({ pool, store }));
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof ValidationError) throw new CliError(err.message, 2);
    if (err instanceof NotFoundError) throw new CliError(err.message, 3);
    if (err instanceof ConflictError) throw new CliError(err.message, 4);
    if (err instanceof RegistryError) throw new CliError(err.message, 1);
    const code = (err as { code?: string }).code;
    if (code === '42P01') {
      throw new CliError(`the registry schema is missing in ${redact(settings.databaseUrl)}: run \`autopilot db migrate\``, 1);
    }
    if (err instanceof Error && /^(artifact |cannot use the registry database)/.test(err.message)) throw new CliError(err.message, 1);
    throw err;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePairs(pairs: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new CliError(`${flag} ${JSON.stringify(p)}: expected KEY=VALUE`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function parseMetrics(pairs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(parsePairs(pairs, '--metric'))) {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`--metric ${k}=${v}: expected a number after "="`);
    out[k] = n;
  }
  return out;
}

function readJsonFile(path: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${flag} ${path}: not valid JSON (${(err as Error).message})`);
  }
}

export function describeDeployment(d: Deployment | null): string {
  if (!d) return 'not deployed';
  const canary = d.canaryVersion === null ? 'no canary' : `canary v${d.canaryVersion} at ${d.canaryWeight}%`;
  const champion = d.championVersion === null ? 'no champion' : `champion v${d.championVersion}`;
  const fallback = d.fallback === null ? '' : `, fallback ${JSON.stringify(d.fallback)}`;
  return `generation ${d.generation}: ${champion}, ${canary}${fallback} (${d.kind}, exploration ${explorationSupport(d).rule})`;
}

/** What `models show` prints: every line within 100 columns (`COLUMNS`). */
export function formatModelShow(result: { model: Model; deployment: Deployment | null; aliases: Alias[]; versions: ModelVersion[] }): string {
  const { model, deployment, aliases, versions } = result;
  return [
    ...wrapText(`model ${model.name}${model.description ? ` — ${model.description}` : ''} (created ${model.createdAt.toISOString()} by ${model.createdBy})`),
    ...wrapText(`deployment: ${describeDeployment(deployment)}`),
    ...wrapText(`aliases: ${aliases.map((a) => `${a.alias}→v${a.version}`).join(', ') || 'none'}`),
    versions.length ? versionTable(versions) : 'no versions yet',
  ].join('\n');
}

export function register(program: Command): void {
  const models = program.command('models').description('the model registry: models, versions, aliases');

  models
    .command('list')
    .description('every model with its latest version and deployment')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const list = await withRegistry((r) => r.listModels());
      emit(opts.json, list, () => {
        if (list.length === 0) return 'no models yet (register one with `autopilot models register <model> --file F`)';
        const head = ['MODEL', 'LATEST', 'CHAMPION', 'CANARY', 'GENERATION'];
        const rows = list.map((m) => [
          m.name,
          m.latestVersion ? `v${m.latestVersion}` : '-',
          m.championVersion === null ? '-' : `v${m.championVersion}`,
          m.canaryVersion === null ? '-' : `v${m.canaryVersion} @ ${m.canaryWeight}%`,
          m.generation === null ? '-' : String(m.generation),
        ]);
        return alignColumns([head, ...rows]).join('\n');
      });
    });

  models
    .command('create <model>')
    .description('create a model with no version yet (for kinds that serve no artifact, e.g. a bandit: then `autopilot deploy <model> --kind bandit --champion none --config FILE`)')
    .option('--description <text>', 'free text shown by `models show`')
    .option('--exist-ok', 'succeed (and change nothing) when the model already exists')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { description?: string; existOk?: boolean; json?: boolean }) => {
      const input = { name, description: opts.description, actor: cliActor() };
      const res = await withRegistry(async (r) => (opts.existOk ? r.ensureModel(input) : { model: await r.createModel(input), created: true }));
      emit(opts.json, res, () => (res.created ? `created model ${res.model.name}` : `model ${res.model.name} already exists (unchanged)`));
    });

  models
    .command('show <model>')
    .description('a model: its deployment, aliases and versions')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }) => {
      const result = await withRegistry(async (r) => ({
        model: await r.getModel(name),
        deployment: await r.findDeployment(name),
        aliases: await r.listAliases(name),
        versions: await r.listVersions(name),
      }));
      emit(opts.json, result, () => formatModelShow(result));
    });

  models
    .command('register <model>')
    .description('upload an artifact and register it as the next version (creates the model if missing)')
    .requiredOption('--file <path>', 'the artifact: an ONNX file, or a Hugging Face model folder')
    .option('--format <format>', 'onnx | hf | json (default: onnx for *.onnx, hf for a folder)')
    .option('--signature <file>', 'JSON file with the input/output signature')
    .option('--tag <key=value>', 'a tag (repeatable)', collect, [])
    .option('--metric <name=number>', 'a metric (repeatable)', collect, [])
    .option('--description <text>', 'free text shown by `models show`')
    .option('--run-id <id>', 'lineage: the training run that produced it')
    .option('--workflow-id <id>', 'lineage: the Temporal workflow that produced it')
    .option('--code-commit <sha>', 'lineage: the code version')
    .option('--champion', 'also make it the deployment\'s champion')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string,
        opts: {
          file: string;
          format?: string;
          signature?: string;
          tag: string[];
          metric: string[];
          description?: string;
          runId?: string;
          workflowId?: string;
          codeCommit?: string;
          champion?: boolean;
          json?: boolean;
        },
      ) => {
        const isDir = statSync(opts.file, { throwIfNoEntry: false })?.isDirectory() ?? false;
        const format = opts.format ?? (isDir ? 'hf' : opts.file.toLowerCase().endsWith('.onnx') ? 'onnx' : undefined);
        if (!format) throw new CliError(`--format: ${opts.file} is not a .onnx file; say --format onnx, hf or json`);
        const signature = opts.signature ? readJsonFile(opts.signature, '--signature') : undefined;
        const tags = parsePairs(opts.tag, '--tag');
        const metrics = parseMetrics(opts.metric);
        const file = resolve(opts.file);
        const version = await withRegistry((r) =>
          r.registerVersion({
            model,
            createModel: true,
            artifact: { path: file },
            format: format as ArtifactFormat,
            signature: signature as never,
            tags,
            metrics,
            description: opts.description,
            lineage: { runId: opts.runId, workflowId: opts.workflowId, codeCommit: opts.codeCommit },
            champion: opts.champion,
            actor: cliActor(),
          }),
        );
        emit(opts.json, version, () =>
          `registered ${version.model} v${version.version} (${version.format}${version.artifactLayout === 'directory' ? ' folder' : ''}, ${formatBytes(version.size)}, sha256 ${version.sha256})${opts.champion ? ' as champion' : ''}\n  artifact ${version.artifactUri}`,
        );
      },
    );

  models
    .command('download <model> <version>')
    .description('write a version\'s artifact to a file, verified against its sha256 (version: 3, v3, latest, or an alias)')
    .requiredOption('--out <path>', 'where to write it (a new folder for a folder artifact)')
    .option('--json', 'machine-readable output')
    .action(async (model: string, ref: string, opts: { out: string; json?: boolean }) => {
      const out = resolve(opts.out);
      const res = await withRegistry(async (r) => r.downloadVersion(model, await r.resolveVersionRef(model, ref), out));
      emit(opts.json, { model, version: res.version.version, path: res.path, bytes: res.bytes, sha256: res.version.sha256 }, () =>
        `downloaded ${model} v${res.version.version} to ${res.path} (${formatBytes(res.bytes)}, sha256 ${res.version.sha256} verified)`,
      );
    });

  models
    .command('search [model]')
    .description('versions by tag and metric, e.g. --tag env=prod --where "reward_mean>=0.7" --order-by reward_mean')
    .option('--tag <key=value>', 'tag that must match (repeatable)', collect, [])
    .option('--where <metric-comparison>', 'metric comparison NAME OP NUMBER, OP one of > >= < <= = != (repeatable)', collect, [])
    .option('--status <status>', 'only versions with this status')
    .option('--order-by <metric>', 'highest first by this metric (default: newest first)')
    .option('--asc', 'lowest first with --order-by')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string | undefined,
        opts: { tag: string[]; where: string[]; status?: string; orderBy?: string; asc?: boolean; limit: string; json?: boolean },
      ) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit ${opts.limit}: expected a positive integer`);
        const versions = await withRegistry(async (r) =>
          r.searchVersions({
            model,
            tags: parsePairs(opts.tag, '--tag'),
            metrics: opts.where.map(parseMetricFilter),
            status: opts.status as never,
            orderBy: opts.orderBy ? { metric: opts.orderBy, direction: opts.asc ? 'asc' : 'desc' } : undefined,
            limit,
          }),
        );
        emit(opts.json, versions, () =>
          versions.length ? versionTable(versions, !model) : 'no matching versions',
        );
      },
    );

  const alias = models.command('alias').description('free-form aliases (champion/canary follow `autopilot deploy`)');
  alias
    .command('set <model> <alias> <version>')
    .description('point an alias at a version')
    .option('--json', 'machine-readable output')
    .action(async (model: string, name: string, ref: string, opts: { json?: boolean }) => {
      const res = await withRegistry(async (r) => r.setAlias({ model, alias: name, version: await r.resolveVersionRef(model, ref), actor: cliActor() }));
      emit(opts.json, res, () => (res.changed ? `${model}:${name} → v${res.alias.version}` : `${model}:${name} already → v${res.alias.version}`));
    });
  alias
    .command('rm <model> <alias>')
    .description('remove an alias')
    .option('--json', 'machine-readable output')
    .action(async (model: string, name: string, opts: { json?: boolean }) => {
      await withRegistry((r) => r.removeAlias({ model, alias: name, actor: cliActor() }));
      emit(opts.json, { model, alias: name, removed: true }, () => `removed ${model}:${name}`);
    });
}
