import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opeInputsFromJson } from '../ml/ope';
import { makeSyntheticBandit, sampleLoggedData } from '../ml/ope/synthetic';
import { inputFormat, readNdjson, readOpeInput, type ReadStats } from './ope-input';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'autopilot-ope-input-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const n = 4000;
const { inputs, context } = sampleLoggedData(makeSyntheticBandit(2), n, 5);
const rows = (data: Float64Array, w: number) => Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * w, i * w + w)));
const json = {
  reward: Array.from(inputs.reward!), action: Array.from(inputs.action!), pscore: Array.from(inputs.pscore!),
  action_dist: rows(inputs.actionDist.data, 4), context: rows(context.data, 3),
};
const ndjson = json.reward.map((_, i) => JSON.stringify({
  reward: json.reward[i], action: json.action[i], pscore: json.pscore[i], action_dist: json.action_dist[i], context: json.context[i], note: 'é€😀',
}));

describe('reading the input of autopilot ope', () => {
  it('streams NDJSON to exactly the inputs of the JSON path, through a small buffer (multi-byte characters split across chunks)', () => {
    const file = join(dir, 'r.ndjson');
    writeFileSync(file, ndjson.join('\n') + '\n');
    const stats: ReadStats = { bytes: 0, maxHeldChars: 0 };
    const streamed = readNdjson(file, 4093, stats);
    expect(streamed).toEqual(opeInputsFromJson(json));
    // Memory bounded: the text held at once is one chunk plus a partial line, not the file.
    const longestLine = Math.max(...ndjson.map((l) => l.length));
    expect(stats.bytes).toBeGreaterThan(100 * 4093);
    expect(stats.maxHeldChars).toBeLessThanOrEqual(4093 + longestLine);
  });

  it('sizes its arrays once from the file size: no doubling, at most ~10% spare capacity', () => {
    const file = join(dir, 'sized.ndjson');
    writeFileSync(file, ndjson.join('\n') + '\n');
    const stats: ReadStats = { bytes: 0, maxHeldChars: 0 };
    const { inputs: read } = readNdjson(file, 8192, stats);
    expect(stats.sizedFor).toBeGreaterThanOrEqual(n);
    expect(stats.sizedFor).toBeLessThanOrEqual(1.25 * n);
    expect(read.reward!.length).toBe(n);
    expect(read.reward!.buffer.byteLength).toBeLessThanOrEqual(1.125 * n * 8);
    expect(read.actionDist.data.buffer.byteLength).toBeLessThanOrEqual(1.125 * n * 4 * 8);
  });

  it('takes CRLF line ends and a last line without a newline', () => {
    const file = join(dir, 'crlf.jsonl');
    writeFileSync(file, ndjson.slice(0, 50).join('\r\n'));
    const head = { ...json } as Record<string, unknown[]>;
    for (const key of Object.keys(json)) head[key] = (json as Record<string, unknown[]>)[key].slice(0, 50);
    expect(readOpeInput(file, inputFormat(file, undefined))).toEqual(opeInputsFromJson(head));
  });

  it('names the line of a bad round', () => {
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, [...ndjson.slice(0, 1500), ndjson[1500].replace(/"pscore":[^,]+,/, '"pscore":"high",'), ...ndjson.slice(1501)].join('\n'));
    expect(() => readNdjson(file, 1000)).toThrow('line 1501: pscore: got "high", expected a number');
  });

  it('picks the format from --format, else from the extension', () => {
    expect(inputFormat('a.ndjson', undefined)).toBe('ndjson');
    expect(inputFormat('a.JSONL', undefined)).toBe('ndjson');
    expect(inputFormat('a.json', undefined)).toBe('json');
    expect(inputFormat('-', 'ndjson')).toBe('ndjson');
    expect(() => inputFormat('a.json', 'csv')).toThrow('--format: got "csv", expected one of json, ndjson');
    expect(() => readNdjson(join(dir, 'missing.ndjson'))).toThrow(/^--input: got ".*missing\.ndjson", expected a readable file/);
  });
});
