/**
 * Bandit statistics as flat `field → number` maps, the shape a Redis hash holds. A shared store
 * applies a delta with one HINCRBYFLOAT per field (atomically, e.g. in one Lua script or MULTI):
 * increments commute, so rewards from any number of server instances are never lost, and each
 * instance rebuilds its learner from HGETALL with `fieldsToStats` + `setStats`.
 *
 * Field names: `{arm}:n`, `{arm}:rs` (Σr), `{arm}:rss` (Σr²), `{arm}:xx:{k}` (packed Σxxᵀ, k <
 * d(d+1)/2), `{arm}:xr:{i}` (Σrx, i < d). Missing fields read as 0, so an empty hash is a fresh
 * learner. Deltas can be summed in process before they are sent (`sumDeltas`): the sum of the
 * statistics is the statistics of the union, so batching is exact.
 */
import { addArmStats, ArmStats, BanditStats, emptyArmStats, LearnerKind, StatsDelta } from './types';

/** The hash fields (and increments) of one delta. */
export function deltaToFields(delta: StatsDelta): Record<string, number> {
  const out: Record<string, number> = {};
  armFields(delta.arm, delta.stats, out, true);
  return out;
}

/** Every field of the totals. */
export function statsToFields(stats: BanditStats): Record<string, number> {
  const out: Record<string, number> = {};
  stats.arms.forEach((s, a) => armFields(a, s, out, false));
  return out;
}

function armFields(arm: number, s: ArmStats, out: Record<string, number>, skipZeros: boolean): void {
  const put = (k: string, v: number) => {
    if (!skipZeros || v !== 0) out[k] = v;
  };
  put(`${arm}:n`, s.n);
  put(`${arm}:rs`, s.rSum);
  put(`${arm}:rss`, s.rSqSum);
  s.xx?.forEach((v, k) => put(`${arm}:xx:${k}`, v));
  s.xr?.forEach((v, i) => put(`${arm}:xr:${i}`, v));
}

const FIELD = /^(\d+):(n|rs|rss|xx|xr)(?::(\d+))?$/;

/**
 * Rebuilds statistics from hash fields (values as numbers or the strings Redis returns).
 * Unknown or out-of-range fields are refused by name: they mean a spec/learner mismatch.
 */
export function fieldsToStats(kind: LearnerKind, nArms: number, d: number, fields: Readonly<Record<string, number | string>>): BanditStats {
  const arms = Array.from({ length: nArms }, () => emptyArmStats(d));
  const pl = (d * (d + 1)) / 2;
  for (const [key, raw] of Object.entries(fields)) {
    const m = FIELD.exec(key);
    const v = typeof raw === 'number' ? raw : Number(raw);
    if (!m) throw new Error(`fieldsToStats: unknown field ${JSON.stringify(key)} (expected {arm}:n|rs|rss|xx:{k}|xr:{i})`);
    if (!Number.isFinite(v)) throw new Error(`fieldsToStats: field ${key} must hold a finite number, got ${JSON.stringify(raw)}`);
    const arm = Number(m[1]);
    if (arm >= nArms) throw new Error(`fieldsToStats: field ${key} names arm ${arm}, expected an arm in [0, ${nArms - 1}]`);
    const s = arms[arm];
    const idx = m[3] === undefined ? -1 : Number(m[3]);
    switch (m[2]) {
      case 'n': s.n = v; break;
      case 'rs': s.rSum = v; break;
      case 'rss': s.rSqSum = v; break;
      case 'xx':
        if (d === 0 || idx < 0 || idx >= pl) throw new Error(`fieldsToStats: field ${key} is out of range (expected xx:0 … xx:${pl - 1} for d = ${d})`);
        (s.xx as number[])[idx] = v;
        break;
      case 'xr':
        if (d === 0 || idx < 0 || idx >= d) throw new Error(`fieldsToStats: field ${key} is out of range (expected xr:0 … xr:${d - 1} for d = ${d})`);
        (s.xr as number[])[idx] = v;
        break;
    }
  }
  return { kind, d, arms };
}

/** Sums deltas per arm (exact pre-aggregation before a flush to the shared store). */
export function sumDeltas(deltas: readonly StatsDelta[]): StatsDelta[] {
  const byArm = new Map<number, ArmStats>();
  for (const dl of deltas) {
    let s = byArm.get(dl.arm);
    if (!s) {
      s = { n: 0, rSum: 0, rSqSum: 0 };
      if (dl.stats.xx) s.xx = new Array<number>(dl.stats.xx.length).fill(0);
      if (dl.stats.xr) s.xr = new Array<number>(dl.stats.xr.length).fill(0);
      byArm.set(dl.arm, s);
    }
    addArmStats(s, dl.stats);
  }
  return [...byArm.entries()].sort((a, b) => a[0] - b[0]).map(([arm, stats]) => ({ arm, stats }));
}
