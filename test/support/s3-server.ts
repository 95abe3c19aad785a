/**
 * The one SeaweedFS of a Jest run (started by global-setup, stopped by global-teardown), or an S3
 * service given from outside: set AUTOPILOT_TEST_S3_ENDPOINT (+ _ACCESS_KEY, _SECRET_KEY, _BUCKET,
 * optionally _REGION and _FORCE_PATH_STYLE) to run the integration tests against MinIO or AWS instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSeaweed, type SeaweedHandle } from '../../cli/dev/seaweed';

export const TEST_S3_ENV = {
  endpoint: 'AUTOPILOT_TEST_S3_ENDPOINT',
  accessKey: 'AUTOPILOT_TEST_S3_ACCESS_KEY',
  secretKey: 'AUTOPILOT_TEST_S3_SECRET_KEY',
  bucket: 'AUTOPILOT_TEST_S3_BUCKET',
  region: 'AUTOPILOT_TEST_S3_REGION',
  forcePathStyle: 'AUTOPILOT_TEST_S3_FORCE_PATH_STYLE',
} as const;

interface Running {
  handle: SeaweedHandle;
  dir: string;
}

const KEY = Symbol.for('autopilot.test.seaweedfs');
type WithRunning = typeof globalThis & { [KEY]?: Running };

/** Starts SeaweedFS in a temp dir on free ports and exports its endpoint and credentials to process.env. */
export async function startTestS3(): Promise<void> {
  if (process.env[TEST_S3_ENV.endpoint]) return; // an S3 service given from outside
  const dir = mkdtempSync(join(tmpdir(), 'autopilot-test-s3-'));
  const accessKey = 'autopilot-test';
  const secretKey = `secret-${process.pid}-${Date.now()}`;
  const bucket = 'autopilot-test';
  const handle = await startSeaweed({ dataDir: dir, accessKey, secretKey, bucket, logFile: join(dir, 'weed.log') });
  (globalThis as WithRunning)[KEY] = { handle, dir };
  process.env[TEST_S3_ENV.endpoint] = handle.endpoint;
  process.env[TEST_S3_ENV.accessKey] = accessKey;
  process.env[TEST_S3_ENV.secretKey] = secretKey;
  process.env[TEST_S3_ENV.bucket] = bucket;
  process.env[TEST_S3_ENV.region] = 'us-east-1';
  process.env[TEST_S3_ENV.forcePathStyle] = 'true';
}

/** Stops the SeaweedFS that startTestS3 started (its data is throw-away, so it is killed) and removes its dir. */
export async function stopTestS3(): Promise<void> {
  const g = globalThis as WithRunning;
  const running = g[KEY];
  if (!running) return;
  delete g[KEY];
  await running.handle.stop({ force: true });
  rmSync(running.dir, { recursive: true, force: true });
}
