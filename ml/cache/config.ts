/**
 * The `config` of a deployment of kind `semantic-cache` (inference/cache/): the cache's settings
 * (./semantic-cache.ts), the LLM cost a hit saves, the embedding model's folder and the reuse model —
 * an online logistic model (ml/online, FTRL-Proximal) whose state every server shares (its `stateKey`,
 * snapshots and `init` work as for an `online-model` deployment).
 *
 *   {
 *     "embeddingModel": "/srv/models/minilm",   // folder of model.onnx + tokenizer (default: the server's, make setup-minilm)
 *     "threshold": 0.85, "ttlSeconds": 3600, "capacity": 1000, "epsilon": 0.05,
 *     "admission": "learned",                    // or the baselines "always" / "never"
 *     "wrongHitWindowSeconds": 60,
 *     "cost": { "llmUsdPerRequest": 0.004, "storageUsdPerGbHour": 0.02, "stalenessUsdPerHit": 0.0001 },
 *     "reuseModel": { "bits": 16, "ftrl": { "alpha": 0.7 }, "stateKey": "…", "snapshotEverySeconds": 300, "init": { "version": 3 } }
 *   }
 *
 * Pure. Errors name the field (`config.cost.llmUsdPerRequest`), the value and what was expected.
 */
import { OnlineConfigError, parseOnlineModelConfig, type OnlineModelConfig } from '../online/config';
import { DEFAULT_SEMANTIC_CACHE, type AdmissionPolicy, type SemanticCacheConfig } from './semantic-cache';

export interface SemanticCacheDeploymentConfig {
  /** The cache's settings; its `bits` and `ftrl` are the reuse model's. */
  cache: SemanticCacheConfig;
  /** What one LLM call costs, USD, when a request does not say (null: every request must send `costUsd`). */
  llmUsdPerRequest: number | null;
  /** Folder of the embedding model (null: the server's default, .model-minilm). */
  embeddingModel: string | null;
  /** The reuse model as an online model (algorithm ftrl, loss logistic): its shared state, snapshots, init. */
  reuseModel: OnlineModelConfig;
}

export class CacheConfigError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
    message = `${field}: got ${JSON.stringify(value) ?? 'nothing'}, expected ${expected}`,
  ) {
    super(message);
    this.name = 'CacheConfigError';
  }
}

const KEYS = ['embeddingModel', 'threshold', 'ttlSeconds', 'capacity', 'epsilon', 'admission', 'wrongHitWindowSeconds', 'cost', 'reuseModel'];
const COST_KEYS = ['llmUsdPerRequest', 'storageUsdPerGbHour', 'stalenessUsdPerHit'];
const REUSE_KEYS = ['bits', 'ftrl', 'hashSeed', 'bias', 'stateKey', 'snapshotEverySeconds', 'init'];
const ADMISSIONS: readonly AdmissionPolicy[] = ['learned', 'always', 'never'];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function num(field: string, v: unknown, fallback: number, ok: (x: number) => boolean, expected: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new CacheConfigError(field, v, expected);
  return v;
}

