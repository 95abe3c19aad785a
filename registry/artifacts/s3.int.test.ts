/**
 * What only the S3 store does (the shared behaviour is in store.int.test.ts): the multipart-copy
 * commit used beyond CopyObject's 5 GiB limit, objects written by others, URIs, bucket-root stores.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createTestBucket, testS3Bucket, testS3Client, testS3Settings, uniquePrefix } from '../../test/support/s3';
import { createArtifactStore } from './index';
import { S3ArtifactStore } from './s3';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

let client: S3Client;
beforeAll(() => {
  client = testS3Client();
});
afterAll(() => client.destroy());

test('objects above copyPartThreshold are committed by a multipart copy and read back intact', async () => {
  // The threshold is lowered so the UploadPartCopy path (used for objects over 5 GiB) runs on 12 MiB.
  const store = new S3ArtifactStore({ bucket: testS3Bucket(), prefix: uniquePrefix('multipart-copy'), client, copyPartThreshold: 6 * MiB, copyPartSize: 5 * MiB });
  const bytes = randomBytes(12 * MiB + 17);
  const put = await store.put('models/big/1/model.onnx', bytes);
  expect(put).toMatchObject({ sha256: sha256(bytes), size: bytes.length });
  expect(await store.head('models/big/1/model.onnx')).toMatchObject({ sha256: sha256(bytes), size: bytes.length });
  expect((await store.getBuffer('models/big/1/model.onnx')).equals(bytes)).toBe(true);
  expect((await store.list('')).map((o) => o.key)).toEqual(['models/big/1/model.onnx']);
});

test('an object not written by the store is invisible to head and list, and a read says why', async () => {
  const store = new S3ArtifactStore({ bucket: testS3Bucket(), prefix: uniquePrefix('foreign'), client });
  await store.put('ours.bin', 'ours');
  await client.send(new PutObjectCommand({ Bucket: store.bucket, Key: store.objectKey('theirs.bin'), Body: 'theirs' }));
  expect(await store.head('theirs.bin')).toBeNull();
  expect((await store.list('')).map((o) => o.key)).toEqual(['ours.bin']);
  await expect(store.getBuffer('theirs.bin')).rejects.toThrow(
    `artifact "theirs.bin" at s3://${store.bucket}/${store.objectKey('theirs.bin')} has no x-amz-meta-sha256 metadata: it was not written by the artifact store, so it cannot be verified`,
  );
  // With a hash given by the caller it can be read and verified.
  expect((await store.getBuffer('theirs.bin', { expectedSha256: sha256('theirs') })).toString()).toBe('theirs');
});

test('a store at the root of a fresh bucket, built by the factory from its URI', async () => {
  const bucket = await createTestBucket('root-store');
  const store = createArtifactStore(`s3://${bucket}`, testS3Settings());
  const put = await store.put('a/b.txt', 'hello');
  expect(put.uri).toBe(`s3://${bucket}/a/b.txt`);
  expect(store.keyFromUri(put.uri)).toBe('a/b.txt');
  expect((await store.list('')).map((o) => o.key)).toEqual(['a/b.txt']);
  expect(() => store.keyFromUri('s3://other-bucket/a/b.txt')).toThrow(
    `artifact URI "s3://other-bucket/a/b.txt" is not inside this store (s3://${bucket}/)`,
  );
  expect(() => store.keyFromUri(`s3://${bucket}/../x`)).toThrow(`invalid artifact key "../x": it has a '..' segment`);
});

test('wrong credentials are refused by the gateway (SeaweedFS does not allow anonymous writes)', async () => {
  const uri = `s3://${testS3Bucket()}/${uniquePrefix('bad-creds')}`;
  const store = createArtifactStore(uri, { ...testS3Settings(), secretAccessKey: 'wrong' });
  const err = (await store.put('x', 'y').catch((e: unknown) => e)) as Error;
  expect(err.message).toMatch(/^writing artifact "x" to s3:\/\/.* failed: The request signature we calculated does not match/);
  expect((err.cause as Error).name).toBe('SignatureDoesNotMatch');
  expect(await createArtifactStore(uri, testS3Settings()).head('x')).toBeNull();
});
