/** Worker-thread entry of `parallel/bootstrap.ts`: runs resample groups of the job it is given. */
import { parentPort, workerData } from 'node:worker_threads';
import { runGroups, type BootstrapJob } from './bootstrap-job';

const done = runGroups(workerData as BootstrapJob);
parentPort?.postMessage({ groups: done });
