/**
 * canaryPromotion on Temporal's time-skipping test server: every path of the workflow, with the
 * activities as plain objects typed as the real factory's return type (the real activities are
 * tested against PostgreSQL in activities/canary/activities.int.test.ts). Days of baking take
 * milliseconds; the durable timers are real. The test server has no custom search attributes, so
 * these runs turn them off (the end-to-end test on the dev server checks them).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createCanaryWebhookActivity } from '../activities/canary/activities';
import { validateCanaryPlan } from '../activities/canary/plan-config';
import { createWebhookSender } from '../activities/webhooks';
import { judgeOpeGate } from '../canary/ope-gate';
import type { CanaryPlanInput } from '../canary/plan';
import type { CanaryStatus, CheckOutcome, CheckResult } from '../canary/status';
import { startTimeSkippingServer } from '../test/support/temporal';
import {
  abortSignal,
  canaryWorkflowId,
  pauseSignal,
  promoteSignal,
  resumeSignal,
  statusQuery,
  type CanaryActivities,
  type CheckInput,
  type RollbackInput,
  type SetWeightInput,
  type ShadowInput,
  type WebhookInput,
} from '../contracts/canary';
import { canaryPromotion } from './canaryPromotion';

// Step 1 bakes 24 h (the runbook), the others 2 h, 100% for 1 h; a check every hour.
const PLAN: CanaryPlanInput = {
  stepWeights: [5, 25, 50, 100],
  interval: ['24h', '2h', '2h', '1h'],
  checkInterval: '1h',
  threshold: 2,
  maxInconclusive: 2,
};
const CHECKS_FOR_FULL_PROMOTION = 24 + 2 + 2 + 1;

type Script = (c: CheckInput, n: number, weight: number) => CheckOutcome | Partial<CheckResult>;

interface Fake {
  activities: CanaryActivities;
  weights: number[];
  checks: (CheckInput & { weight: number })[];
  rollbacks: RollbackInput[];
  promotes: number;
  webhooks: WebhookInput[];
  /** The registry-changing calls in order: `shadow:on`, `shadow:off`, `weight:5`, `check:shadow`, `rollback`. */
  events: string[];
  /** Makes the named webhook wait until release() (to abort while it is in flight). */
  hold(type: WebhookInput['type']): { entered: Promise<void>; release: () => void };
}

function checkResult(outcome: CheckOutcome, extra: Partial<CheckResult> = {}): CheckResult {
  const now = new Date().toISOString();
  return {
    outcome,
    breach: false,
    reasons: outcome === 'pass' ? [] : [`scripted ${outcome}`],
    at: now,
    window: { from: now, to: now },
    samples: { champion: 1000, canary: 1000 },
    metrics: [],
    delta: null,
    burnRate: [],
    decisionLook: false,
    ...extra,
  };
}

