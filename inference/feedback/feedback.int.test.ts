/**
 * POST /v1/feedback on the real inference server (PostgreSQL decision log, auth on): reviewers' verdicts
 * on served text-policy decisions are stored once, refused with the field for anything else, bound to
 * the key's `reward` scope, counted in autopilot_policy_feedback_total, and the override rate read back
 * by feedbackSummary is that of the real served decisions.
 *
 * The two text-policy deployments here serve their fallbacks (`{ approve: true }` and `{ approve: false }`,
 * no model): real served, logged text-policy decisions with a verdict, without building a language model
 * (inference/text-policy/serving.int.test.ts covers the model's scores).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preparePolicyData } from '../../activities/oumi/data/prepare';
import { runCliInProcess } from '../../cli/testing/in-process';
import { labeledDecisionSchema } from '../../ml/policy-data/decision';
import { createKey } from '../../registry';
import { Db } from '../../registry/db';
import { generateDecisions } from '../../ml/policy-data/generate';
import type { InferenceServer } from '../server';
import { createServingFixture, getJson, postJson, type ServingFixture } from '../testing/fixture';

describe('POST /v1/feedback: a reviewer verdict on a served text-policy decision', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  const tokens: Record<string, string> = {};
  const snapshots = generateDecisions({ n: 12, seed: 3 }).map(({ label: _l, ...s }) => s);

  const decide = async (deployment: string, i: number, apiKey?: string): Promise<string> => {
    const r = await postJson(`${server.url}/v1/decide`, { deployment, snapshot: snapshots[i % snapshots.length] }, { apiKey });
    expect(r.status).toBe(200);
    return r.body.decisionId as string;
  };

  beforeAll(async () => {
    fx = await createServingFixture();
    for (const [model, approve] of [['approver', true], ['flagger', false]] as const) {
      await fx.registry.createModel({ name: model, actor: 'test' });
      await fx.registry.setDeployment({ model, kind: 'text-policy', championVersion: null, fallback: { approve }, actor: 'test' });
    }
    await fx.registry.createModel({ name: 'tenant-b', actor: 'test' });
    await fx.registry.setDeployment({ model: 'tenant-b', kind: 'text-policy', championVersion: null, fallback: { approve: true }, config: { rewardsFromDecidingKeyOnly: true }, actor: 'test' });
    const db = Db.fromPool(fx.db.pool);
    for (const [name, scopes] of [
      ['reviewer', ['reward:approver', 'reward:flagger', 'reward:tenant-b']],
      ['other', ['reward:flagger']],
      ['decider', ['decide:tenant-b', 'reward:tenant-b']],
      ['reader', ['read']],
    ] as const) {
      tokens[name] = (await createKey(db, { name, scopes: [...scopes], note: 'feedback test' })).token;
    }
    const v = await fx.register('plain-policy', 4);
    await fx.deploy('plain-policy', { champion: v.version });
    server = await fx.start();
  }, 120_000);
  afterAll(async () => {
    await fx?.close();
  });

  it('records a verdict right after the decision (still in the decision log batch), once; the same verdict again is a duplicate, another one a 409', async () => {
    const id = await decide('approver', 0);
    const first = await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: 'FLAG', reason: 'the rollback touches a shared database' }, { apiKey: tokens.reviewer });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ decisionId: id, accepted: true, duplicate: false, servedVerdict: 'APPROVE', verdict: 'FLAG', overridden: true });
    const again = await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: 'FLAG', reason: 'the rollback touches a shared database' }, { apiKey: tokens.reviewer });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const other = await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: 'APPROVE' }, { apiKey: tokens.reviewer });
    expect(other.status).toBe(409);
    expect(other.body.field).toBe('verdict');
    expect(other.body.error).toContain('already recorded as {"verdict":"FLAG"');
    const { rows } = await fx.db.pool.query('SELECT deployment, served_verdict, verdict, reason, key_id FROM decision_feedback WHERE decision_id = $1', [id]);
    expect(rows).toEqual([{ deployment: 'approver', served_verdict: 'APPROVE', verdict: 'FLAG', reason: 'the rollback touches a shared database', key_id: expect.any(String) }]);
  });

  it('refuses bad bodies naming the field and what it expects', async () => {
    const id = await decide('flagger', 1);
    const cases: [unknown, number, string | null][] = [
      [{ decisionId: 'nope', verdict: 'FLAG' }, 400, 'decisionId'],
      [{ decisionId: id, verdict: 'approve' }, 400, 'verdict'],
      [{ decisionId: id }, 400, 'verdict'],
      [{ decisionId: id, verdict: 'FLAG', reason: '' }, 400, 'reason'],
      [{ decisionId: id, verdict: 'FLAG', reason: 'x'.repeat(2001) }, 400, 'reason'],
      [{ decisionId: id, verdict: 'FLAG', score: 1 }, 400, 'score'],
      [[], 400, null],
    ];
    for (const [body, status, field] of cases) {
      const r = await postJson(`${server.url}/v1/feedback`, body, { apiKey: tokens.reviewer });
      expect({ body, status: r.status, field: r.body.field ?? null }).toEqual({ body, status, field });
      expect(typeof r.body.expected).toBe('string');
    }
    // nothing was stored by the refused requests
    const { rows } = await fx.db.pool.query('SELECT count(*)::int AS n FROM decision_feedback WHERE decision_id = $1', [id]);
    expect(rows[0].n).toBe(0);
  });

  it('404 for a decision that does not exist, 400 for a decision of another kind', async () => {
    const missing = await postJson(`${server.url}/v1/feedback`, { decisionId: '00000000-0000-4000-8000-000000000000', verdict: 'FLAG' });
    expect(missing.status).toBe(404);
    expect(missing.body.field).toBe('decisionId');
    const d = await postJson(`${server.url}/v1/decide`, { deployment: 'plain-policy', features: Array.from({ length: 16 }, () => 0.1) });
    expect(d.status).toBe(200);
    const wrongKind = await postJson(`${server.url}/v1/feedback`, { decisionId: d.body.decisionId, verdict: 'FLAG' });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error).toMatch(/text-policy/);
    expect(wrongKind.body.expected).toMatch(/\/v1\/rewards/);
  });

  it('needs the reward scope on the decision\'s deployment, and the deciding key where the deployment says so', async () => {
    const id = await decide('approver', 2);
    const noKey = await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: 'APPROVE' }, { apiKey: null });
    expect(noKey.status).toBe(401);
    const reader = await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: 'APPROVE' }, { apiKey: tokens.reader });
    expect(reader.status).toBe(403);
    const other = await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: 'APPROVE' }, { apiKey: tokens.other });
    expect(other.status).toBe(403);
    expect(other.body.error).toContain('"approver"');
    const tenant = await decide('tenant-b', 3, tokens.decider);
    const notDecider = await postJson(`${server.url}/v1/feedback`, { decisionId: tenant, verdict: 'FLAG' }, { apiKey: tokens.reviewer });
    expect(notDecider.status).toBe(403);
    expect(notDecider.body.error).toMatch(/deciding key/);
    const decider = await postJson(`${server.url}/v1/feedback`, { decisionId: tenant, verdict: 'FLAG' }, { apiKey: tokens.decider });
    expect(decider.status).toBe(201);
    const { rows } = await fx.db.pool.query('SELECT count(*)::int AS n FROM decision_feedback WHERE decision_id = $1', [id]);
    expect(rows[0].n).toBe(0);
  });

  it('measures the override rate on the served decisions: summary and metrics agree', async () => {
    // approver: 10 more decisions, 3 overridden (FLAG), 7 kept; flagger: 4 decisions, 1 overridden (APPROVE).
    const approved: string[] = [];
    for (let i = 0; i < 10; i++) approved.push(await decide('approver', 4 + i));
    const flagged: string[] = [];
    for (let i = 0; i < 4; i++) flagged.push(await decide('flagger', i));
    for (const [i, id] of approved.entries()) expect((await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: i < 3 ? 'FLAG' : 'APPROVE' }, { apiKey: tokens.reviewer })).status).toBe(201);
    for (const [i, id] of flagged.entries()) expect((await postJson(`${server.url}/v1/feedback`, { decisionId: id, verdict: i === 0 ? 'APPROVE' : 'FLAG' }, { apiKey: tokens.reviewer })).status).toBe(201);

    // approver also holds the first test's overridden decision: 11 reviewed approvals, 4 overridden.
    const approver = await fx.decisions.feedbackSummary({ deployment: 'approver' });
    expect(approver.total).toMatchObject({ reviewed: 11, servedApprove: 11, approveOverridden: 4, servedFlag: 0, flagOverridden: 0 });
    expect(approver.total.overrideRate).toBeCloseTo(4 / 11, 12);
    expect(approver.total.agreement).toBeCloseTo(7 / 11, 12);
    expect(approver.byVersion).toEqual([expect.objectContaining({ model: 'approver', version: null, reviewed: 11 })]);
    const flagger = await fx.decisions.feedbackSummary({ deployment: 'flagger' });
    expect(flagger.total).toMatchObject({ reviewed: 4, servedApprove: 0, servedFlag: 4, flagOverridden: 1, overrideRate: null, agreement: 0.75 });
    // a window that ends before the decisions were made holds none of them
    const before = await fx.decisions.feedbackSummary({ deployment: 'approver', to: new Date(Date.now() - 3_600_000) });
    expect(before.total).toMatchObject({ reviewed: 0, overrideRate: null });

    const text = (await getJson(`${server.url}/metrics`)).body as string;
    const metric = (dep: string, served: string, verdict: string) => {
      const m = text.match(new RegExp(`^autopilot_policy_feedback_total\\{deployment="${dep}",served="${served}",verdict="${verdict}"\\} (\\d+)`, 'm'));
      return m ? Number(m[1]) : 0;
    };
    expect(metric('approver', 'APPROVE', 'FLAG')).toBe(4);
    expect(metric('approver', 'APPROVE', 'APPROVE')).toBe(7);
    expect(metric('flagger', 'FLAG', 'APPROVE')).toBe(1);
    expect(metric('flagger', 'FLAG', 'FLAG')).toBe(3);
  });

  describe('back into training: autopilot feedback summary and data export --feedback', () => {
    const saved = { ...process.env };
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'feedback-export-'));
      Object.assign(process.env, { AUTOPILOT_IGNORE_STACK: '1', AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: `file://${join(dir, 'artifacts')}`, AUTOPILOT_DATA_DIR: join(dir, 'data') });
    });
    afterAll(() => {
      process.env = saved;
    });

    it('feedback summary prints the override rate against seed 003\'s target', async () => {
      const r = await runCliInProcess('feedback', 'summary', '--deployment', 'approver', '--json');
      expect(r.stderr).toBe('');
      const s = JSON.parse(r.stdout);
      expect(s.total).toMatchObject({ reviewed: 11, approveOverridden: 4 });
      expect(s.target).toEqual({ overrideRate: 0.1 });
      const text = await runCliInProcess('feedback', 'summary', '--deployment', 'approver');
      expect(text.stdout).toMatch(/override rate 36\.4% misses seed 003's target \(< 10\.0%\)/);
      const bad = await runCliInProcess('feedback', 'summary', '--deployment', 'approver', '--from', 'yesterday');
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('--from');
    });

    it('turns reviewed decisions into labelled records, SFT rows and DPO pairs that the next policyTraining prepares', async () => {
      // One decision served from a rendered text, reviewed: it can only become a preference pair.
      const t = await postJson(`${server.url}/v1/decide`, { deployment: 'approver', text: '<|im_start|>user\nrestart api<|im_end|>\n<|im_start|>assistant\n' });
      expect((await postJson(`${server.url}/v1/feedback`, { decisionId: t.body.decisionId, verdict: 'FLAG', reason: 'no evidence of a crash' }, { apiKey: tokens.reviewer })).status).toBe(201);
      const out = join(dir, 'fb');
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const to = new Date(Date.now() + 60_000).toISOString();
      const r = await runCliInProcess('data', 'export', '--feedback', '--deployment', 'approver', '--from', from, '--to', to, '--out', out, '--register', '--json');
      expect(r.stderr).toBe('');
      const res = JSON.parse(r.stdout);
      expect(res.manifest).toMatchObject({ format: 'autopilot.feedback-export/1', deployment: 'approver', reviewed: 12, overridden: 5, textOnly: 1 });
      expect(res.version).toEqual({ model: 'feedback-approver', version: 1 });
      for (const [name, f] of Object.entries(res.manifest.files as Record<string, { sha256: string; rows: number }>)) {
        const bytes = readFileSync(join(out, name));
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
        expect(bytes.toString('utf8').split('\n').filter(Boolean)).toHaveLength(f.rows);
      }
      expect(res.manifest.files).toMatchObject({ 'labeled_decisions.jsonl': { rows: 11 }, 'sft.jsonl': { rows: 11 }, 'dpo.jsonl': { rows: 12 } });

      // Labels are the reviewers' verdicts; the records are the snapshots the policy was asked about.
      const records = readFileSync(join(out, 'labeled_decisions.jsonl'), 'utf8').trim().split('\n').map((l) => labeledDecisionSchema.parse(JSON.parse(l)));
      const { rows } = await fx.db.pool.query<{ verdict: string; features: { snapshot: { input: { snapshot_id: string } } } }>(
        `SELECT f.verdict, d.features FROM decision_feedback f JOIN decisions d USING (decision_id) WHERE f.deployment = 'approver' AND d.features::jsonb ? 'snapshot' ORDER BY f.decision_time, f.decision_id`,
      );
      expect(records.map((x) => [x.input.snapshot_id, x.label])).toEqual(rows.map((x) => [x.features.snapshot.input.snapshot_id, x.verdict === 'APPROVE' ? 'good' : 'bad']));
      // The reviewer's own reason is the SFT answer's reason; without one, the reviewing rule's.
      const sft = readFileSync(join(out, 'sft.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { messages: { role: string; content: string }[] });
      expect(sft[0].messages.at(-1)).toEqual({ role: 'assistant', content: expect.stringMatching(/^FLAG\b[\s\S]*the rollback touches a shared database/) });
      const pairs = readFileSync(join(out, 'dpo.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; chosen: string; rejected: string });
      // DPO pairs are the verdict alone (the reviewer's over the other), as the workflow's: a reason after it would be learnt instead.
      const textPair = pairs.find((p) => p.prompt.includes('restart api'))!;
      expect(textPair).toMatchObject({ chosen: 'FLAG', rejected: 'APPROVE' });
      expect(pairs.map((p) => [p.chosen, p.rejected]).every(([c, r]) => (c === 'APPROVE' && r === 'FLAG') || (c === 'FLAG' && r === 'APPROVE'))).toBe(true);
      expect(pairs.filter((p) => !p.prompt.includes('restart api')).map((p) => p.chosen)).toEqual(records.map((x) => (x.label === 'good' ? 'APPROVE' : 'FLAG')));

      // The next policyTraining run's data preparation takes the export as its labelled decisions.
      const prepared = await preparePolicyData({ decisionsPath: join(out, 'labeled_decisions.jsonl'), outDir: join(dir, 'prepared'), seed: 1, evalFraction: 0.3 });
      expect(prepared.source.records).toBe(11);
      expect(prepared.sftTrain.records + prepared.sftEval.records).toBe(11);

      const again = await runCliInProcess('data', 'export', '--feedback', '--deployment', 'approver', '--from', from, '--to', to, '--out', out);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('already exists');
    });
  });
});
