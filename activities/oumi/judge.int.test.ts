/**
 * The judge stage for real: Oumi's rubric judge (python/judge_policy.py in .venv-oumi, Oumi's REMOTE engine)
 * against an OpenAI-compatible server started here that answers with the reviewing rule's verdict
 * (activities/oumi/testing/rule-judge-server.ts; no external model is reachable), a fresh PostgreSQL
 * database holding reviewed served decisions, and configs/oumi/policy_rl.yaml with the endpoint overridden.
 *
 * The SFT model's predictions are simulated (seeded) so every expectation can be computed independently
 * from the rule: the judge's pairs prefer the rule's verdict, the borderline items (where the stand-in is
 * unsure) fall below the margin, the agreement with the noisy labels and with the reviewers is what the
 * rule's agreement with them is, contradicted base pairs are dropped, the API key reaches the endpoint
 * from the worker's environment and nowhere else, and the agreement is recorded as `judge` evaluations.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JudgeCandidatesResult, PolicyJudgeConfig } from '../../contracts/text-policy-training';
import { DecisionStore } from '../../decision-log';
import { toPreferencePair } from '../../ml/policy-data/examples';
import { generateDecisions } from '../../ml/policy-data/generate';
import { judge as rule, MIN_CONFIDENCE } from '../../ml/policy-data/judge';
import { agreement, selectJudgedItems } from '../../ml/policy-data/judging';
import { verdictFor, type Verdict } from '../../ml/policy-data/prompt';
import { Rng } from '../../ml/rng';
import { createArtifactStore } from '../../registry/artifacts';
import { Registry } from '../../registry/index';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { describeWithOumiVenv } from '../../test/support/tools';
import { createPolicyJudgeActivities } from './judge';
import { resolveJudgeConfig } from './judge-config';
import { startRuleJudgeServer, type RuleJudgeServer } from './testing/rule-judge-server';

const root = path.resolve(__dirname, '..', '..');
const describeWithVenv = describeWithOumiVenv('activities/oumi/judge.int.test.ts', 'python');
const API_KEY = `sk-judge-test-${randomUUID()}`;
const BORDERLINE = 0.03;
const MAX_ITEMS = 60;
const REVIEWED = 16;

describeWithVenv('judgePolicyCandidates: Oumi rubric judge against a rule-backed OpenAI-compatible endpoint', () => {
  let db: TestDatabase;
  let dir: string;
  let server: RuleJudgeServer;
  let registry: Registry;
  const model = `judged-${randomUUID().slice(0, 8)}`;
  const records = generateDecisions({ n: 160, seed: 11, labelNoise: 0.06 });
  const ruleVerdict = (r: (typeof records)[number]): Verdict => (rule(r.input, r.output.actions).good ? 'APPROVE' : 'FLAG');
  const borderline = (r: Pick<(typeof records)[number], 'output'>): boolean => r.output.actions.some((a) => Math.abs(a.confidence - MIN_CONFIDENCE) < BORDERLINE);
  // A simulated SFT model: right on about 80% of the items (seeded), p_approve spread on both sides of its threshold.
  const rng = new Rng(3);
  const threshold = 0.45;
  const predictions = records.map((r) => {
    const right = rng.uniform() < 0.8;
    const approve = (verdictFor(r.label) === 'APPROVE') === right;
    return { label: verdictFor(r.label), p_approve: approve ? threshold + 0.01 + 0.5 * rng.uniform() : threshold - 0.01 - 0.4 * rng.uniform() };
  });
  // Reviewed served decisions: the reviewer follows the rule except on the first two, which they reverse.
  const snapshots = generateDecisions({ n: REVIEWED, seed: 12 }).filter((r) => !borderline(r));
  const reviewerVerdicts = snapshots.map((r, i): Verdict => (i < 2 ? (ruleVerdict(r) === 'APPROVE' ? 'FLAG' : 'APPROVE') : ruleVerdict(r)));
  const previousKey = process.env.AUTOPILOT_JUDGE_API_KEY;

  let config: PolicyJudgeConfig;
  let result: JudgeCandidatesResult;

  beforeAll(async () => {
    [db, dir, server] = await Promise.all([createTestDatabase(), mkdtemp(path.join(tmpdir(), 'judge-int-')), startRuleJudgeServer({ apiKey: API_KEY, borderline: BORDERLINE })]);
    await migrate(db.pool);
    const store = createArtifactStore(`file://${path.join(dir, 'artifacts')}`);
    registry = new Registry({ pool: db.pool, store });
    await writeFile(path.join(dir, 'train.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await writeFile(path.join(dir, 'predictions.jsonl'), predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
    // The base (mined) pairs: those of the first 40 records, with their (noisy) labels.
    await writeFile(path.join(dir, 'mined.jsonl'), records.slice(0, 40).map((r) => JSON.stringify(toPreferencePair(r))).join('\n') + '\n');
    const decisions = new DecisionStore({ pool: db.pool });
    const ids = snapshots.map(() => randomUUID());
    const time = new Date(Date.now() - 3600_000);
    await decisions.insertDecisions(snapshots.map((s, i) => ({
      decisionId: ids[i], time, deployment: model, model, version: 1, arm: 'champion',
      features: { snapshot: { input: s.input, output: s.output } }, action: { verdict: i % 2 ? 'APPROVE' : 'FLAG' }, metadata: { kind: 'text-policy' },
    })));
    for (const [i, id] of ids.entries()) {
      await db.pool.query(
        `INSERT INTO decision_feedback (decision_id, decision_time, deployment, model, version, served_verdict, verdict) VALUES ($1, $2, $3, $3, 1, $4, $5)`,
        [id, time, model, i % 2 ? 'APPROVE' : 'FLAG', reviewerVerdicts[i]],
      );
    }
    const file = 'configs/oumi/policy_rl.yaml';
    config = resolveJudgeConfig(await readFile(path.join(root, file), 'utf8'), file, { endpoint: server.url, model: 'rule-judge', maxItems: MAX_ITEMS })!;
    process.env.AUTOPILOT_JUDGE_API_KEY = API_KEY;
    const activities = createPolicyJudgeActivities({ pool: db.pool, store, root });
    result = await new MockActivityEnvironment().run(activities.judgePolicyCandidates, {
      judge: config, model, recordsPath: path.join(dir, 'train.jsonl'), predictionsPath: path.join(dir, 'predictions.jsonl'), threshold,
      basePairsPath: path.join(dir, 'mined.jsonl'), outDir: path.join(dir, 'judge'),
    });
    console.log(JSON.stringify({ judged: result.judged, pairs: result.pairs, belowMargin: result.belowMargin, labels: result.labels, feedback: result.feedback, seconds: result.seconds }));
  }, 300_000);
  afterAll(async () => {
    if (previousKey === undefined) delete process.env.AUTOPILOT_JUDGE_API_KEY;
    else process.env.AUTOPILOT_JUDGE_API_KEY = previousKey;
    await server?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('judges the SFT answer and the alternative of the chosen items and of each reviewed decision, one request each, with the key from the environment', () => {
    expect(config).toMatchObject({ engine: 'remote', model: 'rule-judge', apiKeyEnv: 'AUTOPILOT_JUDGE_API_KEY', margin: 0.5 });
    expect(config.criteria.map((c) => c.id)).toEqual(['action_appropriateness', 'risk_assessment_accuracy']);
    expect(result.judged).toBe(MAX_ITEMS);
    expect(server.requests).toBe(2 * (MAX_ITEMS + snapshots.length));
    expect(server.unauthorized).toBe(0);
    expect([...server.authorizations]).toEqual([`Bearer ${API_KEY}`]);
    expect(result).toMatchObject({ scored: 2 * (MAX_ITEMS + snapshots.length), failed: 0, judgeModel: 'rule-judge', endpoint: server.url });
  });

  it("prefers the rule's verdict where the judge is sure, and drops the borderline items below the margin", async () => {
    const items = selectJudgedItems(predictions, threshold, MAX_ITEMS);
    const decided = items.filter((i) => !borderline(records[i]));
    expect(items.length - decided.length).toBeGreaterThan(0); // this seed has borderline items to drop
    expect(result.belowMargin).toBe(items.length - decided.length);
    expect(result.pairs).toBe(decided.length);
    const pairs = (await readFile(result.judgePairsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; chosen: string; rejected: string });
    expect(pairs.map((p) => p.chosen.split('\n')[0])).toEqual(decided.map((i) => ruleVerdict(records[i])));
    expect(pairs.map((p) => p.prompt)).toEqual(decided.map((i) => toPreferencePair(records[i]).prompt));
    for (const p of pairs) expect(p.rejected.split('\n')[0]).not.toBe(p.chosen.split('\n')[0]);
    // Every answer's scores are the stand-in's levels: sure answers 1 or 0, borderline ones 0.5.
    const scores = (await readFile(result.scoresPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { set: string; item: number; source: string; verdict: Verdict; score: number });
    for (const s of scores.filter((x) => x.set === 'train')) {
      const r = records[s.item];
      expect(s.score).toBe(borderline(r) ? 0.5 : s.verdict === ruleVerdict(r) ? 1 : 0);
    }
    const sftRight = decided.filter((i) => (predictions[i].p_approve >= threshold ? 'APPROVE' : 'FLAG') === ruleVerdict(records[i])).length;
    expect(result.sftPreferred).toBe(sftRight);
  });

  it("measures the judge's agreement with the noisy labels and with the reviewers' verdicts", () => {
    const items = selectJudgedItems(predictions, threshold, MAX_ITEMS);
    const expected = agreement(items.map((i) => (borderline(records[i]) ? null : ruleVerdict(records[i]))), items.map((i) => verdictFor(records[i].label)));
    expect(result.labels).toEqual(expected);
    expect(result.labels.agreement).toBeLessThan(1); // the labels carry 6% noise, and the errors come first
    expect(result.feedback).toEqual({ n: snapshots.length, decided: snapshots.length, agree: snapshots.length - 2, agreement: (snapshots.length - 2) / snapshots.length, kappa: expect.any(Number) });
  });

  it('merges its pairs into the base pairs: agreeing ones once, contradicting ones dropped on both sides', async () => {
    const base = records.slice(0, 40).map((r) => toPreferencePair(r));
    const judged = (await readFile(result.judgePairsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; chosen: string });
    const judgedBy = new Map(judged.map((p) => [p.prompt, p.chosen.split('\n')[0]]));
    const contradicted = base.filter((p) => judgedBy.has(p.prompt) && judgedBy.get(p.prompt) !== p.chosen.split('\n')[0]);
    const merged = (await readFile(result.path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { prompt: string });
    expect(result.conflicts).toBe(contradicted.length);
    expect(result.records).toBe(merged.length);
    expect(merged.length).toBe(base.length - contradicted.length + result.added);
    expect(new Set(merged.map((p) => p.prompt)).size).toBe(merged.length);
    for (const c of contradicted) expect(merged.some((p) => p.prompt === c.prompt)).toBe(false);
  });

  it('writes the API key nowhere: not in the run folder, not in the result', async () => {
    const folder = path.join(dir, 'judge');
    for (const f of await readdir(folder)) expect(await readFile(path.join(folder, f), 'utf8')).not.toContain(API_KEY);
    expect(JSON.stringify(result)).not.toContain(API_KEY);
  });

  it('records the agreement as a judge evaluation of each version, once per run', async () => {
    const activities = createPolicyJudgeActivities({ pool: db.pool, store: createArtifactStore(`file://${path.join(dir, 'artifacts')}`), root });
    for (const format of ['hf', 'onnx'] as const) {
      await registry.registerVersion({ model, artifact: { buffer: Buffer.from(format) }, fileName: `${format}.bin`, format, createModel: true, actor: 'test' });
    }
    const args = { model, versions: [1, 2], runId: 'run-judge', actor: 'test', judge: result, minAgreement: 0.8 };
    await activities.recordPolicyJudgeEvaluation(args);
    await activities.recordPolicyJudgeEvaluation(args); // a retried attempt
    for (const version of [1, 2]) {
      const evaluations = (await registry.listEvaluations(model, version)).filter((e) => e.kind === 'judge');
      expect(evaluations).toHaveLength(1);
      expect(evaluations[0]).toMatchObject({ runId: 'run-judge', verdict: result.labels.agreement! >= 0.8 ? 'pass' : 'fail' });
      expect(evaluations[0].summary).toMatchObject({ judgeModel: 'rule-judge', labels: result.labels, feedback: result.feedback, pairs: result.pairs, belowMargin: result.belowMargin, margin: 0.5 });
      expect(JSON.stringify(evaluations[0])).not.toContain(API_KEY);
    }
  });

  it('refuses at once, naming the variable, when the key the config names is not set on the worker', async () => {
    const activities = createPolicyJudgeActivities({ pool: db.pool, store: createArtifactStore(`file://${path.join(dir, 'artifacts')}`), root });
    const before = server.requests;
    const err = await new MockActivityEnvironment().run(activities.judgePolicyCandidates, {
      judge: { ...config, apiKeyEnv: 'AUTOPILOT_JUDGE_KEY_NOT_SET' }, model, recordsPath: path.join(dir, 'train.jsonl'), predictionsPath: path.join(dir, 'predictions.jsonl'), threshold,
      basePairsPath: path.join(dir, 'mined.jsonl'), outDir: path.join(dir, 'judge-no-key'),
    }).catch((e: unknown) => e as Error & { nonRetryable?: boolean });
    expect(err).toMatchObject({ nonRetryable: true, message: expect.stringMatching(/llm_judge\.api_key_env names AUTOPILOT_JUDGE_KEY_NOT_SET, which is not set on this oumi worker/) });
    expect(server.requests).toBe(before);
  });
});