function fake(script: Script = () => 'pass', opts: { championVersion?: number; webhooks?: boolean } = {}): Fake {
  const f = { weights: [] as number[], checks: [] as Fake['checks'], rollbacks: [] as RollbackInput[], promotes: 0, webhooks: [] as WebhookInput[], events: [] as string[] };
  let shadowVersion: number | null = null;
  let weight = 0;
  const holds = new Map<string, { enter: () => void; wait: Promise<void> }>();
  const activities: CanaryActivities = {
    async canaryInitialize(input) {
      const plan = validateCanaryPlan(input.plan ?? {}, 'input.plan');
      return { plan, championVersion: opts.championVersion ?? 1, generation: 2 };
    },
    async canaryShadow(input: ShadowInput) {
      // Idempotent like the real one: a repeated call changes nothing and is not an event.
      const want = input.on ? input.version : null;
      if (shadowVersion === want || (!input.on && shadowVersion !== input.version)) return { generation: 5, changed: false };
      shadowVersion = want;
      f.events.push(`shadow:${input.on ? 'on' : 'off'}`);
      return { generation: 5, changed: true };
    },
    async canarySetWeight(input: SetWeightInput) {
      f.events.push(`weight:${input.weight}`);
      f.weights.push(input.weight);
      weight = input.weight;
      return { generation: 10 + f.weights.length, changed: true };
    },
    async canaryCheck(input: CheckInput) {
      f.checks.push({ ...input, weight });
      f.events.push(`check:${input.arm}`);
      const s = script(input, f.checks.length, weight);
      return typeof s === 'string' ? checkResult(s, { decisionLook: input.decisionLook > 0 }) : checkResult(s.outcome ?? 'pass', { decisionLook: input.decisionLook > 0, ...s });
    },
    async canaryRollback(input: RollbackInput) {
      f.rollbacks.push(input);
      f.events.push('rollback');
      weight = 0;
      return { generation: 99, restoredChampion: input.restoreChampion ?? null };
    },
    async canaryPromote() {
      f.promotes++;
      return { generation: 50, previousChampion: opts.championVersion ?? 1 };
    },
    async canaryWebhook(input: WebhookInput) {
      f.webhooks.push(input);
      const h = holds.get(input.type);
      if (h) {
        h.enter();
        await h.wait;
      }
      return { ok: true, status: 200, ms: 1, error: null };
    },
    async canaryOpeGate(input) {
      return judgeOpeGate(input.plan.ope!, { result: input.result, error: input.error, workflowId: input.evaluationWorkflowId, window: input.window });
    },
  };
  return {
    ...f,
    get weights() { return f.weights; },
    get checks() { return f.checks; },
    get rollbacks() { return f.rollbacks; },
    get promotes() { return f.promotes; },
    get webhooks() { return f.webhooks; },
    get events() { return f.events; },
    activities,
    hold(type) {
      let enter!: () => void;
      let release!: () => void;
      const entered = new Promise<void>((r) => (enter = r));
      const wait = new Promise<void>((r) => (release = r));
      holds.set(type, { enter, wait });
      return { entered, release };
    },
  };
}

