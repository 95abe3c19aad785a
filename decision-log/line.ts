/**
 * The decision line: one decision as a line of PostgreSQL COPY's text format, and the one definition of
 * a `decisions` row's columns and of how each is encoded.
 *
 *   DECISION_COLUMNS        the columns, in field order, with their SQL types: COPY names them, INSERT
 *                           names and casts them (./write.ts)
 *   encodeDecisionLine      a DecisionInput → its line, after the checks of ./validate.ts
 *   decisionLineArmFields   fields 3–7 (what one arm of one deployment generation repeats), made once
 *   encodeServedDecisionLine the server's hot path: the line from texts it already holds
 *   decisionLineFields      a line → each field's text, escapes undone (what INSERT sends, ./write.ts)
 *   decodeDecisionLine(s)   a line → the DecisionInput again (journal, set-aside rows)
 *
 * Both encoders lay a line out with the same two functions — `armFieldsText` (fields 3–7) and
 * `layoutLine` (the whole line around them) — over the same field escapes, so the served line and the
 * generic line cannot differ; and INSERT stores the field texts of the line, so COPY and INSERT store
 * the same row.
 */
import type { Json } from '../registry/types';
import type { ArmFields, DecisionInput } from './types';
import { checkArmFields, checkDecision } from './validate';

/** The columns of `decisions` in the order of a decision line's fields, with the type each field is read as. */
export const DECISION_COLUMNS = [
  { name: 'decision_id', type: 'uuid' },
  { name: 'time', type: 'timestamptz' },
  { name: 'deployment', type: 'text' },
  { name: 'model', type: 'text' },
  { name: 'version', type: 'int' },
  { name: 'generation', type: 'bigint' },
  { name: 'arm', type: 'text' },
  { name: 'features', type: 'json' },
  { name: 'action', type: 'json' },
  { name: 'propensity', type: 'double precision' },
  { name: 'density', type: 'double precision' },
  { name: 'unit', type: 'text' },
  { name: 'latency_ms', type: 'double precision' },
  { name: 'metadata', type: 'json' },
  // The API key that asked for the decision (migration 010); null without auth. Last, so a line of the
  // 14 fields before it (an older journal) is still read: see decisionLineFields.
  { name: 'key_id', type: 'text' },
] as const;

const FIELDS = DECISION_COLUMNS.length;
/** COPY's NULL. */
const NULL = '\\N';

// ---- field escapes (COPY text format: backslash, tab, newline and carriage return are escaped) ----

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPE_ALL = /\\(.)/g;
const UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };
const BACKSLASHES = /\\/g;

/** A text as a field. */
function textField(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIAL_ALL, (c) => ESCAPES[c]) : s;
}

/**
 * A text JSON.stringify made, as a field. JSON.stringify escapes every control character inside strings
 * and adds no whitespace, so the only byte COPY treats specially that such a text can hold is the backslash.
 */
function stringifiedField(s: string): string {
  return s.indexOf('\\') === -1 ? s : s.replace(BACKSLASHES, '\\\\');
}

/** A JSON value as a field. */
function jsonField(v: unknown): string {
  return stringifiedField(JSON.stringify(v));
}

function numberField(v: number | null | undefined): string {
  return v === null || v === undefined ? NULL : String(v);
}

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

// ---- the line's layout: the only place the fields' order is written ----

/** Fields 3–7 with the tabs around them: deployment, model, version, generation, arm. */
function armFieldsText(d: ArmFields): string {
  return `\t${textField(d.deployment)}\t${textField(d.model)}\t${numberField(d.version)}\t${numberField(d.generation)}\t${textField(d.arm)}\t`;
}

/**
 * The whole line from its field texts: decision_id, time, then `armFields` (fields 3–7 from
 * `armFieldsText`), features, action, propensity, density, unit, latency_ms, metadata, and the newline.
 * Both encoders end here.
 */
function layoutLine(
  decisionId: string,
  time: Date,
  armFields: string,
  features: string,
  action: string,
  propensity: string,
  density: string,
  unit: string,
  latencyMs: string,
  metadata: string,
  keyId: string,
): string {
  return `${decisionId}\t${isoTime(time)}${armFields}${features}\t${action}\t${propensity}\t${density}\t${unit}\t${latencyMs}\t${metadata}\t${keyId}\n`;
}

// ---- encoders ----

