/**
 * The decision log and rewards.
 *
 * - `insertDecisions` writes a batch in one multi-row statement per chunk; a decision id already
 *   stored is skipped (ON CONFLICT DO NOTHING), so replaying a journal or retrying a batch is safe.
 * - `insertReward` is idempotent per decision id: the same reward again is accepted (not stored twice);
 *   a different value is a ConflictError. Rewards have no foreign key to decisions because decisions
 *   are written asynchronously and a reward may arrive first. `insertRewards` does the same for a
 *   batch in two statements, with one outcome per reward.
 * - `readDecisionsWithRewards` pages through a deployment's time window with a keyset cursor
 *   (time, decision_id), so a reader never skips or repeats a row however large the window.
 */
import type { Db } from './db';
import { from as copyFrom } from 'pg-copy-streams';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import type { DecisionInput, DecisionWithReward, Json, RewardInput } from './types';
import { checkFinite, checkUuid, isPlainObject, stableJson } from './validate';

const CHUNK = 2000;

/** The fields one deployment generation's arm shares across its decisions (see `decisionLineArmFields`). */
type ArmFields = Pick<DecisionInput, 'deployment' | 'model' | 'version' | 'generation' | 'arm'>;

function checkArmFields(d: ArmFields, f: (name: string) => string): void {
  for (const k of ['deployment', 'model', 'arm'] as const) {
    if (typeof d[k] !== 'string' || d[k] === '') throw new ValidationError(f(k), d[k], 'a non-empty string');
  }
  if (d.version !== null && (!Number.isInteger(d.version) || d.version < 1)) {
    throw new ValidationError(f('version'), d.version, 'a version number >= 1, or null for a fallback action');
  }
  if (d.generation !== undefined && d.generation !== null && (!Number.isSafeInteger(d.generation) || d.generation < 1)) {
    throw new ValidationError(f('generation'), d.generation, 'a deployment generation >= 1');
  }
}

function checkDecision(d: DecisionInput, i: number): void {
  const f = (name: string) => `decisions[${i}].${name}`;
  if (!isPlainObject(d)) throw new ValidationError(`decisions[${i}]`, d, 'a decision object');
  checkUuid(d.decisionId, f('decisionId'));
  if (!(d.time instanceof Date) || Number.isNaN(d.time.getTime())) throw new ValidationError(f('time'), d.time, 'a valid Date');
  checkArmFields(d, f);
  if (d.features === undefined || d.features === null) throw new ValidationError(f('features'), d.features, 'the features the policy saw (JSON; {} when none)');
  if (d.featuresJson !== undefined && (typeof d.featuresJson !== 'string' || d.featuresJson.length === 0)) {
    throw new ValidationError(f('featuresJson'), d.featuresJson, 'the JSON text of features');
  }
  if (d.action === undefined || d.action === null) throw new ValidationError(f('action'), d.action, 'the action served (JSON)');
  if (d.propensity !== undefined && d.propensity !== null) {
    const p = checkFinite(d.propensity, f('propensity'));
    if (p < 0 || p > 1) throw new ValidationError(f('propensity'), p, 'a probability in [0, 1]');
  }
  if (d.density !== undefined && d.density !== null) {
    const p = checkFinite(d.density, f('density'));
    if (p < 0) throw new ValidationError(f('density'), p, 'a density >= 0');
  }
  if (d.latencyMs !== undefined && d.latencyMs !== null) checkFinite(d.latencyMs, f('latencyMs'));
}

