/**
 * The `config` of a deployment of kind `online-model`, validated. Example:
 *
 *   {
 *     "algorithm": "ftrl",                       // or "adagrad"
 *     "loss": "logistic",                        // logistic → a probability; squared → a value
 *     "bits": 18,                                // 2^bits hashed coordinates
 *     "ftrl": { "alpha": 0.1, "beta": 1, "l1": 1, "l2": 1 },   // or "adagrad": { "eta": 0.5, "l2": 0 }
 *     "hashSeed": 0, "bias": true,               // feature hashing (ml/online/hash.ts)
 *     "stateKey": "ctr",                         // the Redis state's name (default: the deployment)
 *     "snapshotEverySeconds": 300,               // a registry version of the state this often (0: never)
 *     "init": { "version": 3 }                   // start an EMPTY state from this snapshot version of the model
 *   }
 *
 * Errors name the field (`config.ftrl.alpha`), the value and what was expected.
 */
import { DEFAULT_ADAGRAD, type AdaGradParams } from './adagrad';
import { DEFAULT_FTRL, type FtrlParams } from './ftrl';
import { ONLINE_LOSSES, type OnlineLoss } from './learner';

export const ONLINE_ALGORITHMS = ['ftrl', 'adagrad'] as const;
export type OnlineAlgorithm = (typeof ONLINE_ALGORITHMS)[number];

export interface OnlineModelConfig {
  algorithm: OnlineAlgorithm;
  loss: OnlineLoss;
  bits: number;
  ftrl: FtrlParams;
  adagrad: AdaGradParams;
  hashSeed: number;
  bias: boolean;
  stateKey: string;
  snapshotEverySeconds: number;
  init: { version: number } | null;
}

export class OnlineConfigError extends Error {
  constructor(
    readonly field: string,
    value: unknown,
    expected: string,
  ) {
    super(`${field}: got ${JSON.stringify(value) ?? 'nothing'}, expected ${expected}`);
    this.name = 'OnlineConfigError';
  }
}

const KEYS = ['algorithm', 'loss', 'bits', 'ftrl', 'adagrad', 'hashSeed', 'bias', 'stateKey', 'snapshotEverySeconds', 'init'];
const NAME = /^[A-Za-z0-9_.:\-/]{1,128}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function numbers<T extends object>(field: string, v: unknown, defaults: T, check: Record<keyof T & string, [(x: number) => boolean, string]>): T {
  if (v === undefined) return { ...defaults };
  if (!isObject(v)) throw new OnlineConfigError(field, v, `an object { ${Object.keys(defaults).join(', ')} }`);
  const out = { ...defaults } as Record<string, number>;
  for (const [k, x] of Object.entries(v)) {
    const rule = (check as Record<string, [(x: number) => boolean, string]>)[k];
    if (rule === undefined) throw new OnlineConfigError(`${field}.${k}`, x, `no such setting (known: ${Object.keys(defaults).join(', ')})`);
    if (typeof x !== 'number' || !Number.isFinite(x) || !rule[0](x)) throw new OnlineConfigError(`${field}.${k}`, x, rule[1]);
    out[k] = x;
  }
  return out as T;
}

export function parseOnlineModelConfig(config: Readonly<Record<string, unknown>>, deployment: string): OnlineModelConfig {
  for (const key of Object.keys(config)) if (!KEYS.includes(key)) throw new OnlineConfigError(`config.${key}`, config[key], `no such setting (known: ${KEYS.join(', ')})`);
  const algorithm = config.algorithm ?? 'ftrl';
  if (!(ONLINE_ALGORITHMS as readonly unknown[]).includes(algorithm)) throw new OnlineConfigError('config.algorithm', algorithm, `one of ${ONLINE_ALGORITHMS.join(', ')}`);
  const loss = config.loss ?? 'logistic';
  if (!(ONLINE_LOSSES as readonly unknown[]).includes(loss)) throw new OnlineConfigError('config.loss', loss, `one of ${ONLINE_LOSSES.join(', ')}`);
  const bits = config.bits ?? 18;
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 1 || bits > 24) throw new OnlineConfigError('config.bits', bits, 'an integer from 1 to 24 (2^bits coordinates)');
  const pos: [(x: number) => boolean, string] = [(x) => x > 0, 'a number > 0'];
  const nonNeg: [(x: number) => boolean, string] = [(x) => x >= 0, 'a number ≥ 0'];
  const ftrl = numbers('config.ftrl', config.ftrl, DEFAULT_FTRL, { alpha: pos, beta: nonNeg, l1: nonNeg, l2: nonNeg });
  const adagrad = numbers('config.adagrad', config.adagrad, DEFAULT_ADAGRAD, { eta: pos, l2: nonNeg });
  if (algorithm === 'ftrl' && config.adagrad !== undefined) throw new OnlineConfigError('config.adagrad', config.adagrad, 'nothing: the algorithm is ftrl (set config.ftrl)');
  if (algorithm === 'adagrad' && config.ftrl !== undefined) throw new OnlineConfigError('config.ftrl', config.ftrl, 'nothing: the algorithm is adagrad (set config.adagrad)');
  const hashSeed = config.hashSeed ?? 0;
  if (typeof hashSeed !== 'number' || !Number.isInteger(hashSeed) || hashSeed < 0 || hashSeed > 0xffffffff) throw new OnlineConfigError('config.hashSeed', hashSeed, 'an integer from 0 to 2^32 − 1');
  const bias = config.bias ?? true;
  if (typeof bias !== 'boolean') throw new OnlineConfigError('config.bias', bias, 'true or false');
  const stateKey = config.stateKey ?? deployment;
  if (typeof stateKey !== 'string' || !NAME.test(stateKey)) throw new OnlineConfigError('config.stateKey', stateKey, 'a name of 1 to 128 letters, digits, _ . : - /');
  const every = config.snapshotEverySeconds ?? 300;
  if (typeof every !== 'number' || !Number.isFinite(every) || every < 0) throw new OnlineConfigError('config.snapshotEverySeconds', every, 'a number of seconds ≥ 0 (0: no snapshots)');
  let init: OnlineModelConfig['init'] = null;
  if (config.init !== undefined && config.init !== null) {
    const i = config.init;
    if (!isObject(i) || Object.keys(i).some((k) => k !== 'version')) throw new OnlineConfigError('config.init', i, 'an object { version }: a snapshot version of the deployment\'s model');
    if (typeof i.version !== 'number' || !Number.isInteger(i.version) || i.version < 1) throw new OnlineConfigError('config.init.version', i.version, 'a version number ≥ 1');
    init = { version: i.version };
  }
  return { algorithm: algorithm as OnlineAlgorithm, loss: loss as OnlineLoss, bits, ftrl, adagrad, hashSeed, bias, stateKey, snapshotEverySeconds: every, init };
}
