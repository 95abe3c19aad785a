/**
 * The judge stage's database side on a fresh PostgreSQL database: the reviewed served decisions it judges
 * (decision_feedback ⋈ decisions of one model, newest first, snapshot decisions only), the `judge`
 * evaluations it records on each version (once per run, a retry adds none, no secret in them), and its
 * refusal, before any request, when the API key variable the config names is not set on the worker.
 * Oumi's judge itself runs on the real path in workflows/textPolicyTraining.int.test.ts (one Python start:
 * importing Oumi takes most of the stage's time).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JudgeCandidatesResult } from '../../contracts/text-policy-training';
import { DecisionStore } from '../../decision-log';
import { generateDecisions } from '../../ml/policy-data/generate';
import { createArtifactStore } from '../../registry/artifacts';
import { Registry } from '../../registry/index';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { createPolicyJudgeActivities, reviewedDecisionsOfModel, servedSnapshotsOfModel } from './judge';
import { resolveJudgeConfig } from './judge-config';

const root = path.resolve(__dirname, '..', '..');

describe('the judge stage on PostgreSQL: reviewed decisions, judge evaluations, a missing key', () => {
  let db: TestDatabase;
  let dir: string;
  let registry: Registry;
  let activities: ReturnType<typeof createPolicyJudgeActivities>;
  const model = `judged-${randomUUID().slice(0, 8)}`;
  const snapshots = generateDecisions({ n: 6, seed: 12 });

  beforeAll(async () => {
    [db, dir] = await Promise.all([createTestDatabase(), mkdtemp(path.join(tmpdir(), 'judge-int-'))]);
    await migrate(db.pool);
    const store = createArtifactStore(`file://${path.join(dir, 'artifacts')}`);
    registry = new Registry({ pool: db.pool, store });
    activities = createPolicyJudgeActivities({ pool: db.pool, store, root });
    const decisions = new DecisionStore({ pool: db.pool });
    // Six snapshot decisions of the model an hour apart, one text decision, and one of another model; all reviewed.
    const rows = snapshots.map((s, i) => ({
      decisionId: randomUUID(), time: new Date(Date.now() - (10 - i) * 3600_000), deployment: model, model, version: 1, arm: 'champion',
      features: { snapshot: { input: s.input, output: s.output } } as never, action: { verdict: i % 2 ? 'APPROVE' : 'FLAG' }, metadata: { kind: 'text-policy' },
    }));
    rows.push({ ...rows[0], decisionId: randomUUID(), time: new Date(Date.now() - 1000), features: { text: 'a rendered prompt' } as never });
    rows.push({ ...rows[0], decisionId: randomUUID(), time: new Date(Date.now() - 500), model: 'another-model', deployment: 'another-model' });
    await decisions.insertDecisions(rows);
    for (const [i, r] of rows.entries()) {
      await db.pool.query(
        `INSERT INTO decision_feedback (decision_id, decision_time, deployment, model, version, served_verdict, verdict) VALUES ($1, $2, $3, $4, 1, $5, $6)`,
        [r.decisionId, r.time, r.deployment, r.model, (r.action as { verdict: string }).verdict, i === 0 ? 'APPROVE' : 'FLAG'],
      );
    }
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads the model's reviewed snapshot decisions, newest first, at most the limit", async () => {
    const reviewed = await reviewedDecisionsOfModel(db.pool, model, 4);
    expect(reviewed.map((r) => r.record.input.snapshot_id)).toEqual(snapshots.slice(2).reverse().map((s) => s.input.snapshot_id));
    expect(reviewed.map((r) => r.served)).toEqual(['APPROVE', 'FLAG', 'APPROVE', 'FLAG']);
    expect(reviewed.every((r) => r.verdict === 'FLAG')).toBe(true);
    expect(await reviewedDecisionsOfModel(db.pool, model, 0)).toEqual([]);
    expect(await reviewedDecisionsOfModel(db.pool, model, 50)).toHaveLength(6);
  });

  it("reads the model's served snapshot decisions for the judge's pool, newest first, without their labels or verdicts", async () => {
    const served = await servedSnapshotsOfModel(db.pool, model, 4);
    expect(served).toEqual(snapshots.slice(2).reverse().map((s) => ({ input: s.input, output: s.output })));
    expect(await servedSnapshotsOfModel(db.pool, model, 0)).toEqual([]);
    expect(await servedSnapshotsOfModel(db.pool, model, 50)).toHaveLength(6); // the text decision and the other model's are not in it
    expect(await servedSnapshotsOfModel(db.pool, 'no-such-model', 50)).toEqual([]);
  });

  const judged = (agreementRate: number | null): JudgeCandidatesResult => ({
    judgeModel: 'rule-judge', endpoint: 'http://127.0.0.1:1/v1/chat/completions', config: { path: 'configs/oumi/policy_rl.yaml', sha256: 'a'.repeat(64) },
    path: '/run/judge/dpo_judged.jsonl', records: 30, sha256: 'b'.repeat(64), scoresPath: '/run/judge/judge_scores.jsonl', judgePairsPath: '/run/judge/judge_pairs.jsonl',
    judged: 20, scored: 40, failed: 0, pairs: 18, belowMargin: 2, added: 10, conflicts: 1, sftPreferred: 12, variantsJudged: 0, variantPairs: 0, meanScore: { sft: 0.6, alternative: 0.4 },
    criteria: { action_appropriateness: { sft: 0.6, alternative: 0.4 } },
    labels: { n: 20, decided: agreementRate === null ? 0 : 18, agree: agreementRate === null ? 0 : Math.round(18 * agreementRate), agreement: agreementRate, kappa: null },
    feedback: { n: 0, decided: 0, agree: 0, agreement: null, kappa: null }, margin: 0.5, seconds: 1,
  });

  it('records a judge evaluation on each version once per run: pass at or above minAgreement, fail below, inconclusive with nothing decided', async () => {
    for (const format of ['hf', 'onnx', 'hf', 'hf'] as const) {
      await registry.registerVersion({ model, artifact: { buffer: Buffer.from(format) }, fileName: `${format}.bin`, format, createModel: true, actor: 'test' });
    }
    const args = { model, versions: [1, 2], runId: 'run-a', actor: 'test', judge: judged(17 / 18), minAgreement: 0.9 };
    await activities.recordPolicyJudgeEvaluation(args);
    await activities.recordPolicyJudgeEvaluation(args); // a retried attempt adds nothing
    await activities.recordPolicyJudgeEvaluation({ ...args, versions: [3], runId: 'run-b', judge: judged(16 / 18) });
    await activities.recordPolicyJudgeEvaluation({ ...args, versions: [4], runId: 'run-c', judge: judged(null) });
    const verdicts: string[] = [];
    for (const version of [1, 2, 3, 4]) {
      const evaluations = (await registry.listEvaluations(model, version)).filter((e) => e.kind === 'judge');
      expect(evaluations).toHaveLength(1);
      verdicts.push(evaluations[0].verdict);
      expect(evaluations[0].summary).toMatchObject({ judgeModel: 'rule-judge', endpoint: 'http://127.0.0.1:1/v1/chat/completions', margin: 0.5, pairs: 18, belowMargin: 2, minAgreement: 0.9 });
    }
    expect(verdicts).toEqual(['pass', 'pass', 'fail', 'inconclusive']);
  });

  it('refuses at once, naming the variable, when the API key variable the config names is not set on the worker', async () => {
    const file = 'configs/oumi/policy_rl.yaml';
    const config = resolveJudgeConfig(await readFile(path.join(root, file), 'utf8'), file, { endpoint: 'http://127.0.0.1:9/v1/chat/completions' })!;
    await writeFile(path.join(dir, 'train.jsonl'), '');
    const err = await new MockActivityEnvironment().run(activities.judgePolicyCandidates, {
      judge: { ...config, apiKeyEnv: 'AUTOPILOT_JUDGE_KEY_NOT_SET' }, model, recordsPath: path.join(dir, 'train.jsonl'), predictionsPath: path.join(dir, 'none.jsonl'), threshold: 0.5,
      basePairsPath: path.join(dir, 'none.jsonl'), outDir: path.join(dir, 'judge'),
    }).catch((e: unknown) => e as Error & { nonRetryable?: boolean; type?: string });
    expect(err).toMatchObject({ nonRetryable: true, type: 'JudgeApiKeyMissing', message: expect.stringMatching(/^llm_judge\.api_key_env names AUTOPILOT_JUDGE_KEY_NOT_SET, which is not set on this oumi worker/) });
  });
});
