/**
 * Decision ids: UUID version 7 (RFC 9562) — 48 bits of Unix time in milliseconds, then 74 random bits.
 *
 * Why not `randomUUID()` (version 4): the `decisions` table's primary key is a B-tree on the id, and
 * random ids land on random leaf pages, so every insert touches a page that is cold once the table
 * outgrows memory (and, measured on a fresh table with bench-sized batches, PostgreSQL spent 20.9 µs
 * of CPU per COPY row with v4 ids against 15.8 µs with v7). Time-ordered ids append at the right edge
 * of the index. They stay unique (74 random bits per millisecond) and unguessable enough for a
 * reward key; the time they reveal is the decision's own, which the row stores anyway.
 */
import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_IDS = 512;
const pool = Buffer.allocUnsafeSlow(10 * POOL_IDS);
let offset = pool.length;

/** A new version-7 UUID for a decision made at `nowMs` (default: now). */
export function newDecisionId(nowMs: number = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = offset;
  offset += 10;
  const hi = Math.floor(nowMs / 0x1000000); // top 24 of the 48 time bits
  const lo = nowMs - hi * 0x1000000; // low 24
  return (
    HEX[(hi >>> 16) & 0xff] + HEX[(hi >>> 8) & 0xff] + HEX[hi & 0xff] + HEX[(lo >>> 16) & 0xff] + '-' +
    HEX[(lo >>> 8) & 0xff] + HEX[lo & 0xff] + '-' +
    HEX[0x70 | (pool[r] & 0x0f)] + HEX[pool[r + 1]] + '-' +
    HEX[0x80 | (pool[r + 2] & 0x3f)] + HEX[pool[r + 3]] + '-' +
    HEX[pool[r + 4]] + HEX[pool[r + 5]] + HEX[pool[r + 6]] + HEX[pool[r + 7]] + HEX[pool[r + 8]] + HEX[pool[r + 9]]
  );
}

/** The millisecond timestamp a version-7 id carries (tests, diagnostics). */
export function decisionIdTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