/** Inserts decisions in batches; returns how many were new (ids already stored are skipped). */
export async function insertDecisions(db: Db, decisions: DecisionInput[]): Promise<{ inserted: number }> {
  decisions.forEach(checkDecision);
  let inserted = 0;
  for (let start = 0; start < decisions.length; start += CHUNK) {
    const chunk = decisions.slice(start, start + CHUNK).map((d) => ({
      decision_id: d.decisionId,
      time: d.time.toISOString(),
      deployment: d.deployment,
      model: d.model,
      version: d.version,
      generation: d.generation ?? null,
      arm: d.arm,
      features: d.features,
      action: d.action,
      propensity: d.propensity ?? null,
      density: d.density ?? null,
      unit: d.unit ?? null,
      latency_ms: d.latencyMs ?? null,
      metadata: d.metadata ?? null,
    }));
    // One JSON document per chunk, expanded server-side: about twice as fast as per-column arrays.
    const res = await db.query(
      `INSERT INTO decisions (decision_id, time, deployment, model, version, generation, arm, features, action,
         propensity, density, unit, latency_ms, metadata)
       SELECT decision_id, time, deployment, model, version, generation, arm, features, action,
         propensity, density, unit, latency_ms, metadata
       FROM jsonb_to_recordset($1::jsonb) AS x(decision_id uuid, time timestamptz, deployment text, model text, version int,
         generation bigint, arm text, features json, action json, propensity double precision, density double precision,
         unit text, latency_ms double precision, metadata json)
       ON CONFLICT (decision_id) DO NOTHING`,
      [JSON.stringify(chunk)],
    );
    inserted += res.rowCount ?? 0;
  }
  return { inserted };
}

const COPY_DECISIONS = 'COPY decisions (decision_id, time, deployment, model, version, generation, arm, features, action, propensity, density, unit, latency_ms, metadata) FROM STDIN';
const COPY_FIELDS = 14;
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const COPY_UNESCAPE_ALL = /\\(.)/g;
const COPY_UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

/** One field of COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyText(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]) : s;
}

/**
 * A JSON text as a COPY field. JSON.stringify escapes every control character inside strings and adds
 * no whitespace, so the only byte COPY treats specially that JSON text can hold is the backslash.
 */
function copyJson(v: unknown): string {
  return copyJsonText(JSON.stringify(v));
}

/** The text JSON.stringify made, as a COPY field (see copyJson). */
function copyJsonText(s: string): string {
  return s.indexOf('\\') === -1 ? s : s.replace(BACKSLASHES, '\\\\');
}
const BACKSLASHES = /\\/g;

/** toISOString of the last millisecond seen: decisions logged within one millisecond share it. */
let isoMs = NaN;
let isoText = '';
function isoTime(d: Date): string {
  const ms = d.getTime();
  if (ms !== isoMs) {
    isoText = d.toISOString();
    isoMs = ms;
  }
  return isoText;
}

function copyNumber(v: number | null | undefined): string {
  return v === null || v === undefined ? '\\N' : String(v);
}

function uncopyText(s: string): string {
  return s.indexOf('\\') === -1 ? s : s.replace(COPY_UNESCAPE_ALL, (_, c: string) => {
    const u = COPY_UNESCAPES[c];
    if (u === undefined) throw new Error(`decision line: unexpected escape \\${c}`);
    return u;
  });
}

function uncopyNumber(s: string): number | null {
  return s === '\\N' ? null : Number(s);
}

/**
 * One decision as a line of COPY's text format (14 tab-separated fields and a newline), after the same
 * checks `insertDecisions` makes (ValidationError names the field). The decision log encodes each row
 * when it is enqueued, so a batch is written without work on the event loop and its rows wait for the
 * database as bytes, not objects.
 */
export function encodeDecisionLine(d: DecisionInput, i = 0): string {
  checkDecision(d, i);
  return `${d.decisionId}\t${isoTime(d.time)}\t${copyText(d.deployment)}\t${copyText(d.model)}\t${copyNumber(d.version)}\t${copyNumber(d.generation)}\t${copyText(d.arm)}\t${d.featuresJson === undefined ? copyJson(d.features) : copyText(d.featuresJson)}\t${d.actionJson === undefined ? copyJson(d.action) : copyJsonText(d.actionJson)}\t${copyNumber(d.propensity)}\t${copyNumber(d.density)}\t${d.unit === null || d.unit === undefined ? '\\N' : copyText(d.unit)}\t${copyNumber(d.latencyMs)}\t${d.metadata === null || d.metadata === undefined ? '\\N' : copyJson(d.metadata)}\n`;
}

/**
 * Fields 3–7 of a decision line (deployment, model, version, generation, arm) with the tabs around them,
 * checked as `encodeDecisionLine` checks them (ValidationError names the field): what every decision one
 * arm of one deployment generation serves repeats, made once for `encodeServedDecisionLine`.
 */
