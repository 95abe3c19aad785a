/**
 * One scored chunk of logged rounds, as `scoreChunk` writes it to the artifact store and `estimate`
 * reads it back: a small binary file, so a chunk of 5,000 rounds is ~100 KB instead of megabytes of
 * JSON, and decoding is a copy.
 *
 * Layout (little-endian):
 *   bytes 0..7     magic "APOPECK1"
 *   bytes 8..11    uint32 H = byte length of the header
 *   bytes 12..     header: UTF-8 JSON { format, nRounds, nFeatures, nActions, fields }, space-padded so
 *                  the arrays start on an 8-byte boundary
 *   then, in `fields` order, each array's bytes (each length a multiple of 8 by padding):
 *     reward       float64[n]      r_i, the logged reward
 *     pscore       float64[n]      π_b(a_i | x_i), the logged propensity of the discrete action
 *     pe           float64[n]      π_e(a_i | x_i), the candidate's probability of the logged action
 *     action       int32[n]        the joint index of the logged action (−1 when not enumerated)
 *     context      float32[n × d]  the features the candidate saw (the reward model's regressors)
 *     actionDist   float64[n × K]  π_e(a | x_i) over the K joint actions (K = 0 when not enumerated)
 *   and, from v2 (`autopilot.ope-chunk/v2`; a v1 chunk reads back with these empty, nHeads = 0):
 *     heads        int32[n × H]    each discrete head's logged value index
 *     headPe       float64[n × H]  π_e,h(a_ih | x_i), the candidate's probability of each logged head value
 *     headPscore   float64[n × H]  π_b,h(a_ih | x_i) as logged (metadata.headPropensities); NaN when not logged
 *     headProbs    float64[n × S]  π_e,h(· | x_i), every head's distribution (S = Σ_h K_h): the action-feature model's input
 */

export const CHUNK_MAGIC = 'APOPECK1';
export const CHUNK_FORMAT = 'autopilot.ope-chunk/v2';
const CHUNK_FORMAT_V1 = 'autopilot.ope-chunk/v1';

export interface ScoredChunk {
  nRounds: number;
  nFeatures: number;
  /** K: the size of the enumerated joint action space, or 0. */
  nActions: number;
  reward: Float64Array;
  pscore: Float64Array;
  pe: Float64Array;
  action: Int32Array;
  context: Float32Array;
  actionDist: Float64Array;
  /** H: discrete heads (0 in a v1 chunk). */
  nHeads: number;
  /** S = Σ_h K_h. */
  nHeadValues: number;
  heads: Int32Array;
  headPe: Float64Array;
  headPscore: Float64Array;
  headProbs: Float64Array;
}

const FIELDS_V1 = ['reward', 'pscore', 'pe', 'action', 'context', 'actionDist'] as const;
const FIELDS = [...FIELDS_V1, 'heads', 'headPe', 'headPscore', 'headProbs'] as const;
type Field = (typeof FIELDS)[number];

type Dims = Pick<ScoredChunk, 'nRounds' | 'nFeatures' | 'nActions' | 'nHeads' | 'nHeadValues'>;

function expectedLength(c: Dims, f: Field): number {
  if (f === 'context') return c.nRounds * c.nFeatures;
  if (f === 'actionDist') return c.nRounds * c.nActions;
  if (f === 'heads' || f === 'headPe' || f === 'headPscore') return c.nRounds * c.nHeads;
  if (f === 'headProbs') return c.nRounds * c.nHeadValues;
  return c.nRounds;
}

const pad8 = (n: number): number => (n + 7) & ~7;

