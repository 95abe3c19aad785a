/**
 * `autopilot dev up | down | status`: the local stack — the Temporal dev server (state in .data/,
 * UI on :8233, our search attributes registered), SeaweedFS with an S3 gateway on loopback and the
 * bucket, the registry database migrated, and one worker per task queue. `up` records every process
 * it starts; `down` stops exactly those; `status` says what runs where.
 */
import { createConnection } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { projectRoot, stackFilePath, tools, type Settings, type StackFile } from '../../config/settings';
import { migrate } from '../../registry/migrate';
import { devKeyPath, ensureDevKey } from './api-key';
import { createPool } from '../../registry/pool';
import { searchAttributeCliArgs, TASK_QUEUES } from '../../contracts/shared';
import { exitedMessage, GaveUp, isOurs, readManaged, spawnManaged, stopManaged, waitFor, type ManagedProcess } from './processes';
import { startSeaweed } from './seaweed';
import { prometheusConfig, startPrometheus } from './prometheus';
import { RETENTION_SCHEDULE_ID } from '../../contracts/retention';
import { ensureRetentionSchedule } from '../commands/retention';

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  temporalHttp: number;
  temporalMetrics: number;
  s3: number;
  /** The inference server (`autopilot serve`). */
  serve: number;
  /** Prometheus (cli/dev/prometheus.ts). */
  prometheus: number;
  /** The control-plane API and its web console (`autopilot api`, /console/). */
  api: number;
  /** Each worker's /metrics, one port per task queue in TASK_QUEUES order. */
  workerMetrics: number[];
}

function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${JSON.stringify(raw)}: expected a TCP port (1-65535)`);
  return n;
}

/** The dev stack's ports: AUTOPILOT_DEV_TEMPORAL_PORT (7233), _TEMPORAL_UI_PORT (8233), _TEMPORAL_HTTP_PORT (7243), _TEMPORAL_METRICS_PORT (7244), _S3_PORT (8333), _SERVE_PORT (8080), _PROMETHEUS_PORT (9090), _API_PORT (8090), _WORKER_METRICS_PORTS (9464,9465,9466: one per task queue, in TASK_QUEUES order). */
export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  return {
    temporal: portFromEnv(env, 'AUTOPILOT_DEV_TEMPORAL_PORT', 7233),
    temporalUi: portFromEnv(env, 'AUTOPILOT_DEV_TEMPORAL_UI_PORT', 8233),
    temporalHttp: portFromEnv(env, 'AUTOPILOT_DEV_TEMPORAL_HTTP_PORT', 7243),
    temporalMetrics: portFromEnv(env, 'AUTOPILOT_DEV_TEMPORAL_METRICS_PORT', 7244),
    s3: portFromEnv(env, 'AUTOPILOT_DEV_S3_PORT', 8333),
    serve: portFromEnv(env, 'AUTOPILOT_DEV_SERVE_PORT', 8080),
    prometheus: portFromEnv(env, 'AUTOPILOT_DEV_PROMETHEUS_PORT', 9090),
    api: portFromEnv(env, 'AUTOPILOT_DEV_API_PORT', 8090),
    workerMetrics: workerMetricsPorts(env),
  };
}

function workerMetricsPorts(env: NodeJS.ProcessEnv): number[] {
  const queues = Object.values(TASK_QUEUES);
  const raw = env.AUTOPILOT_DEV_WORKER_METRICS_PORTS;
  if (raw === undefined || raw === '') return queues.map((_, i) => 9464 + i);
  const parts = raw.split(',');
  if (parts.length !== queues.length) throw new Error(`AUTOPILOT_DEV_WORKER_METRICS_PORTS=${JSON.stringify(raw)}: expected ${queues.length} comma-separated TCP ports, one per task queue (${queues.join(', ')})`);
  return parts.map((p, i) => portFromEnv({ AUTOPILOT_DEV_WORKER_METRICS_PORTS: p.trim() }, 'AUTOPILOT_DEV_WORKER_METRICS_PORTS', 9464 + i));
}

export const DEV_BUCKET = 'autopilot';

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}

/** Creates the registry database named in `databaseUrl` if it does not exist (trust/peer auth on the same server). */
export async function ensureDatabase(databaseUrl: string): Promise<'created' | 'exists'> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`database name "${name}" in AUTOPILOT_DATABASE_URL must be a plain identifier`);
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const client = new Client({ connectionString: adminUrl.toString() });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at ${url.host} (${(err as Error).message}); run scripts/check-services.sh or set AUTOPILOT_DATABASE_URL`, { cause: err });
  }
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return 'exists';
    await client.query(`create database "${name}"`);
    return 'created';
  } finally {
    await client.end();
  }
}

