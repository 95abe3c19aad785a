import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RagTuningEnvironment, configToAction } from '../rag-env';
import { runEpisode, staticPolicy } from '../rollout';
import type { RagConfig } from '../types';
import { generateReplayLog } from './generate-replay-log';
import { configDistance, parseReplayLog, ReplayEvaluator, type ReplayRecord } from './replay';
import { SimulatedRagEvaluator } from './simulator';

const base: RagConfig = { variant: 'A', k: 3, rerank: false, fusion_weight: 0, prompt_id: 'default' };
function row(config: Partial<RagConfig>, f: number, extra: Partial<ReplayRecord> = {}): string {
  return JSON.stringify({ config: { ...base, ...config }, category: 'howto', faithfulness: f, relevancy: f - 0.01, latency_ms: { p50: 200, p95: 260 }, cost_usd: 0.001, ...extra });
}

describe('parseReplayLog', () => {
  it('reads records, skipping blank lines; a single latency number is both p50 and p95', () => {
    const text = [row({}, 0.9), '', row({ k: 8 }, 0.8, { latency_ms: 300 as never, error_rate: 0.002 })].join('\n');
    const records = parseReplayLog(text, 'log.jsonl');
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({ config: base, category: 'howto', faithfulness: 0.9, relevancy: 0.89, latency_ms: { p50: 200, p95: 260 }, cost_usd: 0.001, error_rate: 0 });
    expect(records[1].latency_ms).toEqual({ p50: 300, p95: 300 });
    expect(records[1].error_rate).toBe(0.002);
  });

  it.each([
    ['{"config": ', 'log.jsonl:2: not valid JSON'],
    [row({}, 1.3), 'log.jsonl:2: faithfulness must be a number in [0, 1], got 1.3'],
    [row({ k: 4.5 }, 0.9), 'log.jsonl:2: config.k must be an integer ≥ 1, got 4.5'],
    [row({ variant: 'C' as never }, 0.9), 'log.jsonl:2: config.variant must be A or B, got "C"'],
    [row({}, 0.9, { latency_ms: { p50: 1 } as never }), 'log.jsonl:2: latency_ms must be a number or {p50, p95} in milliseconds, got {"p50":1}'],
    [row({}, 0.9, { cost_usd: -1 }), 'log.jsonl:2: cost_usd must be a number ≥ 0, got -1'],
    [JSON.stringify({ config: base, faithfulness: 0.9, relevancy: 0.9, latency_ms: 1, cost_usd: 0 }), 'log.jsonl:2: category must be a string, got nothing'],
    [JSON.stringify({ category: 'howto', faithfulness: 0.9, relevancy: 0.9, latency_ms: 1, cost_usd: 0 }), 'log.jsonl:2: config must be an object {variant, k, rerank, fusion_weight, prompt_id}, got nothing'],
  ])('bad line %# names the line and the field', (bad, message) => {
    expect(() => parseReplayLog([row({}, 0.9), bad].join('\n'), 'log.jsonl')).toThrow(message);
  });

  it('rejects an empty log', () => {
    expect(() => parseReplayLog('\n\n', 'empty.jsonl')).toThrow('empty.jsonl: no logged evaluations (the file is empty)');
  });
});

describe('configDistance', () => {
  it('is |Δ dense share| + |Δ log2 k| / log2(32/3) + 0.5 per differing re-rank and prompt', () => {
    const b: RagConfig = { variant: 'B', k: 6, rerank: true, fusion_weight: 0.5, prompt_id: 'cite-sources' };
    // dense share 0 vs 0.75; log2(6/3) = 1
    expect(configDistance(base, b)).toBeCloseTo(0.75 + 1 / Math.log2(32 / 3) + 0.5 + 0.5, 12);
    // A with w = 1 and B with w = 1 are the same 50/50 hybrid
    expect(configDistance({ ...base, fusion_weight: 1 }, { ...base, variant: 'B', fusion_weight: 1 })).toBe(0);
  });
});

