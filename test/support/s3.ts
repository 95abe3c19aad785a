/**
 * S3 for integration tests: the SeaweedFS that global-setup started for this Jest run (or the S3
 * service given by AUTOPILOT_TEST_S3_*). Each test file works under its own prefix or bucket so
 * parallel Jest workers never see each other's objects.
 *
 *   const store = testS3Store('artifacts');              // S3ArtifactStore under a unique prefix
 *   const bucket = await createTestBucket('registry');   // a fresh bucket, if a test needs one
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../../config/settings';
import { S3ArtifactStore, createS3Client, type S3ArtifactStoreOptions } from '../../registry/artifacts/s3';
import { TEST_S3_ENV } from './s3-server';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: S3 integration tests need the SeaweedFS that test/support/global-setup.ts starts ` +
        '(run them through the jest "integration" project), or an S3 service given by AUTOPILOT_TEST_S3_ENDPOINT and friends',
    );
  }
  return value;
}

/** S3 settings (endpoint, credentials, path-style) of the test S3 service, shaped like Settings['s3']. */
export function testS3Settings(): Settings['s3'] {
  return {
    endpoint: requireEnv(TEST_S3_ENV.endpoint),
    region: process.env[TEST_S3_ENV.region] ?? 'us-east-1',
    forcePathStyle: (process.env[TEST_S3_ENV.forcePathStyle] ?? 'true') !== 'false',
    accessKeyId: requireEnv(TEST_S3_ENV.accessKey),
    secretAccessKey: requireEnv(TEST_S3_ENV.secretKey),
  };
}

/** The bucket global-setup created (shared by all test files: use a unique prefix in it). */
export function testS3Bucket(): string {
  return requireEnv(TEST_S3_ENV.bucket);
}

/** A client on the test S3 service (destroy it in afterAll). */
export function testS3Client(): S3Client {
  return createS3Client(testS3Settings());
}

/** A key prefix no other test uses: `test/<label>-<hex>`. */
export function uniquePrefix(label: string): string {
  return `test/${label.replace(/[^a-zA-Z0-9._-]/g, '-')}-${randomBytes(6).toString('hex')}`;
}

/** An S3ArtifactStore on the shared test bucket under a fresh prefix (or in `bucket`). */
export function testS3Store(label: string, opts: Partial<S3ArtifactStoreOptions> = {}): S3ArtifactStore {
  return new S3ArtifactStore({
    bucket: testS3Bucket(),
    prefix: uniquePrefix(label),
    client: opts.client ?? testS3Client(),
    ...opts,
  });
}

/** Creates a fresh, empty bucket `ap-<label>-<hex>` and returns its name. */
export async function createTestBucket(label: string): Promise<string> {
  const name = `ap-${label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30)}-${randomBytes(4).toString('hex')}`;
  const client = testS3Client();
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}