export interface UpResult {
  temporal: { address: string; ui: string };
  s3: { endpoint: string; bucket: string };
  databaseUrl: string;
  inference: string;
  workers: string[];
  /** Prometheus' URL (scrapes the inference server and the workers). */
  prometheus: string;
  /** The control-plane API; its web console is under /console/. */
  api: string;
  /** The daily retention schedule (`decision-log-retention`): created by this `up`, or there already. */
  retentionSchedule: 'created' | 'exists';
  started: string[];
  alreadyRunning: string[];
}

export async function stackUp(settings: Settings, log: (line: string) => void, ports: StackPorts = stackPorts()): Promise<UpResult> {
  const dataDir = settings.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const running = new Map(readManaged(dataDir).filter((p) => isOurs(p)).map((p) => [p.name, p] as const));
  const started: string[] = [];
  const alreadyRunning: string[] = [];

  // 1. Registry database + migrations.
  const created = await ensureDatabase(settings.databaseUrl);
  const pool = createPool(settings.databaseUrl, { max: 2 });
  try {
    const res = await migrate(pool);
    log(`registry: database ${created === 'created' ? 'created' : 'present'}, schema at version ${res.current} (${res.applied.length} migration(s) applied now)`);
    const key = await ensureDevKey(pool, dataDir);
    log(`API key ${key.keyId} (admin) ${key.created ? 'created' : 'reused'}: its token is in ${devKeyPath(dataDir)} (CLI commands send it; or set AUTOPILOT_API_KEY)`);
  } finally {
    await pool.end();
  }

  // 2. Temporal dev server.
  const temporalAddress = `127.0.0.1:${ports.temporal}`;
  const uiUrl = `http://127.0.0.1:${ports.temporalUi}`;
  if (running.has('temporal')) {
    alreadyRunning.push('temporal');
  } else {
    if (await portOpen(ports.temporal)) throw new Error(`port ${ports.temporal} is taken by another process: stop it or set AUTOPILOT_DEV_TEMPORAL_PORT`);
    const temporalDir = join(dataDir, 'temporal');
    mkdirSync(temporalDir, { recursive: true });
    const proc = spawnManaged(dataDir, {
      name: 'temporal',
      command: tools.temporal,
      args: [
        'server', 'start-dev',
        '--ip', '127.0.0.1',
        '--port', String(ports.temporal),
        '--ui-port', String(ports.temporalUi),
        '--http-port', String(ports.temporalHttp),
        '--metrics-port', String(ports.temporalMetrics),
        '--db-filename', join(temporalDir, 'temporal.db'),
        '--ui-disable-news-fetch',
        '--log-level', 'warn',
        ...searchAttributeCliArgs(),
      ],
      urls: { frontend: temporalAddress, ui: uiUrl },
    });
    await waitFor('Temporal dev server', async () => {
      // It exits at once when it cannot bind one of its ports: say so now, not after the whole wait.
      if (!isOurs(proc)) throw new GaveUp(exitedMessage('the Temporal dev server', proc.log));
      return (await portOpen(ports.temporal)) && (await fetch(uiUrl)).ok;
    }, 60_000, proc.log);
    started.push('temporal');
  }
  log(`temporal: ${temporalAddress} (UI ${uiUrl})`);

  // 3. SeaweedFS S3 gateway.
  const s3Endpoint = `http://127.0.0.1:${ports.s3}`;
  if (running.has('seaweedfs')) {
    alreadyRunning.push('seaweedfs');
  } else {
    if (await portOpen(ports.s3)) throw new Error(`port ${ports.s3} is taken by another process: stop it or set AUTOPILOT_DEV_S3_PORT`);
    const s = await startSeaweed({
      dataDir: join(dataDir, 'seaweedfs'),
      s3Port: ports.s3,
      accessKey: settings.s3.accessKeyId,
      secretKey: settings.s3.secretAccessKey,
      bucket: DEV_BUCKET,
      logFile: join(dataDir, 'logs', 'seaweedfs.log'),
      detached: true,
    });
    spawnRecord(dataDir, 'seaweedfs', s.pid, tools.weed, join(dataDir, 'logs', 'seaweedfs.log'), { s3: s.endpoint });
    started.push('seaweedfs');
  }
  log(`s3: ${s3Endpoint} bucket ${DEV_BUCKET}`);

  // 4. Settings every later command (and the workers) use.
  const stack: StackFile = { databaseUrl: settings.databaseUrl, temporalAddress, artifactUri: `s3://${DEV_BUCKET}`, s3Endpoint };
  writeFileSync(stackFilePath(dataDir), JSON.stringify(stack, null, 2));

  // 5. One worker per task queue.
  const workers: string[] = [];
  const workerTargets: string[] = [];
  for (const [i, queue] of Object.values(TASK_QUEUES).entries()) {
    const metricsPort = ports.workerMetrics[i];
    workerTargets.push(`127.0.0.1:${metricsPort}`);
    const name = `worker-${queue}`;
    workers.push(name);
    if (running.has(name)) {
      alreadyRunning.push(name);
      continue;
    }
    const proc = spawnManaged(dataDir, {
      name,
      command: process.execPath,
      args: [resolve(projectRoot, 'bin/autopilot'), 'worker', '--queue', queue, '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1'],
      cwd: projectRoot,
      env: { ...process.env, AUTOPILOT_DATA_DIR: dataDir },
      urls: { metrics: `http://127.0.0.1:${metricsPort}/metrics` },
    });
    await waitFor(`worker for queue ${queue}`, async () => {
      if (!isOurs(proc)) throw new GaveUp(exitedMessage(`worker for queue ${queue}`, proc.log));
      return readFileSync(proc.log, 'utf8').includes(`serving task queue "${queue}"`);
    }, 120_000, proc.log);
    started.push(name);
  }
  log(`workers: ${workers.join(', ')}`);
  // The decision log's daily retention (partitions ahead, expired ones dropped; `autopilot retention`).
  const retentionSchedule = await ensureRetentionSchedule({ ...settings, temporalAddress });
  log(`retention schedule: ${RETENTION_SCHEDULE_ID} (daily), ${retentionSchedule}`);

  // 6. The inference server.
  const serverUrl = `http://127.0.0.1:${ports.serve}`;
  if (running.has('inference')) {
    alreadyRunning.push('inference');
  } else {
    if (await portOpen(ports.serve)) throw new Error(`port ${ports.serve} is taken by another process: stop it or set AUTOPILOT_DEV_SERVE_PORT`);
    const proc = spawnManaged(dataDir, {
      name: 'inference',
      command: process.execPath,
      // As the least-privilege role of migration 011: the server cannot change a deployment or a key.
      args: [resolve(projectRoot, 'bin/autopilot'), 'serve', '--port', String(ports.serve), '--host', '127.0.0.1', '--db-role', 'autopilot_inference'],
      cwd: projectRoot,
      env: { ...process.env, AUTOPILOT_DATA_DIR: dataDir },
      urls: { http: serverUrl, metrics: `${serverUrl}/metrics` },
    });
    await waitFor('inference server', async () => {
      if (!isOurs(proc)) throw new GaveUp(exitedMessage('the inference server', proc.log));
      return (await fetch(`${serverUrl}/v2/health/live`)).ok;
    }, 60_000, proc.log);
    started.push('inference');
  }
  log(`inference: ${serverUrl} (/v1/decide, /v1/rewards, /v2/…, /metrics)`);

  // 7. Prometheus, scraping the inference server and the workers (cli/dev/prometheus.ts).
  const prometheusUrl = `http://127.0.0.1:${ports.prometheus}`;
  if (running.has('prometheus')) {
    alreadyRunning.push('prometheus');
  } else {
    if (await portOpen(ports.prometheus)) throw new Error(`port ${ports.prometheus} is taken by another process: stop it or set AUTOPILOT_DEV_PROMETHEUS_PORT`);
    const config = prometheusConfig({ inference: [`127.0.0.1:${ports.serve}`], workers: workerTargets });
    const proc = startPrometheus(dataDir, ports.prometheus, config);
    await waitFor('Prometheus', async () => {
      if (!isOurs(proc)) throw new GaveUp(exitedMessage('Prometheus', proc.log));
      return (await fetch(`${prometheusUrl}/-/ready`)).ok;
    }, 60_000, proc.log);
    started.push('prometheus');
  }
  log(`prometheus: ${prometheusUrl} (targets ${prometheusUrl}/targets)`);

  // 8. The control-plane API and the web console (`autopilot api`), as autopilot_admin (key management needs it).
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  if (running.has('api')) {
    alreadyRunning.push('api');
  } else {
    if (await portOpen(ports.api)) throw new Error(`port ${ports.api} is taken by another process: stop it or set AUTOPILOT_DEV_API_PORT`);
    const proc = spawnManaged(dataDir, {
      name: 'api',
      command: process.execPath,
      args: [resolve(projectRoot, 'bin/autopilot'), 'api', '--port', String(ports.api), '--host', '127.0.0.1', '--db-role', 'autopilot_admin', '--temporal-ui', `${uiUrl}/namespaces/default`],
      cwd: projectRoot,
      env: { ...process.env, AUTOPILOT_DATA_DIR: dataDir },
      urls: { http: apiUrl, console: `${apiUrl}/console/` },
    });
    await waitFor('control-plane API', async () => {
      if (!isOurs(proc)) throw new GaveUp(exitedMessage('the control-plane API', proc.log));
      return (await fetch(`${apiUrl}/healthz`)).ok;
    }, 60_000, proc.log);
    started.push('api');
  }
  log(`api: ${apiUrl} (console ${apiUrl}/console/, /openapi.json; the stack's admin key is in ${join(dataDir, 'api-key')})`);
  return { temporal: { address: temporalAddress, ui: uiUrl }, s3: { endpoint: s3Endpoint, bucket: DEV_BUCKET }, databaseUrl: settings.databaseUrl, inference: serverUrl, workers, prometheus: prometheusUrl, api: apiUrl, retentionSchedule, started, alreadyRunning };
}

