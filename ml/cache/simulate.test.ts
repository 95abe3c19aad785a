/**
 * UC8's comparison on a simulated workload with repeated and near-duplicate prompts: the same stream
 * (envs/cache-workload.ts, real MiniLM embeddings from make setup-minilm) through the learned admission,
 * always-cache and never-cache. Prints the figures; asserts what must hold.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { simulateCache, type SimulatedPrompt } from './simulate';
import { CacheWorkload } from '../../envs/cache-workload';
import { DEFAULT_MINILM_DIR, SentenceEmbedder } from '../../inference/embeddings/minilm';
import { Rng } from '../rng';

const ready = existsSync(join(DEFAULT_MINILM_DIR, 'model.onnx'));
if (!ready && process.env.CI === 'true') throw new Error(`${DEFAULT_MINILM_DIR} is missing: run make setup-minilm`);
const maybe = ready ? describe : describe.skip;

/** The workload's prompts with their embeddings (each distinct text embedded once). */
export async function embeddedWorkload(n: number, seed: number): Promise<SimulatedPrompt[]> {
  const w = new CacheWorkload({ seed, oneOffShare: 0.6 });
  const ps = Array.from({ length: n }, () => w.next());
  const e = await SentenceEmbedder.load();
  try {
    const texts = [...new Set(ps.map((p) => p.text))];
    const vectors = new Map<string, Float32Array>();
    for (let i = 0; i < texts.length; i += 64) {
      const chunk = texts.slice(i, i + 64);
      (await e.embed(chunk)).forEach((v, j) => vectors.set(chunk[j], v));
    }
    return ps.map((p) => ({
      vector: vectors.get(p.text)!, at: p.at, llmCostUsd: (p.tokens * 5) / 1e6, responseBytes: p.responseBytes,
      answer: p.family === null ? `one-off:${p.id}` : `faq:${p.family}`,
      features: { len: `${Math.min(20, Math.floor(p.text.length / 20))}` },
    }));
  } finally {
    await e.release();
  }
}

maybe('semantic cache admission on a simulated workload (UC8)', () => {
  it('learned admission saves at least as much net cost as always-cache while storing far fewer answers; never-cache saves nothing', async () => {
    const prompts = await embeddedWorkload(1500, 1);
    const run = (admission: 'learned' | 'always' | 'never') => {
      const rng = new Rng(7);
      return simulateCache(prompts, { admission, capacity: 60, ttlSeconds: 1800 }, () => rng.uniform());
    };
    const learned = run('learned');
    const always = run('always');
    const never = run('never');
    for (const [name, r] of Object.entries({ learned, always, never })) {
      process.stdout.write(`${name}: hit rate ${(100 * r.hitRate).toFixed(1)}% (wrong hits ${r.wrongHits}), net cost saved ${r.netSavedUsd.toFixed(4)} USD (${(100 * r.saved).toFixed(1)}%), answers stored ${r.stored}, evicted ${r.evicted}\n`);
    }
    expect(never).toMatchObject({ hits: 0, stored: 0, saved: 0 });
    expect(always.hitRate).toBeGreaterThan(0.1);
    expect(always.saved).toBeGreaterThan(0.05);
    expect(learned.saved).toBeGreaterThan(0.05);
    // Net of storage, staleness and wrong hits (the cost model): at least always-cache's saving.
    expect(learned.netSavedUsd).toBeGreaterThanOrEqual(always.netSavedUsd);
    expect(learned.hitRate).toBeGreaterThan(0.9 * always.hitRate);
    expect(learned.stored).toBeLessThan(0.5 * always.stored);
    // Exploration is logged: propensities are 1 − ε/2 or ε/2 (ε = 0.05), so their mean lies between.
    expect(learned.meanPropensity).toBeGreaterThan(0.9);
    expect(learned.meanPropensity).toBeLessThan(0.975 + 1e-12);
  }, 300_000);
});
