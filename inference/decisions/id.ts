/**
 * Decision ids: UUID version 7 (RFC 9562) — 48 bits of Unix time in milliseconds, then 74 random bits.
 *
 * Why not `randomUUID()` (version 4): the `decisions` table's primary key is a B-tree on the id, and
 * random ids land on random leaf pages, so every insert touches a page that is cold once the table
 * outgrows memory, and PostgreSQL spends more CPU per COPY row with v4 ids than with v7 even on a fresh
 * table. Time-ordered ids append at the right edge of the index. They stay unique (74 random bits per millisecond) and unguessable enough for a
 * reward key; the time they reveal is the decision's own, which the row stores anyway.
 */
import { randomFillSync } from 'node:crypto';

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const POOL_IDS = 512;
const pool = Buffer.allocUnsafeSlow(10 * POOL_IDS);
let offset = pool.length;
/** The id's 36 ASCII characters are assembled here and read out as one flat string. */
const scratch = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');
/** Byte i of the id (0..15) → its two hex digits' positions in the text. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

function hexByte(i: number, byte: number): void {
  const at = AT[i];
  scratch[at] = HEX_DIGITS[byte >>> 4];
  scratch[at + 1] = HEX_DIGITS[byte & 0x0f];
}

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
  hexByte(0, (hi >>> 16) & 0xff);
  hexByte(1, (hi >>> 8) & 0xff);
  hexByte(2, hi & 0xff);
  hexByte(3, (lo >>> 16) & 0xff);
  hexByte(4, (lo >>> 8) & 0xff);
  hexByte(5, lo & 0xff);
  hexByte(6, 0x70 | (pool[r] & 0x0f));
  hexByte(7, pool[r + 1]);
  hexByte(8, 0x80 | (pool[r + 2] & 0x3f));
  for (let i = 9; i < 16; i++) hexByte(i, pool[r + i - 6]);
  return scratch.toString('latin1', 0, 36);
}

/**
 * A new decision's id and time, from one reading of the clock: the id's time prefix is the row's `time`,
 * however long the decision takes between choosing its id and logging its row.
 */
export function newDecisionStamp(nowMs: number = Date.now()): { decisionId: string; time: Date } {
  return { decisionId: newDecisionId(nowMs), time: new Date(nowMs) };
}

/** The millisecond timestamp a version-7 id carries (tests, diagnostics). */
export function decisionIdTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
