/**
 * The quality predictor's signature (UC10): what python/train_lgbm.py writes as `predictor.json` and the
 * registry keeps as the version's `signature.predictor`, and the encoding of a request's named features
 * into the row the ONNX tree ensemble reads. Pure: the server (inference/predictor/) and the training
 * activity (activities/predictor/) both use it.
 *
 *   { "predictor": { "input": "features", "output": "probabilities", "positiveClass": 1, "target": "low_quality",
 *                    "features": [ { "name": "prompt_tokens", "type": "numeric" },
 *                                  { "name": "task", "type": "categorical", "categories": ["chat", "code", …] }, … ] } }
 *
 * A categorical feature is encoded as its index in `categories` (the trees split on the code); a request
 * feature that is missing, of the wrong type, an unknown category or not in the signature is refused:
 * nothing is filled in.
 */

export type PredictorFeature = { name: string; type: 'numeric' } | { name: string; type: 'categorical'; categories: string[] };

export interface PredictorSignature {
  /** The ONNX input: float32 [n, features.length]. */
  input: string;
  /** The ONNX output of class probabilities: float32 [n, 2]. */
  output: string;
  /** The column of `output` that is the predicted event (low quality). */
  positiveClass: number;
  /** What the positive class means, e.g. `low_quality`. */
  target: string;
  features: PredictorFeature[];
}

/** A signature or request refused: the field, the value and what was expected. */
export class PredictorFieldError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field}: got ${JSON.stringify(value) ?? 'nothing'}, expected ${expected}`);
    this.name = 'PredictorFieldError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;

/** A version's `signature` (the object holding `predictor`), checked. */
export function parsePredictorSignature(signature: unknown, where = 'signature'): PredictorSignature {
  const s = isObject(signature) ? signature.predictor : undefined;
  const f = `${where}.predictor`;
  if (!isObject(s)) throw new PredictorFieldError(f, s, 'an object { input, output, positiveClass, target, features } (python/train_lgbm.py writes it)');
  for (const k of ['input', 'output', 'target'] as const) {
    if (typeof s[k] !== 'string' || s[k] === '') throw new PredictorFieldError(`${f}.${k}`, s[k], 'a non-empty string');
  }
  if (s.positiveClass !== 0 && s.positiveClass !== 1) throw new PredictorFieldError(`${f}.positiveClass`, s.positiveClass, '0 or 1 (the column of the two-class output)');
  if (!Array.isArray(s.features) || s.features.length === 0) throw new PredictorFieldError(`${f}.features`, s.features, 'a non-empty array of { name, type }');
  const seen = new Set<string>();
  const features = s.features.map((x: unknown, i): PredictorFeature => {
    const at = `${f}.features[${i}]`;
    if (!isObject(x)) throw new PredictorFieldError(at, x, '{ name, type: "numeric" | "categorical", categories? }');
    if (typeof x.name !== 'string' || !NAME.test(x.name)) throw new PredictorFieldError(`${at}.name`, x.name, 'a feature name (letters, digits, _ and ., at most 64)');
    if (seen.has(x.name)) throw new PredictorFieldError(`${at}.name`, x.name, 'a name not used by an earlier feature');
    seen.add(x.name);
    if (x.type === 'numeric') return { name: x.name, type: 'numeric' };
    if (x.type !== 'categorical') throw new PredictorFieldError(`${at}.type`, x.type, '"numeric" or "categorical"');
    const c = x.categories;
    if (!Array.isArray(c) || c.length === 0 || !c.every((v) => typeof v === 'string') || new Set(c).size !== c.length) {
      throw new PredictorFieldError(`${at}.categories`, c, 'a non-empty array of distinct strings (index = the code the trees were trained on)');
    }
    return { name: x.name, type: 'categorical', categories: c as string[] };
  });
  return { input: s.input as string, output: s.output as string, positiveClass: s.positiveClass, target: s.target as string, features };
}

/** What a request's features must look like, for error messages. */
export function describeFeatures(sig: PredictorSignature): string {
  return `an object with exactly ${sig.features.map((x) => (x.type === 'numeric' ? `${x.name} (number)` : `${x.name} (one of ${x.categories.join(', ')})`)).join(', ')}`;
}

/**
 * Writes the request's named `features` into `row` (length = the signature's feature count) as the
 * model's float32 inputs; `field` names the object in errors (`features`).
 */
export function encodeFeatures(sig: PredictorSignature, features: unknown, row: Float32Array, field = 'features'): Float32Array {
  if (!isObject(features)) throw new PredictorFieldError(field, features, describeFeatures(sig));
  let given = 0;
  for (let i = 0; i < sig.features.length; i++) {
    const x = sig.features[i];
    const v = features[x.name];
    const at = `${field}.${x.name}`;
    if (v === undefined) throw new PredictorFieldError(at, v, x.type === 'numeric' ? 'a finite number (every feature of the model is required)' : `one of ${x.categories.join(', ')} (every feature of the model is required)`);
    given++;
    if (x.type === 'numeric') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new PredictorFieldError(at, v, 'a finite number');
      row[i] = v;
    } else {
      const code = typeof v === 'string' ? x.categories.indexOf(v) : -1;
      if (code < 0) throw new PredictorFieldError(at, v, `one of ${x.categories.join(', ')}`);
      row[i] = code;
    }
  }
  if (given !== Object.keys(features).length) {
    const extra = Object.keys(features).find((k) => !sig.features.some((x) => x.name === k)) as string;
    throw new PredictorFieldError(`${field}.${extra}`, features[extra], `no such feature (the model reads ${sig.features.map((x) => x.name).join(', ')})`);
  }
  return row;
}
