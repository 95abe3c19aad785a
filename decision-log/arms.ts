/**
 * Requests and reward per arm of a deployment over a time window, from the decision log: what the
 * console's deployment page shows live (champion, canary, shadow, fallback, or a bandit's arms).
 *
 * One aggregate query. Both tables are read through their partition keys (migration 016), so the
 * planner scans only the day partitions of the window: decisions by `time`, rewards by `decision_time`
 * (the time its decision id carries, ≤ a minute from the decision's `time`; -infinity for ids that carry
 * none, which live in `rewards_undated`). `arms.int.test.ts` checks the plan prunes.
 *
 * The reward interval is Student's t on the rewarded decisions of the arm:
 *   mean ± t_{1−α/2, n−1} · s / √n
 * (s the sample standard deviation); null below two rewards. A shadow arm is logged, not served: its
 * decisions get no reward of their own (`rewarded` 0).
 */
import { studentTQuantile } from '../ml/stats/student-t';
import type { Db } from '../registry/db';
import { ValidationError } from '../registry/errors';

export interface ArmWindowQuery {
  deployment: string;
  from: Date;
  to: Date;
  /** 1 − the interval's coverage (default 0.05: a 95 % interval). */
  alpha?: number;
}

export interface ArmStats {
  arm: string;
  /** null: fallback decisions (no model answered). */
  version: number | null;
  /** Decisions logged in the window. */
  requests: number;
  /** Of them, those with a reward. */
  rewarded: number;
  /** Mean reward of the rewarded decisions and its interval (null without rewards; lower/upper null below two). */
  reward: { mean: number; lower: number | null; upper: number | null } | null;
  /** Mean latency of the decisions that logged one (ms). */
  latencyMs: number | null;
}

/** The partitions' key may sit up to this far from the decision's time (the id's millisecond vs the row's time). */
const KEY_SLACK = "interval '1 minute'";

/** $1 the deployment, $2 and $3 the window [from, to). Exported for the test that reads its plan. */
export const ARM_STATS_SQL = `SELECT d.arm, d.version, count(*) AS requests, count(r.decision_id) AS rewarded,
       avg(r.reward) AS mean, stddev_samp(r.reward) AS sd, avg(d.latency_ms) AS latency
  FROM decisions d
  LEFT JOIN rewards r ON r.decision_id = d.decision_id
   AND ((r.decision_time >= $2::timestamptz - ${KEY_SLACK} AND r.decision_time < $3::timestamptz + ${KEY_SLACK})
        OR r.decision_time = '-infinity'::timestamptz)
 WHERE d.deployment = $1 AND d.time >= $2::timestamptz AND d.time < $3::timestamptz
 GROUP BY d.arm, d.version
 ORDER BY count(*) DESC, d.arm, d.version`;

export async function armStats(db: Db, q: ArmWindowQuery): Promise<ArmStats[]> {
  if (typeof q.deployment !== 'string' || q.deployment === '') throw new ValidationError('deployment', q.deployment, 'a deployment name');
  for (const k of ['from', 'to'] as const) {
    if (!(q[k] instanceof Date) || Number.isNaN(q[k].getTime())) throw new ValidationError(k, q[k], 'a valid Date');
  }
  if (q.to.getTime() <= q.from.getTime()) throw new ValidationError('to', q.to.toISOString(), `a time after from (${q.from.toISOString()})`);
  const alpha = q.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new ValidationError('alpha', alpha, 'a number in (0, 1)');
  const { rows } = await db.query<{ arm: string; version: number | null; requests: string; rewarded: string; mean: number | null; sd: number | null; latency: number | null }>(ARM_STATS_SQL, [
    q.deployment,
    q.from.toISOString(),
    q.to.toISOString(),
  ]);
  return rows.map((r) => {
    const n = Number(r.rewarded);
    let reward: ArmStats['reward'] = null;
    if (n > 0 && r.mean !== null) {
      const half = n >= 2 && r.sd !== null ? studentTQuantile(1 - alpha / 2, n - 1) * (r.sd / Math.sqrt(n)) : null;
      reward = { mean: r.mean, lower: half === null ? null : r.mean - half, upper: half === null ? null : r.mean + half };
    }
    return { arm: r.arm, version: r.version, requests: Number(r.requests), rewarded: n, reward, latencyMs: r.latency };
  });
}
