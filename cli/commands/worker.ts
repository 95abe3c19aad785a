import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { runWorker } from '../../workers/worker';
import { TASK_QUEUES } from '../../contracts/shared';

export function register(program: Command): void {
  program
    .command('worker')
    .description(`run a Temporal worker for one task queue (${Object.values(TASK_QUEUES).join(', ')})`)
    .option('-q, --queue <queue>', 'task queue to serve', TASK_QUEUES.training)
    .action(async (opts: { queue: string }) => {
      const settings = loadSettings();
      await runWorker({
        queue: opts.queue,
        settings,
        onReady: () => process.stdout.write(`worker: serving task queue "${opts.queue}" on ${settings.temporalAddress}\n`),
      });
    });
}
