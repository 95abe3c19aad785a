/**
 * Fetches model artifacts, verified, with a local content-addressed cache of last-known-good bytes.
 *
 * `fetch(uri, sha256)` returns bytes whose sha256 is `sha256`, or throws. It looks in
 * `<dir>/<sha256>.onnx` first (re-hashed on every read, so a damaged cache file is dropped, never
 * served), then reads the artifact store (which verifies too) and hashes again before writing the cache
 * file (temporary name, then rename). Because the cache is keyed by content, the server can start and
 * serve from it while the store or the registry is unreachable.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ArtifactChecksumError } from '../../registry/artifacts/errors';
import type { ArtifactStore } from '../../registry/artifacts/store';

export class ArtifactIntegrityError extends Error {
  constructor(readonly uri: string, readonly expected: string, readonly actual: string) {
    super(`artifact ${uri} is corrupted: its sha256 is ${actual}, the registry says ${expected}; refusing to load it`);
    this.name = 'ArtifactIntegrityError';
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface FetchedArtifact {
  bytes: Buffer;
  source: 'cache' | 'store';
}

export class ArtifactCache {
  constructor(
    readonly dir: string,
    private readonly store: ArtifactStore | null,
  ) {}

  private path(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`sha256 must be 64 lower-case hex digits, got ${JSON.stringify(sha256)}`);
    return join(this.dir, `${sha256}.onnx`);
  }

  async fetch(uri: string, sha256: string): Promise<FetchedArtifact> {
    const file = this.path(sha256);
    try {
      const cached = await fs.readFile(file);
      if (sha256Hex(cached) === sha256) return { bytes: cached, source: 'cache' };
      await fs.rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (this.store === null) throw new Error(`artifact ${uri} is not in the local cache ${this.dir} and no artifact store is configured`);
    let bytes: Buffer;
    try {
      bytes = await this.store.getBuffer(this.store.keyFromUri(uri), { expectedSha256: sha256 });
    } catch (err) {
      if (err instanceof ArtifactChecksumError) throw new ArtifactIntegrityError(uri, sha256, err.actualSha256);
      throw err;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new ArtifactIntegrityError(uri, sha256, actual);
    await fs.mkdir(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
    return { bytes, source: 'store' };
  }
}
