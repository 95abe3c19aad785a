/**
 * One specification, two stores: everything here runs against the filesystem store and against the
 * S3 store on the SeaweedFS that the integration globalSetup started.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { projectRoot, type Settings } from '../../config/settings';
import { generatedBytes } from '../../test/support/generated-bytes';
import { testS3Bucket, testS3Client, testS3Settings, uniquePrefix } from '../../test/support/s3';
import { ArtifactChecksumError, ArtifactNotFoundError, InvalidArtifactKeyError, createArtifactStore } from './index';
import { FsArtifactStore } from './fs';
import { S3ArtifactStore } from './s3';
import type { ArtifactStore } from './store';

const MiB = 1024 * 1024;
const execFileAsync = promisify(execFile);
const REGISTER_TS = join(projectRoot, 'scripts/register-ts.js');
const MEMORY_PROBE = join(projectRoot, 'test/support/artifact-memory-probe.ts');


/** What the suite needs from each store: the store, a way to damage an object behind its back, and a look at raw storage. */
interface Harness {
  store: ArtifactStore;
  /** How another process opens the same store (createArtifactStore arguments). */
  spec: { uri: string; s3?: Settings['s3']; s3Options?: { partSize: number; queueSize: number } };
  /** The store as the factory builds it from its URI. */
  reopen(): ArtifactStore;
  /** Replaces the stored bytes of `key` without going through the store (checksum record untouched). */
  corrupt(key: string, bytes: Buffer): Promise<void>;
  /** Every name in raw storage under the store's root (temporary files included). */
  rawNames(): Promise<string[]>;
  /** Multipart uploads still open (S3 only; [] for the filesystem). */
  openUploads(): Promise<string[]>;
  close(): Promise<void>;
}

function fsHarness(): Harness {
  const root = mkdtempSync(join(tmpdir(), 'autopilot-fs-store-'));
  const store = new FsArtifactStore(root);
  return {
    store,
    spec: { uri: `file://${root}` },
    reopen: () => createArtifactStore(`file://${root}`),
    corrupt: async (key, bytes) => writeFileSync(store.objectPath(key), bytes),
    rawNames: async () => readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((p) => !p.startsWith('.autopilot/meta') && p !== '.autopilot'),
    openUploads: async () => [],
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
}

function s3Harness(): Harness {
  const client: S3Client = testS3Client();
  const bucket = testS3Bucket();
  const prefix = uniquePrefix('artifact-store');
  // 5 MiB parts keep the multipart path busy even for the 20 MiB failure case.
  const s3Options = { partSize: 5 * MiB, queueSize: 2 };
  const store = new S3ArtifactStore({ bucket, prefix, client, ...s3Options });
  return {
    store,
    spec: { uri: `s3://${bucket}/${prefix}`, s3: testS3Settings(), s3Options },
    reopen: () => createArtifactStore(`s3://${bucket}/${prefix}`, testS3Settings()),
    corrupt: async (key, bytes) => {
      const { Metadata } = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: store.objectKey(key) }));
      // The same metadata (recorded sha256 and size) over different bytes, as a bad disk or a stray writer would leave it.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: store.objectKey(key), Body: bytes, Metadata }));
    },
    rawNames: async () => {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
        for (const o of res.Contents ?? []) names.push(o.Key!.slice(prefix.length + 1));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return names;
    },
    openUploads: async () => {
      const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
      return (res.Uploads ?? []).map((u) => u.Key!);
    },
    close: async () => client.destroy(),
  };
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const generated = (size: number) => generatedBytes(size);

/** A body that sends `before` bytes and then fails, like a dropped connection. */
function failingAfter(before: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= before) return void this.destroy(new Error('source connection reset'));
      const len = Math.min(MiB, before - sent);
      sent += len;
      this.push(randomBytes(len));
    },
  });
}

/** Hashes a stream without keeping it. */
async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb();
      },
    }),
  );
  return { sha256: hash.digest('hex'), size };
}

const INVALID_KEYS: [label: string, key: string, reason: string][] = [
  ['path traversal', '../../etc/passwd', "it has a '..' segment"],
  ['traversal in the middle', 'models/../../escape', "it has a '..' segment"],
  ['absolute path', '/etc/passwd', 'it is an absolute path'],
  ['drive letter', 'C:/Windows/win.ini', 'it is an absolute path'],
  ['empty key', '', 'it is empty'],
  ['empty segment', 'models//model.onnx', 'it has an empty segment'],
  ['trailing slash', 'models/ppo/', 'it has an empty segment'],
  ["'.' segment", 'models/./model.onnx', "it has a '.' segment"],
  ['backslash', 'models\\model.onnx', 'it contains a backslash'],
  ['control character', 'models/model\n.onnx', 'it contains a control character'],
  ['NUL byte', 'models/model\u0000.onnx', 'it contains a control character'],
  ['reserved segment', 'models/.autopilot-tmp-x', 'its segment ".autopilot-tmp-x" starts with the reserved prefix ".autopilot"'],
  ['over 1024 bytes', `m/${'x'.repeat(1023)}`, 'it is longer than 1024 bytes'],
];

