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

export class SyncSession {
  private readonly fetches: Record<string, null> = {};

  private constructor(
    private readonly session: NativeSession,
    outputNames: readonly string[],
  ) {
    for (const name of outputNames) this.fetches[name] = null;
  }

  /** A native session on `bytes` with `options`, or null when the binding is not usable here. */
  static create(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions, outputNames: readonly string[]): SyncSession | null {
    const b = loadBinding();
    if (b === null) return null;
    try {
      b.initOrt();
      const s = new b.binding.InferenceSession();
      s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
      if (typeof s.run !== 'function' || typeof s.dispose !== 'function') return null;
      return new SyncSession(s, outputNames);
    } catch {
      return null;
    }
  }

  /** Runs the graph now; throws what onnxruntime throws. */
  run(feeds: Record<string, ort.Tensor>): ort.InferenceSession.ReturnType {
    const raw = this.session.run(feeds, this.fetches, RUN_OPTIONS);
    const out: Record<string, ort.Tensor> = {};
    for (const key in raw) {
      const v = raw[key];
      if (v instanceof ort.Tensor) out[key] = v;
      else {
        const t = v as { type: ort.Tensor.Type; data: ort.Tensor.DataType; dims: readonly number[] };
        out[key] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      }
    }
    return out as ort.InferenceSession.ReturnType;
  }

  release(): void {
    try {
      this.session.dispose();
    } catch {
      // already gone
    }
  }
}
