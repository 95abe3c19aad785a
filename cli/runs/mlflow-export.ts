/**
 * `autopilot runs export --mlflow URL`: each Autopilot run becomes an MLflow run — in the experiment
 * `autopilot/<model or kind>` unless one is named — with its config flattened into params, every metric at
 * every step (MLflow's metric history), tags (`autopilot.run_id`, kind, workflow, registered versions),
 * the run's status and times, and as artifacts `config.json`, `summary.json`, `metrics.csv` and the run's
 * report files from the artifact store. A run already exported to that experiment (found by its
 * `autopilot.run_id` tag) is not exported twice.
 */
import type { Registry } from '../../registry/index';
import { MlflowClient, type MlflowKeyValue, type MlflowMetric } from '../mlflow/client';
import { flattenParams, runDetails } from './details';

/** MLflow's documented limits on a param's key and value (longer ones are refused by the server). */
const PARAM_KEY_MAX = 250;
const PARAM_VALUE_MAX = 6000;

export interface ExportedRun {
  runId: string;
  experiment: string;
  experimentId: string;
  mlflowRunId: string;
  /** true when the run was found already exported and left as it was. */
  alreadyExported: boolean;
  params: number;
  metricPoints: number;
  artifacts: string[];
  /** Params too long for MLflow (kept in config.json only). */
  paramsOnlyInConfigJson: string[];
}

const STATUS: Record<string, 'FINISHED' | 'FAILED' | 'KILLED' | 'RUNNING'> = { succeeded: 'FINISHED', failed: 'FAILED', cancelled: 'KILLED', running: 'RUNNING' };

function csvCell(s: string | number): string {
  const t = String(s);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export async function exportRunToMlflow(registry: Registry, client: MlflowClient, runId: string, opts: { experiment?: string } = {}): Promise<ExportedRun> {
  const details = await runDetails(registry, runId);
  const { run } = details;
  const experiment = opts.experiment ?? `autopilot/${run.model ?? run.kind}`;
  const experimentId = await client.ensureExperiment(experiment);
  const existing = await client.searchRuns([experimentId], `tags.\`autopilot.run_id\` = '${run.id.replace(/'/g, "\\'")}'`);
  if (existing.length > 0) {
    return { runId, experiment, experimentId, mlflowRunId: existing[0].run_id, alreadyExported: true, params: 0, metricPoints: 0, artifacts: [], paramsOnlyInConfigJson: [] };
  }

  const tags: MlflowKeyValue[] = [
    { key: 'autopilot.run_id', value: run.id },
    { key: 'autopilot.kind', value: run.kind },
    ...(run.model ? [{ key: 'autopilot.model', value: run.model }] : []),
    ...(run.workflowId ? [{ key: 'autopilot.workflow_id', value: run.workflowId }] : []),
    ...(details.versions.length ? [{ key: 'autopilot.versions', value: details.versions.map((v) => `${v.model}:v${v.version}`).join(', ') }] : []),
    ...(run.error ? [{ key: 'autopilot.error', value: run.error.slice(0, 5000) }] : []),
  ];
  const mlRun = await client.createRun(experimentId, run.id, run.startedAt.getTime(), tags);

  const params: MlflowKeyValue[] = [];
  const tooLong: string[] = [];
  for (const [key, value] of Object.entries(flattenParams(run.config))) {
    if (key.length > PARAM_KEY_MAX || value.length > PARAM_VALUE_MAX) tooLong.push(key);
    else params.push({ key, value });
  }
  const rows = details.metricsByStep;
  const metrics: MlflowMetric[] = rows.map((r) => ({ key: r.name, value: r.value, step: r.step, timestamp: r.time.getTime() }));
  await client.logBatch(mlRun.run_id, { params, metrics });

  const artifacts: string[] = [];
  const upload = async (name: string, bytes: Buffer): Promise<void> => {
    await client.uploadArtifact(mlRun, name, bytes);
    artifacts.push(name);
  };
  await upload('config.json', Buffer.from(`${JSON.stringify(run.config, null, 2)}\n`));
  if (run.summary !== null) await upload('summary.json', Buffer.from(`${JSON.stringify(run.summary, null, 2)}\n`));
  if (rows.length) {
    const csv = ['step,name,value,time', ...rows.map((r) => [r.step, csvCell(r.name), r.value, r.time.toISOString()].join(','))].join('\n');
    await upload('metrics.csv', Buffer.from(`${csv}\n`));
  }
  for (const report of details.reports) {
    const bytes = await registry.store.getBuffer(registry.store.keyFromUri(report.uri));
    await upload(`reports/${report.name}`, bytes);
  }
  await client.finishRun(mlRun.run_id, STATUS[run.status] ?? 'FINISHED', run.finishedAt ? run.finishedAt.getTime() : null);
  return {
    runId, experiment, experimentId, mlflowRunId: mlRun.run_id, alreadyExported: false,
    params: params.length, metricPoints: metrics.length, artifacts, paramsOnlyInConfigJson: tooLong,
  };
}
