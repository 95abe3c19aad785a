/** Reading a version's artifact back, verified against the sha256 recorded at registration. */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from './artifacts/store';
import type { Db } from './db';
import { downloadDirectory } from './directory-artifact';
import { ValidationError } from './errors';
import type { ModelVersion } from './types';
import { getVersion } from './versions';

/** A stream of the version's bytes that errors (naming the key) if they do not match the registered sha256. */
export async function openVersionArtifact(db: Db, store: ArtifactStore, model: string, version: number): Promise<{ version: ModelVersion; stream: Readable }> {
  const v = await getVersion(db, model, version);
  if (v.artifactLayout === 'directory') {
    throw new ValidationError('version', `${model}/${version}`, 'a single-file artifact (this one is a folder: use downloadVersion / `autopilot models download` to get it)');
  }
  const key = store.keyFromUri(v.artifactUri);
  const stream = await store.getStream(key, { expectedSha256: v.sha256 });
  return { version: v, stream };
}

/**
 * Writes the version's artifact to `outPath` (a folder artifact becomes a new folder there) through a temporary file beside it, renamed into place
 * only once the checksum matched: a failed download leaves no partial file at `outPath`.
 */
export async function downloadVersion(
  db: Db,
  store: ArtifactStore,
  model: string,
  version: number,
  outPath: string,
): Promise<{ version: ModelVersion; path: string; bytes: number }> {
  const dir = await getVersion(db, model, version);
  if (dir.artifactLayout === 'directory') {
    const bytes = await downloadDirectory(store, dir.artifactUri, dir.sha256, outPath);
    return { version: dir, path: outPath, bytes };
  }
  const { version: v, stream } = await openVersionArtifact(db, store, model, version);
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${randomUUID()}.part`);
  try {
    await pipeline(stream, createWriteStream(tmp, { flags: 'wx' }));
    await rename(tmp, outPath);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { version: v, path: outPath, bytes: v.size };
}
