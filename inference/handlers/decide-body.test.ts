import { Rng } from '../../ml/rng';
import { jsonMemberText } from '../http/json-member';
import { scanDecideBody, scanNumber } from './decide-body';

const FLOAT32_MAX = 3.4028234663852886e38;
const KEYS = new Set(['deployment', 'features', 'unit', 'explore']);

/**
 * What the generic path reads from `text` when the scanner may answer for it: the body parses, has only
 * the four members (none twice), a non-empty deployment, features as an array of finite numbers within
 * float32's range, unit and explore as a string and a boolean when present. Null otherwise.
 */
function generic(text: string): { deployment: string; unit: string | undefined; explore: boolean | undefined; features: number[]; featuresText: string } | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  if (!Object.keys(b).every((k) => KEYS.has(k))) return null;
  if (typeof b.deployment !== 'string' || b.deployment.length === 0) return null;
  if (!Array.isArray(b.features) || !b.features.every((v) => typeof v === 'number' && Math.abs(v) <= FLOAT32_MAX)) return null;
  if (b.unit !== undefined && typeof b.unit !== 'string') return null;
  if (b.explore !== undefined && typeof b.explore !== 'boolean') return null;
  return { deployment: b.deployment, unit: b.unit as string | undefined, explore: b.explore as boolean | undefined, features: b.features as number[], featuresText: jsonMemberText(text, 'features')! };
}

function scan(text: string) {
  const values = new Float64Array(64);
  const s = scanDecideBody(Buffer.from(text), values);
  return s === null ? null : { deployment: s.deployment, unit: s.unit, explore: s.explore, features: Array.from(values.subarray(0, s.count)), featuresText: s.featuresText };
}

/** The scanner answers exactly what the generic path reads, value for value (-0 included). */
function expectSame(text: string) {
  const got = scan(text);
  const want = generic(text);
  expect(want).not.toBeNull();
  expect(got).not.toBeNull();
  expect(got!.deployment).toBe(want!.deployment);
  expect(got!.unit).toBe(want!.unit);
  expect(got!.explore).toBe(want!.explore);
  expect(got!.featuresText).toBe(want!.featuresText);
  expect(got!.features.length).toBe(want!.features.length);
  got!.features.forEach((v, i) => expect(Object.is(v, want!.features[i])).toBe(true));
}

