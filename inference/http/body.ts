/**
 * Reads a request body as JSON under a byte limit. Over the limit → 413; not JSON → 400. Bodies far
 * over the limit are not drained: the connection is closed after the 413 so a client cannot make us
 * read gigabytes.
 */
import type { IncomingMessage } from 'node:http';
import { ClientError } from './errors';

export class BodyTooLarge extends ClientError {
  constructor(readonly limit: number, readonly closeConnection: boolean) {
    super(413, `request body exceeds the limit of ${limit} bytes`, 'body', `at most ${limit} bytes of JSON`);
  }
}

/** How much beyond the limit we still drain (to keep the connection usable) before giving up on it. */
const DRAIN_FACTOR = 8;

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      const n = Number(declared);
      if (n > limit * DRAIN_FACTOR) {
        reject(new BodyTooLarge(limit, true));
        return;
      }
    }
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks = [];
        if (size > limit * DRAIN_FACTOR && !done) {
          done = true;
          cleanup();
          reject(new BodyTooLarge(limit, true));
        }
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (done) return;
      done = true;
      cleanup();
      if (size > limit) reject(new BodyTooLarge(limit, false));
      else if (chunks.length === 1) resolve(chunks[0]);
      else resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      if (done) return;
      done = true;
      cleanup();
      // The client went away or sent a broken stream: its fault, never a 5xx.
      reject(new ClientError(400, `request body could not be read: ${err.message}`, 'body', 'a complete request body'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Parses a body's text as JSON; an empty or malformed body is a 400 that says where parsing failed. */
export function parseJsonText(text: string): unknown {
  if (text.length === 0) throw new ClientError(400, 'request body is empty', 'body', 'a JSON object');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ClientError(400, `request body is not valid JSON: ${(err as Error).message}`, 'body', 'a JSON object');
  }
}

/** Narrows a parsed body to a plain object or throws a 400 naming the body. */
export function expectObject(value: unknown, field = 'body'): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ClientError(400, `${field} must be a JSON object`, field, 'a JSON object');
  }
  return value as Record<string, unknown>;
}
