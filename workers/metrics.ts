/**
 * A worker's `/metrics` (R-… production observability, issue #20 item 2): one scrape target per worker
 * process serving, in one Prometheus text exposition,
 *
 * - Autopilot's own metrics (activities/metrics/worker-metrics.ts: activity durations and failures,
 *   PPO/Oumi/OPE/bandit/drift/canary figures, Node's default process metrics), and
 * - the Temporal SDK's metrics (`temporal_*`: task slots, poll latencies, activity/workflow task
 *   latencies, sticky cache…), which the SDK's Rust core exports from its own HTTP server: the core's
 *   Prometheus exporter is installed with the Runtime (`Runtime.install({ telemetryOptions: { metrics:
 *   { prometheus: { bindAddress } } } })`, @temporalio/worker 1.24) and cannot share our server, so it
 *   binds a free loopback port that nothing outside the process sees, and each scrape of ours reads it
 *   and appends it. A scrape whose SDK part cannot be read fails (503) rather than silently losing half
 *   the metrics.
 *
 * `autopilot worker --metrics-port N` (default 9464, 0 = off) and `--metrics-host` (default 0.0.0.0).
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { Runtime, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { WorkerMetrics } from '../activities/metrics/worker-metrics';
import { activityMetricsInterceptor } from '../activities/metrics/interceptor';

export const DEFAULT_WORKER_METRICS_PORT = 9464;

export interface WorkerMetricsServer {
  metrics: WorkerMetrics;
  interceptor: ActivityInterceptorsFactory;
  /** `http://host:port/metrics` */
  url: string;
  /** Where the SDK's own exporter listens (loopback), or null when it was not installed. */
  sdkUrl: string | null;
  close(): Promise<void>;
}

/** A free loopback port (asked of the kernel; the SDK binds it right after, a window of microseconds). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Installs the SDK runtime with its Prometheus exporter. Must run before the process's first
 * NativeConnection (the runtime is created once per process); throws if one was already made.
 */
export async function installSdkMetrics(): Promise<string> {
  const port = await freeLoopbackPort();
  Runtime.install({
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
      },
    },
  });
  return `http://127.0.0.1:${port}/metrics`;
}

export async function startWorkerMetrics(opts: { port: number; host?: string; taskQueue: string; sdk?: boolean }): Promise<WorkerMetricsServer> {
  const host = opts.host ?? '0.0.0.0';
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new Error(`--metrics-port: expected a TCP port (1-65535, or 0 for no metrics), got ${opts.port}`);
  const metrics = new WorkerMetrics();
  const sdkUrl = opts.sdk === false ? null : await installSdkMetrics();

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${req.method} ${path} (this worker serves GET /metrics)\n`);
      return;
    }
    void (async () => {
      let body = await metrics.registry.metrics();
      if (sdkUrl !== null) {
        let sdk: Response;
        try {
          sdk = await fetch(sdkUrl);
        } catch (err) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end(`the Temporal SDK's metrics exporter at ${sdkUrl} did not answer: ${(err as Error).message}\n`);
          return;
        }
        if (!sdk.ok) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end(`the Temporal SDK's metrics exporter at ${sdkUrl} answered ${sdk.status}\n`);
          return;
        }
        body += `${(await sdk.text()).trimEnd()}\n`;
      }
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`metrics: ${(err as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`worker metrics: cannot listen on ${host}:${opts.port} (${(err as Error).message}); pick another --metrics-port or 0 to turn metrics off`, { cause: err })));
    server.listen(opts.port, host, () => resolve());
  });
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    metrics,
    interceptor: activityMetricsInterceptor(metrics, opts.taskQueue),
    url: `http://${shown}:${opts.port}/metrics`,
    sdkUrl,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
