/**
 * Registering a version: the artifact is uploaded FIRST (under a fresh, never-reused key), then one
 * transaction allocates the next version number, inserts the row, writes the audit row and notifies.
 * A failed upload leaves no row; a failed transaction deletes the uploaded object (best effort) and
 * leaves the model exactly as it was (the version number is given back, so there are no gaps).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { ArtifactStore, PutResult } from './artifacts/store';
import { listDirectoryFiles, uploadDirectory } from './directory-artifact';
import { checkActor, recordChange } from './audit';
import type { Db } from './db';
import { setDeployment } from './deployments';
import { NotFoundError, RegistryError, ValidationError } from './errors';
import { ensureModel } from './models';
import type { ArtifactFormat, Lineage, ModelVersion, Signature } from './types';
import {
  checkFormat,
  checkJson,
  checkJsonObject,
  checkMetrics,
  checkModelName,
  checkOptionalText,
  checkTags,
  isPlainObject,
} from './validate';
import { VERSION_COLUMNS, toVersion } from './versions';

/**
 * The bytes of a version's artifact: a file or folder path, a buffer or a stream (streamed, never
 * buffered whole). A folder (e.g. a Hugging Face model) becomes a directory artifact (see directory-artifact.ts).
 */
export type ArtifactSource = { path: string } | { buffer: Buffer | Uint8Array } | { stream: Readable };

