/**
 * Registering a version: the artifact is uploaded FIRST (under a fresh, never-reused key), then one
 * transaction allocates the next version number, inserts the row, writes the audit row and notifies.
 * A failed upload leaves no row; a failed transaction deletes the uploaded object (best effort) and
 * leaves the model exactly as it was (the version number is given back, so there are no gaps).
 *
 * Idempotency (R-REGISTRY, R-OPS-ORCHESTRATION): a registration may carry an idempotency key
 * (`registrationKey(workflowId, stage)`). The row is inserted with `ON CONFLICT (idempotency_key) DO
 * NOTHING`, so a retried or overlapping registration with the same key yields the first one's version
 * (its own upload is removed and its version number given back).
 *
 * A COMMIT whose reply is lost (the connection drops after COMMIT was sent) leaves the outcome unknown to
 * the client. The artifact is then deleted only when the transaction is known to have aborted: its id
 * (`pg_current_xact_id()`, taken inside it) is looked up with `pg_xact_status` on another connection
 * until the server says `committed` or `aborted` — re-reading the row at once could see "absent" while the
 * server is still committing, and deleting then would leave a row whose artifact is gone. Committed: the
 * registration succeeded and its version is returned. Not knowable (the database stays unreachable): the
 * artifact is kept and the error says so; a retry with the same key converges on one version.
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
import { ConflictError, NotFoundError, RegistryError, ValidationError } from './errors';
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
import { VERSION_COLUMNS, findVersionByIdempotencyKey, toVersion } from './versions';

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
  /**
   * One key, one version: a registration whose key is already registered uploads nothing (or removes
   * its upload) and returns that version. Build it with `registrationKey(workflowId, stage)`.
   */
  idempotencyKey?: string;
  actor: string;
}

/**
 * The idempotency key of the registration a workflow makes at one stage: `<workflowId>#<stage>`. The stage
 * names the step and whatever else makes it unique within the workflow (the run, the format, the step number).
 */
export function registrationKey(workflowId: string, stage: string): string {
  if (typeof workflowId !== 'string' || workflowId === '') throw new ValidationError('workflowId', workflowId, 'a non-empty workflow id');
  if (typeof stage !== 'string' || stage === '') throw new ValidationError('stage', stage, 'a non-empty stage name (e.g. "exportAndRegister")');
  return checkIdempotencyKey(`${workflowId}#${stage}`);
}

function checkIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || key.length < 1 || key.length > 500) {
    throw new ValidationError('idempotencyKey', key, 'a string of 1 to 500 characters, e.g. registrationKey(workflowId, stage)');
  }
  return key;
}