describe('canaryPromotion (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTimeSkippingServer(), bundleWorkflowCode({ workflowsPath: require.resolve('./canaryPromotion'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never })]);
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function withWorker<T>(
    f: Fake,
    fn: (start: (plan?: CanaryPlanInput, model?: string) => Promise<WorkflowHandle<typeof canaryPromotion>>) => Promise<T>,
    taskQueue = `rollout-${randomUUID()}`,
    options: { maxCachedWorkflows?: number } = {},
  ): Promise<T> {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: f.activities, ...options });
    return worker.runUntil(
      fn((plan = PLAN, model = `m${randomUUID().slice(0, 8)}`) =>
        env.client.workflow.start(canaryPromotion, { taskQueue, workflowId: canaryWorkflowId(model), args: [{ model, version: 2, plan, actor: 'test', searchAttributes: false }] }),
      ),
    );
  }

  const run = (f: Fake, plan: CanaryPlanInput = PLAN) => withWorker(f, async (start) => (await start(plan)).result());

  it('promotes through every weight after baking each step', async () => {
    const f = fake();
    const status = await run(f);
    expect(status.phase).toBe('Succeeded');
    expect(f.weights).toEqual([5, 25, 50, 100]);
    expect(f.checks).toHaveLength(CHECKS_FOR_FULL_PROMOTION);
    expect(f.promotes).toBe(1);
    expect(f.rollbacks).toEqual([]);
    // 24 checks at 5%, the last one a decision look; superiority asked on the last split step only
    expect(f.checks.filter((c) => c.weight === 5).map((c) => c.decisionLook)).toEqual([...Array(23).fill(0), 1]);
    expect([...new Set(f.checks.map((c) => `${c.weight}:${c.comparison}`))]).toEqual(['5:non-inferiority', '25:non-inferiority', '50:superiority', '100:none']);
    expect(status).toMatchObject({ promoted: true, canaryWeight: 0, failedChecks: 0, iterations: CHECKS_FOR_FULL_PROMOTION, championVersion: 1 });
    expect(status.history.map((h) => h.event).filter((e) => e === 'phase' || e === 'promoted')).toEqual(['phase', 'phase', 'promoted', 'phase']);
    expect(status.history.filter((h) => h.event === 'phase').map((h) => h.detail)).toEqual([
      'Initializing → Progressing',
      'Progressing → Promoting: all 4 steps passed',
      'Promoting → Succeeded',
    ]);
  });

  it.each([0, 1, 2, 3])('a breach during step %i rolls back at once', async (step) => {
    const weight = [5, 25, 50, 100][step];
    const f = fake((_c, _n, w) => (w === weight ? { outcome: 'fail', breach: true, reasons: ['error budget burning 20x'] } : 'pass'));
    const status = await run(f);
    expect(status.phase).toBe('Failed');
    expect(f.weights).toEqual([5, 25, 50, 100].slice(0, step + 1));
    expect(f.checks.filter((c) => c.weight === weight)).toHaveLength(1);
    expect(f.rollbacks).toEqual([{ model: expect.any(String), version: 2, reason: 'breach: error budget burning 20x', actor: 'test', restoreChampion: null }]);
    expect(f.promotes).toBe(0);
    expect(status.message).toBe('rolled back: breach: error budget burning 20x');
  });

  it('rolls back after `threshold` failed checks, and not after fewer', async () => {
    const once = fake((_c, n) => (n === 3 ? 'fail' : 'pass'));
    expect((await run(once)).phase).toBe('Succeeded');
    expect(once.rollbacks).toEqual([]);
    const failedEarly = fake((_c, n) => (n === 3 || n === 7 ? 'fail' : 'pass'));
    const status = await run(failedEarly);
    expect(status.phase).toBe('Failed');
    expect(status.failedChecks).toBe(2);
    expect(failedEarly.checks).toHaveLength(7);
    expect(failedEarly.weights).toEqual([5]);
    expect(failedEarly.rollbacks[0].reason).toBe('2 failed checks (threshold 2); last: scripted fail');
  });

  it('extends an inconclusive step and advances once it resolves', async () => {
    // step 2 (25%, 2 h): checks at 1 h (mid-bake), 2 h (look 1), 3 h (look 2), 4 h (look 3)
    let lookAt25 = 0;
    const f = fake((c, _n, w) => {
      if (w !== 25 || c.decisionLook === 0) return 'pass';
      lookAt25++;
      return lookAt25 < 3 ? 'inconclusive' : 'pass';
    });
    const status = await run(f);
    expect(status.phase).toBe('Succeeded');
    expect(f.checks.filter((c) => c.weight === 25).map((c) => c.decisionLook)).toEqual([0, 1, 2, 3]);
    expect(status.history.filter((h) => h.event === 'extended')).toHaveLength(2);
    // one inconclusive more than maxInconclusive rolls back
    const stuck = fake((c, _n, w) => (w === 25 && c.decisionLook > 0 ? 'inconclusive' : 'pass'));
    const failed = await run(stuck);
    expect(failed.phase).toBe('Failed');
    expect(stuck.rollbacks[0].reason).toMatch(/^not conclusive after the bake and 2 extra check\(s\) \(maxInconclusive 2\)/);
    expect(stuck.weights).toEqual([5, 25]);
  });

  it('pause holds checks and weights across a long bake; resume carries on', async () => {
    const f = fake();
    await withWorker(f, async (start) => {
      const h = await start();
      await env.sleep('150m');
      await h.signal(pauseSignal, { by: 'cli:alice' });
      const checksAtPause = f.checks.length;
      expect(checksAtPause).toBe(2);
      await env.sleep('3d');
      let s: CanaryStatus = await h.query(statusQuery);
      expect(s).toMatchObject({ paused: true, canaryWeight: 5, phase: 'Progressing' });
      expect(f.checks.length).toBe(checksAtPause);
      expect(f.weights).toEqual([5]);
      await h.signal(resumeSignal, { by: 'cli:alice' });
      s = await h.result();
      expect(s.phase).toBe('Succeeded');
      expect(f.weights).toEqual([5, 25, 50, 100]);
      expect(s.history.filter((x) => x.event === 'paused' || x.event === 'resumed').map((x) => `${x.event} ${x.detail}`)).toEqual(['paused by cli:alice', 'resumed by cli:alice']);
    });
  });

  it('abort rolls back during a bake', async () => {
    const f = fake();
    await withWorker(f, async (start) => {
      const h = await start();
      await env.sleep('3h');
      await h.signal(abortSignal, { by: 'cli:bob', reason: 'pager fired' });
      const s = await h.result();
      expect(s.phase).toBe('Failed');
      expect(f.rollbacks).toEqual([{ model: expect.any(String), version: 2, reason: 'aborted by cli:bob: pager fired', actor: 'test', restoreChampion: null }]);
      expect(f.weights).toEqual([5]);
      expect(f.promotes).toBe(0);
    });
  });

  it('abort works while Promoting (before the promotion commits) and after it (the previous champion is restored)', async () => {
    const plan: CanaryPlanInput = { ...PLAN, webhooks: [{ type: 'confirm-promotion', url: 'http://127.0.0.1:9/confirm' }, { type: 'post-rollout', url: 'http://127.0.0.1:9/done' }] };
    const before = fake();
    const confirm = before.hold('confirm-promotion');
    await withWorker(before, async (start) => {
      const h = await start(plan);
      const result = h.result(); // awaiting the result lets the test server skip the bakes
      await confirm.entered;
      expect((await h.query(statusQuery)).phase).toBe('Promoting');
      await h.signal(abortSignal, { by: 'cli:bob', reason: 'too late?' });
      // the workflow stops waiting for the webhook at once; the held call may now end (its answer is ignored)
      confirm.release();
      const s = await result;
      expect(s.phase).toBe('Failed');
      expect(before.promotes).toBe(0);
      expect(before.rollbacks.map((r) => r.restoreChampion)).toEqual([null]);
    });

    const after = fake();
    const post = after.hold('post-rollout');
    await withWorker(after, async (start) => {
      const h = await start(plan);
      const result = h.result();
      await post.entered;
      await h.signal(abortSignal, { by: 'cli:bob', reason: 'regression seen' });
      post.release();
      const s = await result;
      expect(s.phase).toBe('Failed');
      expect(after.promotes).toBe(1);
      expect(after.rollbacks).toEqual([{ model: expect.any(String), version: 2, reason: 'aborted by cli:bob: regression seen', actor: 'test', restoreChampion: 1 }]);
    });
  });

  /** canaryWebhook answering by type: `answers[type](n)` for its n-th call (1-based) gives the status. */
  function scriptHooks(f: Fake, answers: Partial<Record<WebhookInput['type'], (n: number) => number>>): void {
    const calls = new Map<string, number>();
    f.activities.canaryWebhook = async (input) => {
      f.webhooks.push(input);
      const n = (calls.get(input.type) ?? 0) + 1;
      calls.set(input.type, n);
      const status = answers[input.type]?.(n) ?? 200;
      const ok = status >= 200 && status < 300;
      return { ok, status, ms: 1, error: ok ? null : `HTTP ${status}` };
    };
  }
  const hook = (type: WebhookInput['type']) => ({ type, url: `http://127.0.0.1:9/${type}` });

  it('confirm-promotion waits (WaitingPromotion, checks go on) until it answers 2xx, then promotes; no rollback', async () => {
    const f = fake();
    scriptHooks(f, { 'confirm-promotion': (n) => (n < 3 ? 403 : 200), rollback: () => 404 });
    const status = await run(f, { ...PLAN, webhooks: [hook('confirm-promotion'), hook('rollback'), hook('post-rollout')] });
    expect(status.phase).toBe('Succeeded');
    expect(f.promotes).toBe(1);
    expect(f.rollbacks).toEqual([]);
    // two refusals → two more checks at 100% (harm only), one hour apart, before the third call says yes
    expect(f.checks).toHaveLength(CHECKS_FOR_FULL_PROMOTION + 2);
    expect(f.checks.slice(-2).map((c) => [c.weight, c.decisionLook])).toEqual([[100, 0], [100, 0]]);
    expect(f.webhooks.filter((w) => w.type !== 'rollback').map((w) => w.type)).toEqual(['confirm-promotion', 'confirm-promotion', 'confirm-promotion', 'post-rollout']);
    // the rollback gate is asked before every check
    expect(f.webhooks.filter((w) => w.type === 'rollback')).toHaveLength(f.checks.length);
    expect(status.history.filter((h) => h.event === 'phase').map((h) => h.detail)).toEqual([
      'Initializing → Progressing',
      'Progressing → Promoting: all 4 steps passed',
      'Promoting → WaitingPromotion: confirm-promotion webhook confirm-promotion did not confirm',
      'WaitingPromotion → Promoting: confirm-promotion webhook confirm-promotion answered 2xx',
      'Promoting → Succeeded',
    ]);
  });

  it('failed checks while the promotion waits still roll back (and post-rollout is told)', async () => {
    const f = fake((_c, n) => (n > CHECKS_FOR_FULL_PROMOTION ? 'fail' : 'pass'));
    scriptHooks(f, { 'confirm-promotion': () => 503 });
    const status = await run(f, { ...PLAN, webhooks: [hook('confirm-promotion'), hook('post-rollout')] });
    expect(status.phase).toBe('Failed');
    expect(f.promotes).toBe(0);
    expect(f.rollbacks[0].reason).toBe('2 failed checks (threshold 2); last: scripted fail');
    // asked once on entering, once after the first failed check; the second failure rolls back
    expect(f.webhooks.map((w) => w.type)).toEqual(['confirm-promotion', 'confirm-promotion', 'post-rollout']);
    expect(f.webhooks.at(-1)!.payload).toMatchObject({ version: 2, phase: 'Failed', reason: '2 failed checks (threshold 2); last: scripted fail' });
  });

  it('a rollback webhook answering 2xx rolls back before the next check', async () => {
    const f = fake();
    scriptHooks(f, { rollback: (n) => (n < 4 ? 404 : 200) });
    const status = await run(f, { ...PLAN, webhooks: [hook('rollback')] });
    expect(status.phase).toBe('Failed');
    expect(f.checks).toHaveLength(3);
    expect(f.rollbacks.map((r) => r.reason)).toEqual(['rollback webhook rollback answered 2xx']);
    expect(f.weights).toEqual([5]);
  });

  it('confirm-rollout holds the start (Waiting) until 2xx; pre-rollout failures count as failed checks', async () => {
    const f = fake();
    scriptHooks(f, { 'confirm-rollout': (n) => (n < 3 ? 423 : 200), 'pre-rollout': (n) => (n < 2 ? 500 : 200) });
    let waiting!: CanaryStatus;
    await withWorker(f, async (start) => {
      const h = await start({ ...PLAN, webhooks: [hook('confirm-rollout'), hook('pre-rollout')] });
      await env.sleep('90m');
      waiting = await h.query(statusQuery);
      expect(await h.result()).toMatchObject({ phase: 'Succeeded', failedChecks: 1 });
    });
    expect(waiting).toMatchObject({ phase: 'Waiting', canaryWeight: 0, message: 'waiting for the confirm-rollout webhook confirm-rollout to answer 2xx (last: HTTP 423)' });
    expect(f.webhooks.map((w) => w.type)).toEqual(['confirm-rollout', 'confirm-rollout', 'confirm-rollout', 'pre-rollout', 'pre-rollout']);
    expect(f.weights).toEqual([5, 25, 50, 100]);

    const never = fake();
    scriptHooks(never, { 'pre-rollout': () => 500 });
    const failed = await run(never, { ...PLAN, webhooks: [hook('pre-rollout')] });
    expect(failed.phase).toBe('Failed');
    expect(never.rollbacks.map((r) => r.reason)).toEqual(['pre-rollout webhook failed 2 time(s) (threshold 2); last: pre-rollout: HTTP 500']);
    expect(never.weights).toEqual([]);
    expect(never.checks).toEqual([]);
  });

  it('the event webhook gets every history entry once, in order, with the metadata', async () => {
    const f = fake((_c, n) => (n === 2 ? 'fail' : 'pass'));
    scriptHooks(f, { event: () => 500 });
    const status = await run(f, { ...PLAN, stepWeights: [50, 100], interval: '2h', webhooks: [{ ...hook('event'), metadata: { team: 'search' } }] });
    expect(status.phase).toBe('Succeeded');
    const events = f.webhooks.filter((w) => w.type === 'event');
    expect(events.map((e) => e.payload.seq)).toEqual(status.history.map((_h, i) => i + 1));
    expect(events.map((e) => `${e.payload.event}: ${e.payload.detail}`)).toEqual(status.history.map((h) => `${h.event}: ${h.detail}`));
    expect(events.every((e) => e.metadata?.team === 'search')).toBe(true);
  });

  it('replays a run recorded before the Flagger webhook semantics (confirm-promotion 503 → rollback, then the rollback hook told) without nondeterminism', async () => {
    // Recorded by the code of commit 68993c4 on the time-skipping server with fakes like these:
    // stepWeights [50, 100], confirm-promotion answering 503 and a rollback webhook (the old order:
    // confirm-promotion, canaryRollback, rollback). patched('canary-flagger-webhooks') keeps it replaying.
    const recorded = JSON.parse(readFileSync(join(__dirname, 'testing', 'canaryPromotion.pre-flagger.history.json'), 'utf8')) as Record<string, unknown>;
    const history = temporal.api.history.v1.History.fromObject(recorded);
    const scheduled = history.events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter((n): n is string => typeof n === 'string');
    expect(scheduled.slice(-3)).toEqual(['canaryWebhook', 'canaryRollback', 'canaryWebhook']);
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'canary/recorded-before-flagger-hooks')).resolves.toBeUndefined();
  });

  describe('webhooks over real HTTP (the real canaryWebhook activity and a local server answering per type)', () => {
    const SECRET = 'workflow-hooks-secret-0123';
    let server: Server;
    let base: string;
    /** What the server got, in order: path, signature check, body. */
    const got: { path: string; signedOk: boolean; body: Record<string, unknown> }[] = [];
    let answers: Record<string, (n: number) => { status: number; headers?: Record<string, string>; body?: string | Buffer; delayMs?: number }>;
    const counts = new Map<string, number>();

    beforeAll(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const ts = req.headers['x-autopilot-timestamp'] as string;
          const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${raw}`).digest('hex')}`;
          const path = req.url!.slice(1);
          got.push({ path, signedOk: req.headers['x-autopilot-signature'] === want, body: raw ? JSON.parse(raw) : {} });
          const n = (counts.get(path) ?? 0) + 1;
          counts.set(path, n);
          const a = answers[path]?.(n) ?? { status: 404 };
          setTimeout(() => {
            if (res.destroyed) return;
            res.writeHead(a.status, a.headers).end(a.body ?? '');
          }, a.delayMs ?? 0);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    beforeEach(() => {
      got.length = 0;
      counts.clear();
    });

    /** The real activity in place of the fake one; returns what each call reported, in order. */
    function realHooks(f: Fake): { type: string; error: string | null }[] {
      const send = createWebhookSender({ secret: SECRET, allowedHosts: ['127.0.0.1'], maxResponseBytes: 4096 });
      const real = createCanaryWebhookActivity(send).canaryWebhook;
      const results: { type: string; error: string | null }[] = [];
      f.activities.canaryWebhook = async (input) => {
        f.webhooks.push(input);
        const r = await real(input);
        results.push({ type: input.type, error: r.error });
        return r;
      };
      return results;
    }
    const plan = (types: WebhookInput['type'][]): CanaryPlanInput => ({
      stepWeights: [50, 100],
      interval: '2h',
      checkInterval: '1h',
      threshold: 2,
      webhooks: types.map((type) => ({ type, url: `${base}/${type}`, timeout: type === 'event' ? '300ms' : '2s' })),
    });

    it('confirm-rollout and confirm-promotion wait through refusals and a redirect (never followed); pre-rollout counts a failure; post-rollout reads a huge answer only up to the cap; a slow event hook is cut off', async () => {
      answers = {
        'confirm-rollout': (n) => ({ status: n === 1 ? 423 : 200 }),
        'pre-rollout': (n) => ({ status: n === 1 ? 500 : 204 }),
        rollback: () => ({ status: 404 }),
        'confirm-promotion': (n) => (n === 1 ? { status: 302, headers: { location: `${base}/elsewhere` } } : { status: n === 2 ? 403 : 200 }),
        'post-rollout': () => ({ status: 200, body: Buffer.alloc(1 << 20, 0x61) }),
        event: (n) => ({ status: 200, delayMs: n === 1 ? 2000 : 0 }),
        elsewhere: () => ({ status: 200 }),
      };
      const f = fake();
      const results = realHooks(f);
      const status = await run(f, plan(['confirm-rollout', 'pre-rollout', 'rollback', 'confirm-promotion', 'post-rollout', 'event']));
      // the 1 MiB answer was read only up to the 4 KiB cap and still counts as the 2xx it is
      expect(results.find((r) => r.type === 'post-rollout')).toEqual({ type: 'post-rollout', error: null });
      // the event hook's first answer (2 s late) was cut off at its 300 ms timeout; the rest went through
      const eventResults = results.filter((r) => r.type === 'event');
      expect(eventResults[0].error).toBe('no complete answer within 300 ms');
      expect(eventResults.slice(1).every((r) => r.error === null)).toBe(true);
      expect(status.phase).toBe('Succeeded');
      expect(status.failedChecks).toBe(1);
      expect(f.promotes).toBe(1);
      expect(f.rollbacks).toEqual([]);
      expect(got.every((g) => g.signedOk)).toBe(true);
      expect(counts.get('elsewhere')).toBeUndefined();
      expect([...counts].filter(([p]) => p !== 'event' && p !== 'rollback')).toEqual([['confirm-rollout', 2], ['pre-rollout', 2], ['confirm-promotion', 3], ['post-rollout', 1]]);
      // the rollback gate was asked before each check (4 bake checks, 2 while the promotion waited) and once
      // after each wait before traffic (confirm-rollout's, pre-rollout's); it never answered 2xx
      expect(f.checks).toHaveLength(6);
      expect(counts.get('rollback')).toBe(f.checks.length + 2);
      const hookLines = status.history.filter((h) => h.event === 'webhook').map((h) => h.detail.replace(/ \(\d+ ms\)$/, ''));
      expect(hookLines).toEqual([
        'confirm-rollout confirm-rollout: failed: HTTP 423',
        'confirm-rollout confirm-rollout: HTTP 200',
        'pre-rollout pre-rollout: failed: HTTP 500',
        'pre-rollout pre-rollout: HTTP 204',
        `confirm-promotion confirm-promotion: failed: HTTP 302 redirect to ${base}/elsewhere; webhooks follow no redirects`,
        'confirm-promotion confirm-promotion: failed: HTTP 403',
        'confirm-promotion confirm-promotion: HTTP 200',
        'post-rollout post-rollout: HTTP 200',
      ]);
      expect(status.history.filter((h) => h.event === 'phase').map((h) => h.detail)).toEqual([
        'Initializing → Waiting: confirm-rollout webhook confirm-rollout did not confirm',
        'Waiting → Progressing',
        'Progressing → Promoting: all 2 steps passed',
        'Promoting → WaitingPromotion: confirm-promotion webhook confirm-promotion did not confirm',
        'WaitingPromotion → Promoting: confirm-promotion webhook confirm-promotion answered 2xx',
        'Promoting → Succeeded',
      ]);
      // every history entry reached the event hook once, in order (the first one's answer came too late and was ignored)
      const events = got.filter((g) => g.path === 'event').map((g) => `${g.body.event}: ${g.body.detail}`);
      expect(events).toEqual(status.history.map((h) => `${h.event}: ${h.detail}`));
    });

    it('a rollback hook that answers 2xx rolls the canary back; post-rollout is told why', async () => {
      answers = { rollback: (n) => ({ status: n < 3 ? 404 : 200 }), 'post-rollout': () => ({ status: 200 }) };
      const f = fake();
      realHooks(f);
      const status = await run(f, plan(['rollback', 'post-rollout']));
      expect(status.phase).toBe('Failed');
      expect(f.checks).toHaveLength(2);
      expect(f.rollbacks.map((r) => r.reason)).toEqual(['rollback webhook rollback answered 2xx']);
      expect(got.map((g) => g.path)).toEqual(['rollback', 'rollback', 'rollback', 'post-rollout']);
      expect(got.at(-1)!.body).toMatchObject({ type: 'post-rollout', phase: 'Failed', reason: 'rollback webhook rollback answered 2xx', version: 2 });
    });
  });

  it('promote skips the remaining steps and records it', async () => {
    const f = fake();
    await withWorker(f, async (start) => {
      const h = await start();
      await env.sleep('5h');
      await h.signal(promoteSignal, { by: 'cli:carol' });
      const s = await h.result();
      expect(s.phase).toBe('Succeeded');
      expect(f.weights).toEqual([5]);
      expect(f.promotes).toBe(1);
      expect(s.history.find((x) => x.event === 'promote-requested')?.detail).toBe('by cli:carol: remaining steps skipped (at 5%, step 1)');
    });
  });

  it('runs the shadow stage first: compares shadow decisions, or skips it when none were logged', async () => {
    const plan: CanaryPlanInput = { ...PLAN, shadow: { enabled: true, interval: '2h' } };
    const compared = fake();
    const s1 = await run(compared, plan);
    expect(s1.phase).toBe('Succeeded');
    expect(compared.checks.slice(0, 2).map((c) => [c.arm, c.weight, c.comparison, c.decisionLook])).toEqual([['shadow', 0, 'non-inferiority', 0], ['shadow', 0, 'non-inferiority', 1]]);
    expect(compared.checks[2].arm).toBe('canary');
    expect(s1.history.filter((h) => h.event === 'phase').map((h) => h.detail)[0]).toBe('Initializing → Shadow');
    // Mirroring is on for the whole stage (weight 0) and off before the first step's weight moves.
    expect(compared.events.slice(0, 5)).toEqual(['shadow:on', 'check:shadow', 'check:shadow', 'shadow:off', 'weight:5']);
    expect(compared.events.filter((e) => e.startsWith('shadow'))).toEqual(['shadow:on', 'shadow:off']);

    const none = fake((c) => (c.arm === 'shadow' ? { outcome: 'inconclusive', missingData: true, reasons: ['no shadow-logged decisions in the window'] } : 'pass'));
    const s2 = await run(none, plan);
    expect(s2.phase).toBe('Succeeded');
    expect(none.checks.filter((c) => c.arm === 'shadow')).toHaveLength(2);
    expect(s2.history.find((h) => h.event === 'shadow-skipped')?.detail).toBe('no shadow-logged decisions in the window');
    expect(none.events.slice(0, 5)).toEqual(['shadow:on', 'check:shadow', 'check:shadow', 'shadow:off', 'weight:5']);
  });

  it('clears the shadow version when the shadow stage ends in a rollback, an abort or a promote request', async () => {
    const plan: CanaryPlanInput = { ...PLAN, shadow: { enabled: true, interval: '2h' } };
    const breached = fake((c) => (c.arm === 'shadow' ? { outcome: 'fail', breach: true, reasons: ['shadow v2 dropped by inference: run-time error'] } : 'pass'));
    const s1 = await run(breached, plan);
    expect(s1.phase).toBe('Failed');
    expect(breached.events).toEqual(['shadow:on', 'check:shadow', 'shadow:off', 'rollback']);

    const aborted = fake();
    await withWorker(aborted, async (start) => {
      const h = await start(plan);
      await env.sleep('90m');
      await h.signal(abortSignal, { by: 'cli:bob', reason: 'not now' });
      expect((await h.result()).phase).toBe('Failed');
    });
    expect(aborted.events).toEqual(['shadow:on', 'check:shadow', 'shadow:off', 'rollback']);

    const promoted = fake();
    await withWorker(promoted, async (start) => {
      const h = await start(plan);
      await env.sleep('90m');
      await h.signal(promoteSignal, { by: 'cli:carol' });
      expect((await h.result()).phase).toBe('Succeeded');
    });
    expect(promoted.events).toEqual(['shadow:on', 'check:shadow', 'shadow:off']);
    expect(promoted.promotes).toBe(1);
  });

  it('a worker restarted mid-bake repeats no step and skips none', async () => {
    const f = fake();
    const taskQueue = `rollout-${randomUUID()}`;
    const model = `m${randomUUID().slice(0, 8)}`;
    let handle!: WorkflowHandle<typeof canaryPromotion>;
    await withWorker(
      f,
      async (start) => {
        handle = await start(PLAN, model);
        // into step 2's bake: 24 h at 5% plus 1 h 30 m at 25%
        await env.sleep('1530m');
        const s = await handle.query(statusQuery);
        expect(s).toMatchObject({ stepIndex: 1, canaryWeight: 25 });
      },
      taskQueue,
      // no sticky cache: the next worker gets the workflow at once and replays its history
      { maxCachedWorkflows: 0 },
    );
    expect(f.weights).toEqual([5, 25]);
    const checksBefore = f.checks.length;
    // a fresh worker (no cache: it replays the history) finishes the run
    const status = await withWorker(f, () => handle.result(), taskQueue, { maxCachedWorkflows: 0 });
    expect(status.phase).toBe('Succeeded');
    expect(f.weights).toEqual([5, 25, 50, 100]);
    expect(f.checks).toHaveLength(CHECKS_FOR_FULL_PROMOTION);
    expect(checksBefore).toBe(25);
    expect(f.promotes).toBe(1);
  });
});