export function decisionLineArmFields(d: ArmFields): string {
  checkArmFields(d, (name) => name);
  return `\t${copyText(d.deployment)}\t${copyText(d.model)}\t${copyNumber(d.version)}\t${copyNumber(d.generation)}\t${copyText(d.arm)}\t`;
}

/**
 * Exactly the line `encodeDecisionLine` writes for a decision a server has just answered, from the parts
 * it already holds as text: `armFields` from `decisionLineArmFields`, the features' JSON text as the
 * client sent it, `JSON.stringify` of the action and of the metadata. Skips what the generic path does
 * per row for a row object (validating every field by name, serializing the JSON values); the values that
 * vary per row are still checked, and a decision that fails a check gets null: the caller then logs it the
 * generic way, which sets it aside with the error. `decisionId` must be a uuid (newDecisionStamp makes
 * them); only its shape is checked here, and the database refuses anything else (the row is set aside then).
 */
export function encodeServedDecisionLine(
  decisionId: string,
  time: Date,
  armFields: string,
  featuresJson: string,
  actionJson: string,
  propensity: number,
  density: number | null,
  unit: string | null,
  latencyMs: number,
  metadataJson: string,
): string | null {
  if (
    decisionId.length !== 36 ||
    decisionId.charCodeAt(8) !== DASH ||
    decisionId.charCodeAt(23) !== DASH ||
    Number.isNaN(time.getTime()) ||
    featuresJson.length === 0 ||
    !(propensity >= 0 && propensity <= 1) ||
    !(density === null || (density >= 0 && density !== Infinity)) ||
    !Number.isFinite(latencyMs)
  ) {
    return null;
  }
  return `${decisionId}\t${isoTime(time)}${armFields}${copyText(featuresJson)}\t${copyJsonText(actionJson)}\t${String(propensity)}\t${density === null ? '\\N' : String(density)}\t${unit === null ? '\\N' : copyText(unit)}\t${String(latencyMs)}\t${copyJsonText(metadataJson)}\n`;
}
const DASH = 0x2d;

/** The decision `encodeDecisionLine` encoded (the line with or without its newline); throws on anything else. */
export function decodeDecisionLine(line: string): DecisionInput {
  const f = (line.endsWith('\n') ? line.slice(0, -1) : line).split('\t');
  if (f.length !== COPY_FIELDS) throw new Error(`decision line: expected ${COPY_FIELDS} tab-separated fields, got ${f.length}`);
  const json = (s: string) => (s === '\\N' ? null : (JSON.parse(uncopyText(s)) as Json));
  const d: DecisionInput = {
    decisionId: f[0],
    time: new Date(f[1]),
    deployment: uncopyText(f[2]),
    model: uncopyText(f[3]),
    version: uncopyNumber(f[4]),
    generation: uncopyNumber(f[5]),
    arm: uncopyText(f[6]),
    features: json(f[7]) as Json,
    action: json(f[8]) as Json,
    propensity: uncopyNumber(f[9]),
    density: uncopyNumber(f[10]),
    unit: f[11] === '\\N' ? null : uncopyText(f[11]),
    latencyMs: uncopyNumber(f[12]),
    metadata: json(f[13]),
  };
  return d;
}

/** The decisions of a block of `encodeDecisionLine` lines. */
export function decodeDecisionLines(text: string): DecisionInput[] {
  const out: DecisionInput[] = [];
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    out.push(decodeDecisionLine(text.slice(start, end)));
    start = end + 1;
  }
  if (start < text.length) throw new Error('decision lines: the last line has no newline');
  return out;
}

/**
 * Writes `count` decisions already encoded by `encodeDecisionLine` with one `COPY … FROM STDIN`. COPY
 * cannot skip rows already stored, so when the batch meets one (a retried or replayed batch: unique
 * violation, nothing of it committed) its rows are decoded and written again through
 * `insertDecisions`, which skips them.
 */
