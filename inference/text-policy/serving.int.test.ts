/**
 * A `text-policy` deployment in the real inference server (PostgreSQL registry and decision log, Redis,
 * filesystem artifact store, onnxruntime-node), serving a model built and exported here by the
 * project's Python (python/build_tiny_model.py, python/export_onnx.py in .venv-oumi; skipped without
 * it). Its answers are checked against PyTorch's: export_onnx.py writes `reference.json` with the
 * PyTorch next-token logits of real eval prompts, from which p_approve = σ(logit[APPROVE] − logit[FLAG])
 * is the score python/evaluate_policy.py computes. Then: the snapshot form renders the same prompt,
 * decisions are logged and take rewards, and the champion/canary split routes by the canary weight.
 */

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { preparePolicyData, writeSyntheticDecisions } from '../../activities/oumi/data/prepare';
import { buildTinyModel, exportPolicyOnnx } from '../../activities/oumi/policy';
import type { LabeledDecision } from '../../ml/policy-data/decision';
import { parseTextPolicySignature, textPolicySignature } from '../../ml/policy-data/signature';
import type { Signature } from '../../registry/types';
import type { InferenceServer } from '../server';
import { createServingFixture, postJson, waitFor, type ServingFixture } from '../testing/fixture';
import { renderSnapshot } from './kind';
import { describeWithOumiVenv } from '../../test/support/tools';

const root = resolve(__dirname, '..', '..');
const describeWithVenv = describeWithOumiVenv('inference/text-policy/serving.int.test.ts', 'python');

interface ReferenceCase {
  prompt: string;
  label: string;
  input_ids: number[];
  last_logits: number[];
}

