/**
 * Streams a generated object of `size` bytes into an artifact store and back, in a process of its own
 * (started by store.int.test.ts), and prints what that cost in memory as one JSON line:
 *   {"put": {"sha256", "size", "rssGrowth"}, "get": {"sha256", "size", "rssGrowth"}, "expectedSha256"}
 *
 * Why a separate process: inside a Jest worker every forced garbage collection walks a heap full of
 * test machinery (slow), and without them V8 lets dead Buffers pile up for a while, which would
 * be measured as if the store held them. Here the heap is small, a full collection every 4 MiB is
 * cheap, and the RSS growth is what the store itself holds while streaming.
 *
 * Usage: node --expose-gc -r ./scripts/register-ts.js test/support/artifact-memory-probe.ts '<json>'
 *   json: { "uri": "file:///… | s3://bucket/prefix", "s3"?: Settings['s3'], "s3Options"?: {…}, "key", "size" }
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Settings } from '../../config/settings';
import { createArtifactStore } from '../../registry/artifacts';
import { generatedBytes } from './generated-bytes';

interface ProbeInput {
  uri: string;
  s3?: Settings['s3'];
  s3Options?: { partSize?: number; queueSize?: number };
  key: string;
  size: number;
}

const MiB = 1024 * 1024;
const GC_EVERY = 4 * MiB;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('artifact-memory-probe needs node --expose-gc');
  gc();
}

const generated = (size: number) => generatedBytes(size, { afterChunk: (sent) => sent % GC_EVERY === 0 && collectGarbage() });

/** Peak RSS growth over the RSS before `fn`, sampled every 10 ms. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; rssGrowth: number }> {
  collectGarbage();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await fn();
    return { value, rssGrowth: Math.max(peak, process.memoryUsage.rss()) - base };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '') as ProbeInput;
  const store = createArtifactStore(input.uri, input.s3, input.s3Options);
  // Warm up first, so lazily loaded SDK modules and the first connection are not counted.
  await store.put(`${input.key}.warmup`, 'warm-up');
  await store.getBuffer(`${input.key}.warmup`);
  await store.delete(`${input.key}.warmup`);
  const gen = generated(input.size);
  const put = await peakRssGrowth(() => store.put(input.key, gen.stream));
  const get = await peakRssGrowth(async () => {
    const hash = createHash('sha256');
    let size = 0;
    let nextGc = GC_EVERY;
    await pipeline(
      await store.getStream(input.key),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          if (size >= nextGc) {
            collectGarbage();
            nextGc += GC_EVERY;
          }
          cb();
        },
      }),
    );
    return { sha256: hash.digest('hex'), size };
  });
  await store.delete(input.key);
  const result = {
    expectedSha256: gen.digest(),
    put: { sha256: put.value.sha256, size: put.value.size, rssGrowth: put.rssGrowth },
    get: { ...get.value, rssGrowth: get.rssGrowth },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
