/**
 * A Temporal worker process for one task queue: connects, bundles the workflows, registers the
 * queue's activities with real dependencies, and shuts down cleanly on SIGINT/SIGTERM.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Settings } from '../config/settings';
import { loadTemporalSecurity, temporalConnectionOptions } from '../config/temporal';
import { createWorkerDeps, type WorkerDeps } from './deps';
import { isTaskQueue, queueActivities } from './queues';

export interface RunWorkerOptions {
  queue: string;
  settings: Settings;
  /** Called once the worker polls (tests and `dev up` wait on it). */
  onReady?: () => void;
  /** Dependencies to use instead of building them from settings (tests). */
  deps?: WorkerDeps;
  connection?: NativeConnection;
  namespace?: string;
  /** Where the TLS / API key variables are read (config/temporal.ts); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const workflowsPath = require.resolve('../workflows');

export async function createWorker(opts: RunWorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  if (!isTaskQueue(opts.queue)) {
    throw new Error(`unknown task queue "${opts.queue}": expected one of ${Object.keys(queueActivities).join(', ')}`);
  }
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
  });
  return {
    worker,
    async close() {
      if (!opts.deps) await deps.close();
      if (!opts.connection) await connection.close();
    },
  };
}

export async function runWorker(opts: RunWorkerOptions): Promise<void> {
  const { worker, close } = await createWorker(opts);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const running = worker.run();
    opts.onReady?.();
    await running;
  } finally {
    await close();
  }
}
