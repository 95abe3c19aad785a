/**
 * The filesystem artifact store, the embedded default (`file:///abs/dir`).
 *
 * Layout under the root directory:
 *   <root>/<key>                      the object's bytes, exactly as written
 *   <root>/.autopilot/meta/<key>      its checksum record: {"sha256", "size", "contentType", "createdAt"}
 *   <dir>/.autopilot-tmp-<uuid>       temporary files of writes in progress (same directory as the target)
 *
 * A put streams the body into a temporary file beside the target while hashing it, fsyncs it, writes
 * the checksum record the same way, then renames the object into place and the record last: the
 * record is the commit. `head`/`list` only see objects with a record, and a read always checks the
 * bytes against it, so an interrupted write is either invisible or a clear error, never silently used.
 * Keys are write-once in practice (the registry versions them); a read racing an overwrite of the
 * same key may report a checksum mismatch.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { type Readable, pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ArtifactNotFoundError } from './errors';
import { RESERVED_SEGMENT_PREFIX, validateKey, validatePrefix } from './keys';
import type { ArtifactStore, ObjectInfo, PutResult } from './store';
import { HashingStream, VerifyingStream, checkSha256Option, readAll, toReadable, type PutBody } from './streams';

const META_DIR = join(`${RESERVED_SEGMENT_PREFIX}`, 'meta');
const TMP_PREFIX = `${RESERVED_SEGMENT_PREFIX}-tmp-`;

interface MetaRecord {
  sha256: string;
  size: number;
  contentType?: string;
  createdAt: string;
}

export class FsArtifactStore implements ArtifactStore {
  readonly scheme = 'file';
  readonly root: string;
  private readonly metaRoot: string;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new Error(`filesystem artifact root ${JSON.stringify(root)} must be an absolute path`);
    this.root = root.length > 1 && root.endsWith(sep) ? root.slice(0, -1) : root;
    this.metaRoot = join(this.root, META_DIR);
  }

  /** The store for a `file:///abs/dir` URI. */
  static fromUri(uri: string): FsArtifactStore {
    if (!uri.startsWith('file://')) throw new Error(`artifact URI ${JSON.stringify(uri)} is not a file:// URI`);
    return new FsArtifactStore(fileURLToPath(uri));
  }

  async put(key: string, body: PutBody, opts: { contentType?: string } = {}): Promise<PutResult> {
    validateKey(key);
    const target = this.objectPath(key);
    const metaTarget = this.metaPath(key);
    const tmp = join(dirname(target), `${TMP_PREFIX}${randomUUID()}`);
    const metaTmp = join(dirname(metaTarget), `${TMP_PREFIX}${randomUUID()}`);
    const source = toReadable(body);
    try {
      await this.makeDirs(key, dirname(target));
      await this.makeDirs(key, dirname(metaTarget));
      const hasher = new HashingStream();
      await pipelineAsync(source, hasher, createWriteStream(tmp, { flags: 'wx' }));
      await syncFile(tmp);
      const sha256 = hasher.digest();
      const record: MetaRecord = { sha256, size: hasher.byteCount, createdAt: new Date().toISOString() };
      if (opts.contentType) record.contentType = opts.contentType;
      await writeSynced(metaTmp, JSON.stringify(record));
      await rename(tmp, target);
      await rename(metaTmp, metaTarget);
      await syncFile(dirname(target));
      await syncFile(dirname(metaTarget));
      return { uri: this.uriFor(key), key, sha256, size: hasher.byteCount };
    } catch (err) {
      source.destroy();
      await removeQuietly(tmp);
      await removeQuietly(metaTmp);
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`writing artifact ${JSON.stringify(key)} to ${this.root} failed: ${message}`, { cause: err });
    }
  }

  async getStream(key: string, opts: { expectedSha256?: string } = {}): Promise<Readable> {
    validateKey(key);
    checkSha256Option(key, opts.expectedSha256);
    const record = await this.readRecord(key);
    if (!record) throw new ArtifactNotFoundError(key, this.root);
    let fh: FileHandle;
    try {
      fh = await open(this.objectPath(key), 'r');
    } catch (err) {
      if (isCode(err, 'ENOENT')) throw new ArtifactNotFoundError(key, this.root);
      throw err;
    }
    const verifier = new VerifyingStream(key, opts.expectedSha256 ?? record.sha256, record.size);
    return pipeline(fh.createReadStream(), verifier, () => undefined);
  }

  async getBuffer(key: string, opts: { expectedSha256?: string } = {}): Promise<Buffer> {
    return readAll(await this.getStream(key, opts));
  }

  async head(key: string): Promise<ObjectInfo | null> {
    validateKey(key);
    const record = await this.readRecord(key);
    if (!record) return null;
    try {
      await stat(this.objectPath(key));
    } catch (err) {
      if (isCode(err, 'ENOENT')) return null;
      throw err;
    }
    return { key, uri: this.uriFor(key), size: record.size, sha256: record.sha256 };
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    // The record goes first: once it is gone the object is invisible, even if unlinking the bytes fails.
    await removeQuietly(this.metaPath(key));
    await removeQuietly(this.objectPath(key));
    await this.pruneEmptyDirs(dirname(this.metaPath(key)), this.metaRoot);
    await this.pruneEmptyDirs(dirname(this.objectPath(key)), this.root);
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) return;
        throw err;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(TMP_PREFIX)) continue;
        const path = join(dir, entry.name);
        const key = relative(this.metaRoot, path).split(sep).join('/');
        if (entry.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || `${key}/`.startsWith(prefix)) await walk(path);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          const info = await this.head(key);
          if (info) out.push(info);
        }
      }
    };
    await walk(baseKey ? join(this.metaRoot, ...baseKey.split('/')) : this.metaRoot);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  keyFromUri(uri: string): string {
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch {
      throw new Error(`artifact URI ${JSON.stringify(uri)} is not a file:// URI of the store at ${this.root}`);
    }
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new Error(`artifact URI ${JSON.stringify(uri)} is outside the store at ${this.root}`);
    }
    return validateKey(rel.split(sep).join('/'));
  }

  /** The file:// URI of a key in this store. */
  uriFor(key: string): string {
    return pathToFileURL(this.objectPath(key)).href;
  }

  /** The absolute path of an object's bytes (for tests and tools; do not write to it directly). */
  objectPath(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  private metaPath(key: string): string {
    return join(this.metaRoot, ...key.split('/'));
  }

  private async readRecord(key: string): Promise<MetaRecord | null> {
    let text: string;
    try {
      text = await readFile(this.metaPath(key), 'utf8');
    } catch (err) {
      if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR') || isCode(err, 'EISDIR')) return null;
      throw err;
    }
    const record = JSON.parse(text) as MetaRecord;
    if (typeof record.sha256 !== 'string' || typeof record.size !== 'number') {
      throw new Error(`checksum record of artifact ${JSON.stringify(key)} at ${this.metaPath(key)} is malformed: ${text.slice(0, 200)}`);
    }
    return record;
  }

  private async makeDirs(key: string, dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      if (isCode(err, 'ENOTDIR') || isCode(err, 'EEXIST')) {
        throw new Error(`artifact key ${JSON.stringify(key)} needs directory ${dir}, but a part of that path is an existing object`, { cause: err });
      }
      throw err;
    }
  }

  private async pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
    while (dir.startsWith(stopAt + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop
      }
      dir = dirname(dir);
    }
  }
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === code;
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isCode(err, 'ENOENT') && !isCode(err, 'ENOTDIR')) throw err;
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync through a fresh descriptor: it flushes the file's (or directory's) data, whoever wrote it. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