export function parseSemanticCacheDeploymentConfig(config: Readonly<Record<string, unknown>>, deployment: string): SemanticCacheDeploymentConfig {
  for (const k of Object.keys(config)) if (!KEYS.includes(k)) throw new CacheConfigError(`config.${k}`, config[k], `no such setting (known: ${KEYS.join(', ')})`);
  const d = DEFAULT_SEMANTIC_CACHE;
  let embeddingModel: string | null = null;
  if (config.embeddingModel !== undefined && config.embeddingModel !== null) {
    if (typeof config.embeddingModel !== 'string' || config.embeddingModel === '') throw new CacheConfigError('config.embeddingModel', config.embeddingModel, 'the folder of the embedding model (model.onnx, tokenizer.json, tokenizer_config.json, config.json)');
    embeddingModel = config.embeddingModel;
  }
  const threshold = num('config.threshold', config.threshold, d.threshold, (x) => x > 0 && x <= 1, 'a cosine similarity in (0, 1]');
  const ttlSeconds = num('config.ttlSeconds', config.ttlSeconds, d.ttlSeconds, (x) => x > 0, 'a number of seconds > 0');
  const capacity = num('config.capacity', config.capacity, d.capacity, (x) => Number.isInteger(x) && x >= 1 && x <= 1_000_000, 'an integer from 1 to 1000000 (answers stored per server)');
  const epsilon = num('config.epsilon', config.epsilon, d.epsilon, (x) => x >= 0 && x <= 1, 'a probability in [0, 1]');
  const wrongHitWindowSeconds = num('config.wrongHitWindowSeconds', config.wrongHitWindowSeconds, 60, (x) => x >= 0 && x <= 86_400, 'a number of seconds from 0 to 86400');
  const admission = config.admission ?? d.admission;
  if (!(ADMISSIONS as readonly unknown[]).includes(admission)) throw new CacheConfigError('config.admission', admission, `one of ${ADMISSIONS.join(', ')}`);
  const cost = config.cost ?? {};
  if (!isObject(cost)) throw new CacheConfigError('config.cost', cost, `an object { ${COST_KEYS.join(', ')} }`);
  for (const k of Object.keys(cost)) if (!COST_KEYS.includes(k)) throw new CacheConfigError(`config.cost.${k}`, cost[k], `no such setting (known: ${COST_KEYS.join(', ')})`);
  const llmUsdPerRequest = cost.llmUsdPerRequest === undefined || cost.llmUsdPerRequest === null ? null : num('config.cost.llmUsdPerRequest', cost.llmUsdPerRequest, 0, (x) => x > 0, 'a cost in USD > 0 (or null: each request sends costUsd)');
  const storageUsdPerGbHour = num('config.cost.storageUsdPerGbHour', cost.storageUsdPerGbHour, d.cost.storageUsdPerGbHour, (x) => x >= 0, 'a price in USD per GB-hour ≥ 0');
  const stalenessUsdPerHit = num('config.cost.stalenessUsdPerHit', cost.stalenessUsdPerHit, d.cost.stalenessUsdPerHit, (x) => x >= 0, 'a cost in USD per hit ≥ 0');
  const reuse = config.reuseModel ?? {};
  if (!isObject(reuse)) throw new CacheConfigError('config.reuseModel', reuse, `an object { ${REUSE_KEYS.join(', ')} }`);
  for (const k of Object.keys(reuse)) if (!REUSE_KEYS.includes(k)) throw new CacheConfigError(`config.reuseModel.${k}`, reuse[k], `no such setting of the reuse model, an FTRL logistic model (known: ${REUSE_KEYS.join(', ')})`);
  let reuseModel: OnlineModelConfig;
  try {
    const ftrl = reuse.ftrl === undefined ? d.ftrl : isObject(reuse.ftrl) ? { ...d.ftrl, ...reuse.ftrl } : reuse.ftrl;
    reuseModel = parseOnlineModelConfig({ ...reuse, bits: reuse.bits ?? d.bits, ftrl, stateKey: reuse.stateKey ?? `semantic-cache:${deployment}`, algorithm: 'ftrl', loss: 'logistic' }, deployment);
  } catch (err) {
    if (err instanceof OnlineConfigError) {
      const field = err.field.replace(/^config\./, 'config.reuseModel.');
      const expected = err.message.slice(err.message.lastIndexOf(', expected ') + ', expected '.length);
      throw new CacheConfigError(field, undefined, expected, `${field}${err.message.slice(err.field.length)}`);
    }
    throw err;
  }
  if (reuseModel.bits < 4) throw new CacheConfigError('config.reuseModel.bits', reuseModel.bits, 'an integer from 4 to 24');
  const cache: SemanticCacheConfig = {
    threshold, ttlSeconds, capacity, epsilon, admission: admission as AdmissionPolicy, wrongHitWindowSeconds,
    cost: { storageUsdPerGbHour, stalenessUsdPerHit },
    bits: reuseModel.bits,
    ftrl: reuseModel.ftrl,
  };
  return { cache, llmUsdPerRequest, embeddingModel, reuseModel };
}