export function encodeChunk(c: ScoredChunk): Buffer {
  for (const f of FIELDS) {
    if (c[f].length !== expectedLength(c, f)) throw new RangeError(`encodeChunk: ${f} has ${c[f].length} values, expected ${expectedLength(c, f)}`);
  }
  let header = Buffer.from(JSON.stringify({ format: CHUNK_FORMAT, nRounds: c.nRounds, nFeatures: c.nFeatures, nActions: c.nActions, nHeads: c.nHeads, nHeadValues: c.nHeadValues, fields: FIELDS }), 'utf8');
  const headerEnd = pad8(12 + header.length);
  header = Buffer.concat([header, Buffer.alloc(headerEnd - 12 - header.length, 0x20)]);
  const parts: Buffer[] = [Buffer.from(CHUNK_MAGIC, 'latin1'), Buffer.alloc(4), header];
  parts[1].writeUInt32LE(header.length, 0);
  for (const f of FIELDS) {
    const a = c[f];
    const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    parts.push(bytes);
    if (pad8(bytes.length) !== bytes.length) parts.push(Buffer.alloc(pad8(bytes.length) - bytes.length));
  }
  return Buffer.concat(parts);
}

export function decodeChunk(buf: Buffer, what = 'chunk'): ScoredChunk {
  const fail = (msg: string): never => {
    throw new Error(`${what}: ${msg}`);
  };
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== CHUNK_MAGIC) fail(`not an OPE chunk (expected the magic "${CHUNK_MAGIC}")`);
  const h = buf.readUInt32LE(8);
  if (12 + h > buf.length) fail(`header of ${h} bytes runs past the end (${buf.length} bytes)`);
  let header: { format?: unknown; nRounds?: unknown; nFeatures?: unknown; nActions?: unknown; nHeads?: unknown; nHeadValues?: unknown; fields?: unknown };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + h)) as typeof header;
  } catch {
    return fail('header is not JSON');
  }
  const v1 = header.format === CHUNK_FORMAT_V1;
  if (header.format !== CHUNK_FORMAT && !v1) fail(`format ${JSON.stringify(header.format)}, expected "${CHUNK_FORMAT}" (or "${CHUNK_FORMAT_V1}")`);
  const fields = v1 ? FIELDS_V1 : FIELDS;
  const dims = { nRounds: header.nRounds, nFeatures: header.nFeatures, nActions: header.nActions, nHeads: v1 ? 0 : header.nHeads, nHeadValues: v1 ? 0 : header.nHeadValues };
  for (const [k, v] of Object.entries(dims)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`header.${k} = ${JSON.stringify(v)}, expected an integer ≥ 0`);
  }
  if (JSON.stringify(header.fields) !== JSON.stringify(fields)) fail(`fields ${JSON.stringify(header.fields)}, expected ${JSON.stringify(fields)}`);
  const c = dims as Dims;
  let off = 12 + h;
  const take = <T>(f: Field, ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T => {
    const bytes = expectedLength(c, f) * ctor.BYTES_PER_ELEMENT;
    if (off + bytes > buf.length) fail(`${f} runs past the end (needs ${bytes} bytes at ${off}, the chunk has ${buf.length})`);
    // Copy into a fresh, aligned buffer: the Buffer may be a slice of a pooled ArrayBuffer.
    const copy = new ArrayBuffer(bytes);
    new Uint8Array(copy).set(buf.subarray(off, off + bytes));
    off += pad8(bytes);
    return new ctor(copy);
  };
  const out: ScoredChunk = {
    ...c,
    reward: take('reward', Float64Array),
    pscore: take('pscore', Float64Array),
    pe: take('pe', Float64Array),
    action: take('action', Int32Array),
    context: take('context', Float32Array),
    actionDist: take('actionDist', Float64Array),
    heads: v1 ? new Int32Array(0) : take('heads', Int32Array),
    headPe: v1 ? new Float64Array(0) : take('headPe', Float64Array),
    headPscore: v1 ? new Float64Array(0) : take('headPscore', Float64Array),
    headProbs: v1 ? new Float64Array(0) : take('headProbs', Float64Array),
  };
  if (off !== buf.length) fail(`${buf.length - off} trailing bytes`);
  return out;
}
