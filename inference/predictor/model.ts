/**
 * One loaded quality-predictor version: the ONNX tree ensemble python/train_lgbm.py exported from LightGBM
 * (input float32 [n, F], output `probabilities` float32 [n, 2]) and its signature (ml/predictor/signature.ts).
 * `predict` encodes a request's named features and returns P(positive class) = P(low quality).
 */
import * as ort from 'onnxruntime-node';
import { encodeFeatures, parsePredictorSignature, type PredictorSignature } from '../../ml/predictor/signature';

export interface PredictorInfo {
  model: string;
  version: number;
  sha256: string;
}

export class PredictorModel {
  private inFlight = 0;
  private retired = false;

  private constructor(
    readonly info: PredictorInfo,
    readonly signature: PredictorSignature,
    private readonly session: ort.InferenceSession,
  ) {}

  get key(): string {
    return `${this.info.model}@${this.info.version}`;
  }

  /** Loads the graph from its bytes and checks it against the signature. */
  static async load(info: PredictorInfo, signatureJson: unknown, bytes: Uint8Array): Promise<PredictorModel> {
    const signature = parsePredictorSignature(signatureJson, `${info.model}@${info.version} signature`);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    if (!session.inputNames.includes(signature.input)) {
      await session.release();
      throw new Error(`${info.model}@${info.version}: the ONNX graph has inputs ${session.inputNames.join(', ')}; the signature names ${signature.input}`);
    }
    if (!session.outputNames.includes(signature.output)) {
      await session.release();
      throw new Error(`${info.model}@${info.version}: the ONNX graph has outputs ${session.outputNames.join(', ')}; the signature names ${signature.output}`);
    }
    return new PredictorModel(info, signature, session);
  }

  /** P(low quality) of each row of `rows` (float32 [n, F], row-major). */
  async predictRows(rows: Float32Array, n: number): Promise<Float64Array> {
    const width = this.signature.features.length;
    if (rows.length !== n * width) throw new Error(`predictRows: ${rows.length} values for ${n} rows of ${width}`);
    const input = new ort.Tensor('float32', rows, [n, width]);
    this.inFlight++;
    let out: ort.Tensor;
    try {
      out = (await this.session.run({ [this.signature.input]: input }, [this.signature.output]))[this.signature.output];
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0) void this.session.release().catch(() => undefined);
    }
    const data = out.data as Float32Array;
    const k = out.dims[out.dims.length - 1];
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) p[i] = data[i * k + this.signature.positiveClass];
    return p;
  }

  /** P(low quality) of one request's named features (errors name the feature: `features.task`). */
  async predict(features: unknown, field = 'features'): Promise<number> {
    const row = encodeFeatures(this.signature, features, new Float32Array(this.signature.features.length), field);
    return (await this.predictRows(row, 1))[0];
  }

  /** Releases the session once in-flight requests have finished. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.inFlight === 0) void this.session.release().catch(() => undefined);
  }
}