/**
 * One decision as a line of COPY's text format (15 tab-separated fields and a newline), after the same
 * checks `insertDecisions` makes (ValidationError names the field, as `decisions[i].<field>`). The
 * server's decision log encodes each row when it is enqueued, so a batch is written without work on the
 * event loop and its rows wait for the database as bytes, not objects.
 */
export function encodeDecisionLine(d: DecisionInput, i = 0): string {
  checkDecision(d, i);
  return layoutLine(
    d.decisionId,
    d.time,
    armFieldsText(d),
    d.featuresJson === undefined ? jsonField(d.features) : textField(d.featuresJson),
    d.actionJson === undefined ? jsonField(d.action) : stringifiedField(d.actionJson),
    numberField(d.propensity),
    numberField(d.density),
    d.unit === null || d.unit === undefined ? NULL : textField(d.unit),
    numberField(d.latencyMs),
    d.metadata === null || d.metadata === undefined ? NULL : jsonField(d.metadata),
    d.keyId === null || d.keyId === undefined ? NULL : textField(d.keyId),
  );
}

/**
 * Fields 3–7 of a decision line (deployment, model, version, generation, arm) with the tabs around them,
 * checked as `encodeDecisionLine` checks them (ValidationError names the field): what every decision one
 * arm of one deployment generation serves repeats, made once for `encodeServedDecisionLine`.
 */
export function decisionLineArmFields(d: ArmFields): string {
  checkArmFields(d, (name) => name);
  return armFieldsText(d);
}

const DASH = 0x2d;

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
  keyId: string | null = null,
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
  return layoutLine(
    decisionId,
    time,
    armFields,
    textField(featuresJson),
    stringifiedField(actionJson),
    String(propensity),
    density === null ? NULL : String(density),
    unit === null ? NULL : textField(unit),
    String(latencyMs),
    stringifiedField(metadataJson),
    keyId === null ? NULL : textField(keyId),
  );
}

// ---- decoders ----

function unescapeField(s: string): string {
  return s.indexOf('\\') === -1
    ? s
    : s.replace(UNESCAPE_ALL, (_, c: string) => {
        const u = UNESCAPES[c];
        if (u === undefined) throw new Error(`decision line: unexpected escape \\${c}`);
        return u;
      });
}

/**
 * The text of each field of a line (with or without its newline), escapes undone, null for NULL: what
 * the input function of each column of DECISION_COLUMNS reads, through COPY or through INSERT.
 */
export function decisionLineFields(line: string): (string | null)[] {
  const f = (line.endsWith('\n') ? line.slice(0, -1) : line).split('\t');
  // A line written before key_id existed (a journal from an older server): its key_id is NULL.
  if (f.length === FIELDS - 1) f.push(NULL);
  if (f.length !== FIELDS) throw new Error(`decision line: expected ${FIELDS} tab-separated fields, got ${f.length}`);
  return f.map((s) => (s === NULL ? null : unescapeField(s)));
}

/** The lines of a block of decision lines, each with its newline; throws when the last has none. */
export function splitDecisionLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    out.push(text.slice(start, end + 1));
    start = end + 1;
  }
  if (start < text.length) throw new Error('decision lines: the last line has no newline');
  return out;
}

/** The decision `encodeDecisionLine` encoded (the line with or without its newline); throws on anything else. */
export function decodeDecisionLine(line: string): DecisionInput {
  const f = decisionLineFields(line);
  const json = (s: string | null) => (s === null ? null : (JSON.parse(s) as Json));
  const num = (s: string | null) => (s === null ? null : Number(s));
  return {
    decisionId: f[0] as string,
    time: new Date(f[1] as string),
    deployment: f[2] as string,
    model: f[3] as string,
    version: num(f[4]),
    generation: num(f[5]),
    arm: f[6] as string,
    features: json(f[7]) as Json,
    action: json(f[8]) as Json,
    propensity: num(f[9]),
    density: num(f[10]),
    unit: f[11],
    latencyMs: num(f[12]),
    metadata: json(f[13]),
    // Present only when a key asked (rows of a server with --auth off, and older lines, have none).
    ...(f[14] === null ? {} : { keyId: f[14] }),
  };
}

/** The decisions of a block of `encodeDecisionLine` lines. */
export function decodeDecisionLines(text: string): DecisionInput[] {
  return splitDecisionLines(text).map(decodeDecisionLine);
}