describe('scanDecideBody', () => {
  const x = Array.from({ length: 16 }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000);

  it.each([
    ['the bench body', JSON.stringify({ deployment: 'ranker', features: x, unit: 'user:42' })],
    ['without unit', JSON.stringify({ deployment: 'ranker', features: x })],
    ['explore true, members reordered', JSON.stringify({ explore: true, unit: 'u', features: x, deployment: 'ranker' })],
    ['explore false', JSON.stringify({ deployment: 'ranker', features: x, explore: false })],
    ['full-precision doubles', JSON.stringify({ deployment: 'ranker', features: x.map((_, i) => Math.sin(i + 1)) })],
    ['whitespace everywhere JSON allows it', ` \n{ "deployment" :\t"ranker" ,\r\n "features" : [ 1 , -2.5e3 ,\n3E+2, 0.0e-0 ] , "unit" : "u:1" } \n`],
    ['an empty array', '{"deployment":"d","features":[]}'],
    ['integers, zeros and -0', '{"deployment":"d","features":[0,-0,-0.0,10,100,1234567890,-7]}'],
    ['numbers past the fast path', '{"deployment":"d","features":[0.1000000000000000055511151231257827,123456789012345678,1e-30,4.9e-324,3.4028234663852886e38,-3.4028234663852886e38,1e22,1e23,9007199254740993]}'],
  ])('reads %s exactly as JSON.parse does', (_, text) => expectSame(text));

  it.each([
    ['features by name', JSON.stringify({ deployment: 'ranker', features: { quality_mean: 1 } })],
    ['features from the store', JSON.stringify({ deployment: 'ranker', features: { entity: 'user:1' } })],
    ['an unknown member', JSON.stringify({ deployment: 'ranker', features: x, extra: 1 })],
    ['a repeated member', '{"deployment":"a","features":[1],"deployment":"b"}'],
    ['repeated features', '{"deployment":"a","features":[1],"features":[2]}'],
    ['repeated explore', '{"deployment":"a","features":[1],"explore":true,"explore":false}'],
    ['a null unit', '{"deployment":"a","features":[1],"unit":null}'],
    ['a numeric unit', '{"deployment":"a","features":[1],"unit":42}'],
    ['a string explore', '{"deployment":"a","features":[1],"explore":"yes"}'],
    ['an escape in a string', '{"deployment":"r\\u0061nker","features":[1]}'],
    ['an escaped quote in a unit', '{"deployment":"a","features":[1],"unit":"a\\"b"}'],
    ['an escape in a member name', '{"\\u0064eployment":"a","features":[1]}'],
    ['a raw control character', '{"deployment":"a\tb","features":[1]}'],
    ['a non-ASCII deployment (UTF-8 is decoded the generic way)', '{"deployment":"ränker","features":[1]}'],
    ['a non-ASCII unit', '{"deployment":"a","features":[1],"unit":"用户:42"}'],
    ['an empty deployment', '{"deployment":"","features":[1]}'],
    ['a numeric deployment', '{"deployment":7,"features":[1]}'],
    ['no deployment', '{"features":[1]}'],
    ['no features', '{"deployment":"a"}'],
    ['null features', '{"deployment":"a","features":null}'],
    ['a string among the features', '{"deployment":"a","features":[1,"2"]}'],
    ['null among the features', '{"deployment":"a","features":[1,null]}'],
    ['a nested array', '{"deployment":"a","features":[[1]]}'],
    ['a leading zero', '{"deployment":"a","features":[01]}'],
    ['a bare dot', '{"deployment":"a","features":[1.]}'],
    ['a leading dot', '{"deployment":"a","features":[.5]}'],
    ['a plus sign', '{"deployment":"a","features":[+1]}'],
    ['a lone minus', '{"deployment":"a","features":[-]}'],
    ['an exponent without digits', '{"deployment":"a","features":[1e]}'],
    ['NaN', '{"deployment":"a","features":[NaN]}'],
    ['Infinity', '{"deployment":"a","features":[Infinity]}'],
    ['a number beyond float32', '{"deployment":"a","features":[3.5e38]}'],
    ['a number beyond double', '{"deployment":"a","features":[1e400]}'],
    ['a hex number', '{"deployment":"a","features":[0x10]}'],
    ['a trailing comma in the array', '{"deployment":"a","features":[1,]}'],
    ['a missing comma in the array', '{"deployment":"a","features":[1 2]}'],
    ['a trailing comma in the object', '{"deployment":"a","features":[1],}'],
    ['text after the object', '{"deployment":"a","features":[1]} x'],
    ['a second object', '{"deployment":"a","features":[1]}{}'],
    ['an unterminated object', '{"deployment":"a","features":[1]'],
    ['an unterminated array', '{"deployment":"a","features":[1'],
    ['an unterminated string', '{"deployment":"a'],
    ['an array body', '[1,2]'],
    ['an empty body', ''],
    ['an empty object', '{}'],
    ['single quotes', "{'deployment':'a','features':[1]}"],
    ['a missing colon', '{"deployment" "a","features":[1]}'],
  ])('leaves %s to the generic path', (_, text) => {
    expect(scan(text)).toBeNull();
  });

  it('leaves more features than its array holds to the generic path', () => {
    const values = new Float64Array(4);
    expect(scanDecideBody(Buffer.from('{"deployment":"a","features":[1,2,3,4]}'), values)?.count).toBe(4);
    expect(scanDecideBody(Buffer.from('{"deployment":"a","features":[1,2,3,4,5]}'), values)).toBeNull();
  });

  it('answers for a body only when the generic path reads the same from it (random and mutated bodies)', () => {
    const rng = new Rng(20261204);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)];
    const num = () => randomNumberText(rng);
    const pieces = ['{', '}', '[', ']', ',', ':', '"', ' ', '\\', '-', '0', '1', '.', 'e', 'null', 'true', 'x', '\n', '\u00e9'];
    let scanned = 0;
    let plain = 0;
    for (let t = 0; t < 4000; t++) {
      const members = [
        `"deployment":${pick(['"ranker"', '"a b"', '""', '7', 'null', '"r\\u0061"'])}`,
        `"features":[${Array.from({ length: Math.floor(rng.uniform() * 20) }, num).join(pick([',', ' , ', ',\n']))}]`,
        ...(rng.uniform() < 0.5 ? [`"unit":${pick(['"user:42"', '""', '1', 'null', '"\u00fc"'])}`] : []),
        ...(rng.uniform() < 0.3 ? [`"explore":${pick(['true', 'false', '"true"', 'null'])}`] : []),
      ];
      const extra = rng.uniform() < 0.1 ? pick(['"extra":1', '"features":[1]', '"deployment":"b"']) : null;
      if (extra !== null) members.push(extra);
      for (let i = members.length - 1; i > 0; i--) {
        const j = Math.floor(rng.uniform() * (i + 1));
        [members[i], members[j]] = [members[j], members[i]];
      }
      let text = `{${members.join(pick([',', ' , ', ',\n\t']))}}`;
      // A third of the bodies get one random edit: a character removed, replaced or inserted.
      const edited = rng.uniform() < 0.33;
      if (edited) {
        const at = Math.floor(rng.uniform() * text.length);
        const op = rng.uniform();
        text = op < 0.33 ? text.slice(0, at) + text.slice(at + 1) : op < 0.66 ? text.slice(0, at) + pick(pieces) + text.slice(at + 1) : text.slice(0, at) + pick(pieces) + text.slice(at);
      }
      const got = scan(text);
      if (!edited && extra === null && !/[\\\u0080-\uffff]/.test(text) && generic(text) !== null) {
        // A valid body of the common shape, no member twice, no escape, ASCII: the scanner must take it.
        plain++;
        expect(got).not.toBeNull();
      }
      if (got === null) continue;
      scanned++;
      expectSame(text);
    }
    expect(plain).toBeGreaterThan(200);
    expect(scanned).toBeGreaterThanOrEqual(plain);
  });
});

