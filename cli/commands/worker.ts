import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { runWorker } from '../../workers/worker';
import { DEFAULT_WORKER_METRICS_PORT } from '../../workers/metrics';
import { TASK_QUEUES } from '../../contracts/shared';

function metricsPort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new Error(`--metrics-port: expected a TCP port (1-65535) or 0 for no metrics, got "${raw}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description(`run a Temporal worker for one task queue (${Object.values(TASK_QUEUES).join(', ')})`)
    .option('-q, --queue <queue>', 'task queue to serve', TASK_QUEUES.training)
    .option('--metrics-port <port>', 'serve Prometheus /metrics (Autopilot\'s and the Temporal SDK\'s) on this port; 0 = off', metricsPort, DEFAULT_WORKER_METRICS_PORT)
    .option('--metrics-host <host>', 'address /metrics listens on', '0.0.0.0')
    .action(async (opts: { queue: string; metricsPort: number; metricsHost: string }) => {
      const settings = loadSettings();
      await runWorker({
        queue: opts.queue,
        settings,
        metricsPort: opts.metricsPort,
        metricsHost: opts.metricsHost,
        onReady: () =>
          process.stdout.write(
            `worker: serving task queue "${opts.queue}" on ${settings.temporalAddress}` +
              `${opts.metricsPort ? `; metrics on http://${opts.metricsHost === '0.0.0.0' ? '127.0.0.1' : opts.metricsHost}:${opts.metricsPort}/metrics` : ''}\n`,
          ),
      });
    });
}
