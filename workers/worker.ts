/**
 * A Temporal worker process for one task queue: connects, bundles the workflows, registers the
 * queue's activities with real dependencies, and shuts down cleanly on SIGINT/SIGTERM.
 */
import { NativeConnection, Worker, type ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Settings } from '../config/settings';
import { loadTemporalSecurity, temporalConnectionOptions } from '../config/temporal';
import { createWorkerDeps, type WorkerDeps } from './deps';
import { isTaskQueue, queueActivities, queuePreflight } from './queues';
import { startWorkerMetrics } from './metrics';
import { projectRoot } from '../config/settings';
import { TASK_QUEUES } from '../contracts/shared';
import { Db } from '../registry/db';
import { forecastGaugeValues } from '../registry/optimisers';
import { partitionHealth } from '../decision-log/partitions';

export interface RunWorkerOptions {
  queue: string;
  settings: Settings;
  /** Called once the worker polls (tests and `dev up` wait on it). */
  onReady?: () => void;
  /** Dependencies to use instead of building them from settings (tests). */
  deps?: WorkerDeps;
  connection?: NativeConnection;
  namespace?: string;
  /** Serve /metrics on this port (workers/metrics.ts; 0 or absent: none) and on this host (default 0.0.0.0). */
  metricsPort?: number;
  metricsHost?: string;
  /** Activity interceptors (the metrics one, from runWorker). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Where the TLS / API key variables are read (config/temporal.ts); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const workflowsPath = require.resolve('../workflows');

export async function createWorker(opts: RunWorkerOptions): Promise<{ worker: Worker; deps: WorkerDeps; close: () => Promise<void> }> {
  if (!isTaskQueue(opts.queue)) {
    throw new Error(`unknown task queue "${opts.queue}": expected one of ${Object.keys(queueActivities).join(', ')}`);
  }
  queuePreflight[opts.queue]?.(projectRoot);
  // Settings first: a bad TLS file or a lone client certificate fails before anything is opened.
  const connectionOptions = opts.connection ? null : temporalConnectionOptions(opts.settings.temporalAddress, loadTemporalSecurity(opts.env ?? process.env));
  const deps = opts.deps ?? createWorkerDeps(opts.settings);
  const connection = opts.connection ?? (await NativeConnection.connect(connectionOptions!));
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace ?? opts.settings.temporalNamespace,
    taskQueue: opts.queue,
    workflowsPath,
    activities: queueActivities[opts.queue](deps),
    interceptors: opts.activityInterceptors ? { activity: opts.activityInterceptors } : undefined,
  });
  return {
    worker,
    deps,
    async close() {
      if (!opts.deps) await deps.close();
      if (!opts.connection) await connection.close();
    },
  };
}

export async function runWorker(opts: RunWorkerOptions): Promise<void> {
  // Metrics first: the SDK's exporter is installed with the runtime, before the first connection.
  const metrics = opts.metricsPort ? await startWorkerMetrics({ port: opts.metricsPort, host: opts.metricsHost, taskQueue: opts.queue }) : null;
  let created: Awaited<ReturnType<typeof createWorker>>;
  try {
    created = await createWorker({ ...opts, activityInterceptors: metrics ? [metrics.interceptor, ...(opts.activityInterceptors ?? [])] : opts.activityInterceptors });
  } catch (err) {
    await metrics?.close();
    throw err;
  }
  const { worker, close } = created;
  // The rollout worker runs workloadForecast: its /metrics carries the latest forecast for the HPA and dashboards.
  if (metrics && opts.queue === TASK_QUEUES.rollout) {
    const db = Db.fromPool(created.deps.pool);
    metrics.metrics.trackForecasts(() => forecastGaugeValues(db, new Date()));
    // …and retention: the decision log's partitions ahead and rows waiting in a default partition (the retention alerts).
    metrics.metrics.trackDecisionLog(() => partitionHealth(db, new Date()));
  }
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const running = worker.run();
    opts.onReady?.();
    await running;
  } finally {
    await close();
    await metrics?.close();
  }
}
