/** What only the filesystem store does (the shared behaviour is in store.int.test.ts). */
import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from './fs';

let root: string;
let store: FsArtifactStore;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'autopilot-fs-unit-'));
  store = new FsArtifactStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('objects sit at their key; checksum records live in a hidden tree the listing never shows', async () => {
  await store.put('models/m/1/model.onnx', 'w');
  expect(readdirSync(root).sort()).toEqual(['.autopilot', 'models']);
  expect(readdirSync(join(root, 'models/m/1'))).toEqual(['model.onnx']);
  expect((await store.list('')).map((o) => o.key)).toEqual(['models/m/1/model.onnx']);
});

test('an object without its checksum record (a write interrupted before its commit) is invisible', async () => {
  writeFileSync(join(root, 'stray.bin'), 'not committed'); // bytes without a record
  expect(await store.head('stray.bin')).toBeNull();
  expect(await store.list('')).toEqual([]);
  await expect(store.getBuffer('stray.bin')).rejects.toThrow(`artifact "stray.bin" not found in ${root}`);

  await store.put('gone.bin', 'x');
  unlinkSync(store.objectPath('gone.bin')); // record without bytes
  expect(await store.head('gone.bin')).toBeNull();
  await expect(store.getBuffer('gone.bin')).rejects.toThrow(`artifact "gone.bin" not found in ${root}`);
});

test('a key that needs an existing object as a directory gets an error naming both', async () => {
  await store.put('a/b', 'file');
  await expect(store.put('a/b/c', 'x')).rejects.toThrow(
    `writing artifact "a/b/c" to ${root} failed: artifact key "a/b/c" needs directory ${join(root, 'a/b')}, but a part of that path is an existing object`,
  );
  expect((await store.getBuffer('a/b')).toString()).toBe('file');
});

test('delete removes the emptied directories of both trees', async () => {
  await store.put('x/y/z.bin', 'z');
  await store.delete('x/y/z.bin');
  expect(readdirSync(root)).toEqual(['.autopilot']);
  expect(readdirSync(join(root, '.autopilot/meta'))).toEqual([]);
});

test('URIs map back to keys; foreign ones are refused by name', async () => {
  const { uri } = await store.put('k/v.txt', 'v');
  expect(uri).toBe(`file://${root}/k/v.txt`);
  expect(store.keyFromUri(uri)).toBe('k/v.txt');
  expect(() => store.keyFromUri('file:///etc/passwd')).toThrow(`artifact URI "file:///etc/passwd" is outside the store at ${root}`);
  expect(() => store.keyFromUri('s3://b/k')).toThrow(`artifact URI "s3://b/k" is not a file:// URI of the store at ${root}`);
  expect(() => new FsArtifactStore('relative/dir')).toThrow('filesystem artifact root "relative/dir" must be an absolute path');
});