export async function copyDecisionLines(db: Db, text: Buffer | string, count: number): Promise<{ inserted: number }> {
  if (count === 0) return { inserted: 0 };
  try {
    await db.withClient(
      (client) =>
        new Promise<void>((resolve, reject) => {
          const stream = client.query(copyFrom(COPY_DECISIONS));
          stream.on('error', reject);
          stream.on('finish', resolve);
          stream.end(text);
        }),
    );
  } catch (err) {
    if ((err as { code?: string }).code === '23505' && !db.inTransaction) {
      return insertDecisions(db, decodeDecisionLines(typeof text === 'string' ? text : text.toString('utf8')));
    }
    throw err;
  }
  return { inserted: count };
}

/**
 * `insertDecisions` through COPY (text format): about 40 % less PostgreSQL CPU per row than the JSON
 * expansion. Same validation, same result (a batch meeting stored ids falls back as in
 * `copyDecisionLines`).
 */
export async function copyDecisions(db: Db, decisions: DecisionInput[]): Promise<{ inserted: number }> {
  let text = '';
  for (let i = 0; i < decisions.length; i++) text += encodeDecisionLine(decisions[i], i);
  return copyDecisionLines(db, text, decisions.length);
}

/** Records the reward of a decision; `inserted: false` when the same reward was already stored. */
export async function insertReward(db: Db, input: RewardInput): Promise<{ inserted: boolean }> {
  const decisionId = checkUuid(input.decisionId, 'decisionId');
  const reward = checkFinite(input.reward, 'reward');
  let components: Record<string, number> | null = null;
  if (input.components !== undefined && input.components !== null) {
    if (!isPlainObject(input.components)) throw new ValidationError('components', input.components, 'an object of component name to number');
    for (const [k, v] of Object.entries(input.components)) checkFinite(v, `components.${k}`);
    components = input.components;
  }
  if (input.time !== undefined && (!(input.time instanceof Date) || Number.isNaN(input.time.getTime()))) {
    throw new ValidationError('time', input.time, 'a valid Date');
  }
  const res = await db.query(
    `INSERT INTO rewards (decision_id, reward, components, time) VALUES ($1, $2, $3::jsonb, COALESCE($4::timestamptz, now()))
     ON CONFLICT (decision_id) DO NOTHING`,
    [decisionId, reward, components === null ? null : JSON.stringify(components), input.time?.toISOString() ?? null],
  );
  if (res.rowCount === 1) return { inserted: true };
  const { rows } = await db.query('SELECT reward, components FROM rewards WHERE decision_id = $1', [decisionId]);
  const stored = rows[0] as { reward: number; components: Record<string, number> | null };
  const sameComponents = components === null || stableJson(components) === stableJson(stored.components);
  if (stored.reward === reward && sameComponents) return { inserted: false };
  throw new ConflictError(
    'reward of decision',
    decisionId,
    `already recorded as ${stableJson({ reward: stored.reward, components: stored.components })}; ` +
      `got ${stableJson({ reward, components })} (a reward is recorded once per decision)`,
  );
}

/** The outcome of one reward of `insertRewards`: recorded now, the same reward already stored, or refused. */
export type RewardInsertOutcome = { inserted: boolean } | { error: ValidationError | ConflictError };

function checkRewardInput(input: RewardInput, i: number): { decisionId: string; reward: number; components: Record<string, number> | null } {
  const f = (name: string) => `rewards[${i}].${name}`;
  if (!isPlainObject(input)) throw new ValidationError(`rewards[${i}]`, input, 'a reward object');
  const decisionId = checkUuid(input.decisionId, f('decisionId'));
  const reward = checkFinite(input.reward, f('reward'));
  let components: Record<string, number> | null = null;
  if (input.components !== undefined && input.components !== null) {
    if (!isPlainObject(input.components)) throw new ValidationError(f('components'), input.components, 'an object of component name to number');
    for (const [k, v] of Object.entries(input.components)) checkFinite(v, f(`components.${k}`));
    components = input.components;
  }
  if (input.time !== undefined && (!(input.time instanceof Date) || Number.isNaN(input.time.getTime()))) {
    throw new ValidationError(f('time'), input.time, 'a valid Date');
  }
  return { decisionId, reward, components };
}

