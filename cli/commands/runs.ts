/**
 * `autopilot runs list | show | compare | export` and `autopilot reports fetch`: the training and
 * evaluation runs the workflows recorded — their params, metrics by step, the versions they registered
 * and their report files — from the shell, and into a real MLflow tracking server.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RUN_KINDS, type Run } from '../../registry/index';
import { CliError } from '../errors';
import { MlflowClient, MlflowError } from '../mlflow/client';
import { emit } from '../output';
import { compareRuns, runDetails, type RunDetails } from '../runs/details';
import { exportRunToMlflow, type ExportedRun } from '../runs/mlflow-export';
import { alignColumns } from '../version-table';
import { withRegistry } from './models';

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new CliError(`${flag} ${JSON.stringify(v)}: expected an integer in 1..10000`, 2);
    return n;
  };
}

function kindOption(v: string): string {
  if (!(RUN_KINDS as readonly string[]).includes(v)) throw new CliError(`--kind ${JSON.stringify(v)}: expected one of ${RUN_KINDS.join(', ')}`, 2);
  return v;
}

function fmt(n: number | null): string {
  if (n === null) return '—';
  return Number.isInteger(n) ? String(n) : Math.abs(n) >= 1e4 || Math.abs(n) < 1e-3 ? n.toExponential(3) : n.toFixed(4);
}

function duration(run: Run): string {
  if (!run.finishedAt) return 'running';
  const s = (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

export function formatRunList(runs: Run[]): string {
  if (runs.length === 0) return 'no runs';
  return alignColumns([
    ['RUN', 'KIND', 'MODEL', 'STATUS', 'STARTED', 'DURATION'],
    ...runs.map((r) => [r.id, r.kind, r.model ?? '—', r.status, r.startedAt.toISOString().replace(/\.\d+Z$/, 'Z'), duration(r)]),
  ]).join('\n');
}

export function formatRunShow(d: RunDetails): string {
  const { run } = d;
  const lines = [
    `run ${run.id} (${run.kind}${run.model ? `, model ${run.model}` : ''}) ${run.status}, started ${run.startedAt.toISOString()}, ${duration(run)}`,
    ...(run.workflowId ? [`workflow: ${run.workflowId}`] : []),
    ...(run.error ? [`error: ${run.error}`] : []),
    `params: ${JSON.stringify(run.config)}`,
  ];
  lines.push(d.metrics.length
    ? alignColumns([['METRIC', 'LAST', 'AT STEP', 'MIN', 'MAX', 'STEPS'], ...d.metrics.map((m) => [m.name, fmt(m.last), String(m.lastStep), fmt(m.min), fmt(m.max), String(m.count)])]).join('\n')
    : 'no metrics');
  lines.push(d.versions.length ? `versions: ${d.versions.map((v) => `${v.model} v${v.version} (${v.status}) ${v.artifactUri}`).join('; ')}` : 'versions: none');
  lines.push(d.reports.length ? `reports (autopilot reports fetch ${run.id} --out DIR):\n${d.reports.map((r) => `  ${r.name}  ${r.uri}`).join('\n')}` : 'reports: none');
  return lines.join('\n');
}

export function register(program: Command): void {
  const runs = program.command('runs').description('training and evaluation runs: params, metrics by step, registered versions, reports');

  runs
    .command('list')
    .description('the newest runs first')
    .option('--model <name>', 'only runs of this model')
    .option('--kind <kind>', `only runs of this kind (${RUN_KINDS.join(', ')})`, kindOption)
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { model?: string; kind?: string; limit: number; json?: boolean }) => {
      const list = await withRegistry((r) => r.listRuns({ model: opts.model, kind: opts.kind, limit: opts.limit }));
      emit(opts.json, list, () => formatRunList(list));
    });

  runs
    .command('show <run>')
    .description("a run's params, metrics (last/min/max per name), registered versions and report files")
    .option('--json', 'print JSON (every metric point under metricsByStep)')
    .action(async (id: string, opts: { json?: boolean }) => {
      const out = await withRegistry((r) => runDetails(r, id));
      emit(opts.json, out, () => formatRunShow(out));
    });

  runs
    .command('compare <runs...>')
    .description('params that differ and every metric\'s last value, side by side')
    .option('--json', 'print JSON')
    .action(async (ids: string[], opts: { json?: boolean }) => {
      if (ids.length < 2) throw new CliError('runs compare: give at least two run ids', 2);
      const cmp = await withRegistry(async (r) => compareRuns(await Promise.all(ids.map((id) => runDetails(r, id)))));
      emit(opts.json, cmp, () => [
        cmp.params.length ? alignColumns([['PARAM', ...cmp.runs], ...cmp.params.map((p) => [p.name, ...p.values.map((v) => v ?? '—')])]).join('\n') : 'params: identical',
        cmp.metrics.length ? alignColumns([['METRIC (last)', ...cmp.runs], ...cmp.metrics.map((m) => [m.name, ...m.values.map(fmt)])]).join('\n') : 'no metrics',
      ].join('\n\n'));
    });

  runs
    .command('export [runs...]')
    .description('write runs (params, metrics by step, tags, artifacts) to an MLflow tracking server')
    .requiredOption('--mlflow <url>', 'the tracking server, e.g. http://127.0.0.1:5000')
    .option('--experiment <name>', 'the MLflow experiment (default autopilot/<model or kind>)')
    .option('--model <name>', 'without run ids: the runs of this model')
    .option('--kind <kind>', 'without run ids: the runs of this kind', kindOption)
    .option('--limit <n>', 'without run ids: at most this many runs, newest first', positiveInt('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (ids: string[], opts: { mlflow: string; experiment?: string; model?: string; kind?: string; limit: number; json?: boolean }) => {
      let client: MlflowClient;
      try {
        client = new MlflowClient(opts.mlflow);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      const results: ExportedRun[] = [];
      try {
        await withRegistry(async (r) => {
          const targets = ids.length ? ids : (await r.listRuns({ model: opts.model, kind: opts.kind, limit: opts.limit })).map((x) => x.id);
          if (targets.length === 0) throw new CliError('runs export: no runs match', 3);
          for (const id of targets) {
            const res = await exportRunToMlflow(r, client, id, { experiment: opts.experiment });
            results.push(res);
            if (!opts.json) {
              process.stderr.write(res.alreadyExported
                ? `run ${id}: already in MLflow experiment ${res.experiment} as ${res.mlflowRunId}\n`
                : `run ${id} → MLflow ${res.experiment} run ${res.mlflowRunId}: ${res.params} params, ${res.metricPoints} metric points, ${res.artifacts.length} artifacts${res.paramsOnlyInConfigJson.length ? ` (too long for a param, in config.json only: ${res.paramsOnlyInConfigJson.join(', ')})` : ''}\n`);
            }
          }
        });
      } catch (err) {
        if (err instanceof MlflowError) throw new CliError(err.message, 1);
        throw err;
      }
      emit(opts.json, results, () => `${results.filter((x) => !x.alreadyExported).length} run(s) exported to ${opts.mlflow}`);
    });

  program
    .command('reports')
    .description("a run's report files (SVG plots, CSV summaries) from the artifact store")
    .command('fetch <run>')
    .description('download every report file of the run into a directory')
    .requiredOption('--out <dir>', 'where to write them (created if missing)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { out: string; json?: boolean }) => {
      const dir = resolve(opts.out);
      const written = await withRegistry(async (r) => {
        const d = await runDetails(r, id);
        if (d.reports.length === 0) throw new CliError(`run ${id} has no report files (its versions' tags and its summary name none)`, 3);
        await mkdir(dir, { recursive: true });
        const files: { name: string; uri: string; bytes: number; path: string }[] = [];
        for (const rep of d.reports) {
          const bytes = await r.store.getBuffer(r.store.keyFromUri(rep.uri));
          const path = resolve(dir, rep.name);
          await writeFile(path, bytes);
          files.push({ name: rep.name, uri: rep.uri, bytes: bytes.length, path });
        }
        return files;
      });
      emit(opts.json, written, () => written.map((f) => `${f.path}  (${f.bytes} bytes from ${f.uri})`).join('\n'));
    });
}
