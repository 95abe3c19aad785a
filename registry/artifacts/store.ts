/**
 * The artifact store: where weights, datasets and reports live. Workflow payloads carry only the
 * URIs this returns. Two implementations share this contract (S3 and the local filesystem) and one
 * test suite runs against both.
 *
 * Keys are relative, '/'-separated, without '..' or empty segments. Every object's sha256 is computed
 * while it is written and checked when it is read: a mismatch is an error naming the key.
 */
import type { Readable } from 'node:stream';

export interface PutResult {
  /** Full URI, e.g. `s3://bucket/models/ppo/3/model.onnx` or `file:///abs/path/models/...`. */
  uri: string;
  key: string;
  sha256: string;
  size: number;
}

export interface ObjectInfo {
  key: string;
  uri: string;
  size: number;
  sha256: string;
}

export interface ArtifactStore {
  /** `s3` or `file`. */
  readonly scheme: string;
  /** Streams `body` to `key` (written under a temporary name and committed last). */
  put(key: string, body: Readable | Buffer | Uint8Array | string, opts?: { contentType?: string }): Promise<PutResult>;
  /** A stream of the object's bytes that errors (naming the key) if its sha256 does not match `expectedSha256` (or the stored checksum). */
  getStream(key: string, opts?: { expectedSha256?: string }): Promise<Readable>;
  /** Reads the whole object (small objects only), verified like getStream. */
  getBuffer(key: string, opts?: { expectedSha256?: string }): Promise<Buffer>;
  head(key: string): Promise<ObjectInfo | null>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<ObjectInfo[]>;
  /** The key inside this store for a URI it produced (throws for foreign URIs). */
  keyFromUri(uri: string): string;
}
