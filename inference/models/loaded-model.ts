/**
 * One model version in memory: its onnxruntime session, its policy binding and decoder, and a
 * reference count. Requests `acquire()` before running and `release()` after; a version that stops
 * being served is `retire()`d and its session is released only when the last in-flight request on it
 * has finished, so a hot swap never fails a request.
 *
 * A plain model (a signature without `format`) whose graph is not one float32 [batch, n] input — several
 * inputs, integer or boolean inputs, no fixed width — is loaded `rawOnly`: served through KServe v2
 * with the inputs it declares, never batched for /v1/decide (which answers 409 for any plain model).
 */
import * as ort from 'onnxruntime-node';
import type { PolicyBinding } from '../policy/binding';
import { ActionDecoder } from '../policy/decode';
import { SignatureError, bindSignature } from '../policy/signature';
import { outputNames } from '../../ml/onnx/signature';
import { SyncSession, type SyncOutputs } from './sync-session';

export interface VersionInfo {
  model: string;
  version: number;
  artifactUri: string;
  sha256: string;
  format: string;
  signature: unknown;
}

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  // One thread per session: a 2-core box serves many tiny requests, not one big one.
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** Whether a registry signature claims to be a policy's (bindSignature then checks it in full). */
function isPolicySignature(signature: unknown): boolean {
  return signature !== null && typeof signature === 'object' && !Array.isArray(signature) && (signature as { format?: unknown }).format !== undefined;
}

/** Largest batch one run takes; more requests in one turn are split. */
const MAX_BATCH = 64;

export interface BatchResult {
  /** Outputs by name (`data` row-major, `dims` [n, width]); from the packed run only the heads decoding reads. */
  outputs: SyncOutputs;
  /** This request's row in every output. */
  row: number;
}

/**
 * Where a row's result goes: `inferred` with the batch's outputs and the row's index in them, or
 * `failed` with the run's error; exactly one of them, once. Neither may throw (a throw is rethrown after
 * the batch's other rows got theirs).
 */
export interface InferTarget {
  inferred(outputs: SyncOutputs, row: number): void;
  failed(err: unknown): void;
}

interface PendingRow {
  x: Float32Array;
  target: InferTarget;
}

/** Hands every row of a batch its result; a target that throws does not keep the others from theirs. */
function settle(batch: PendingRow[], outputs: SyncOutputs | null, err: unknown): void {
  let thrown: { err: unknown } | null = null;
  for (let i = 0; i < batch.length; i++) {
    try {
      if (outputs !== null) batch[i].target.inferred(outputs, i);
      else batch[i].target.failed(err);
    } catch (e) {
      thrown ??= { err: e };
    }
  }
  if (thrown !== null) throw thrown.err;
}

export class LoadedModel {
  private pending: PendingRow[] = [];
  private flushScheduled = false;
  private refs = 0;
  private retired = false;
  private disposed = false;
  readonly decoder: ActionDecoder | null;
  /** The same graph on the native session, run synchronously by the batcher (null: async API). */
  private sync: SyncSession | null = null;

  private constructor(
    readonly info: VersionInfo,
    readonly session: ort.InferenceSession,
    readonly binding: PolicyBinding,
    /** Served through KServe v2 only: `binding.input` describes no batchable input (see above). */
    readonly rawOnly = false,
  ) {
    this.decoder = binding.policy !== null ? new ActionDecoder(binding.policy) : null;
  }