/**
 * `insertReward` for many rewards at once, with the same rules per reward and one outcome per input
 * (in order): one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING` for the batch,
 * then one read of the rows it did not insert, to tell the same reward again (`inserted: false`)
 * from a different one (ConflictError). An invalid input is a ValidationError outcome and does not
 * stop the others. The same decision id twice in one batch: the first wins; a later one is compared
 * with what is then stored (as if the inputs had been sent one after the other). Rows are inserted in
 * decision-id order, so concurrent batches that share ids wait for each other instead of deadlocking.
 * Database errors throw.
 */
export async function insertRewards(db: Db, inputs: RewardInput[]): Promise<RewardInsertOutcome[]> {
  const out: RewardInsertOutcome[] = new Array(inputs.length);
  const checked: ({ decisionId: string; reward: number; components: Record<string, number> | null } | null)[] = inputs.map((input, i) => {
    try {
      return checkRewardInput(input, i);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      out[i] = { error: err };
      return null;
    }
  });
  const first = new Map<string, number>(); // decision id → index of its first valid input
  checked.forEach((c, i) => {
    if (c !== null && !first.has(c.decisionId)) first.set(c.decisionId, i);
  });
  if (first.size === 0) return out;
  const idx = [...first.values()];
  const res = await db.query<{ decision_id: string }>(
    `INSERT INTO rewards (decision_id, reward, components, time)
     SELECT id, r, c, COALESCE(t, now()) FROM unnest($1::uuid[], $2::float8[], $3::jsonb[], $4::timestamptz[]) AS x(id, r, c, t)
     ORDER BY id
     ON CONFLICT (decision_id) DO NOTHING RETURNING decision_id`,
    [
      idx.map((i) => checked[i]!.decisionId),
      idx.map((i) => checked[i]!.reward),
      idx.map((i) => (checked[i]!.components === null ? null : JSON.stringify(checked[i]!.components))),
      idx.map((i) => inputs[i].time?.toISOString() ?? null),
    ],
  );
  const inserted = new Set(res.rows.map((r) => r.decision_id));
  const stored = new Map<string, { reward: number; components: Record<string, number> | null }>();
  const missing = idx.filter((i) => !inserted.has(checked[i]!.decisionId)).map((i) => checked[i]!.decisionId);
  if (missing.length > 0) {
    const { rows } = await db.query<{ decision_id: string; reward: number; components: Record<string, number> | null }>(
      'SELECT decision_id, reward, components FROM rewards WHERE decision_id = ANY($1::uuid[])',
      [missing],
    );
    for (const r of rows) stored.set(r.decision_id, { reward: r.reward, components: r.components });
  }
  checked.forEach((c, i) => {
    if (c === null) return;
    if (first.get(c.decisionId) === i && inserted.has(c.decisionId)) {
      out[i] = { inserted: true };
      return;
    }
    // What is stored now: this batch's first input for the id if it was inserted, else the earlier row.
    const f = checked[first.get(c.decisionId)!]!;
    const s = inserted.has(c.decisionId) ? { reward: f.reward, components: f.components } : stored.get(c.decisionId);
    if (s === undefined) throw new Error(`insertRewards: reward of decision ${c.decisionId} neither inserted nor stored`);
    const sameComponents = c.components === null || stableJson(c.components) === stableJson(s.components);
    if (s.reward === c.reward && sameComponents) out[i] = { inserted: false };
    else {
      out[i] = {
        error: new ConflictError(
          'reward of decision',
          c.decisionId,
          `already recorded as ${stableJson({ reward: s.reward, components: s.components })}; ` +
            `got ${stableJson({ reward: c.reward, components: c.components })} (a reward is recorded once per decision)`,
        ),
      };
    }
  });
  return out;
}

export async function getDecision(db: Db, decisionId: string): Promise<DecisionWithReward> {
  const id = checkUuid(decisionId, 'decisionId');
  const { rows } = await db.query(`${SELECT_JOINED} WHERE d.decision_id = $1`, [id]);
  if (rows.length === 0) throw new NotFoundError('decision', id);
  return toDecision(rows[0]);
}

