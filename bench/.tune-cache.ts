import { readFileSync } from 'node:fs';
import { embeddedStream, runPolicies } from './semantic-cache';
const cached = new Map<string, number[]>(Object.entries(JSON.parse(readFileSync('/tmp/cache-emb.json', 'utf8')) as Record<string, number[]>));
const embed = async (t: string[]) => t.map((x) => Float32Array.from(cached.get(x) as number[]));
(async () => {
  const extra = JSON.parse(process.argv[2] ?? '{}');
  let L = 0, A = 0;
  for (const seed of [1, 2, 3]) {
    const p = await embeddedStream(3000, seed, embed);
    const r = runPolicies(p, extra);
    L += r.learned.netSavedUsd; A += r.always.netSavedUsd;
    process.stdout.write(`seed ${seed}: learned ${r.learned.netSavedUsd.toFixed(4)} hit ${(100*r.learned.hitRate).toFixed(1)} stored ${r.learned.stored} wrong ${r.learned.wrongHits} | always ${r.always.netSavedUsd.toFixed(4)} hit ${(100*r.always.hitRate).toFixed(1)}\n`);
  }
  process.stdout.write(`total learned ${L.toFixed(4)} always ${A.toFixed(4)}\n`);
})();
