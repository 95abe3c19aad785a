/**
 * Reads the input file of `autopilot ope`: OBP's JSON object (the whole file parsed at once) or
 * NDJSON, one logged round per line, streamed through a fixed-size buffer so that the text held at
 * any time is one chunk plus the line being completed, whatever the file's size (see `ml/ope/rows.ts`
 * for the line format). The format comes from `--format`, else from the extension (.ndjson, .jsonl).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { opeInputsFromJson, OpeRowsReader, type Matrix, type OpeInputs } from '../ml/ope';

export type OpeInputFormat = 'json' | 'ndjson';
export const OPE_INPUT_FORMATS: readonly OpeInputFormat[] = ['json', 'ndjson'];

/** A reading failure that is about the file itself (not its content): unreadable, not JSON. */
export class OpeFileError extends Error {}

export interface ReadStats {
  bytes: number;
  /** The most characters of the file held as text at once (chunk plus partial line). */
  maxHeldChars: number;
  /** The rounds the arrays were sized for after the first chunk (0: not sized, e.g. standard input). */
  sizedFor?: number;
}

/** The format of `file`: `format` if given, else by extension; `-` (standard input) is JSON unless told. */
export function inputFormat(file: string, format: string | undefined): OpeInputFormat {
  if (format !== undefined) {
    if (!(OPE_INPUT_FORMATS as readonly string[]).includes(format)) throw new OpeFileError(`--format: got ${JSON.stringify(format)}, expected one of ${OPE_INPUT_FORMATS.join(', ')}`);
    return format as OpeInputFormat;
  }
  return /\.(ndjson|jsonl)$/i.test(file) ? 'ndjson' : 'json';
}

/** Streams NDJSON rounds from `file` (`-`: standard input) into typed inputs. */
export function readNdjson(file: string, chunkBytes = 1 << 20, stats?: ReadStats): { inputs: OpeInputs; context?: Matrix } {
  let fd: number;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
  } catch (err) {
    throw new OpeFileError(`--input: got ${JSON.stringify(file)}, expected a readable file (${(err as Error).message})`);
  }
  const reader = new OpeRowsReader();
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(chunkBytes);
  let partial = '';
  let line = 1;
  // The rounds in the first chunk and the file's size estimate the rounds: the typed arrays are then
  // sized once (10% to spare) instead of doubling, so the peak stays near the final arrays' size.
  // Standard input and pipes have no size: there the arrays double as they fill.
  const size = fd === 0 ? 0 : fstatSync(fd).size;
  let sized = size === 0;
  try {
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, 0, chunkBytes, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((err as NodeJS.ErrnoException).code === 'EOF') break;
        throw new OpeFileError(`--input: got ${JSON.stringify(file)}, expected a readable file (${(err as Error).message})`);
      }
      if (got === 0) break;
      const text = partial + decoder.write(buf.subarray(0, got));
      if (stats) {
        stats.bytes += got;
        stats.maxHeldChars = Math.max(stats.maxHeldChars, text.length);
      }
      let start = 0;
      for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
        reader.addLine(text.slice(start, nl), line++);
        start = nl + 1;
      }
      if (!sized && reader.rounds > 0) {
        const expected = Math.ceil((1.1 * size * reader.rounds) / got);
        reader.expectRounds(expected);
        if (stats) stats.sizedFor = expected;
        sized = true;
      }
      partial = text.slice(start);
    }
    partial += decoder.end();
    if (partial.length > 0) reader.addLine(partial, line);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
  return reader.finish();
}

/** Reads and parses a whole JSON file (`-`: standard input). */
export function readJsonFile(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new OpeFileError(`${flag}: got ${JSON.stringify(file)}, expected a readable file (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OpeFileError(`${flag}: got ${JSON.stringify(file)}, expected a JSON file (${(err as Error).message})`);
  }
}

/** The OPE inputs of `file` in `format` (JSON: OBP's object; NDJSON: one round per line). */
export function readOpeInput(file: string, format: OpeInputFormat): { inputs: OpeInputs; context?: Matrix } {
  return format === 'ndjson' ? readNdjson(file) : opeInputsFromJson(readJsonFile('--input', file));
}
