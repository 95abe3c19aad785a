/**
 * A deployment of kind `online-model` as this server serves it: its config, the hasher and the shared
 * state (./state.ts). POST /v1/predict and POST /v1/labels (./handlers.ts) call it; /v1/decide is
 * answered with a 400 pointing there.
 */
import { RollingCalibration } from '../../ml/calibration';
import { FeatureError, FeatureHasher, SparseVector, checkLabel, lossOf, type NamedFeatures, type OnlineModelConfig } from '../../ml/online';
import { RETRY_AFTER_SECONDS, ServerFault, badRequest, unavailable } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { DecideOutcome, ScannedDecide, ServedDeployment } from '../serving/served-deployment';
import { CommitContentionError, type LabelRows, type SharedOnlineState } from './state';

export interface OnlineOwner {
  released(s: OnlineModelDeployment): void;
}

/** Labels the rolling calibration of an online model covers (per server). */
export const CALIBRATION_WINDOW = 10_000;

const FEATURES_EXPECTED = 'an object of named features: numbers (numeric), strings (categorical) or booleans';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export class OnlineModelDeployment implements ServedDeployment {
  readonly kind = 'online-model' as const;
  readonly metricsLabels: { readonly deployment: string; readonly kind: 'online-model' };
  readonly hasher: FeatureHasher;
  private readonly row = new SparseVector(64);
  /** Labels learnt through this server. */
  labelsLearnt = 0;
  /**
   * Progressive validation (River's `progressive_val_score`): each label learnt through this server paired
   * with the model's prediction just before it learnt it, over the last CALIBRATION_WINDOW labels;
   * logistic models only (a probability). Exported as autopilot_calibration_*{deployment,model}.
   */
  readonly calibration: RollingCalibration | null;

  constructor(
    private readonly owner: OnlineOwner,
    readonly name: string,
    readonly model: string,
    public generation: number,
    readonly config: OnlineModelConfig,
    readonly configJson: string,
    readonly state: SharedOnlineState,
  ) {
    this.metricsLabels = { deployment: name, kind: 'online-model' };
    this.hasher = new FeatureHasher({ bits: config.bits, seed: config.hashSeed, bias: config.bias });
    this.calibration = config.loss === 'logistic' ? new RollingCalibration(CALIBRATION_WINDOW) : null;
  }

  private hash(features: unknown, field: string): SparseVector {
    if (!isObject(features)) throw badRequest(`${field} must be an object`, field, FEATURES_EXPECTED);
    try {
      return this.hasher.hash(features as NamedFeatures, this.row, field);
    } catch (err) {
      if (err instanceof FeatureError) throw badRequest(err.message, err.field, err.expected);
      throw err;
    }
  }

  /** `{ features }` → one prediction; `{ rows: [features…] }` → one per row. */
  predict(body: Record<string, unknown>): unknown {
    for (const k of Object.keys(body)) if (k !== 'deployment' && k !== 'features' && k !== 'rows') throw badRequest(`unknown member ${k}`, k, 'deployment, and features or rows');
    const l = this.state.learner;
    const base = { model: this.model, stateKey: this.config.stateKey, seq: this.state.seq, output: this.config.loss === 'logistic' ? 'probability' : 'value' };
    if (body.rows !== undefined) {
      if (!Array.isArray(body.rows) || body.rows.length < 1 || body.rows.length > 10_000) throw badRequest('rows must be an array of 1 to 10000 feature objects', 'rows', FEATURES_EXPECTED);
      const predictions = body.rows.map((f, r) => {
        const v = this.hash(f, `rows[${r}]`);
        return l.predict(v.idx, v.val, 0, v.count);
      });
      return { ...base, predictions };
    }
    const v = this.hash(body.features, 'features');
    return { ...base, prediction: l.predict(v.idx, v.val, 0, v.count) };
  }

  /** `{ features, label }` or `{ labels: [{ features, label }…] }`: every item checked before any is learnt. */
  async learn(body: Record<string, unknown>, maxBatch: number): Promise<unknown> {
    for (const k of Object.keys(body)) if (k !== 'deployment' && k !== 'features' && k !== 'label' && k !== 'labels') throw badRequest(`unknown member ${k}`, k, 'deployment, and features + label or labels');
    const items: { features: unknown; label: unknown; field: string }[] = [];
    if (body.labels !== undefined) {
      if (body.features !== undefined || body.label !== undefined) throw badRequest('a body has either labels or one features + label', 'labels', 'labels: [{ features, label }…], or features and label');
      if (!Array.isArray(body.labels) || body.labels.length < 1 || body.labels.length > maxBatch) throw badRequest(`labels must be an array of 1 to ${maxBatch} items`, 'labels', '[{ features, label }…]');
      body.labels.forEach((it, r) => {
        if (!isObject(it)) throw badRequest(`labels[${r}] must be an object`, `labels[${r}]`, '{ features, label }');
        items.push({ features: it.features, label: it.label, field: `labels[${r}]` });
      });
    } else {
      items.push({ features: body.features, label: body.label, field: '' });
    }
    const n = items.length;
    const y = new Float64Array(n);
    const offsets = new Int32Array(n + 1);
    let idx = new Int32Array(n * 24); // grown when rows are longer
    let val = new Float64Array(n * 24);
    const before = new Float64Array(n);
    let lossBefore = 0;
    let o = 0;
    const l = this.state.learner;
    for (let r = 0; r < n; r++) {
      const it = items[r];
      const at = (f: string) => (it.field === '' ? f : `${it.field}.${f}`);
      if (typeof it.label !== 'number') throw badRequest(`${at('label')} must be a number`, at('label'), this.config.loss === 'logistic' ? '0 or 1' : 'a finite number');
      try {
        checkLabel(this.config.loss, it.label, at('label'));
      } catch (err) {
        throw badRequest((err as Error).message, at('label'), this.config.loss === 'logistic' ? '0 or 1' : 'a finite number');
      }
      const v = this.hash(it.features, at('features'));
      const p = l.predict(v.idx, v.val, 0, v.count);
      before[r] = p;
      lossBefore += lossOf(this.config.loss, p, it.label);
      if (o + v.count > idx.length) {
        const cap = Math.max(o + v.count, 2 * idx.length);
        const idx2 = new Int32Array(cap);
        idx2.set(idx.subarray(0, o));
        idx = idx2;
        const val2 = new Float64Array(cap);
        val2.set(val.subarray(0, o));
        val = val2;
      }
      for (let j = 0; j < v.count; j++) {
        idx[o] = v.idx[j];
        val[o++] = v.val[j];
      }
      offsets[r + 1] = o;
      y[r] = it.label;
    }
    const rows: LabelRows = { rows: n, offsets, idx: idx.subarray(0, o), val: val.subarray(0, o), y };
    let r: { seqBefore: number; seq: number };
    try {
      r = await this.state.learn(rows);
    } catch (err) {
      if (err instanceof CommitContentionError) {
        throw new ServerFault(503, `${n} label(s) for deployment ${JSON.stringify(this.name)} not learnt: other servers committed first ${err.attempts} times in a row`, err, 'the same labels again later (nothing of this request was learnt)', RETRY_AFTER_SECONDS);
      }
      throw unavailable(`learning ${n} label(s) for deployment ${JSON.stringify(this.name)}`, err, 'redis');
    }
    this.labelsLearnt += items.length;
    if (this.calibration !== null) for (let i = 0; i < n; i++) this.calibration.update(before[i], y[i]);
    return { model: this.model, stateKey: this.config.stateKey, learnt: items.length, seq: r.seq, meanLossBefore: lossBefore / items.length };
  }

  decide(_body: Record<string, unknown>, _ctx: RequestContext): DecideOutcome {
    throw badRequest(`deployment ${JSON.stringify(this.name)} is an online model: POST /v1/predict { deployment, features } predicts, POST /v1/labels { deployment, features, label } learns`, 'deployment', 'a deployment of kind policy, bandit or text-policy for /v1/decide');
  }

  decideScanned(_body: ScannedDecide, _values: Float64Array, _ctx: RequestContext): DecideOutcome {
    return this.decide({}, _ctx);
  }

  close(): void {
    this.owner.released(this);
  }
}
