/**
 * Rewards → the rolling windows of the feature set their decision was computed with: for each accepted
 * reward (not a duplicate), the decision's row gives the set, its entities (`request.tenant`, …) and the
 * model that served it (`action[set.modelAction]`, a bandit's `arm`); the outcome (reward and its
 * components latency_ms, cost_usd, error) is counted in Redis at Redis' now, then written with that time
 * to `feature_events` (migration 026) for the offline builder. Off the response path: `observe` queues,
 * batches of one event-loop turn are handled together; a decision whose row is not written yet (the
 * decision log writes in batches) is looked for again after `retryMs` (500 ms), up to `maxTries` (120) times.
 */
import type { Db } from '../../registry/db';
import type { FeatureSet } from '../../ml/features';
import type { OnlineFeatures } from './online';

export interface ObservedReward {
  decisionId: string;
  reward: number | null;
  components: Readonly<Record<string, number>> | null;
}

export interface RewardObserverOptions {
  db: Db;
  online: OnlineFeatures;
  sets: ReadonlyMap<string, FeatureSet>;
  retryMs?: number;
  maxTries?: number;
  log?: (level: 'warn' | 'error', msg: string) => void;
}

/** The millisecond time a UUID v7 carries (its first 48 bits). */
export function uuidV7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

export class RewardFeatureObserver {
  private queue: (ObservedReward & { tries: number })[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Events counted and written; events whose decision was never found or not a feature-set decision; failures. */
  readonly stats = { counted: 0, notFeatureSet: 0, failed: 0 };

  constructor(private readonly opts: RewardObserverOptions) {}

  observe(items: readonly ObservedReward[]): void {
    this.enqueue(items.map((it) => ({ ...it, tries: 0 })));
  }

  private enqueue(items: (ObservedReward & { tries: number })[]): void {
    for (const it of items) this.queue.push(it);
    if (!this.scheduled && this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
  }

  private run(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const p = this.handle(batch).catch((err: unknown) => {
      this.stats.failed += batch.length;
      this.opts.log?.('error', `computed features: ${batch.length} reward(s) not counted: ${(err as Error).message}`);
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async handle(batch: (ObservedReward & { tries: number })[]): Promise<void> {
    const ids = batch.map((b) => b.decisionId.toLowerCase());
    const since = new Date(Math.min(...ids.map(uuidV7Time)) - 1000);
    const { rows } = await this.opts.db.query<{ decision_id: string; features: { featureSet?: unknown; request?: unknown } | null; action: Record<string, unknown> | null }>(
      `SELECT decision_id, features, action FROM decisions WHERE decision_id = ANY($1::uuid[]) AND time >= $2`,
      [ids, since.toISOString()],
    );
    const found = new Map(rows.map((r) => [r.decision_id, r]));
    const retry: (ObservedReward & { tries: number })[] = [];
    for (let i = 0; i < batch.length; i++) {
      const row = found.get(ids[i]);
      if (row === undefined) {
        if (++batch[i].tries < (this.opts.maxTries ?? 120)) retry.push(batch[i]);
        else this.stats.notFeatureSet++;
        continue;
      }
      const setName = row.features?.featureSet;
      const set = typeof setName === 'string' ? this.opts.sets.get(setName) : undefined;
      const request = row.features?.request;
      if (set === undefined || request === null || typeof request !== 'object') {
        this.stats.notFeatureSet++;
        continue;
      }
      const entities = set.entitiesOf(request as Record<string, unknown>);
      const m = row.action?.[set.modelAction];
      const model = typeof m === 'string' && m.length > 0 ? m : null;
      const b = batch[i];
      const time = await this.opts.online.record(set, { type: 'reward', time: 0, entities, model, reward: b.reward, components: b.components });
      await this.write(ids[i], set.name, time, entities, model, b);
      this.stats.counted++;
    }
    if (retry.length > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.enqueue(retry);
      }, this.opts.retryMs ?? 500);
      this.timers.add(t);
    }
  }

  /** The event's row, retried (the window already counted it: only the write is repeated). */
  private async write(id: string, set: string, time: number, entities: Record<string, string>, model: string | null, b: ObservedReward): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.db.query(
          `INSERT INTO feature_events (decision_id, feature_set, time, entities, model, reward, components)
           VALUES ($1, $2, timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::jsonb, $5, $6, $7::jsonb) ON CONFLICT DO NOTHING`,
          [id, set, String(Math.round(time * 1000)), JSON.stringify(entities), model, b.reward, b.components === null ? null : JSON.stringify(b.components)],
        );
        return;
      } catch (err) {
        if (attempt >= 4) throw err;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }

  /** Waits until every queued reward is handled (or given up); for tests and shutdown. */
  async flush(timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.inFlight.size > 0 || this.timers.size > 0) && Date.now() < end) {
      await Promise.all([...this.inFlight]);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
