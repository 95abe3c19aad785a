/**
 * Writing decisions. Both statements take the rows as decision lines (./line.ts), so they store the same
 * text in every column:
 *
 * - `copyDecisionLines` streams lines with one `COPY … FROM STDIN` (the server's decision log: the least
 *   PostgreSQL CPU per row). COPY cannot skip rows already stored, so a batch that meets one (a retried
 *   or replayed batch: unique violation, nothing of it committed) is written again through INSERT.
 * - `insertDecisionLines` sends each line's field texts in one JSON document per chunk, expanded
 *   server-side and cast to each column's type (the same input functions COPY uses), with
 *   ON CONFLICT DO NOTHING: replaying a journal or retrying a batch is safe. The key is (decision_id, time)
 *   (the table is partitioned by time, migration 016): a replayed line carries the time it was logged with.
 * - `insertDecisions` / `copyDecisions` encode DecisionInputs first (validating every row: a batch with
 *   an invalid row writes nothing) and then take one of the two ways.
 */
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../registry/db';
import { DECISION_COLUMNS, decisionLineFields, encodeDecisionLine, splitDecisionLines } from './line';
import type { DecisionInput } from './types';

/**
 * True when a write failed for the rows themselves — a ValidationError, or a PostgreSQL data or integrity
 * error (SQLSTATE class 22/23) — rather than because the database is unavailable: writing the same rows
 * again would fail again, so a writer sets them aside instead of retrying.
 */
export function isRowError(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.name === 'ValidationError') return true;
  return typeof e.code === 'string' && /^2[23][0-9A-Z]{3}$/.test(e.code);
}

const CHUNK = 2000;
const NAMES = DECISION_COLUMNS.map((c) => c.name).join(', ');
const COPY_SQL = `COPY decisions (${NAMES}) FROM STDIN`;
const INSERT_SQL = `INSERT INTO decisions (${NAMES})
  SELECT ${DECISION_COLUMNS.map((c) => `x.${c.name}::${c.type}`).join(', ')}
  FROM jsonb_to_recordset($1::jsonb) AS x(${DECISION_COLUMNS.map((c) => `${c.name} text`).join(', ')})
  ON CONFLICT (decision_id, time) DO NOTHING`;

/** Inserts decision lines in chunks; returns how many were new (ids already stored are skipped). */
export async function insertDecisionLines(db: Db, lines: readonly string[]): Promise<{ inserted: number }> {
  let inserted = 0;
  for (let start = 0; start < lines.length; start += CHUNK) {
    const chunk = lines.slice(start, start + CHUNK).map((line) => {
      const fields = decisionLineFields(line);
      const row: Record<string, string | null> = {};
      for (let c = 0; c < DECISION_COLUMNS.length; c++) row[DECISION_COLUMNS[c].name] = fields[c];
      return row;
    });
    const res = await db.query(INSERT_SQL, [JSON.stringify(chunk)]);
    inserted += res.rowCount ?? 0;
  }
  return { inserted };
}

/** Inserts decisions (validated first); returns how many were new (ids already stored are skipped). */
export async function insertDecisions(db: Db, decisions: DecisionInput[]): Promise<{ inserted: number }> {
  return insertDecisionLines(db, decisions.map((d, i) => encodeDecisionLine(d, i)));
}

/**
 * Writes `count` decisions already encoded as decision lines with one `COPY … FROM STDIN`; a batch that
 * meets stored ids (unique violation, nothing of it committed) goes through `insertDecisionLines`, which
 * skips them. Outside a transaction only: inside one, the failed COPY has aborted it and the error is thrown.
 */
export async function copyDecisionLines(db: Db, text: Buffer | string, count: number): Promise<{ inserted: number }> {
  if (count === 0) return { inserted: 0 };
  try {
    await db.withClient(
      (client) =>
        new Promise<void>((resolve, reject) => {
          const stream = client.query(copyFrom(COPY_SQL));
          stream.on('error', reject);
          stream.on('finish', resolve);
          stream.end(text);
        }),
    );
  } catch (err) {
    if ((err as { code?: string }).code === '23505' && !db.inTransaction) {
      return insertDecisionLines(db, splitDecisionLines(typeof text === 'string' ? text : text.toString('utf8')));
    }
    throw err;
  }
  return { inserted: count };
}

/**
 * `insertDecisions` through COPY (text format): less PostgreSQL CPU per row than the JSON expansion.
 * Same validation, same rows stored, same result (a batch meeting stored ids falls back as in
 * `copyDecisionLines`).
 */
export async function copyDecisions(db: Db, decisions: DecisionInput[]): Promise<{ inserted: number }> {
  let text = '';
  for (let i = 0; i < decisions.length; i++) text += encodeDecisionLine(decisions[i], i);
  return copyDecisionLines(db, text, decisions.length);
}
