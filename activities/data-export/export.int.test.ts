/**
 * Logged data back into training on real PostgreSQL: decisions + rewards written through the
 * DecisionStore, `autopilot data export --register` over [from, to), the manifest's hashes and row
 * counts checked against the files, the window's boundaries (from inclusive, to exclusive), the
 * registered dataset version, and the snapshot used by the PPO replay evaluator (`env: replay:DIR`)
 * and by a RAG environment episode.
 */
import { randomUUID, createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEnvironment, buildEvaluator, datasetManifest } from '../ppo/environment';
import { parseEnvSpec } from '../ppo/env-spec';
import { runCliInProcess } from '../../cli/testing/in-process';
import { createDecisionLogFixture, type DecisionLogFixture } from '../../decision-log/test-helpers';
import type { DecisionInput, RewardInput } from '../../decision-log';
import { defaultPolicyConfig } from '../../envs/config';
import { CATEGORIES, SimulatedRagEvaluator } from '../../envs/evaluators/simulator';
import { loadReplaySource, readSnapshot } from '../../envs/evaluators/snapshot';
import type { RagConfig } from '../../envs/types';
import { configToAction } from '../../envs/rag-env';
import { createArtifactStore } from '../../registry/artifacts';
import { Registry } from '../../registry';
import { createDataExportActivities } from './activities';
import { serviceEvaluator } from '../../cli/commands/evaluator';
import { startEvaluatorServer } from '../../envs/evaluators/server';