function spawnRecord(dataDir: string, name: string, pid: number, command: string, log: string, urls: Record<string, string>): void {
  const proc: ManagedProcess = { name, pid, command, args: [], log, startedAt: new Date().toISOString(), urls };
  mkdirSync(join(dataDir, 'run'), { recursive: true });
  writeFileSync(join(dataDir, 'run', `${name}.json`), JSON.stringify(proc, null, 2));
}

export async function stackDown(settings: Settings, log: (line: string) => void): Promise<string[]> {
  const procs = readManaged(settings.dataDir);
  // Workers first (they hold connections to the others), then the servers.
  procs.sort((a, b) => Number(b.name.startsWith('worker')) - Number(a.name.startsWith('worker')));
  const stopped: string[] = [];
  for (const p of procs) {
    const r = await stopManaged(settings.dataDir, p);
    log(`${p.name}: ${r === 'stopped' ? `stopped (pid ${p.pid})` : 'was not running'}`);
    if (r === 'stopped') stopped.push(p.name);
  }
  rmSync(stackFilePath(settings.dataDir), { force: true });
  return stopped;
}

export function stackStatus(settings: Settings): Array<ManagedProcess & { running: boolean }> {
  return readManaged(settings.dataDir).map((p) => ({ ...p, running: isOurs(p) }));
}
