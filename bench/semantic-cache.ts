/**
 * UC8's caching decision on a simulated workload (issue 23 item 2): the same prompt stream
 * (envs/cache-workload.ts: Zipf-popular FAQ questions retyped as near-duplicates, and one-off prompts),
 * keyed by real MiniLM embeddings (make setup-minilm), through the learned admission, always-cache and
 * never-cache. Reports hit rate, answers stored and the NET cost saved: LLM spend without a cache minus
 * (LLM calls made + storage + staleness per hit + a wrong hit's second call and mismatch cost).
 *
 * Run: node -r ./scripts/register-ts.js bench/semantic-cache.ts [--requests 3000] [--seeds 1,2,3] [--json]
 *      [--embeddings FILE] (reuse the embeddings of an earlier run: FILE is written when missing)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CacheWorkload } from '../envs/cache-workload';
import { SentenceEmbedder } from '../inference/embeddings/minilm';
import { simulateCache, type CacheSimulation, type SimulatedPrompt } from '../ml/cache/simulate';
import type { SemanticCacheSettings } from '../ml/cache/semantic-cache';
import { Rng } from '../ml/rng';

/** The workload's parameters: what ml/cache/simulate.test.ts uses. */
export const WORKLOAD = { oneOffShare: 0.6, capacity: 60, ttlSeconds: 1800, usdPerToken: 5 / 1e6 };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** The stream of `seed` with each distinct text embedded once (`cache`: texts → vectors read and extended). */
export async function embeddedStream(n: number, seed: number, embed: (texts: string[]) => Promise<Float32Array[]>): Promise<SimulatedPrompt[]> {
  const w = new CacheWorkload({ seed, oneOffShare: WORKLOAD.oneOffShare });
  const ps = Array.from({ length: n }, () => w.next());
  const texts = [...new Set(ps.map((p) => p.text))];
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < texts.length; i += 64) {
    const chunk = texts.slice(i, i + 64);
    (await embed(chunk)).forEach((v, j) => vectors.set(chunk[j], v));
  }
  return ps.map((p) => ({
    vector: vectors.get(p.text) as Float32Array,
    at: p.at,
    llmCostUsd: p.tokens * WORKLOAD.usdPerToken,
    responseBytes: p.responseBytes,
    answer: p.family === null ? `one-off:${p.id}` : `faq:${p.family}`,
    features: { len: `${Math.min(20, Math.floor(p.text.length / 20))}` },
  }));
}

export function runPolicies(prompts: readonly SimulatedPrompt[], extra: SemanticCacheSettings = {}): Record<'learned' | 'always' | 'never', CacheSimulation> {
  const run = (admission: 'learned' | 'always' | 'never') => {
    const rng = new Rng(7);
    return simulateCache(prompts, { capacity: WORKLOAD.capacity, ttlSeconds: WORKLOAD.ttlSeconds, ...extra, admission }, () => rng.uniform());
  };
  return { learned: run('learned'), always: run('always'), never: run('never') };
}

async function main(): Promise<void> {
  const n = Number(arg('requests', '3000'));
  const seeds = arg('seeds', '1,2,3').split(',').map(Number);
  const file = arg('embeddings', '');
  const cached = new Map<string, number[]>(file !== '' && existsSync(file) ? Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, number[]>) : []);
  let embedder: SentenceEmbedder | null = null;
  const embed = async (texts: string[]): Promise<Float32Array[]> => {
    const missing = texts.filter((t) => !cached.has(t));
    if (missing.length > 0) {
      embedder ??= await SentenceEmbedder.load();
      (await embedder.embed(missing)).forEach((v, i) => cached.set(missing[i], Array.from(v)));
    }
    return texts.map((t) => Float32Array.from(cached.get(t) as number[]));
  };
  const rows: { seed: number; policy: string; r: CacheSimulation }[] = [];
  for (const seed of seeds) {
    const prompts = await embeddedStream(n, seed, embed);
    for (const [policy, r] of Object.entries(runPolicies(prompts))) rows.push({ seed, policy, r });
  }
  await (embedder as SentenceEmbedder | null)?.release();
  if (file !== '') writeFileSync(file, JSON.stringify(Object.fromEntries(cached)));
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  process.stdout.write(`${n} requests per seed, capacity ${WORKLOAD.capacity}, TTL ${WORKLOAD.ttlSeconds} s, one-off share ${WORKLOAD.oneOffShare}\n`);
  process.stdout.write('seed  policy   hit rate  wrong hits  stored  evicted  no-cache USD  with-cache USD  net saved USD  net saved %\n');
  for (const { seed, policy, r } of rows) {
    process.stdout.write(
      `${String(seed).padEnd(5)} ${policy.padEnd(8)} ${(100 * r.hitRate).toFixed(1).padStart(7)}%  ${String(r.wrongHits).padStart(10)}  ${String(r.stored).padStart(6)}  ${String(r.evicted).padStart(7)}  ${r.costNoCacheUsd.toFixed(4).padStart(12)}  ${r.costWithCacheUsd.toFixed(4).padStart(14)}  ${r.netSavedUsd.toFixed(4).padStart(13)}  ${(100 * r.saved).toFixed(2).padStart(10)}%\n`,
    );
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