const CONFIGS: RagConfig[] = [
  { variant: 'B', k: 9, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' },
  { variant: 'A', k: 3, rerank: false, fusion_weight: 0, prompt_id: 'default' },
  { variant: 'B', k: 5, rerank: false, fusion_weight: 0.8, prompt_id: 'step-by-step' },
];

describe('autopilot data export on PostgreSQL', () => {
  let fx: DecisionLogFixture;
  let dir: string;
  const saved = { ...process.env };
  const deployment = `rag-${randomUUID().slice(0, 8)}`;
  const from = new Date('2031-03-01T00:00:00.000Z');
  const to = new Date('2031-03-01T01:00:00.000Z');
  const inWindow: DecisionInput[] = [];
  const outside: DecisionInput[] = [];
  const logged = new Map<string, { config: RagConfig; category: string; components: Record<string, number> }>();
  let unrewardedId = '';

  const decision = (time: Date, i: number, over: Partial<DecisionInput> = {}): DecisionInput => ({
    decisionId: randomUUID(),
    time,
    deployment,
    model: 'rag-tuner',
    version: i % 5 === 0 ? 2 : 1,
    generation: 1,
    arm: i % 5 === 0 ? 'canary' : 'champion',
    features: { category: CATEGORIES[i % 3], q_len: 10 + i },
    action: CONFIGS[i % 3] as never,
    propensity: 0.8,
    unit: `user-${i % 4}`,
    ...over,
  });

  beforeAll(async () => {
    fx = await createDecisionLogFixture();
    dir = mkdtempSync(join(tmpdir(), 'data-export-'));
    Object.assign(process.env, { AUTOPILOT_IGNORE_STACK: '1', AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: `file://${join(dir, 'artifacts')}`, AUTOPILOT_DATA_DIR: join(dir, 'data') });
    // 30 decisions in the window: the first exactly at `from`, the last 1 ms before `to`.
    for (let i = 0; i < 30; i++) inWindow.push(decision(new Date(from.getTime() + (i === 29 ? 3_600_000 - 1 : i * 60_000)), i));
    // Outside: exactly at `to` (exclusive), 1 ms before `from`, and another deployment inside the window.
    outside.push(decision(to, 1), decision(new Date(from.getTime() - 1), 2), decision(new Date(from.getTime() + 5), 3, { deployment: `${deployment}-other` }));
    expect(await fx.decisions.insertDecisions([...inWindow, ...outside])).toEqual({ inserted: 33 });
    // Rewards: every decision but one, components = a simulated batch of its config and category.
    const sim = new SimulatedRagEvaluator();
    const rewards: RewardInput[] = [];
    for (const [i, d] of [...inWindow, ...outside].entries()) {
      if (i === 7) {
        unrewardedId = d.decisionId;
        continue;
      }
      const config = d.action as unknown as RagConfig;
      const category = (d.features as { category: string }).category;
      const e = await sim.evaluate(config, category, 50, 1000 + i);
      const components = { faithfulness: e.faithfulness, relevancy: e.relevancy, latency_p50_ms: e.latency_ms.p50, latency_p95_ms: e.latency_ms.p95, cost_usd: e.cost_usd, error_rate: e.error_rate };
      logged.set(d.decisionId, { config, category, components });
      rewards.push({ decisionId: d.decisionId, reward: (e.faithfulness + e.relevancy) / 2, components });
    }
    const outcomes = await fx.decisions.insertRewards(rewards);
    expect(outcomes.filter((o) => 'error' in o)).toEqual([]);
  });
  afterAll(async () => {
    process.env = saved;
    await fx?.close();
  });

  it('writes the snapshot over [from, to), hashes and counts in the manifest, and registers it', async () => {
    const out = join(dir, 'snap');
    const r = await runCliInProcess('data', 'export', '--deployment', deployment, '--from', from.toISOString(), '--to', to.toISOString(), '--out', out, '--register', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.version).toEqual({ model: `dataset-${deployment}`, version: 1 });

    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'autopilot.dataset-snapshot/v1', deployment, window: { from: from.toISOString(), to: to.toISOString(), fromInclusive: true, toInclusive: false }, rows: 30, rewarded: 29 });
    for (const name of ['predictions.jsonl', 'contexts.jsonl', 'summary.csv']) {
      const bytes = readFileSync(join(out, name));
      expect(manifest.files[name].sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(manifest.files[name].bytes).toBe(bytes.length);
    }
    const predictions = readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const contexts = readFileSync(join(out, 'contexts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(predictions).toHaveLength(30);
    expect(manifest.files['predictions.jsonl'].rows).toBe(30);
    expect(manifest.files['contexts.jsonl'].rows).toBe(30);
    // Exactly the window's decisions, oldest first: `from` included, `to` and the other deployment excluded.
    expect(predictions.map((p) => p.decision_id)).toEqual(inWindow.map((d) => d.decisionId));
    expect(contexts.map((c) => c.decision_id)).toEqual(inWindow.map((d) => d.decisionId));
    expect(predictions[0].time).toBe(from.toISOString());
    expect(predictions[29].time).toBe(new Date(to.getTime() - 1).toISOString());
    expect(predictions.find((p) => p.decision_id === unrewardedId)).toMatchObject({ reward: null, reward_components: null });
    const withReward = predictions.find((p) => p.decision_id === inWindow[3].decisionId);
    expect(withReward.reward_components).toEqual(logged.get(inWindow[3].decisionId)!.components);
    expect(withReward).toMatchObject({ model: 'rag-tuner', version: 1, arm: 'champion', propensity: 0.8, action: CONFIGS[0] });
    expect(contexts[3]).toMatchObject({ unit: 'user-3', features: { category: 'policy', q_len: 13 } });

    // summary.csv: one row per (model, version, arm), counts adding up.
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('model,version,arm,decisions,rewarded,mean_reward');
    const rows = csv.slice(1).map((l) => l.split(','));
    expect(rows.map((c) => `${c[0]}/${c[1]}/${c[2]}/${c[3]}/${c[4]}`)).toEqual(['rag-tuner/1/champion/24/23', 'rag-tuner/2/canary/6/6']);
    const meanCanary = inWindow.filter((_, i) => i % 5 === 0).map((d) => logged.get(d.decisionId)!).map((l) => (l.components.faithfulness + l.components.relevancy) / 2);
    expect(Number(rows[1][5])).toBeCloseTo(meanCanary.reduce((a, b) => a + b, 0) / meanCanary.length, 10);

    // The registered dataset version: json, the manifest as lineage, counts as metrics.
    const registry = new Registry({ pool: fx.db.pool, store: createArtifactStore(process.env.AUTOPILOT_ARTIFACT_URI!) });
    const v = await registry.getVersion(`dataset-${deployment}`, 1);
    expect(v.format).toBe('json');
    expect(v.lineage.datasetManifest).toEqual(manifest);
    expect(v.metrics).toMatchObject({ rows: 30, rewarded: 29 });
    expect(v.tags).toMatchObject({ deployment, from: from.toISOString(), to: to.toISOString() });
    const back = join(dir, 'downloaded');
    await registry.downloadVersion(`dataset-${deployment}`, 1, back);
    expect(readSnapshot(back).manifest).toEqual(manifest);

    // The export refuses to overwrite, and a bad window names the flag.
    const again = await runCliInProcess('data', 'export', '--deployment', deployment, '--from', from.toISOString(), '--to', to.toISOString(), '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    const bad = await runCliInProcess('data', 'export', '--deployment', deployment, '--from', 'yesterday', '--to', to.toISOString(), '--out', join(dir, 'x'));
    expect(bad.stderr).toMatch(/--from must be an ISO 8601 time .* got "yesterday"/);
  });

  it('the snapshot is a replay source: env replay:DIR answers the logged evaluations, and a tampered file is refused', async () => {
    const out = join(dir, 'snap-activity');
    const activities = createDataExportActivities({ pool: fx.db.pool, store: createArtifactStore(process.env.AUTOPILOT_ARTIFACT_URI!) });
    const result = await activities.exportDataset({ deployment, from: from.toISOString(), to: to.toISOString(), out });
    expect(result).toMatchObject({ dir: out, rows: 30, rewarded: 29, version: null });

    const source = loadReplaySource(out);
    expect(source.kind).toBe('snapshot');
    expect(source.records).toHaveLength(29);

    const config = defaultPolicyConfig();
    const evaluator = buildEvaluator(parseEnvSpec(`replay:${out}`), config);
    // A config logged once for its category is answered with exactly the logged batch.
    const once = inWindow.find((d, i) => i !== 7 && i % 3 === 1)!;
    const l = logged.get(once.decisionId)!;
    const e = await evaluator.evaluate(l.config, l.category, 50, 5);
    // An exact match: one of the rows logged for (config, category), all of its statistics.
    const rowsOfKey = inWindow.map((d) => logged.get(d.decisionId)).filter((x) => x && x.category === l.category && JSON.stringify(x.config) === JSON.stringify(l.config));
    const row = rowsOfKey.find((x) => x!.components.faithfulness === e.faithfulness)!;
    expect(row).toBeDefined();
    expect(e).toEqual({
      faithfulness: row.components.faithfulness,
      relevancy: row.components.relevancy,
      latency_ms: { p50: row.components.latency_p50_ms, p95: row.components.latency_p95_ms },
      cost_usd: row.components.cost_usd,
      error_rate: row.components.error_rate,
    });
    // A config never logged is answered by the nearest logged one, F and R lowered (replay's pessimism).
    const far = await evaluator.evaluate({ ...l.config, k: 32 }, l.category, 50, 5);
    expect(far.faithfulness).toBeLessThan(Math.max(...rowsOfKey.map((x) => x!.components.faithfulness)));
    expect(datasetManifest(config, `replay:${out}`).evaluator).toEqual({ kind: 'replay', file: out, source: 'snapshot', sha256: result.files['predictions.jsonl'].sha256, records: 29 });

    // A whole RAG-tuning episode runs on the snapshot (every category has logged rows).
    const env = buildEnvironment(config, `replay:${out}`);
    env.reset(3);
    let steps = 0;
    for (let done = false; !done; steps++) {
      const r = await env.step(configToAction(CONFIGS[steps % 3]));
      expect(Number.isFinite(r.reward)).toBe(true);
      done = r.done;
    }
    expect(steps).toBe(config.environment.episode_length);

    // The evaluator service answers from the snapshot (`autopilot evaluator serve --snapshot DIR`).
    const served = serviceEvaluator(out);
    expect(served.categories.sort()).toEqual([...CATEGORIES].sort());
    const server = await startEvaluatorServer({ evaluator: served.evaluator, categories: served.categories, port: 0 });
    try {
      const res = await fetch(`${server.url}/tuner/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ config: l.config, category: l.category, batch_size: 50, seed: 5 }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(e); // same records, same seed → the same logged row as env replay:DIR
    } finally {
      await server.close();
    }

    // Tampering with a file breaks its hash: the snapshot is refused, naming the file.
    const tampered = join(dir, 'tampered');
    cpSync(out, tampered, { recursive: true });
    const p = join(tampered, 'predictions.jsonl');
    writeFileSync(p, readFileSync(p, 'utf8').replace('"propensity":0.8', '"propensity":0.9'));
    expect(() => loadReplaySource(tampered)).toThrow(/predictions\.jsonl: sha256 [0-9a-f]{64} does not match the manifest's/);
  });
});