/** How long a registration whose COMMIT reply was lost waits to learn the transaction's outcome. */
const OUTCOME_WAIT_MS = 30_000;

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
  const idempotencyKey = input.idempotencyKey === undefined ? null : checkIdempotencyKey(input.idempotencyKey);
  const source = await openSource(input, format);

  // 2. The model must exist (or be created) before the upload, so a typo fails fast and uploads nothing.
  try {
    if (input.createModel) await ensureModel(db, { name: input.model, actor: input.actor });
    else {
      const m = await db.query('SELECT 1 FROM models WHERE name = $1', [input.model]);
      if (m.rows.length === 0) throw new NotFoundError('model', input.model, 'create it first (createModel, or pass createModel: true)');
    }
    // A retry of a registration that already landed uploads nothing.
    if (idempotencyKey !== null) {
      const existing = await findVersionByIdempotencyKey(db, idempotencyKey);
      if (existing !== null) {
        if (source.layout === 'file') destroy(source.body);
        return sameModel(existing, input.model, idempotencyKey);
      }
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
  // Set once the transaction's function has returned: an error after that is the COMMIT's.
  let commitSent = false;
  let xid: string | null = null;
  let done: { registered: ModelVersion } | { taken: ModelVersion };
  try {
    if (input.expectedSha256 !== undefined && put.sha256 !== input.expectedSha256.toLowerCase()) {
      throw new ValidationError('expectedSha256', input.expectedSha256, `the sha256 of the uploaded bytes (${put.sha256})`);
    }
    // 4. Then the row, in one transaction.
    done = await db.transaction(async (tx): Promise<{ registered: ModelVersion } | { taken: ModelVersion }> => {
      // With a key, a savepoint gives the version number back if the key turns out to be taken (also
      // when this runs inside a caller's transaction, which must not be rolled back for it).
      if (idempotencyKey !== null) await tx.query('SAVEPOINT register_version');
      const alloc = await tx.query<{ latest_version: number }>(
        'UPDATE models SET latest_version = latest_version + 1 WHERE name = $1 RETURNING latest_version',
        [input.model],
      );
      if (alloc.rows.length === 0) throw new NotFoundError('model', input.model);
      const version = alloc.rows[0].latest_version;
      xid = (await tx.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid;
      const { rows } = await tx.query(
        `INSERT INTO model_versions (model, version, id, artifact_uri, sha256, size, format, signature, metrics, tags,
           description, run_id, workflow_id, config_hash, dataset_manifest, code_commit, created_by, artifact_layout, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb, $11, $12, $13, $14, $15::jsonb, $16, $17, $18, $19)
         ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
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
          idempotencyKey,
        ],
      );
      if (rows.length === 0) {
        // Another registration with this key committed first (ON CONFLICT waited for it to end).
        await tx.query('ROLLBACK TO SAVEPOINT register_version');
        const taken = await findVersionByIdempotencyKey(tx, idempotencyKey!);
        if (taken === null) throw new RegistryError(`idempotency key ${idempotencyKey}: ON CONFLICT found it taken, but no version has it`);
        commitSent = !db.inTransaction;
        return { taken };
      }
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
      let result: ModelVersion = registered;
      if (input.champion) {
        await setDeployment(tx, { model: input.model, championVersion: version, actor: input.actor, reason: 'registered as champion' });
        result = { ...registered, status: 'champion' as const };
      }
      commitSent = !db.inTransaction;
      return { registered: result };
    });
  } catch (err) {
    if (!commitSent || xid === null) {
      await deleteAll(store, uploaded);
      throw err;
    }
    // The COMMIT failed: the transaction may have committed all the same (a lost reply).
    const outcome = await transactionOutcome(db, xid, OUTCOME_WAIT_MS);
    if (outcome.status === 'committed') {
      const { rows } = await db.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE id = $1`, [id]);
      if (rows.length === 1) return toVersion(rows[0]);
      // Committed without our row: the key was taken, and the version that has it is the answer.
      const taken = idempotencyKey === null ? null : await findVersionByIdempotencyKey(db, idempotencyKey);
      if (taken !== null) {
        await deleteAll(store, uploaded);
        return sameModel(taken, input.model, idempotencyKey!);
      }
      throw new RegistryError(`transaction ${xid} of the ${input.model} version ${id} committed but its row is not there; the artifact is kept at ${where}`, { cause: err });
    }
    if (outcome.status === 'aborted') {
      await deleteAll(store, uploaded);
      throw new RegistryError(`registering a ${input.model} version failed at COMMIT and the transaction aborted; the artifact was removed: ${(err as Error).message}`, { cause: err });
    }
    throw new RegistryError(
      `registering a ${input.model} version failed at COMMIT (${(err as Error).message}) and whether it committed could not be learnt (${outcome.reason}); ` +
        `the artifact is kept at ${where} in case it did. Retry with the same idempotency key${idempotencyKey === null ? ' (this one had none)' : ` (${idempotencyKey})`} to converge on one version`,
      { cause: err },
    );
  }
  if ('registered' in done) return done.registered;
  // This upload is nobody's: the first registration with the key has its own.
  await deleteAll(store, uploaded);
  return sameModel(done.taken, input.model, idempotencyKey!);
}

function sameModel(existing: ModelVersion, model: string, key: string): ModelVersion {
  if (existing.model !== model) {
    throw new ConflictError('idempotency key', key, `is already version ${existing.model}/${existing.version}, not a version of ${model}`);
  }
  return existing;
}

type Outcome = { status: 'committed' } | { status: 'aborted' } | { status: 'unknown'; reason: string };

/**
 * Asks the server, on a connection other than the failed one, what became of transaction `xid`
 * (`pg_xact_status`: committed, aborted or in progress), polling while it is in progress or the server
 * cannot be reached, for at most `waitMs`.
 */
async function transactionOutcome(db: Db, xid: string, waitMs: number): Promise<Outcome> {
  const deadline = Date.now() + waitMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    let reason: string;
    try {
      const { rows } = await db.withClient((c) => c.query<{ status: string | null }>('SELECT pg_xact_status($1::xid8) AS status', [xid]));
      const status = rows[0].status;
      if (status === 'committed') return { status: 'committed' };
      if (status === 'aborted') return { status: 'aborted' };
      // null: too old to be known (the commit log was truncated) — far beyond a registration's lifetime.
      if (status === null) return { status: 'unknown', reason: `pg_xact_status(${xid}) is null` };
      reason = `transaction ${xid} still in progress`;
    } catch (err) {
      reason = `asking the database failed: ${(err as Error).message}`;
    }
    if (Date.now() + delay > deadline) return { status: 'unknown', reason: `${reason} after ${waitMs} ms` };
    await new Promise((resolve) => setTimeout(resolve, delay));
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
