/**
 * Stream helpers shared by the stores: turn a put body into a stream, hash bytes as they pass, and
 * verify a read against the recorded sha256 without holding the object in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ArtifactChecksumError } from './errors';

export type PutBody = Readable | Buffer | Uint8Array | string;

/** Any put body as a Readable of Buffers (buffers and strings become a single chunk). */
export function toReadable(body: PutBody): Readable {
  if (body instanceof Readable) return body;
  if (typeof body === 'string') return Readable.from([Buffer.from(body, 'utf8')]);
  return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
}

/** A pass-through that computes the sha256 and byte count of what flows through it. */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  /** Bytes that passed so far (not `size`: lib-storage would read that as the body's length). */
  byteCount = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.byteCount += chunk.length;
    cb(null, chunk);
  }

  /** Hex sha256 of everything that passed; call once, after the stream finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * A pass-through that errors at the end with ArtifactChecksumError when the bytes do not hash to
 * `expectedSha256` (or their count differs from `expectedSize`). Bytes are passed on as they arrive,
 * so a consumer must treat what it received as unconfirmed until the stream ends without error.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;

  constructor(
    private readonly key: string,
    private readonly expectedSha256: string,
    private readonly expectedSize?: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual = this.hash.digest('hex');
    const sizeOk = this.expectedSize === undefined || this.expectedSize === this.size;
    if (actual !== this.expectedSha256.toLowerCase() || !sizeOk) {
      cb(new ArtifactChecksumError(this.key, this.expectedSha256, actual, this.expectedSize, this.size));
      return;
    }
    cb();
  }
}

/** Reads a whole stream into one Buffer (for small objects). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Throws when an `expectedSha256` option is not 64 hex characters. */
export function checkSha256Option(key: string, value: string | undefined): void {
  if (value !== undefined && !SHA256_HEX.test(value)) {
    throw new Error(`expectedSha256 for artifact ${JSON.stringify(key)} is ${JSON.stringify(value)}; expected 64 hex characters`);
  }
}