/** A JSON number's text: sign, 1–20 digits with or without a fraction, an exponent sometimes. */
function randomNumberText(rng: Rng): string {
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rng.uniform() * 10)).join('');
  const intDigits = Math.floor(rng.uniform() * 10);
  let s = rng.uniform() < 0.3 ? '-' : '';
  s += intDigits === 0 ? '0' : String(1 + Math.floor(rng.uniform() * 9)) + digits(intDigits - 1);
  if (rng.uniform() < 0.7) s += `.${digits(1 + Math.floor(rng.uniform() * 18))}`;
  if (rng.uniform() < 0.3) s += `${rng.uniform() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(rng.uniform() * 3)]}${Math.floor(rng.uniform() * 45)}`;
  return s;
}

describe('scanNumber', () => {
  it('gives JSON.parse\'s double for every number text (100,000 random ones)', () => {
    const rng = new Rng(7);
    const out = new Float64Array(1);
    let fast = 0;
    const wrong: string[] = [];
    for (let t = 0; t < 100_000; t++) {
      const text = randomNumberText(rng);
      const want = JSON.parse(text) as number;
      out[0] = Number.NaN;
      const end = scanNumber(Buffer.from(`${text},`), 0, out, 0);
      const ok = Math.abs(want) > FLOAT32_MAX ? end === -1 : end === text.length && Object.is(out[0], want);
      if (!ok && wrong.length < 10) wrong.push(`${text}: scanned ${out[0]} (end ${end}), JSON.parse ${want}`);
      if (/^-?(0|[1-9]\d{0,14})(\.\d*)?$/.test(text) && text.replace(/[-.]/g, '').replace(/^0+/, '').length <= 15) fast++;
    }
    expect(wrong).toEqual([]);
    // Both ways of converting are exercised: the exact fast path and Number for the rest.
    expect(fast).toBeGreaterThan(25_000);
    expect(fast).toBeLessThan(95_000);
  });

  it('stops at the first character after the number and refuses what JSON does not allow', () => {
    const out = new Float64Array(1);
    expect(scanNumber(Buffer.from('[12.5e-1]'), 1, out, 0)).toBe(8);
    expect(out[0]).toBe(1.25);
    for (const bad of ['01', '1.', '.5', '+1', '-', '1e', '1e+', '-.5', 'Infinity', 'x']) {
      const end = scanNumber(Buffer.from(bad), 0, out, 0);
      // Either not a number at all, or a number that ends before the offending character (the body scan refuses what follows).
      expect(end === -1 || end < bad.length).toBe(true);
    }
  });
});
