/**
 * SeaweedFS for the dev stack and the integration tests: one `weed mini` process (master, volume
 * server, filer and S3 gateway in one binary) bound to 127.0.0.1, with
 *   - every port it opens chosen free (master, volume, filer, S3, their gRPC ports, the admin server),
 *     the Iceberg/Lance catalogs, WebDAV and the admin UI switched off, and telemetry off — so a test
 *     run and a dev stack (or two test runs) never collide;
 *   - one S3 identity (access key / secret with Admin, Read, Write, List, Tagging) from a config file
 *     written into the data directory: SeaweedFS denies anonymous access once identities exist;
 *   - the bucket created (by `-bucket`, or through the S3 API if it is missing once S3 answers).
 * `startSeaweed` resolves when the S3 endpoint answers with that identity and the bucket exists.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { tools } from '../../config/settings';
import { createS3Client } from '../../registry/artifacts/s3';
import { freePorts, portFree } from './free-ports';

export interface SeaweedOptions {
  /** Where SeaweedFS keeps its data (created if missing); reuse it to keep objects across restarts. */
  dataDir: string;
  /** The S3 port; a free one when omitted. Every other port is always chosen free. */
  s3Port?: number;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** stdout and stderr of `weed` are appended here. */
  logFile: string;
  /** Own process group, not tied to this process (for `autopilot dev up`, which exits after starting it). */
  detached?: boolean;
  /** Default: tools.weed (`.venv/bin/weed`). */
  weedBin?: string;
  /** Default 60 s. */
  readyTimeoutMs?: number;
}

export interface SeaweedPorts {
  s3: number;
  s3Grpc: number;
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
  admin: number;
  adminGrpc: number;
}

export interface SeaweedHandle {
  /** `http://127.0.0.1:<s3 port>` */
  endpoint: string;
  pid: number;
  ports: SeaweedPorts;
  /** SIGTERM (SIGKILL with `force`, or after `timeoutMs`, default 15 s) to the process (group), then waits until it is gone. */
  stop(opts?: { force?: boolean; timeoutMs?: number }): Promise<void>;
}

const HOST = '127.0.0.1';

/** The command line for `weed mini` with the given ports, files and bucket. */
export function seaweedArgs(o: { dataDir: string; ports: SeaweedPorts; configFile: string; bucket: string }): string[] {
  const p = o.ports;
  const args = [
    // glog files go with the data, not to /tmp.
    `-logdir=${join(o.dataDir, 'logs')}`,
    'mini',
    `-dir=${join(o.dataDir, 'data')}`,
    `-ip=${HOST}`,
    `-ip.bind=${HOST}`,
    `-s3.port=${p.s3}`,
    `-s3.port.grpc=${p.s3Grpc}`,
    `-master.port=${p.master}`,
    `-master.port.grpc=${p.masterGrpc}`,
    `-volume.port=${p.volume}`,
    `-volume.port.grpc=${p.volumeGrpc}`,
    `-filer.port=${p.filer}`,
    `-filer.port.grpc=${p.filerGrpc}`,
    `-admin.port=${p.admin}`,
    `-admin.port.grpc=${p.adminGrpc}`,
    '-admin.ui=false',
    '-webdav=false',
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-master.telemetry=false',
    `-s3.config=${o.configFile}`,
    `-bucket=${o.bucket}`,
  ];
  // Unix sockets default to /tmp/seaweedfs-*-<port>.sock; keep the S3 and filer ones with the data
  // when the path fits in a socket address (108 bytes).
  const s3Sock = join(o.dataDir, 's3.sock');
  const filerSock = join(o.dataDir, 'filer.sock');
  if (Buffer.byteLength(filerSock) < 100) args.push(`-s3.localSocket=${s3Sock}`, `-filer.localSocket=${filerSock}`);
  return args;
}