  /**
   * Creates the session, binds the signature and warms the session with one zero input (a plain
   * model the decide input does not fit: loaded raw-only, without the warm-up).
   */
  static async create(info: VersionInfo, bytes: Uint8Array): Promise<LoadedModel> {
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    try {
      let binding: PolicyBinding;
      try {
        binding = bindSignature(info.signature, session as never);
      } catch (err) {
        if (!(err instanceof SignatureError) || isPolicySignature(info.signature)) throw err;
        const raw: PolicyBinding = { input: { name: session.inputNames[0] ?? '', size: 0, features: null }, policy: null, outputs: [...session.outputNames] };
        return new LoadedModel(info, session, raw, true);
      }
      const model = new LoadedModel(info, session, binding);
      const warm = await model.run(new Float32Array(binding.input.size));
      // A policy's batches fetch only the heads' outputs: every fetched output costs a tensor copy and
      // wrap, and decoding never reads the critic's value. Packed into one output when the graph allows
      // (./packed-outputs.ts), checked against the separate outputs before it is used.
      const fetch = binding.policy !== null ? outputNames(binding.policy).filter((n) => n !== binding.policy!.value.output) : session.outputNames;
      const widths = fetch.map((n) => (warm[n]?.dims ?? []).slice(1).reduce((a, d) => a * Number(d), 1));
      const sync = (await LoadedModel.checkedPacked(session, bytes, fetch, widths, binding)) ?? SyncSession.create(bytes, SESSION_OPTIONS, fetch);
      if (sync !== null) {
        sync.run(model.feedsOf(new Float32Array(binding.input.size), 1), 1);
        // One model, one lifetime: releasing the public session releases its native twin too.
        const release = session.release.bind(session);
        session.release = () => {
          sync.release();
          return release();
        };
        model.sync = sync;
      }
      return model;
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * The packed-output session, if the graph takes it and a random batch of 3 gives exactly the
   * separate outputs' values through it; null otherwise (the caller keeps the plain path).
   */
  private static async checkedPacked(session: ort.InferenceSession, bytes: Uint8Array, fetch: readonly string[], widths: readonly number[], binding: PolicyBinding): Promise<SyncSession | null> {
    if (widths.some((w) => !(Number.isInteger(w) && w >= 1))) return null;
    const sync = SyncSession.create(bytes, SESSION_OPTIONS, fetch, widths);
    if (sync === null) return null;
    const n = 3;
    const size = binding.input.size;
    const x = Float32Array.from({ length: n * size }, (_, i) => Math.sin(i * 12.9898 + 1) * 2);
    const feeds = () => ({ [binding.input.name]: new ort.Tensor('float32', x, [n, size]) });
    try {
      const want = await session.run(feeds());
      const got = sync.run(feeds(), n);
      for (const name of fetch) {
        const a = want[name].data as Float32Array;
        const b = got[name].data as Float32Array;
        if (a.length !== b.length || a.some((v, i) => !Object.is(v, b[i]))) throw new Error(`packed output ${name} differs`);
      }
      return sync;
    } catch {
      sync.release();
      return null;
    }
  }

  /** True when batches run on the native session with the packed output (diagnostics, tests). */
  get packedOutputs(): boolean {
    return this.sync?.packed ?? false;
  }

  get key(): string {
    return `${this.info.model}@${this.info.version}`;
  }

  get inFlight(): number {
    return this.refs;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  acquire(): void {
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0 && this.retired) this.dispose();
  }

  /** No new requests will use this model; its session goes when the last in-flight one finishes. */
  retire(): void {
    this.retired = true;
    if (this.refs === 0) this.dispose();
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sync?.release();
    this.sync = null;
    this.session.release().catch(() => undefined);
  }

  /**
   * Runs the policy on one feature vector (length = binding.input.size) and resolves with the batch's
   * outputs and this request's row in them.
   *
   * Micro-batching: requests that arrive in the same event-loop turn are stacked into one
   * [n, size] run at the end of the turn (setImmediate — the point where onnxruntime-node would run a
   * single request anyway), so the per-run overhead of onnxruntime (comparable to a small MLP's whole
   * forward pass; bench/inference prints it) is paid once per turn instead of once per request. A lone request runs as a batch of one.
   * The batch runs synchronously on the native session when it is available (see sync-session.ts),
   * so the turn that read the requests also answers them.
   */
  infer(x: Float32Array): Promise<BatchResult> {
    return new Promise<BatchResult>((resolve, reject) => this.inferInto(x, { inferred: (outputs, row) => resolve({ outputs, row }), failed: reject }));
  }

  /**
   * `infer` without a promise: the row joins this turn's batch and `target` gets its result when the batch
   * has run (for the decide path, where a promise and its turn of the microtask queue per request cost
   * more than the rest of the hand-over).
   */
  inferInto(x: Float32Array, target: InferTarget): void {
    this.pending.push({ x, target });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let start = 0; start < all.length; start += MAX_BATCH) this.runBatch(all.length <= MAX_BATCH ? all : all.slice(start, start + MAX_BATCH));
  };

  private runBatch(batch: PendingRow[]): void {
    const n = batch.length;
    const size = this.binding.input.size;
    let input: Float32Array;
    if (n === 1) input = batch[0].x;
    else {
      input = new Float32Array(n * size);
      for (let i = 0; i < n; i++) input.set(batch[i].x, i * size);
    }
    const feeds = this.feedsOf(input, n);
    if (this.sync !== null) {
      let outputs: SyncOutputs;
      try {
        outputs = this.sync.run(feeds, n);
      } catch (err) {
        settle(batch, null, err);
        return;
      }
      settle(batch, outputs, null);
      return;
    }
    this.session.run(feeds).then(
      (outputs) => settle(batch, outputs, null),
      (err) => settle(batch, null, err),
    );
  }

  private feedsOf(input: Float32Array, n: number): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    feeds[this.binding.input.name] = new ort.Tensor('float32', input, [n, this.binding.input.size]);
    return feeds;
  }

  /** One feature vector through the session on its own (warm-up, tests). */
  run(x: Float32Array): Promise<ort.InferenceSession.ReturnType> {
    const feeds: Record<string, ort.Tensor> = {};
    feeds[this.binding.input.name] = new ort.Tensor('float32', x, [1, this.binding.input.size]);
    return this.session.run(feeds);
  }

  /** Runs raw named tensors (KServe v2). */
  runFeeds(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    return this.session.run(feeds);
  }
}