export interface RegisterVersionInput {
  model: string;
  artifact: ArtifactSource;
  /** Object name under the version's folder; default: the file's name, or `model.onnx` for onnx. */
  fileName?: string;
  format: ArtifactFormat;
  signature?: Signature;
  metrics?: Record<string, number>;
  tags?: Record<string, string>;
  lineage?: Lineage;
  description?: string;
  /** When given, the upload must hash to this (else nothing is registered). */
  expectedSha256?: string;
  /** Create the model if it does not exist (default false: NotFoundError). */
  createModel?: boolean;
  /** Also make this version the deployment's champion, in the same transaction. */
  champion?: boolean;
  actor: string;
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** `models/<model>/versions/<id>/<file>`: unique per registration, so a retry never overwrites. */
export function versionArtifactKey(model: string, id: string, fileName: string): string {
  return `models/${model}/versions/${id}/${fileName}`;
}

export async function registerVersion(db: Db, store: ArtifactStore, input: RegisterVersionInput): Promise<ModelVersion> {
  // 1. Validate everything before any byte moves.
  checkModelName(input.model);
  checkActor(input.actor);
  const format = checkFormat(input.format);
  const metrics = checkMetrics(input.metrics);
  const tags = checkTags(input.tags);
  const signature = input.signature === undefined ? {} : checkJsonObject(input.signature, 'signature');
  const description = checkOptionalText(input.description, 'description') ?? '';
  const lineage = checkLineage(input.lineage ?? {});
  if (input.expectedSha256 !== undefined && !/^[0-9a-f]{64}$/i.test(input.expectedSha256)) {
    throw new ValidationError('expectedSha256', input.expectedSha256, '64 hexadecimal characters');
  }
  const source = await openSource(input, format);

  // 2. The model must exist (or be created) before the upload, so a typo fails fast and uploads nothing.
  try {
    if (input.createModel) await ensureModel(db, { name: input.model, actor: input.actor });
    else {
      const m = await db.query('SELECT 1 FROM models WHERE name = $1', [input.model]);
      if (m.rows.length === 0) throw new NotFoundError('model', input.model, 'create it first (createModel, or pass createModel: true)');
    }
  } catch (err) {
    if (source.layout === 'file') destroy(source.body);
    throw err;
  }

  // 3. Upload first.
  const id = randomUUID();
  const uploaded: string[] = [];
  let put: PutResult;
  let size: number;
  const where =
    source.layout === 'file' ? versionArtifactKey(input.model, id, source.fileName) : `models/${input.model}/versions/${id}/ (${source.files.length} files)`;
  try {
    if (source.layout === 'file') {
      const key = versionArtifactKey(input.model, id, source.fileName);
      uploaded.push(key);
      put = await store.put(key, source.body, { contentType: format === 'onnx' ? 'application/octet-stream' : undefined });
      size = put.size;
    } else {
      ({ manifest: put, size } = await uploadDirectory(store, `models/${input.model}/versions/${id}`, source.root, source.files, uploaded));
    }
  } catch (err) {
    await deleteAll(store, uploaded);
    throw new RegistryError(`uploading the artifact of a new ${input.model} version to ${where} failed, nothing was registered: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    if (input.expectedSha256 !== undefined && put.sha256 !== input.expectedSha256.toLowerCase()) {
      throw new ValidationError('expectedSha256', input.expectedSha256, `the sha256 of the uploaded bytes (${put.sha256})`);
    }
    // 4. Then the row, in one transaction.
    return await db.transaction(async (tx) => {
      const alloc = await tx.query<{ latest_version: number }>(
        'UPDATE models SET latest_version = latest_version + 1 WHERE name = $1 RETURNING latest_version',
        [input.model],
      );
      if (alloc.rows.length === 0) throw new NotFoundError('model', input.model);
      const version = alloc.rows[0].latest_version;
      const { rows } = await tx.query(
        `INSERT INTO model_versions (model, version, id, artifact_uri, sha256, size, format, signature, metrics, tags,
           description, run_id, workflow_id, config_hash, dataset_manifest, code_commit, created_by, artifact_layout)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb, $11, $12, $13, $14, $15::jsonb, $16, $17, $18)
         RETURNING ${VERSION_COLUMNS}`,
        [
          input.model,
          version,
          id,
          put.uri,
          put.sha256,
          size,
          format,
          JSON.stringify(signature),
          JSON.stringify(metrics),
          JSON.stringify(tags),
          description,
          lineage.runId,
          lineage.workflowId,
          lineage.configHash,
          lineage.datasetManifest === null ? null : JSON.stringify(lineage.datasetManifest),
          lineage.codeCommit,
          input.actor,
          source.layout,
        ],
      );
      const registered = toVersion(rows[0]);
      await recordChange(
        tx,
        {
          actor: input.actor,
          action: 'version.register',
          entity: 'version',
          model: input.model,
          entityKey: `${input.model}/${version}`,
          before: null,
          after: { ...registered, signature: undefined },
        },
        { entity: 'version', action: 'version.register', model: input.model, version, status: registered.status },
      );
      if (input.champion) {
        await setDeployment(tx, { model: input.model, championVersion: version, actor: input.actor, reason: 'registered as champion' });
        return { ...registered, status: 'champion' as const };
      }
      return registered;
    });
  } catch (err) {
    await deleteAll(store, uploaded);
    throw err;
  }
}

/** Best-effort removal of what an abandoned registration uploaded. */
async function deleteAll(store: ArtifactStore, keys: string[]): Promise<void> {
  for (const key of keys.reverse()) await store.delete(key).catch(() => undefined);
}

function checkLineage(l: Lineage): Required<Lineage> {
  if (!isPlainObject(l)) throw new ValidationError('lineage', l, '{ runId?, workflowId?, configHash?, datasetManifest?, codeCommit? }');
  return {
    runId: checkOptionalText(l.runId, 'lineage.runId', 500),
    workflowId: checkOptionalText(l.workflowId, 'lineage.workflowId', 500),
    configHash: checkOptionalText(l.configHash, 'lineage.configHash', 200),
    datasetManifest: l.datasetManifest === undefined || l.datasetManifest === null ? null : checkJson(l.datasetManifest, 'lineage.datasetManifest'),
    codeCommit: checkOptionalText(l.codeCommit, 'lineage.codeCommit', 200),
  };
}

type Source =
  | { layout: 'file'; body: Readable | Buffer | Uint8Array; fileName: string }
  | { layout: 'directory'; root: string; files: string[] };

async function openSource(input: RegisterVersionInput, format: ArtifactFormat): Promise<Source> {
  const src = input.artifact as Record<string, unknown>;
  if (!isPlainObject(src)) throw new ValidationError('artifact', src, '{ path } or { buffer } or { stream }');
  let defaultName = format === 'onnx' ? 'model.onnx' : undefined;
  let body: Readable | Buffer | Uint8Array;
  if (typeof src.path === 'string') {
    const st = await stat(src.path).catch(() => null);
    if (!st) throw new ValidationError('artifact.path', src.path, 'an existing file or folder');
    if (st.isDirectory()) return { layout: 'directory', root: src.path, files: await listDirectoryFiles(src.path) };
    if (!st.isFile()) throw new ValidationError('artifact.path', src.path, 'a regular file or a folder');
    defaultName = basename(src.path);
    body = createReadStream(src.path);
  } else if (Buffer.isBuffer(src.buffer) || src.buffer instanceof Uint8Array) {
    body = src.buffer;
  } else if (src.stream && typeof (src.stream as Readable).pipe === 'function') {
    body = src.stream as Readable;
  } else {
    throw new ValidationError('artifact', src, '{ path: string } or { buffer: Buffer } or { stream: Readable }');
  }
  const fileName = input.fileName ?? defaultName;
  if (typeof fileName !== 'string' || !FILE_NAME.test(fileName)) {
    destroy(body);
    throw new ValidationError('fileName', fileName, 'a file name of letters, digits, ".", "_" or "-" (required for an hf artifact given as a buffer or stream)');
  }
  return { layout: 'file', body, fileName };
}

function destroy(body: unknown): void {
  if (body && typeof (body as Readable).destroy === 'function') (body as Readable).destroy();
}
