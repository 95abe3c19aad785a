/**
 * startSeaweed on its own: a second SeaweedFS beside the one the test run already uses (every port
 * free, so they do not collide), its bucket ready, only our identity let in, and nothing left after stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client } from '../../registry/artifacts/s3';
import { testS3Settings } from '../../test/support/s3';
import { startSeaweed, type SeaweedHandle } from './seaweed';

let dir: string;
let weed: SeaweedHandle | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'autopilot-seaweed-test-'));
});
afterAll(async () => {
  await weed?.stop({ force: true });
  rmSync(dir, { recursive: true, force: true });
});

const creds = { accessKey: 'ak-test', secretKey: 'sk-test' };
const settings = (endpoint: string, secretAccessKey = creds.secretKey) => ({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  accessKeyId: creds.accessKey,
  secretAccessKey,
});

test('starts beside another instance with its own ports, its bucket ready, and stops completely', async () => {
  weed = await startSeaweed({ dataDir: join(dir, 'weed'), ...creds, bucket: 'side-bucket', logFile: join(dir, 'weed.log') });
  const other = new URL(testS3Settings().endpoint!).port;
  expect(new URL(weed.endpoint).hostname).toBe('127.0.0.1');
  const ports = Object.values(weed.ports);
  expect(new Set(ports).size).toBe(ports.length);
  expect(ports).not.toContain(Number(other));

  const client = createS3Client(settings(weed.endpoint));
  await expect(client.send(new HeadBucketCommand({ Bucket: 'side-bucket' }))).resolves.toBeDefined();
  const wrong = createS3Client(settings(weed.endpoint, 'wrong'));
  await expect(wrong.send(new ListObjectsV2Command({ Bucket: 'side-bucket' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
  // Anonymous requests are denied once an identity is configured.
  expect((await fetch(`${weed.endpoint}/side-bucket?list-type=2`)).status).toBe(403);
  expect((await fetch(`${weed.endpoint}/side-bucket/x`, { method: 'PUT', body: 'x' })).status).toBe(403);
  client.destroy();
  wrong.destroy();

  const pid = weed.pid;
  await weed.stop();
  weed = undefined;
  expect(() => process.kill(pid, 0)).toThrow(); // gone
});

test('a taken S3 port is refused before anything is spawned', async () => {
  const taken = Number(new URL(testS3Settings().endpoint!).port);
  await expect(
    startSeaweed({ dataDir: join(dir, 'taken'), s3Port: taken, ...creds, bucket: 'b1b', logFile: join(dir, 'taken.log') }),
  ).rejects.toThrow(`S3 port ${taken} on 127.0.0.1 is already in use: stop what listens there or choose another port`);
});
