/**
 * Directory artifacts (e.g. a Hugging Face model folder): every regular file is uploaded under
 * `<prefix>/files/<relative path>`, then `<prefix>/manifest.json` listing each file's sha256 and size
 * is written LAST. The manifest is the version's artifact: its sha256 pins every file's.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore, PutResult } from './artifacts/store';
import { ValidationError } from './errors';
import type { ArtifactManifest } from './types';

/** Regular files under `root`, as sorted '/'-separated relative paths (symlinks and specials refused). */
export async function listDirectoryFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path, relPath);
      else if (entry.isFile()) out.push(relPath);
      else throw new ValidationError('artifact.path', path, 'regular files and folders only (no symlinks, sockets or devices) in a directory artifact');
    }
  };
  await walk(root, '');
  if (out.length === 0) throw new ValidationError('artifact.path', root, 'a folder with at least one file');
  return out.sort();
}

/**
 * Uploads the files, then the manifest. `uploaded` receives every key written (so the caller can
 * delete them if anything later fails). Returns the manifest's put result and the total size.
 */
export async function uploadDirectory(
  store: ArtifactStore,
  prefix: string,
  root: string,
  files: string[],
  uploaded: string[],
): Promise<{ manifest: PutResult; size: number }> {
  const manifest: ArtifactManifest = { layout: 'directory', files: [] };
  let size = 0;
  for (const rel of files) {
    const key = `${prefix}/files/${rel}`;
    uploaded.push(key);
    const put = await store.put(key, createReadStream(join(root, ...rel.split('/'))));
    manifest.files.push({ path: rel, sha256: put.sha256, size: put.size });
    size += put.size;
  }
  const key = `${prefix}/manifest.json`;
  uploaded.push(key);
  const put = await store.put(key, Buffer.from(JSON.stringify(manifest, null, 2)), { contentType: 'application/json' });
  return { manifest: put, size };
}

/** Reads and checks the manifest of a directory artifact (verified against the version's sha256). */
export async function readManifest(store: ArtifactStore, manifestUri: string, sha256: string): Promise<{ key: string; manifest: ArtifactManifest }> {
  const key = store.keyFromUri(manifestUri);
  const manifest = JSON.parse((await store.getBuffer(key, { expectedSha256: sha256 })).toString('utf8')) as ArtifactManifest;
  if (manifest.layout !== 'directory' || !Array.isArray(manifest.files)) {
    throw new ValidationError('manifest', key, '{ layout: "directory", files: [...] }');
  }
  return { key, manifest };
}

/**
 * Downloads every file of a directory artifact into `outDir` (which must not exist), each verified
 * against the manifest, through a temporary folder renamed into place at the end.
 */
export async function downloadDirectory(store: ArtifactStore, manifestUri: string, sha256: string, outDir: string): Promise<number> {
  if (await lstat(outDir).catch(() => null)) throw new ValidationError('out', outDir, 'a path that does not exist yet (a directory artifact is written as a new folder)');
  const { key, manifest } = await readManifest(store, manifestUri, sha256);
  const prefix = key.slice(0, -'manifest.json'.length);
  const tmp = join(dirname(outDir), `.${basename(outDir)}.${randomUUID()}.part`);
  let bytes = 0;
  try {
    for (const f of manifest.files) {
      if (f.path.split('/').some((s) => s === '' || s === '.' || s === '..') || f.path.includes('\\')) {
        throw new ValidationError('manifest file path', f.path, 'a relative path inside the artifact');
      }
      const target = join(tmp, ...f.path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await pipeline(await store.getStream(`${prefix}files/${f.path}`, { expectedSha256: f.sha256 }), createWriteStream(target, { flags: 'wx' }));
      bytes += f.size;
    }
    await rename(tmp, outDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return bytes;
}