describeWithVenv('text-policy deployments: POST /v1/decide scores APPROVE vs FLAG with the ONNX export', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let cases: ReferenceCase[];
  let evalRecords: LabeledDecision[];
  let ids: { APPROVE: number; FLAG: number };
  let exportDir: string;
  const model = 'action-policy';

  beforeAll(async () => {
    fx = await createServingFixture();
    const decisions = join(fx.dir, 'labeled_decisions.jsonl');
    await writeSyntheticDecisions({ path: decisions, n: 120, seed: 5, labelNoise: 0.02 });
    const data = await preparePolicyData({ decisionsPath: decisions, outDir: join(fx.dir, 'prepared'), seed: 5 });
    const tiny = await buildTinyModel({ corpus: [data.sftTrain.path], outDir: join(fx.dir, 'tiny'), seed: 11 }, { root });
    const exported = await exportPolicyOnnx({ modelDir: tiny.out, outDir: join(fx.dir, 'onnx'), checkData: data.sftEval.path, checkN: 4 }, { root });
    exportDir = exported.out;
    ids = exported.verdict_token_ids;
    cases = (JSON.parse(await readFile(join(exportDir, 'reference.json'), 'utf8')) as { cases: ReferenceCase[] }).cases;
    evalRecords = (await readFile(data.eval.path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as LabeledDecision);
    const policy = JSON.parse(await readFile(join(exportDir, 'policy.json'), 'utf8')) as Parameters<typeof textPolicySignature>[0];
    await fx.registry.registerVersion({
      model, artifact: { path: exportDir }, format: 'onnx', signature: textPolicySignature(policy) as unknown as Signature, createModel: true, actor: 'test',
    });
    await fx.registry.setDeployment({ model, kind: 'text-policy', championVersion: 1, actor: 'test' });
    server = await fx.start();
  }, 300_000);
  afterAll(async () => {
    await fx?.close();
  });

  const pytorchPApprove = (c: ReferenceCase): number => 1 / (1 + Math.exp(c.last_logits[ids.FLAG] - c.last_logits[ids.APPROVE]));

  it('answers a rendered prompt with PyTorch\'s p_approve, its verdict and the verdict\'s confidence', async () => {
    expect(cases).toHaveLength(4);
    for (const c of cases) {
      const r = await postJson(`${server.url}/v1/decide`, { deployment: model, text: c.prompt });
      expect(r.status).toBe(200);
      const p = pytorchPApprove(c);
      expect(r.body.pApprove).toBeCloseTo(p, 4);
      if (Math.abs(p - 0.5) > 1e-3) expect(r.body.approve).toBe(p >= 0.5);
      expect(r.body.confidence).toBeCloseTo(r.body.approve ? r.body.pApprove : 1 - r.body.pApprove, 12);
      expect(r.body).toMatchObject({ model, version: 1, arm: 'champion', propensity: 1, armProbability: 1, fallback: false });
    }
  });

  it('renders a snapshot ({ input, output: { actions } }) to the training prompt and scores it the same', async () => {
    for (let i = 0; i < cases.length; i++) {
      const { label: _label, ...snapshot } = evalRecords[i];
      expect(renderSnapshot(snapshot)).toBe(cases[i].prompt);
      const r = await postJson(`${server.url}/v1/decide`, { deployment: model, snapshot });
      expect(r.status).toBe(200);
      expect(r.body.pApprove).toBeCloseTo(pytorchPApprove(cases[i]), 4);
    }
  });

  it('refuses bad bodies with the field and what was expected', async () => {
    const both = await postJson(`${server.url}/v1/decide`, { deployment: model, text: 'x', snapshot: {} });
    expect(both.status).toBe(400);
    expect(both.body.field).toBe('snapshot');
    const { label: _label, ...snapshot } = evalRecords[0];
    const broken = { ...snapshot, output: { actions: [{ ...snapshot.output.actions[0], confidence: 2 }] } };
    const bad = await postJson(`${server.url}/v1/decide`, { deployment: model, snapshot: broken });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('snapshot.output.actions[0].confidence');
    const features = await postJson(`${server.url}/v1/decide`, { deployment: model, features: [1, 2] });
    expect(features.status).toBe(400);
    expect(features.body.field).toBe('features');
  });

  it('logs each decision (action, propensity, arm) and records its reward', async () => {
    const r = await postJson(`${server.url}/v1/decide`, { deployment: model, text: cases[0].prompt, unit: 'incident:1' });
    expect(r.status).toBe(200);
    const id = r.body.decisionId as string;
    let row: { arm: string; version: number; propensity: number; action: { approve: boolean; verdict: string; pApprove: number }; unit: string } | undefined;
    await waitFor(async () => {
      row = (await fx.db.pool.query('SELECT arm, version, propensity, action, unit FROM decisions WHERE decision_id = $1', [id])).rows[0];
      return row !== undefined;
    }, 15_000, 'the decision row');
    expect(row).toMatchObject({ arm: 'champion', version: 1, propensity: 1, unit: 'incident:1' });
    expect(row!.action).toEqual({ approve: r.body.approve, verdict: r.body.approve ? 'APPROVE' : 'FLAG', pApprove: r.body.pApprove });
    const reward = await postJson(`${server.url}/v1/rewards`, { decisionId: id, reward: 1 });
    expect(reward.status).toBe(201);
    const again = await postJson(`${server.url}/v1/rewards`, { decisionId: id, reward: 0 });
    expect(again.status).toBe(409);
  });

  it('splits traffic between champion and canary by the canary weight, sticky per unit', async () => {
    await fx.registry.registerVersion({
      model, artifact: { path: exportDir }, format: 'onnx',
      signature: textPolicySignature(JSON.parse(await readFile(join(exportDir, 'policy.json'), 'utf8')) as Parameters<typeof textPolicySignature>[0]) as unknown as Signature,
      actor: 'test',
    });
    await fx.registry.setDeployment({ model, canaryVersion: 2, canaryWeight: 50, actor: 'test' });
    await waitFor(() => server.textPolicies.get(model)?.canary?.info.version === 2, 20_000, 'the canary to load');
    const arms = new Map<string, { arm: string; version: number }>();
    for (let u = 0; u < 40; u++) {
      const r = await postJson(`${server.url}/v1/decide`, { deployment: model, text: cases[1].prompt, unit: `incident:${u}` });
      expect(r.status).toBe(200);
      expect(r.body.armProbability).toBeCloseTo(0.5, 12);
      expect(r.body.version).toBe(r.body.arm === 'canary' ? 2 : 1);
      arms.set(`incident:${u}`, { arm: r.body.arm, version: r.body.version });
    }
    const canaries = [...arms.values()].filter((a) => a.arm === 'canary').length;
    expect(canaries).toBeGreaterThan(5);
    expect(canaries).toBeLessThan(35);
    for (const [unit, first] of [...arms.entries()].slice(0, 10)) {
      const r = await postJson(`${server.url}/v1/decide`, { deployment: model, text: cases[1].prompt, unit });
      expect(r.body.arm).toBe(first.arm);
    }
  });

  it('approves at exactly the threshold stored with the version, and flags just above it', async () => {
    const probe = await postJson(`${server.url}/v1/decide`, { deployment: model, text: cases[0].prompt });
    const p = probe.body.pApprove as number;
    const policy = JSON.parse(await readFile(join(exportDir, 'policy.json'), 'utf8')) as Parameters<typeof textPolicySignature>[0];
    // The next double above p: the smallest threshold that p no longer reaches.
    const above = (x: number) => {
      const b = new Float64Array([x]);
      const u = new BigInt64Array(b.buffer);
      u[0] += 1n;
      return b[0];
    };
    for (const [name, threshold, approve] of [['at-threshold', p, true], ['above-threshold', above(p), false]] as const) {
      await fx.registry.registerVersion({
        model: name, artifact: { path: exportDir }, format: 'onnx', signature: textPolicySignature(policy, threshold) as unknown as Signature, createModel: true, actor: 'test',
      });
      expect(parseTextPolicySignature((await fx.registry.getVersion(name, 1)).signature).threshold).toBe(threshold);
      await fx.registry.setDeployment({ model: name, kind: 'text-policy', championVersion: 1, actor: 'test' });
      await waitFor(async () => (await postJson(`${server.url}/v1/decide`, { deployment: name, text: cases[0].prompt })).status === 200, 20_000, `${name} served`);
      const r = await postJson(`${server.url}/v1/decide`, { deployment: name, text: cases[0].prompt });
      expect(r.body).toMatchObject({ pApprove: p, approve, version: 1 });
    }
  });
});
