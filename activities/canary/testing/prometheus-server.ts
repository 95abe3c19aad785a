/**
 * A real Prometheus for integration tests: Debian's `prometheus` binary (scripts/prometheus-tools.sh
 * installs the package) on a free loopback port, scraping the given targets every `scrapeInterval`,
 * its TSDB in a temporary directory removed on stop. Nothing is downloaded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS_BIN = process.env.AUTOPILOT_PROMETHEUS_BIN ?? 'prometheus';

/** Whether the prometheus binary runs here (for describeWithTool). */
export function hasPrometheus(): boolean {
  return spawnSync(PROMETHEUS_BIN, ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface PrometheusServer {
  url: string;
  /** Resolves once every target has been scraped successfully at least once (up == 1). */
  waitForTargets(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts Prometheus scraping `targets` (host:port, path /metrics) as job `autopilot`. */
export async function startPrometheus(targets: string[], opts: { scrapeInterval?: string } = {}): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ap-prometheus-'));
  const interval = opts.scrapeInterval ?? '1s';
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      '  - job_name: autopilot',
      `    scrape_timeout: ${interval}`,
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stderr: string[] = [];
  const proc: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}: ${stderr.join('').slice(-2000)}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready on ${url} within 20 s: ${stderr.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async waitForTargets(timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('min(up{job="autopilot"})')}`);
        const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
        if (body.data?.result?.[0]?.value[1] === '1') return;
        if (Date.now() > until) throw new Error(`prometheus ${url}: targets ${targets.join(', ')} not all up within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop,
  };
}
