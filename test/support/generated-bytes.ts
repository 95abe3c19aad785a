/**
 * `size` bytes of deterministic content for artifact tests, generated chunk by chunk (never one big
 * buffer); `digest()` is their sha256. Each chunk differs (its own fill byte, its index stamped every
 * 64 KiB), so a lost, repeated or reordered chunk changes the hash; fill() keeps generation cheap next
 * to the store's work. `afterChunk(sentSoFar)` runs before each chunk is pushed.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;

export function generatedBytes(
  size: number,
  opts: { chunk?: number; afterChunk?: (sent: number) => void } = {},
): { stream: Readable; digest: () => string } {
  const chunk = opts.chunk ?? MiB;
  const hash = createHash('sha256');
  let sent = 0;
  let n = 0;
  const stream = new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const len = Math.min(chunk, size - sent);
      const buf = Buffer.allocUnsafe(len).fill((n * 37) & 0xff);
      for (let i = 0; i + 4 <= len; i += 64 * 1024) buf.writeUInt32LE(n, i);
      n++;
      hash.update(buf);
      sent += len;
      opts.afterChunk?.(sent);
      this.push(buf);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}