export interface DecisionWindowQuery {
  deployment: string;
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  /** `nextCursor` of the previous page; omit for the first. */
  cursor?: string | null;
  /** Rows per page, 1..50000 (default 5000). */
  limit?: number;
  arm?: string;
  version?: number;
  /** Only decisions that have a reward. */
  rewardedOnly?: boolean;
}

export interface DecisionPage {
  rows: DecisionWithReward[];
  /** Pass back as `cursor` for the next page; null when this was the last. */
  nextCursor: string | null;
}

const SELECT_JOINED = `SELECT d.decision_id, d.time, to_char(d.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time_exact,
    d.deployment, d.model, d.version, d.generation, d.arm, d.features, d.action, d.propensity, d.density, d.unit,
    d.latency_ms, d.metadata, r.reward, r.components AS reward_components, r.time AS reward_time
  FROM decisions d LEFT JOIN rewards r ON r.decision_id = d.decision_id`;

/** One page of a deployment's decisions in [from, to), oldest first, each with its reward (or null). */
export async function readDecisionsWithRewards(db: Db, q: DecisionWindowQuery): Promise<DecisionPage> {
  if (typeof q.deployment !== 'string' || q.deployment === '') throw new ValidationError('deployment', q.deployment, 'a deployment name');
  for (const k of ['from', 'to'] as const) {
    if (!(q[k] instanceof Date) || Number.isNaN(q[k].getTime())) throw new ValidationError(k, q[k], 'a valid Date');
  }
  const limit = q.limit ?? 5000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50_000) throw new ValidationError('limit', limit, 'an integer in 1..50000');
  const params: unknown[] = [q.deployment, q.from.toISOString(), q.to.toISOString()];
  const where = ['d.deployment = $1', 'd.time >= $2::timestamptz', 'd.time < $3::timestamptz'];
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    where.push(`(d.time, d.decision_id) > ($${params.push(c.t)}::timestamptz, $${params.push(c.id)}::uuid)`);
  }
  if (q.arm !== undefined) where.push(`d.arm = $${params.push(q.arm)}`);
  if (q.version !== undefined) where.push(`d.version = $${params.push(q.version)}`);
  if (q.rewardedOnly) where.push('r.decision_id IS NOT NULL');
  const { rows } = await db.query(`${SELECT_JOINED} WHERE ${where.join(' AND ')} ORDER BY d.time, d.decision_id LIMIT ${limit + 1}`, params);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    rows: page.map(toDecision),
    nextCursor: more && last ? encodeCursor(last.time_exact, last.decision_id) : null,
  };
}

/** Every page of a window, for readers that want a simple loop: `for await (const page of …)`. */
export async function* iterateDecisionsWithRewards(db: Db, q: Omit<DecisionWindowQuery, 'cursor'>): AsyncGenerator<DecisionWithReward[]> {
  let cursor: string | null = null;
  do {
    const page: DecisionPage = await readDecisionsWithRewards(db, { ...q, cursor });
    if (page.rows.length) yield page.rows;
    cursor = page.nextCursor;
  } while (cursor);
}

function toDecision(r: Record<string, any>): DecisionWithReward {
  return {
    decisionId: r.decision_id,
    time: r.time,
    deployment: r.deployment,
    model: r.model,
    version: r.version,
    generation: r.generation === null ? null : Number(r.generation),
    arm: r.arm,
    features: r.features as Json,
    action: r.action as Json,
    propensity: r.propensity,
    density: r.density,
    unit: r.unit,
    latencyMs: r.latency_ms,
    metadata: r.metadata as Json | null,
    reward: r.reward,
    rewardComponents: r.reward_components,
    rewardTime: r.reward_time,
  };
}

function encodeCursor(t: string, id: string): string {
  return Buffer.from(JSON.stringify({ t, id }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { t: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t: unknown; id: unknown };
    if (typeof c.t === 'string' && typeof c.id === 'string' && !Number.isNaN(Date.parse(c.t))) {
      return { t: c.t, id: checkUuid(c.id, 'cursor.id') };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('cursor', cursor, 'the nextCursor of a previous page');
}