describe('ReplayEvaluator', () => {
  const log = parseReplayLog([
    row({ k: 3 }, 0.9),
    row({ k: 8 }, 0.8),
    row({ k: 8 }, 0.82),
    row({ k: 3, fusion_weight: 1 }, 0.7),
    row({ variant: 'B', k: 16, rerank: true, prompt_id: 'cite-sources' }, 0.6),
  ].join('\n'));
  const replay = new ReplayEvaluator(log);

  it('answers a logged config from its rows, picking among repeats with the seed', async () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 40; seed++) seen.add((await replay.evaluate({ ...base, k: 8 }, 'howto', 100, seed)).faithfulness);
    expect([...seen].sort()).toEqual([0.8, 0.82]);
    const a = await replay.evaluate({ ...base, k: 8 }, 'howto', 100, 7);
    expect(await replay.evaluate({ ...base, k: 8 }, 'howto', 100, 7)).toEqual(a);
    expect(replay.match({ ...base, k: 8 }, 'howto')).toMatchObject({ exact: true, distance: 0 });
  });

  it('answers an unlogged config from its nearest logged neighbour, lowering F and R by 0.1 × distance', async () => {
    // k = 5: log2(5/3) = 0.737 to k 3, log2(8/5) = 0.678 to k 8 → k 8 is nearer
    const m = replay.match({ ...base, k: 5 }, 'howto');
    const d = Math.log2(8 / 5) / Math.log2(32 / 3);
    expect(m).toMatchObject({ exact: false, neighbour: { ...base, k: 8 } });
    expect(m.distance).toBeCloseTo(d, 12);
    const e = await replay.evaluate({ ...base, k: 5 }, 'howto', 100, 1);
    expect([0.8 - 0.1 * d, 0.82 - 0.1 * d].some((f) => Math.abs(f - e.faithfulness) < 1e-12)).toBe(true);
    expect(e.latency_ms).toEqual({ p50: 200, p95: 260 });
  });

  it('breaks ties by the order of the log', () => {
    // w = 0.5 (dense share 0.25) is 0.25 from both w = 0 (share 0) and w = 1 (share 0.5): the first logged wins
    expect(replay.match({ ...base, fusion_weight: 0.5 }, 'howto').neighbour).toEqual(base);
  });

  it('throws for a category it never logged and beyond maxDistance', async () => {
    await expect(replay.evaluate(base, 'policy', 100, 1)).rejects.toThrow('replay: no logged evaluations for category "policy" (the log has howto)');
    const strict = new ReplayEvaluator(log, { maxDistance: 0.1 });
    expect(() => strict.match({ ...base, prompt_id: 'step-by-step' }, 'howto')).toThrow('no logged config within distance 0.1');
  });

  it('replays a simulator log generated by the script, from a file, inside the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    try {
      const lines = generateReplayLog({ ks: [3, 5, 8, 16], fusionWeights: [0, 0.5, 1], repeats: 2, seed: 3 });
      expect(lines).toHaveLength(3 * 2 * 4 * 2 * 3 * 3 * 2);
      const path = join(dir, 'log.jsonl');
      writeFileSync(path, lines.join('\n') + '\n');
      const fromFile = ReplayEvaluator.fromFile(path);
      expect(fromFile.name).toBe(`replay:${path}`);
      expect(fromFile.categories).toEqual(['policy', 'howto', 'definition']);
      expect(fromFile.loggedConfigs('policy')).toBe(2 * 4 * 2 * 3 * 3);
      // A logged config replays one of the two simulated batches
      const cfg: RagConfig = { variant: 'B', k: 8, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' };
      const e = await fromFile.evaluate(cfg, 'policy', 200, 9);
      const sim = new SimulatedRagEvaluator().expected(cfg, 'policy');
      expect(Math.abs(e.faithfulness - sim.faithfulness)).toBeLessThan(0.05);
      // The environment runs on the replayed log
      const env = new RagTuningEnvironment({ evaluator: fromFile, episodeLength: 6 });
      const rec = await runEpisode(env, staticPolicy(configToAction(cfg)), 4);
      expect(rec.rewards).toHaveLength(6);
      expect(rec.rewards.every((r) => Number.isFinite(r))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fromFile names a missing file', () => {
    expect(() => ReplayEvaluator.fromFile('/nonexistent/log.jsonl')).toThrow('replay log /nonexistent/log.jsonl cannot be read');
  });
});