describe.each([
  ['filesystem', fsHarness],
  ['s3 (SeaweedFS)', s3Harness],
])('artifact store: %s', (_name, makeHarness) => {
  let h: Harness;
  beforeAll(() => {
    h = makeHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  test('round-trips buffers, strings and streams with their sha256 and size', async () => {
    const bytes = randomBytes(100_000);
    const a = await h.store.put('models/ppo/1/model.onnx', bytes, { contentType: 'application/octet-stream' });
    expect(a).toEqual({ key: 'models/ppo/1/model.onnx', uri: expect.stringMatching(/^(file|s3):\/\//), sha256: sha256(bytes), size: 100_000 });
    expect((await h.store.getBuffer('models/ppo/1/model.onnx')).equals(bytes)).toBe(true);

    const b = await h.store.put('reports/run-1.json', '{"reward": 0.5}');
    expect(b.sha256).toBe(sha256('{"reward": 0.5}'));
    expect((await h.store.getBuffer('reports/run-1.json', { expectedSha256: b.sha256 })).toString()).toBe('{"reward": 0.5}');

    const gen = generated(3 * MiB + 4);
    const c = await h.store.put('datasets/d1/part-0', gen.stream);
    expect(c.sha256).toBe(gen.digest());
    expect(await hashStream(await h.store.getStream('datasets/d1/part-0'))).toEqual({ sha256: c.sha256, size: 3 * MiB + 4 });

    const empty = await h.store.put('empty/file', Buffer.alloc(0));
    expect(empty.size).toBe(0);
    expect((await h.store.getBuffer('empty/file')).length).toBe(0);

    // The URI names the object: the store maps it back, and a store built from the store's URI by the factory reads it.
    expect(h.store.keyFromUri(a.uri)).toBe('models/ppo/1/model.onnx');
    const reopened = h.reopen();
    expect(reopened.scheme).toBe(h.store.scheme);
    expect((await reopened.getBuffer('models/ppo/1/model.onnx')).equals(bytes)).toBe(true);
  });

  test('overwriting a key replaces the object and its checksum', async () => {
    await h.store.put('aliases/champion.json', 'v1');
    const second = await h.store.put('aliases/champion.json', 'version two');
    expect((await h.store.getBuffer('aliases/champion.json')).toString()).toBe('version two');
    expect(await h.store.head('aliases/champion.json')).toMatchObject({ sha256: second.sha256, size: 11 });
  });

  test('list, head and delete', async () => {
    for (const key of ['list/a/1', 'list/a/2', 'list/ab/1', 'list/b/1']) await h.store.put(key, key);
    const keys = async (prefix: string) => (await h.store.list(prefix)).map((o) => o.key);
    expect(await keys('list/a/')).toEqual(['list/a/1', 'list/a/2']);
    expect(await keys('list/a')).toEqual(['list/a/1', 'list/a/2', 'list/ab/1']);
    expect(await keys('list/')).toEqual(['list/a/1', 'list/a/2', 'list/ab/1', 'list/b/1']);
    expect(await keys('list/nothing-here/')).toEqual([]);
    const listed = await h.store.list('list/b/');
    expect(listed).toEqual([{ key: 'list/b/1', uri: expect.any(String), size: 8, sha256: sha256('list/b/1') }]);

    expect(await h.store.head('list/a/1')).toEqual({ key: 'list/a/1', uri: expect.any(String), size: 8, sha256: sha256('list/a/1') });
    expect(await h.store.head('list/a/3')).toBeNull();

    await h.store.delete('list/a/1');
    expect(await h.store.head('list/a/1')).toBeNull();
    expect(await keys('list/a/')).toEqual(['list/a/2']);
    await expect(h.store.getStream('list/a/1')).rejects.toThrow(ArtifactNotFoundError);
    await expect(h.store.getBuffer('list/a/1')).rejects.toThrow(/artifact "list\/a\/1" not found in /);
    await expect(h.store.delete('list/a/1')).resolves.toBeUndefined(); // deleting what is gone is a no-op
    expect(await keys('list/')).toEqual(['list/a/2', 'list/ab/1', 'list/b/1']);
  });

  test('a corrupted object fails its checksum with an error naming the key and both hashes', async () => {
    const good = Buffer.from('the weights of version 7'.repeat(1000));
    const put = await h.store.put('models/ppo/7/model.onnx', good);
    const bad = Buffer.from(good);
    bad[1234] ^= 0xff; // one flipped byte, same length
    await h.corrupt('models/ppo/7/model.onnx', bad);

    const err = await h.store.getBuffer('models/ppo/7/model.onnx').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactChecksumError);
    expect((err as Error).message).toBe(
      `artifact "models/ppo/7/model.onnx" failed its checksum: expected sha256 ${put.sha256}, got ${sha256(bad)}; ` +
        `${bad.length} bytes read (the stored object is corrupt or was changed outside the store)`,
    );
    // A streaming reader sees the same error when the stream ends.
    await expect(hashStream(await h.store.getStream('models/ppo/7/model.onnx'))).rejects.toThrow(ArtifactChecksumError);

    // A truncated object names both sizes.
    await h.corrupt('models/ppo/7/model.onnx', good.subarray(0, 100));
    await expect(h.store.getBuffer('models/ppo/7/model.onnx')).rejects.toThrow(`read 100 bytes, expected ${good.length}`);
  });

  test('a read asked to match another sha256 fails, naming the key', async () => {
    await h.store.put('pinned/blob', 'abc');
    const other = sha256('abd');
    await expect(h.store.getBuffer('pinned/blob', { expectedSha256: other })).rejects.toThrow(
      `artifact "pinned/blob" failed its checksum: expected sha256 ${other}, got ${sha256('abc')}`,
    );
    await expect(h.store.getBuffer('pinned/blob', { expectedSha256: 'not-a-hash' })).rejects.toThrow(
      'expectedSha256 for artifact "pinned/blob" is "not-a-hash"; expected 64 hex characters',
    );
  });

  test.each(INVALID_KEYS)('refuses an invalid key (%s) in every operation', async (_label, key, reason) => {
    const message = `invalid artifact key ${JSON.stringify(key)}: ${reason}; expected a relative '/'-separated path such as "models/ppo/3/model.onnx"`;
    await expect(h.store.put(key, 'x')).rejects.toThrow(new InvalidArtifactKeyError(key, reason));
    await expect(h.store.put(key, 'x')).rejects.toThrow(message);
    await expect(h.store.getStream(key)).rejects.toThrow(message);
    await expect(h.store.head(key)).rejects.toThrow(message);
    await expect(h.store.delete(key)).rejects.toThrow(message);
  });

  test('a path-traversal key writes nothing outside the store', async () => {
    const before = await h.store.list('');
    await expect(h.store.put('../outside.txt', 'escaped')).rejects.toThrow(InvalidArtifactKeyError);
    await expect(h.store.list('../')).rejects.toThrow(`invalid artifact key "..": it has a '..' segment`);
    expect(await h.store.list('')).toEqual(before);
    if (h.store instanceof FsArtifactStore) expect(existsSync(join(dirname(h.store.root), 'outside.txt'))).toBe(false);
  });

  test('an upload that fails midway leaves no object, no temporary and no open multipart upload', async () => {
    const before = await h.rawNames();
    const err = await h.store.put('models/broken/1/model.onnx', failingAfter(20 * MiB)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^writing artifact "models\/broken\/1\/model.onnx" to .* failed: .*source connection reset/);
    expect(await h.store.head('models/broken/1/model.onnx')).toBeNull();
    expect((await h.store.list('models/broken/')).map((o) => o.key)).toEqual([]);
    await expect(h.store.getStream('models/broken/1/model.onnx')).rejects.toThrow(ArtifactNotFoundError);
    expect((await h.rawNames()).filter((n) => !before.includes(n) && !/^models(\/broken(\/1)?)?$/.test(n))).toEqual([]);
    expect(await h.openUploads()).toEqual([]);
  });

  test('a 200 MB object round-trips as a stream with flat memory', async () => {
    // Measured in a process of its own (see test/support/artifact-memory-probe.ts for why).
    const size = 200 * MiB;
    const input = { ...h.spec, key: 'big/200mb.bin', size };
    const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', '-r', REGISTER_TS, MEMORY_PROBE, JSON.stringify(input)], {
      cwd: projectRoot,
      maxBuffer: 1024 * 1024,
    });
    const probe = JSON.parse(stdout.trim().split('\n').pop()!) as {
      expectedSha256: string;
      put: { sha256: string; size: number; rssGrowth: number };
      get: { sha256: string; size: number; rssGrowth: number };
    };
    process.stdout.write(
      `artifact store ${h.store.scheme}: 200 MiB put RSS growth ${(probe.put.rssGrowth / MiB).toFixed(1)} MiB, get ${(probe.get.rssGrowth / MiB).toFixed(1)} MiB\n`,
    );
    expect(probe.put).toMatchObject({ sha256: probe.expectedSha256, size });
    expect(probe.get).toMatchObject({ sha256: probe.expectedSha256, size });
    // Far below the object's size: the store never holds more than a few parts at once.
    expect(probe.put.rssGrowth).toBeLessThan(64 * MiB);
    expect(probe.get.rssGrowth).toBeLessThan(64 * MiB);
    expect(await h.store.head('big/200mb.bin')).toBeNull(); // the probe deleted it
  });
});
