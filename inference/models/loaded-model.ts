/**
 * One model version in memory: its onnxruntime session, its policy binding and decoder, and a
 * reference count. Requests `acquire()` before running and `release()` after; a version that stops
 * being served is `retire()`d and its session is released only when the last in-flight request on it
 * has finished, so a hot swap never fails a request.
 */
import * as ort from 'onnxruntime-node';
import type { PolicyBinding } from '../policy/binding';
import { ActionDecoder } from '../policy/decode';
import { bindSignature } from '../policy/signature';

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

export class LoadedModel {
  private refs = 0;
  private retired = false;
  private disposed = false;
  readonly decoder: ActionDecoder | null;
  /** Reused input shape [1, n]. */
  private readonly dims: readonly number[];

  private constructor(
    readonly info: VersionInfo,
    readonly session: ort.InferenceSession,
    readonly binding: PolicyBinding,
  ) {
    this.decoder = binding.heads.length > 0 ? new ActionDecoder(binding) : null;
    this.dims = [1, binding.input.size];
  }

  /** Creates the session, binds the signature and warms the session with one zero input. */
  static async create(info: VersionInfo, bytes: Uint8Array): Promise<LoadedModel> {
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    try {
      const binding = bindSignature(info.signature, session as never);
      const model = new LoadedModel(info, session, binding);
      await model.run(new Float32Array(binding.input.size));
      return model;
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
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
    this.session.release().catch(() => undefined);
  }

  /** Runs the policy on one feature vector (length = binding.input.size). */
  run(x: Float32Array): Promise<ort.InferenceSession.ReturnType> {
    const feeds: Record<string, ort.Tensor> = {};
    feeds[this.binding.input.name] = new ort.Tensor('float32', x, this.dims as number[]);
    return this.session.run(feeds);
  }

  /** Runs raw named tensors (KServe v2). */
  runFeeds(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    return this.session.run(feeds);
  }
}
