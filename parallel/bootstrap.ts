/**
 * The shared-resample percentile bootstrap of `ml/stats/shared-bootstrap.ts` on several threads.
 *
 * The resamples are cut into fixed groups, each with its own random stream derived from (seed,
 * group); threads take groups from a shared counter and write each group's means into its own
 * range of a shared array. A group's means depend only on the data, the seed and the group index,
 * so the intervals are bit-for-bit those of `sharedBootstrap` on one thread, whatever the number of
 * threads or the order in which they finish. The main thread computes groups too while the workers
 * start, so `threads` counts it.
 */
import { availableParallelism } from 'node:os';
import { checkBootstrapOptions, type BootstrapOptions, type Interval } from '../ml/stats/bootstrap';
import { checkColumns, intervalsFromMeans, packColumns, resampleGroupCount } from '../ml/stats/shared-bootstrap';
import { runGroups, type BootstrapJob } from './bootstrap-job';
import { startWorker, workerDone } from './worker';

/** The default thread count: the cores Node may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** Checks a thread count: an integer in [1, 256]. */
export function checkThreads(threads: number, field = 'threads'): number {
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new RangeError(`${field}: got ${threads}, expected an integer in [1, 256]`);
  return threads;
}

/**
 * Percentile-bootstrap intervals of the means of `columns` from one shared resample set, computed
 * on `threads` threads (default: the available cores). Equal to `sharedBootstrap(columns, …)`.
 */
export interface ThreadOptions {
  /** Threads, the calling one included (default: the available cores). */
  threads?: number;
  /** False: the calling thread only waits, the workers compute every group (for tests). Default true. */
  mainThreadComputes?: boolean;
  /** Filled in with how many groups each thread computed (the calling thread first). */
  stats?: { groupsPerThread: number[] };
}

export async function sharedBootstrapOnThreads(
  columns: readonly Float64Array[],
  options: BootstrapOptions & ThreadOptions = {},
  names: readonly string[] = columns.map((_, e) => `columns[${e}]`),
): Promise<Interval[]> {
  const { alpha, nBootstrapSamples, randomState } = checkBootstrapOptions(options);
  const threads = checkThreads(options.threads ?? defaultThreads());
  const nRounds = checkColumns(columns, names);
  const buffers: SharedArrayBuffer[] = [];
  const packed = packColumns(columns, (length) => {
    const sab = new SharedArrayBuffer(length * 8);
    buffers.push(sab);
    return new Float64Array(sab);
  });
  const job: BootstrapJob = {
    nRounds,
    nColumns: columns.length,
    passes: packed.passes.map((p, i) => ({ width: p.width, first: p.first, data: buffers[i] })),
    nBootstrapSamples,
    seed: randomState,
    means: new SharedArrayBuffer(columns.length * nBootstrapSamples * 8),
    next: new SharedArrayBuffer(4),
  };
  const mainComputes = options.mainThreadComputes ?? true;
  const nWorkers = Math.min(threads, resampleGroupCount(nBootstrapSamples)) - (mainComputes ? 1 : 0);
  const workers = Array.from({ length: nWorkers }, () => startWorker(__dirname, 'bootstrap-worker', job));
  const groupsPerThread = new Array<number>(nWorkers + 1).fill(0);
  workers.forEach((w, i) => w.on('message', (m: { groups: number }) => { groupsPerThread[i + 1] = m.groups; }));
  const finished = workers.map((w) => workerDone(w, 'bootstrap'));
  try {
    if (mainComputes) groupsPerThread[0] = runGroups(job);
    await Promise.all(finished);
  } catch (err) {
    await Promise.allSettled(workers.map((w) => w.terminate()));
    throw err;
  }
  if (options.stats) options.stats.groupsPerThread = groupsPerThread;
  return intervalsFromMeans(columns, new Float64Array(job.means), nBootstrapSamples, alpha);
}
