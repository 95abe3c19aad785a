/**
 * Log replay (R-TUNER-MODES "offline, stage 1"): answers evaluations from a JSONL file of logged batch
 * evaluations, one JSON object a line:
 *
 *   {"config": {"variant": "B", "k": 9, "rerank": true, "fusion_weight": 0, "prompt_id": "cite-sources"},
 *    "category": "policy", "faithfulness": 0.94, "relevancy": 0.95,
 *    "latency_ms": {"p50": 310, "p95": 397}, "cost_usd": 0.00118,
 *    "error_rate": 0, "faithfulness_std": 0.11, "relevancy_std": 0.1, "policy_violation_rate": 0}
 *
 * `error_rate`, the stds and `policy_violation_rate` are optional (error rate 0 when absent).
 * `latency_ms` may be one number, taken as both p50 and p95 (conservative for the p95 gate).
 * Blank lines are skipped; any other bad line fails the load with `FILE:LINE: what is wrong`.
 *
 * ## The rule for a (config, category)
 * 1. Logged: the config was logged for that category → one of its logged rows, picked uniformly with
 *    the evaluation seed (so repeated logs replay their noise).
 * 2. Not logged: the nearest logged config of that category under
 *
 *      dist(a, b) = |d_a − d_b| + |log2 k_a − log2 k_b| / log2(k_max / k_min)
 *                   + 0.5·[rerank differs] + 0.5·[prompt differs]
 *
 *    (d is the dense share of the fused ranking, `denseShare`: A with w = 1 and B with w = 1 are the
 *    same ranking and at distance 0; ties go to the config logged first), one of its rows picked as in
 *    1, with F and R each lowered by `extrapolationPenalty` × dist (default 0.1 per unit, clipped at 0):
 *    pessimism for configs the log never saw, so a policy cannot score by leaving the logged region.
 *    Latency, cost and the rest are the neighbour's. Beyond `maxDistance` (default ∞) it throws.
 * 3. No row at all for the category: throws, naming the categories the log has.
 */
import { readFileSync } from 'node:fs';
import { Rng } from '../../ml/rng';
import { denseShare, type Evaluation, type Evaluator, type RagConfig } from '../types';
import { recordSchema, toEvaluation } from './schema';

export interface ReplayRecord extends Evaluation {
  config: RagConfig;
  category: string;
}

/** Parses and validates a JSONL log; `source` names the file in errors (`FILE:LINE: …`). */
export function parseReplayLog(text: string, source = 'replay log'): ReplayRecord[] {
  const out: ReplayRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    const parsed = recordSchema.safeParse(value);
    if (!parsed.success) {
      throw new Error(`${where}: ${parsed.error.issues[0].message}`);
    }
    const r = parsed.data;
    out.push({ config: r.config, category: r.category, ...toEvaluation(r) });
  }
  if (out.length === 0) throw new Error(`${source}: no logged evaluations (the file is empty)`);
  return out;
}

export interface ReplayOptions {
  /** F and R are lowered by this × distance for configs not in the log (default 0.1). */
  extrapolationPenalty?: number;
  /** Beyond this distance to the nearest logged config, evaluate throws (default ∞). */
  maxDistance?: number;
  /** Range of k for the distance's normalisation (default [3, 32]). */
  kBounds?: { min: number; max: number };
  name?: string;
}

/** The documented distance between two configs (see the file comment). */
export function configDistance(a: RagConfig, b: RagConfig, kBounds = { min: 3, max: 32 }): number {
  const kRange = Math.log2(kBounds.max / kBounds.min) || 1;
  return (
    Math.abs(denseShare(a) - denseShare(b)) +
    Math.abs(Math.log2(a.k) - Math.log2(b.k)) / kRange +
    (a.rerank !== b.rerank ? 0.5 : 0) +
    (a.prompt_id !== b.prompt_id ? 0.5 : 0)
  );
}

function configKey(c: RagConfig): string {
  return `${c.variant}|${c.k}|${c.rerank ? 1 : 0}|${c.fusion_weight}|${c.prompt_id}`;
}

interface LoggedConfig {
  config: RagConfig;
  rows: ReplayRecord[];
}

/** How a replayed answer was found (for tests and logs). */
export interface ReplayMatch {
  exact: boolean;
  neighbour: RagConfig;
  distance: number;
}

export class ReplayEvaluator implements Evaluator {
  readonly name: string;
  private readonly byCategory = new Map<string, { list: LoggedConfig[]; index: Map<string, LoggedConfig> }>();
  private readonly penalty: number;
  private readonly maxDistance: number;
  private readonly kBounds: { min: number; max: number };

  constructor(records: ReplayRecord[], options: ReplayOptions = {}) {
    this.name = options.name ?? 'replay';
    this.penalty = options.extrapolationPenalty ?? 0.1;
    this.maxDistance = options.maxDistance ?? Infinity;
    this.kBounds = options.kBounds ?? { min: 3, max: 32 };
    if (!(this.penalty >= 0)) throw new Error(`replay extrapolationPenalty must be ≥ 0, got ${this.penalty}`);
    for (const r of records) {
      let cat = this.byCategory.get(r.category);
      if (!cat) {
        cat = { list: [], index: new Map() };
        this.byCategory.set(r.category, cat);
      }
      const key = configKey(r.config);
      let logged = cat.index.get(key);
      if (!logged) {
        logged = { config: r.config, rows: [] };
        cat.index.set(key, logged);
        cat.list.push(logged);
      }
      logged.rows.push(r);
    }
  }

  static fromFile(path: string, options: ReplayOptions = {}): ReplayEvaluator {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`replay log ${path} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    return new ReplayEvaluator(parseReplayLog(text, path), { name: `replay:${path}`, ...options });
  }

  get categories(): string[] {
    return [...this.byCategory.keys()];
  }

  /** Number of distinct logged configs for a category. */
  loggedConfigs(category: string): number {
    return this.byCategory.get(category)?.list.length ?? 0;
  }

  /** Which logged config answers (config, category), and how far it is. */
  match(config: RagConfig, category: string): ReplayMatch & { rows: ReplayRecord[] } {
    const cat = this.byCategory.get(category);
    if (!cat) throw new Error(`${this.name}: no logged evaluations for category ${JSON.stringify(category)} (the log has ${this.categories.join(', ')})`);
    const exact = cat.index.get(configKey(config));
    if (exact) return { exact: true, neighbour: exact.config, distance: 0, rows: exact.rows };
    let best = cat.list[0];
    let bestD = configDistance(config, best.config, this.kBounds);
    for (let i = 1; i < cat.list.length; i++) {
      const d = configDistance(config, cat.list[i].config, this.kBounds);
      if (d < bestD) {
        best = cat.list[i];
        bestD = d;
      }
    }
    if (bestD > this.maxDistance) {
      throw new Error(`${this.name}: no logged config within distance ${this.maxDistance} of ${JSON.stringify(config)} for ${category} (nearest ${bestD.toFixed(3)})`);
    }
    return { exact: false, neighbour: best.config, distance: bestD, rows: best.rows };
  }

  async evaluate(config: RagConfig, category: string, _batchSize: number, seed: number): Promise<Evaluation> {
    const m = this.match(config, category);
    const row = m.rows[m.rows.length === 1 ? 0 : new Rng(seed).int(m.rows.length)];
    const drop = this.penalty * m.distance;
    const { config: _c, category: _cat, ...evaluation } = row;
    return {
      ...evaluation,
      latency_ms: { ...row.latency_ms },
      faithfulness: Math.max(0, row.faithfulness - drop),
      relevancy: Math.max(0, row.relevancy - drop),
    };
  }
}