/** The identities file SeaweedFS's S3 gateway reads (`-s3.config`). */
export function s3IdentitiesConfig(accessKey: string, secretKey: string): string {
  return JSON.stringify(
    {
      identities: [
        {
          name: 'autopilot',
          credentials: [{ accessKey, secretKey }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    },
    null,
    2,
  );
}

export async function startSeaweed(opts: SeaweedOptions): Promise<SeaweedHandle> {
  const weed = opts.weedBin ?? tools.weed;
  mkdirSync(join(opts.dataDir, 'data'), { recursive: true });
  mkdirSync(join(opts.dataDir, 'logs'), { recursive: true });
  mkdirSync(join(opts.dataDir, 'tmp'), { recursive: true });
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const configFile = join(opts.dataDir, 's3-identities.json');
  writeFileSync(configFile, s3IdentitiesConfig(opts.accessKey, opts.secretKey), { mode: 0o600 });

  if (opts.s3Port !== undefined && !(await portFree(opts.s3Port, HOST))) {
    throw new Error(`S3 port ${opts.s3Port} on ${HOST} is already in use: stop what listens there or choose another port`);
  }
  const free = await freePorts(opts.s3Port === undefined ? 10 : 9, HOST);
  const take = (): number => free.shift()!;
  const ports: SeaweedPorts = {
    s3: opts.s3Port ?? take(),
    s3Grpc: take(),
    master: take(),
    masterGrpc: take(),
    volume: take(),
    volumeGrpc: take(),
    filer: take(),
    filerGrpc: take(),
    admin: take(),
    adminGrpc: take(),
  };
  const args = seaweedArgs({ dataDir: opts.dataDir, ports, configFile, bucket: opts.bucket });
  const logOffset = fileSize(opts.logFile);
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(weed, args, {
      detached: opts.detached ?? false,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, TMPDIR: join(opts.dataDir, 'tmp') },
    });
  } finally {
    closeSync(fd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`)));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start SeaweedFS (${weed}): ${(await spawnError).message}`);

  const endpoint = `http://${HOST}:${ports.s3}`;
  const group = opts.detached ?? false;
  let gone = false;
  void exited.then(() => (gone = true));
  const handle: SeaweedHandle = {
    endpoint,
    pid,
    ports,
    stop: async ({ force = false, timeoutMs = 15_000 } = {}) => {
      if (gone) return;
      signal(pid, group, force ? 'SIGKILL' : 'SIGTERM');
      const timer = setTimeout(() => signal(pid, group, 'SIGKILL'), timeoutMs);
      try {
        await exited;
        // A detached group may hold other members (weed mini is one process, but be exact).
        while (group && alive(-pid)) await delay(50);
      } finally {
        clearTimeout(timer);
      }
      removeSockets(ports);
    },
  };

  const client = createS3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: opts.accessKey,
    secretAccessKey: opts.secretKey,
  });
  try {
    await waitUntilReady(client, opts.bucket, opts.readyTimeoutMs ?? 60_000, exited);
  } catch (err) {
    await handle.stop({ force: true });
    const tail = readTail(opts.logFile, logOffset);
    throw new Error(
      `SeaweedFS (${weed} ${args.join(' ')}) did not become ready at ${endpoint}: ${(err as Error).message}\n` +
        `log ${opts.logFile}:\n${tail}`,
      { cause: err },
    );
  } finally {
    client.destroy();
  }
  if (opts.detached) child.unref();
  return handle;
}

/** Polls until S3 answers with our identity and the bucket exists (creating it if it is missing). */
async function waitUntilReady(client: S3Client, bucket: string, timeoutMs: number, exited: Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: string | undefined;
  void exited.then((how) => (exitedWith = how));
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exitedWith) throw new Error(`weed exited (${exitedWith}) before S3 was ready`);
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      if (e.$metadata?.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchBucket') {
        try {
          await client.send(new CreateBucketCommand({ Bucket: bucket }));
          return;
        } catch (createErr) {
          const c = createErr as { name?: string; message?: string };
          if (c.name === 'BucketAlreadyOwnedByYou' || c.name === 'BucketAlreadyExists') return;
          last = `creating bucket ${bucket}: ${c.name ?? ''} ${c.message ?? ''}`;
        }
      } else if (e.$metadata?.httpStatusCode === 403) {
        // The gateway answers before it has loaded the identities; a lasting 403 means bad credentials.
        last = `access denied for bucket ${bucket} (${e.name ?? 'AccessDenied'})`;
      } else {
        last = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
      }
    }
    await delay(150);
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s; last answer: ${last}`);
}

/**
 * weed creates unix sockets named after its ports in /tmp (whatever TMPDIR says) and leaves some
 * behind, on SIGKILL all of them; once it is gone, ours are removed.
 */
function removeSockets(ports: SeaweedPorts): void {
  for (const dir of new Set(['/tmp', tmpdir()])) {
    for (const port of Object.values(ports)) {
      for (const kind of ['master-grpc', 'volume-grpc', 'filer-grpc', 's3-grpc', 'admin-grpc', 'filer', 's3', 'volume', 'master', 'admin']) {
        rmSync(join(dir, `seaweedfs-${kind}-${port}.sock`), { force: true });
      }
    }
  }
}

function signal(pid: number, group: boolean, sig: NodeJS.Signals): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    /* already gone */
  }
}

function alive(pidOrGroup: number): boolean {
  try {
    process.kill(pidOrGroup, 0);
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readTail(path: string, from: number): string {
  try {
    return readFileSync(path, 'utf8').slice(from).split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}
