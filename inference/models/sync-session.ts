/**
 * onnxruntime-node's native session, run synchronously on the hot path.
 *
 * `InferenceSession.run` of onnxruntime-node 1.x defers every run by a `setImmediate` and wraps it in
 * two promises: a decision read in one event-loop turn is answered one full turn later (after every
 * other socket's I/O of that turn), and the run itself is synchronous native code anyway. LoadedModel
 * already collects the requests of a turn into one batch in a `setImmediate`; running that batch
 * here, directly on the native session, answers them in the same turn.
 *
 * This reaches into the package's `dist/binding` (the same native class the public session wraps,
 * loaded with the same options). If that module is missing or its shape differs (another
 * onnxruntime-node version), `createSyncSession` returns null and the caller keeps the public async
 * API: nothing depends on it for correctness.
 */
import * as ort from 'onnxruntime-node';
import { PACKED_OUTPUT, PackedLayout, withPackedOutput, type HeadView } from './packed-outputs';

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, unknown>;
  dispose(): void;
}

interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt: () => void;
}

let native: NativeBinding | null | undefined;

function loadBinding(): NativeBinding | null {
  if (native !== undefined) return native;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const b = require('onnxruntime-node/dist/binding') as Partial<NativeBinding>;
    native = typeof b.initOrt === 'function' && typeof b.binding?.InferenceSession === 'function' ? (b as NativeBinding) : null;
  } catch {
    native = null;
  }
  return native;
}

const RUN_OPTIONS = {};

/** A run's outputs by name: onnxruntime tensors, or views into the packed output (same data and dims). */
export type SyncOutputs = Record<string, ort.Tensor | HeadView>;

export class SyncSession {
  private readonly fetches: Record<string, null> = {};

  private constructor(
    private readonly session: NativeSession,
    outputNames: readonly string[],
    /** Set when the session fetches the one packed output (./packed-outputs.ts) instead of `outputNames`. */
    private readonly layout: PackedLayout | null,
  ) {
    if (layout !== null) this.fetches[PACKED_OUTPUT] = null;
    else for (const name of outputNames) this.fetches[name] = null;
  }

  /**
   * A native session on `bytes` with `options`, or null when the binding is not usable here. With
   * `widths` (values per row of each of `outputNames`) the graph gets the packed output and a run
   * fetches only that; null too when the graph cannot be packed (the caller may retry without).
   */
  static create(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions, outputNames: readonly string[], widths?: readonly number[]): SyncSession | null {
    const b = loadBinding();
    if (b === null) return null;
    let layout: PackedLayout | null = null;
    let model = bytes;
    if (widths !== undefined) {
      const packed = withPackedOutput(bytes, outputNames);
      if (packed === null) return null;
      model = packed;
      layout = new PackedLayout(outputNames, widths);
    }
    try {
      b.initOrt();
      const s = new b.binding.InferenceSession();
      s.loadModel(model.buffer, model.byteOffset, model.byteLength, options);
      if (typeof s.run !== 'function' || typeof s.dispose !== 'function') return null;
      return new SyncSession(s, outputNames, layout);
    } catch {
      return null;
    }
  }

  /** True when runs fetch the one packed output. */
  get packed(): boolean {
    return this.layout !== null;
  }

  /** Runs the graph now; throws what onnxruntime throws. `n`: the batch's rows (for the packed layout). */
  run(feeds: Record<string, ort.Tensor>, n = 1): SyncOutputs {
    const raw = this.session.run(feeds, this.fetches, RUN_OPTIONS);
    if (this.layout !== null) {
      const v = raw[PACKED_OUTPUT] as ort.Tensor | { data: unknown };
      if (!(v.data instanceof Float32Array)) throw new Error(`packed output ${PACKED_OUTPUT} is not float32`);
      return this.layout.unpack(v.data, n);
    }
    const out: Record<string, ort.Tensor> = {};
    for (const key in raw) {
      const v = raw[key];
      if (v instanceof ort.Tensor) out[key] = v;
      else {
        const t = v as { type: ort.Tensor.Type; data: ort.Tensor.DataType; dims: readonly number[] };
        out[key] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      }
    }
    return out;
  }

  release(): void {
    try {
      this.session.dispose();
    } catch {
      // already gone
    }
  }
}
