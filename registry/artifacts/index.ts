/**
 * The artifact store's entry point: pick the implementation from a URI.
 *   file:///abs/dir        → FsArtifactStore (the embedded default, `.data/artifacts`)
 *   s3://bucket[/prefix]   → S3ArtifactStore (SeaweedFS here; AWS S3 or MinIO in production)
 */
import { loadSettings, type Settings } from '../../config/settings';
import { FsArtifactStore } from './fs';
import { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3';
import type { ArtifactStore } from './store';

export type { ArtifactStore, ObjectInfo, PutResult } from './store';
export { ArtifactChecksumError, ArtifactNotFoundError, InvalidArtifactKeyError } from './errors';
export { validateKey, validatePrefix } from './keys';
export { FsArtifactStore } from './fs';
export { S3ArtifactStore, createS3Client, parseS3Uri, type S3ArtifactStoreOptions } from './s3';

/**
 * The store for `uri`. S3 stores use `s3Settings` (endpoint, region, path-style, credentials),
 * by default those of loadSettings(); `s3Options` tunes part sizes and concurrency.
 */
export function createArtifactStore(
  uri: string,
  s3Settings?: Settings['s3'],
  s3Options: Partial<Omit<S3ArtifactStoreOptions, 'bucket' | 'prefix'>> = {},
): ArtifactStore {
  if (uri.startsWith('file://')) return FsArtifactStore.fromUri(uri);
  if (uri.startsWith('s3://')) return S3ArtifactStore.fromUri(uri, s3Settings ?? loadSettings().s3, s3Options);
  throw new Error(`artifact URI ${JSON.stringify(uri)} has an unknown scheme; expected file:///absolute/dir or s3://bucket[/prefix]`);
}
