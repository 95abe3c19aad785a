/**
 * optimizationLoop's branches on Temporal's time-skipping test server: the real workflow, its
 * activities as plain objects typed as the real ones, its child workflows (ppoTraining,
 * offPolicyEvaluation, canaryPromotion) as stand-ins (workflows/testing/loop-stand-ins.ts) whose
 * results the test scripts. A small in-memory registry (champion, version statuses) lets each test
 * check what a cycle did to the deployment. The OPE gate is the real rule (canary/ope-gate.ts).
 * The real activities and children run in optimizationLoop.int.test.ts (dev server, PostgreSQL,
 * inference server, traffic) and in their own tests.
 *
 * The test server knows no custom search attributes until they are added: beforeAll adds ours, so the
 * `progress` and `phase` attributes are read back from the workflow's history and describe().
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { createDataExportActivities } from '../activities/data-export/activities';
import { judgeOpeGate, type OpeEvaluationSummary } from '../canary/ope-gate';
import type { CanaryActivities } from '../contracts/canary';
import {
  approveSignal,
  driftSignal,
  loopStatusQuery,
  loopWorkflowId,
  rejectSignal,
  stopSignal,
  triggerSignal,
  type LoopActivities,
  type LoopCycleSummary,
  type LoopStatus,
  type OptimizationLoopInput,
  type RefitInput,
} from '../contracts/optimization-loop';
import type { PpoTrainingInput } from '../contracts/ppo-training';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';
import { startTimeSkippingServer } from '../test/support/temporal';
import type { StandInActivities, StandInType } from './testing/loop-stand-ins';

type Activities = LoopActivities & Pick<CanaryActivities, 'canaryOpeGate'> & Pick<ReturnType<typeof createDataExportActivities>, 'exportDataset'> & StandInActivities;

/** What the scripted children and activities answer; each may be changed between cycles. */
interface Script {
  champion: number | null;
  rewarded: number;
  /** V̂(candidate) of the OPE child (the champion's logged value is 0.50, intervals ±0.02): or throw. */
  opeValue: number | 'error';
  ppoGates: { passed: boolean; reasons: string[] };
  canary: 'Succeeded' | 'Failed' | 'error';
  /** How long the canary stand-in bakes before answering. */
  canaryBake?: string;
}

interface Fake {
  script: Script;
  activities: Activities;
  /** Calls in order: `export`, `refit`, `ppo`, `ope`, `gate`, `reject:v3`, `canary:v3`, `record:1`. */
  events: string[];
  statuses: Map<number, string>;
  recorded: LoopCycleSummary[];
  refits: RefitInput[];
  ppoInputs: PpoTrainingInput[];
  /** Holds the next call of `activity` until released (to look at the loop mid-stage). */
  hold(activity: 'exportDataset' | 'loopRefit'): { entered: Promise<void>; release: () => void };
}

function fake(script: Partial<Script> = {}): Fake {
  const s: Script = { champion: 1, rewarded: 500, opeValue: 0.6, ppoGates: { passed: true, reasons: [] }, canary: 'Succeeded', ...script };
  const events: string[] = [];
  const statuses = new Map<number, string>([[1, 'champion']]);
  const recorded: LoopCycleSummary[] = [];
  const refits: RefitInput[] = [];
  const ppoInputs: PpoTrainingInput[] = [];
  const holds = new Map<string, { enter: () => void; wait: Promise<void> }>();
  let lastVersion = 1;
  let exports = 0;
  const held = async (name: string): Promise<void> => {
    const h = holds.get(name);
    if (!h) return;
    holds.delete(name);
    h.enter();
    await h.wait;
  };
  const newVersion = (status: string): number => {
    statuses.set(++lastVersion, status);
    return lastVersion;
  };
  const child: Record<StandInType, (input: any) => { result: unknown; sleep?: string }> = {
    ppoTraining: (input: PpoTrainingInput) => {
      events.push('ppo');
      ppoInputs.push(input);
      // The real ppoTraining registers a version whose offline gates fail as `rejected` itself.
      const version = newVersion(s.ppoGates.passed ? 'registered' : 'rejected');
      const evaluation = { policyReward: 0.61, baselineReward: 0.55, bestStaticReward: 0.58, improvementVsBaseline: 0.06, improvementVsBestStatic: 0.03, gateViolations: 0 };
      return { result: { version, iterations: 3, evaluation, offlineGates: { ...s.ppoGates, checks: [] } } };
    },
    offPolicyEvaluation: () => {
      events.push('ope');
      if (s.opeValue === 'error') throw ApplicationFailure.nonRetryable('candidate v9 cannot be read: artifact missing', 'OpeError');
      const v = s.opeValue;
      const result: OpeEvaluationSummary = {
        nRounds: 600,
        logging: { value: 0.5, lower: 0.48, upper: 0.52 },
        estimates: { snipw: { value: v, lower: v - 0.02, upper: v + 0.02 } },
        skippedEstimators: {},
        gate: { estimator: 'snipw' },
        reportUri: 'file:///reports/ope.html',
        evaluationId: randomUUID(),
      };
      return { result };
    },
    canaryPromotion: (input: { model: string; version: number }) => {
      events.push(`canary:v${input.version}`);
      if (s.canary === 'error') throw ApplicationFailure.nonRetryable('deployment loop-x vanished', 'CanaryError');
      if (s.canary === 'Succeeded') {
        if (s.champion !== null) statuses.set(s.champion, 'retired');
        s.champion = input.version;
        statuses.set(input.version, 'champion');
        return { result: { phase: 'Succeeded', message: `promoted: v${input.version} is the champion` }, ...(s.canaryBake ? { sleep: s.canaryBake } : {}) };
      }
      return { result: { phase: 'Failed', message: 'rolled back: 2 failed checks (threshold 2)' }, ...(s.canaryBake ? { sleep: s.canaryBake } : {}) };
    },
  };
  const activities: Activities = {
    async loopChampion() {
      return { championVersion: s.champion };
    },
    async loopSplitWindow({ from, to }) {
      return { split: new Date((Date.parse(from) + Date.parse(to)) / 2).toISOString() };
    },
    async exportDataset({ deployment }) {
      await held('exportDataset');
      events.push('export');
      exports++;
      return { dir: `/snapshots/${exports}`, rows: s.rewarded + 10, rewarded: s.rewarded, files: {}, version: { model: `dataset-${deployment}`, version: exports } };
    },
    async loopRefit(input) {
      await held('loopRefit');
      events.push('refit');
      refits.push(input);
      return { model: input.deployment, version: newVersion('registered'), rounds: s.rewarded };
    },
    async canaryOpeGate(input) {
      events.push('gate');
      if (!input.plan.ope) throw new Error('canaryOpeGate: the loop sent no plan.ope');
      return judgeOpeGate(input.plan.ope, { result: input.result, error: input.error, workflowId: input.evaluationWorkflowId, window: input.window });
    },
    async loopRejectVersion({ version }) {
      events.push(`reject:v${version}`);
      statuses.set(version, 'rejected');
    },
    async loopRecordCycle(c) {
      events.push(`record:${c.cycle}`);
      recorded.push(c);
    },
    async standInChild({ type, input }) {
      return child[type](input);
    },
  };
  return {
    script: s,
    activities,
    events,
    statuses,
    recorded,
    refits,
    ppoInputs,
    hold(name) {
      let enter!: () => void;
      let release!: () => void;
      const entered = new Promise<void>((r) => (enter = r));
      const wait = new Promise<void>((r) => (release = r));
      holds.set(name, { enter, wait });
      return { entered, release };
    },
  };
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Handle = WorkflowHandle<(input: OptimizationLoopInput) => Promise<LoopStatus>>;

/**
 * `p`, or an error naming `what` after `ms`. The time-skipping test server can leave a query unanswered: one that
 * lands on a run continued-as-new before that run's first workflow task once waited past the test's 120 s in CI.
 */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
/** The loop's status; a query with no answer in 10 s is asked again (at most 5 times). */
async function status(h: Handle): Promise<LoopStatus> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await within(h.query(loopStatusQuery), 10_000, 'the status query');
    } catch (err) {
      if (attempt >= 5 || !(err as Error).message.startsWith('the status query: no answer')) throw err;
    }
  }
}
/** Waits until the loop has finished `n` cycles and is not in one. */
const cyclesEnded = (h: Handle, n: number): Promise<void> =>
  waitFor(async () => {
    const s = await status(h);
    return s.cycles === n && s.current === null;
  }, `cycle ${n} to end`);
const stagesOf = (c: LoopCycleSummary) => c.stages.map((s) => [s.stage, s.status]);

/** The values the workflow upserted for these search attributes, one entry per upsert event that set the first (its history, in order). */
async function upserted(h: Handle, names: string[]): Promise<unknown[][]> {
  const history = await h.fetchHistory();
  return history
    .events!.map((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields)
    .filter((fields) => fields?.[names[0]] !== undefined && fields?.[names[0]] !== null)
    .map((fields) => names.map((n) => (fields![n] ? defaultPayloadConverter.fromPayload(fields![n] as never) : null)));
}

describe('optimizationLoop branches (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([
      startTimeSkippingServer(),
      bundleWorkflowCode({ workflowsPath: require.resolve('./testing/loop-stand-ins'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never }),
    ]);
    const { IndexedValueType } = temporal.api.enums.v1;
    const types: Record<string, temporal.api.enums.v1.IndexedValueType> = { KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, INT: IndexedValueType.INDEXED_VALUE_TYPE_INT, BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL };
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(Object.values(SEARCH_ATTRIBUTES).map((k) => [k.name, types[k.type]])),
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** Starts the loop on a fresh queue (its training queue too) with a worker serving `f`, runs `fn`, stops the worker. */
  async function withLoop<T>(f: Fake, input: Partial<OptimizationLoopInput>, fn: (h: Handle, deployment: string) => Promise<T>): Promise<T> {
    const taskQueue = `loop-${randomUUID()}`;
    const deployment = `d-${randomUUID().slice(0, 8)}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: f.activities });
    return worker.runUntil(async () => {
      const h = (await env.client.workflow.start('optimizationLoop', {
        taskQueue,
        workflowId: loopWorkflowId(deployment),
        args: [{ deployment, intervalSeconds: 0, window: '24h', minRewarded: 200, retrain: { kind: 'refit' }, ope: { estimator: 'snipw', minRounds: 500 }, trainingTaskQueue: taskQueue, ...input }],
      })) as Handle;
      return fn(h, deployment);
    });
  }

  it('a scheduled cycle starts once its interval has passed, not before, and promotes a candidate that passes every gate', async () => {
    const f = fake();
    await withLoop(f, { intervalSeconds: 6 * 3600 }, async (h) => {
      const started = await status(h);
      expect(started).toMatchObject({ state: 'idle', cycles: 0, current: null, recent: [] });
      await env.sleep('5h');
      expect((await status(h)).cycles).toBe(0);
      expect(f.events).toEqual([]);
      await env.sleep('70m');
      await cyclesEnded(h, 1);
      const s = await status(h);
      const c = s.recent[0];
      expect(c).toMatchObject({ cycle: 1, trigger: { kind: 'schedule', by: 'schedule', reason: 'every 21600s' }, outcome: 'promoted', stage: 'canary', championVersion: 1, candidateVersion: 2 });
      expect(stagesOf(c)).toEqual([['export', 'passed'], ['retrain', 'passed'], ['ope', 'passed'], ['canary', 'passed']]);
      expect(c.ope).toMatchObject({ verdict: 'pass', estimator: 'snipw', rounds: 600 });
      expect(f.events).toEqual(['export', 'refit', 'ope', 'gate', 'canary:v2', 'record:1']);
      expect(f.script.champion).toBe(2);
      // the next cycle is due one interval after this one started
      expect(Date.parse(s.nextDueAt!) - Date.parse(c.startedAt)).toBe(6 * 3600 * 1000);
      expect(s.championSince).not.toBeNull();
      // one summary record per cycle, the one the status query shows
      expect(f.recorded).toEqual([c]);
      await h.signal(stopSignal, { by: 'test' });
      expect(await h.result()).toMatchObject({ state: 'stopped', cycles: 1 });
    });
  });

  it('a drift signal starts a cycle at once; a manual trigger may override the retrain; a window never reaches before the last promotion', async () => {
    const f = fake();
    await withLoop(f, {}, async (h) => {
      await env.sleep('3d');
      expect(f.events).toEqual([]); // intervalSeconds 0: no schedule
      await h.signal(driftSignal, { by: 'driftMonitor:rag', reasons: ['reward ADWIN: mean 0.41 → 0.33', 'PSI 0.31 on complexity'] });
      await cyclesEnded(h, 1);
      const one = (await status(h)).recent[0];
      expect(one).toMatchObject({ outcome: 'promoted', trigger: { kind: 'drift', by: 'driftMonitor:rag', reason: 'drift: reward ADWIN: mean 0.41 → 0.33; PSI 0.31 on complexity' } });
      // the refit trained on the snapshot the export stage wrote, from the champion of that time
      expect(f.refits[0]).toMatchObject({ snapshotDir: '/snapshots/1', championVersion: 1, ridge: 1, inverseTemperature: 20, dataset: { version: 1 } });
      const promotedAt = (await status(h)).championSince!;
      expect(Date.parse(promotedAt)).toBeGreaterThanOrEqual(Date.parse(one.startedAt));

      await env.sleep('2h');
      await h.signal(triggerSignal, { by: 'cli:bob', reason: 'try a stronger ridge', retrain: { kind: 'refit', ridge: 50, inverseTemperature: 5 } });
      await cyclesEnded(h, 2);
      const s = await status(h);
      const two = s.recent[0];
      expect(two).toMatchObject({ cycle: 2, outcome: 'promoted', trigger: { kind: 'manual', by: 'cli:bob', reason: 'try a stronger ridge' }, championVersion: 2, candidateVersion: 3 });
      expect(f.refits[1]).toMatchObject({ ridge: 50, inverseTemperature: 5, championVersion: 2, snapshotDir: '/snapshots/2' });
      // the 24 h window starts at cycle 1's promotion (2 h ago), not 24 h back: the OPE's logging policy is the champion
      expect(two.window.from).toBe(promotedAt);
      expect(Date.parse(two.window.to) - Date.parse(two.window.from)).toBeLessThan(3 * 3600 * 1000);
      // the training part ends where the held-out part (the OPE's) begins
      expect(two.holdoutFrom).toBe(new Date((Date.parse(two.window.from) + Date.parse(two.window.to)) / 2).toISOString());
      expect(two.ope!.window).toEqual({ from: two.holdoutFrom, to: two.window.to });
      expect(f.recorded.map((c) => [c.cycle, c.trigger.kind, c.outcome])).toEqual([[1, 'drift', 'promoted'], [2, 'manual', 'promoted']]);
      await h.signal(stopSignal, { by: 'test' });
      await h.result();
    });
  });

  it('offline gates that fail reject the PPO candidate: no OPE, no canary, the champion unchanged', async () => {
    const reasons = ['held-out reward 0.5400 − baseline 0.5500 = −0.0100 (95% CI [−0.03, 0.01]): lower bound not above minRewardDelta 0'];
    const f = fake({ ppoGates: { passed: false, reasons } });
    await withLoop(f, { retrain: { kind: 'ppo', input: { iterations: 3 } } }, async (h, deployment) => {
      await h.signal(triggerSignal, { by: 'test' });
      await cyclesEnded(h, 1);
      const c = (await status(h)).recent[0];
      expect(c).toMatchObject({ outcome: 'rejected', stage: 'offline-evaluation', reasons, candidateVersion: 2, championVersion: 1 });
      expect(stagesOf(c)).toEqual([['export', 'passed'], ['retrain', 'passed'], ['offline-evaluation', 'failed']]);
      expect(c.stages[2].detail).toMatch(/^held-out reward 0\.6100 vs baseline 0\.5500; offline gates failed: held-out reward/);
      // the child trained on the snapshot by replay and was not allowed to start its own canary
      expect(f.ppoInputs).toEqual([{ iterations: 3, model: deployment, env: 'replay:/snapshots/1', startCanary: false, actor: `workflow:${loopWorkflowId(deployment)}` }]);
      expect(c.stages[1].workflowId).toMatch(new RegExp(`^loop/${deployment}/[0-9a-f-]+/cycle-1/ppo$`));
      expect(f.events).toEqual(['export', 'ppo', 'record:1']);
      expect(f.script.champion).toBe(1);
      expect(f.statuses.get(2)).toBe('rejected');
      await h.signal(stopSignal, { by: 'test' });
      await h.result();
    });
  });

  it('an OPE gate that fails, an OPE that cannot run, and a canary that rolls back each reject the candidate; the champion stays', async () => {
    const f = fake({ opeValue: 0.4 });
    await withLoop(f, {}, async (h) => {
      await h.signal(triggerSignal, { by: 'test' });
      await cyclesEnded(h, 1);
      const one = (await status(h)).recent[0];
      expect(one).toMatchObject({ outcome: 'rejected', stage: 'ope', candidateVersion: 2, ope: { verdict: 'fail', estimator: 'snipw' } });
      expect(one.reasons).toEqual([
        "off-policy evaluation gate: snipw estimate of v-candidate 0.4000 (95% CI [0.3800, 0.4200]): lower bound not above the champion's value 0.5000 − tolerance 0.0200 = 0.4800",
      ]);
      expect(stagesOf(one)).toEqual([['export', 'passed'], ['retrain', 'passed'], ['ope', 'failed']]);

      f.script.opeValue = 'error';
      await h.signal(triggerSignal, { by: 'test' });
      await cyclesEnded(h, 2);
      const two = (await status(h)).recent[0];
      expect(two).toMatchObject({ outcome: 'rejected', stage: 'ope', candidateVersion: 3 });
      expect(two.reasons).toEqual(['off-policy evaluation gate: off-policy evaluation failed: candidate v9 cannot be read: artifact missing']);

      f.script.opeValue = 0.6;
      f.script.canary = 'Failed';
      f.script.canaryBake = '3d';
      await h.signal(triggerSignal, { by: 'test' });
      // the stand-in canary bakes 3 days: skip time until the cycle ends
      await waitFor(async () => {
        await env.sleep('12h');
        const s = await status(h);
        return s.cycles === 3 && s.current === null;
      }, 'cycle 3 to end after its canary');
      const three = (await status(h)).recent[0];
      expect(three).toMatchObject({ outcome: 'rejected', stage: 'canary', candidateVersion: 4, reasons: ['canary: rolled back: 2 failed checks (threshold 2)'], canary: { phase: 'Failed' } });
      expect(Date.parse(three.finishedAt!) - Date.parse(three.startedAt)).toBeGreaterThanOrEqual(3 * 86_400_000);

      expect(f.events).toEqual([
        'export', 'refit', 'ope', 'gate', 'reject:v2', 'record:1',
        'export', 'refit', 'ope', 'gate', 'reject:v3', 'record:2',
        'export', 'refit', 'ope', 'gate', 'canary:v4', 'record:3',
      ]);
      expect(f.script.champion).toBe(1);
      expect([2, 3].map((v) => f.statuses.get(v))).toEqual(['rejected', 'rejected']);
      await h.signal(stopSignal, { by: 'test' });
      await h.result();
    });
  });

  it('skips a cycle without a champion or with too little data, fails one whose child fails (its candidate refused), and goes on', async () => {
    const f = fake({ champion: null });
    await withLoop(f, {}, async (h, deployment) => {
      await h.signal(triggerSignal, { by: 'test' });
      await cyclesEnded(h, 1);
      expect((await status(h)).recent[0]).toMatchObject({ outcome: 'skipped', stage: 'export', reasons: [`deployment ${deployment} has no champion to improve on`], stages: [] });

      f.script.champion = 1;
      f.script.rewarded = 150;
      await h.signal(triggerSignal, { by: 'test' });
      await cyclesEnded(h, 2);
      const two = (await status(h)).recent[0];
      expect(two).toMatchObject({ outcome: 'skipped', stage: 'export', candidateVersion: null });
      expect(two.reasons[0]).toMatch(/^150 rewarded decisions to train on in .* → .*, a cycle needs minRewarded = 200$/);

      f.script.rewarded = 500;
      f.script.canary = 'error';
      await h.signal(triggerSignal, { by: 'test' });
      await cyclesEnded(h, 3);
      const three = (await status(h)).recent[0];
      expect(three).toMatchObject({ outcome: 'failed', stage: 'canary', candidateVersion: 2, reasons: ['deployment loop-x vanished'] });
      expect(f.events.slice(-3)).toEqual(['canary:v2', 'reject:v2', 'record:3']);
      expect(f.statuses.get(2)).toBe('rejected');
      expect(f.recorded.map((c) => c.outcome)).toEqual(['skipped', 'skipped', 'failed']);
      expect((await status(h)).state).toBe('idle');
      await h.signal(stopSignal, { by: 'test' });
      await h.result();
    });
  });

  it('with requireApproval: approve lets the canary run; reject, no decision within approvalTimeout, and stop refuse the candidate', async () => {
    const f = fake();
    await withLoop(f, { requireApproval: true, approvalTimeout: '2d' }, async (h, deployment) => {
      const awaiting = async (n: number) => {
        await h.signal(triggerSignal, { by: 'test' });
        await waitFor(async () => (await status(h)).state === 'awaiting-approval' && (await status(h)).cycles === n, `cycle ${n} to wait for approval`);
      };
      // approve
      await awaiting(1);
      const waiting = await status(h);
      expect(stagesOf(waiting.current!)).toEqual([['export', 'passed'], ['retrain', 'passed'], ['ope', 'passed'], ['approval', 'running']]);
      expect(f.events).not.toContain('canary:v2');
      const described = await h.describe();
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.progress)).toBe('cycle 1: approval');
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('awaiting-approval');
      await env.sleep('1d'); // within the timeout
      await h.signal(approveSignal, { by: 'cli:alice' });
      await cyclesEnded(h, 1);
      const one = (await status(h)).recent[0];
      expect(one).toMatchObject({ outcome: 'promoted', candidateVersion: 2 });
      expect(one.stages.find((s) => s.stage === 'approval')).toMatchObject({ status: 'passed', detail: 'approved by cli:alice' });
      expect(f.script.champion).toBe(2);

      // reject
      await awaiting(2);
      await h.signal(rejectSignal, { by: 'cli:carol' });
      await cyclesEnded(h, 2);
      expect((await status(h)).recent[0]).toMatchObject({ outcome: 'rejected', stage: 'approval', candidateVersion: 3, reasons: ['rejected before the canary by cli:carol'] });

      // nobody decides within approvalTimeout
      await awaiting(3);
      await env.sleep('47h');
      expect((await status(h)).state).toBe('awaiting-approval');
      await env.sleep('2h');
      await cyclesEnded(h, 3);
      expect((await status(h)).recent[0]).toMatchObject({ outcome: 'rejected', stage: 'approval', candidateVersion: 4, reasons: ['not approved before the canary: no decision within approvalTimeout 2d'] });

      // stop while waiting: the candidate is refused and the loop ends; triggers after the stop are ignored
      await awaiting(4);
      await h.signal(stopSignal, { by: 'cli:dave' });
      await h.signal(triggerSignal, { by: 'test' });
      const final = await h.result();
      expect(final).toMatchObject({ state: 'stopped', cycles: 4, pending: [] });
      expect(final.recent[0]).toMatchObject({ outcome: 'rejected', stage: 'approval', candidateVersion: 5, reasons: ['rejected before the canary by cli:dave (the loop was stopped while the cycle waited for approval)'] });
      expect([3, 4, 5].map((v) => f.statuses.get(v))).toEqual(['rejected', 'rejected', 'rejected']);
      expect(f.events.filter((e) => e.startsWith('canary:'))).toEqual(['canary:v2']);
      expect(f.script.champion).toBe(2);
      expect(f.recorded.map((c) => c.cycle)).toEqual([1, 2, 3, 4]);
      expect(deployment).toBeTruthy();
    });
  });

  it('the status query and the progress / phase search attributes follow each stage of a cycle', async () => {
    const f = fake();
    await withLoop(f, {}, async (h) => {
      const exporting = f.hold('exportDataset');
      await h.signal(triggerSignal, { by: 'test' });
      await exporting.entered;
      const mid = await status(h);
      expect(mid.state).toBe('running');
      expect(mid.current).toMatchObject({ cycle: 1, outcome: null, trigger: { kind: 'manual', by: 'test' } });
      expect(stagesOf(mid.current!)).toEqual([['export', 'running']]);
      expect((await h.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.progress)).toBe('cycle 1: export');
      // a trigger during a cycle waits (one per kind)
      await h.signal(triggerSignal, { by: 'test:again' });
      await h.signal(triggerSignal, { by: 'test:and-again' });
      await waitFor(async () => (await status(h)).pending.length === 1, 'the trigger to be queued');
      expect((await status(h)).pending).toEqual([{ kind: 'manual', by: 'test:again', reason: 'manual trigger' }]);
      exporting.release();
      await cyclesEnded(h, 2);
      await h.signal(stopSignal, { by: 'test' });
      await h.result();
      // what the Temporal UI showed over time: (phase, progress) as upserted, repeats of the same pair dropped
      const shown = (await upserted(h, [SEARCH_ATTRIBUTES.phase.name, SEARCH_ATTRIBUTES.progress.name])).map((v) => v.join(' | '));
      const cycle = (n: number) => ['starting', 'export', 'retrain', 'ope', 'canary'].map((stage) => `running | cycle ${n}: ${stage}`);
      expect(shown.filter((v, i) => v !== shown[i - 1])).toEqual([
        'idle | idle after 0 cycles', ...cycle(1), 'idle | idle after 1 cycles', ...cycle(2), 'idle | idle after 2 cycles', 'stopped | idle after 2 cycles',
      ]);
      expect((await upserted(h, [SEARCH_ATTRIBUTES.runKind.name])).flat()).toEqual(['loop']);
    });
  });

  it('continues as new after cyclesPerRun cycles, carrying the cycle count, the last summaries, the queued trigger and the schedule', async () => {
    const f = fake();
    await withLoop(f, { cyclesPerRun: 2, intervalSeconds: 30 * 86_400 }, async (h, deployment) => {
      const first = await h.describe();
      await h.signal(triggerSignal, { by: 'test' });
      await cyclesEnded(h, 1);
      const before = await status(h);
      // cycle 2 is held in its export while a drift signal queues the next cycle
      const exporting = f.hold('exportDataset');
      await h.signal(triggerSignal, { by: 'test' });
      await within(exporting.entered, 60_000, 'cycle 2 to enter its export');
      await h.signal(driftSignal, { by: 'driftMonitor:test', reasons: ['PSI 0.4'] });
      await waitFor(async () => (await status(h)).pending.length === 1, 'the drift signal to be queued');
      exporting.release();
      // cycle 3 runs in the next run, from the carried drift trigger
      await waitFor(async () => {
        const s = await status(h).catch(() => null);
        return s !== null && s.cycles === 3 && s.current === null;
      }, 'cycle 3 to end in the next run');
      const now = await h.describe();
      expect(now.runId).not.toBe(first.runId);
      const old = await env.client.workflow.getHandle(loopWorkflowId(deployment), first.runId).describe();
      expect(old.status.name).toBe('CONTINUED_AS_NEW');
      const s = await status(h);
      expect(s).toMatchObject({ loopId: before.loopId, cycles: 3, pending: [], nextDueAt: before.nextDueAt });
      expect(s.loopId).toBe(first.runId);
      expect(s.recent.map((c) => [c.cycle, c.trigger.kind, c.outcome, c.loopId])).toEqual([
        [3, 'drift', 'promoted', first.runId],
        [2, 'manual', 'promoted', first.runId],
        [1, 'manual', 'promoted', first.runId],
      ]);
      // the window of cycle 3 starts at the promotion of cycle 2 (carried championSince)
      expect(Date.parse(s.recent[0].window.from)).toBeGreaterThanOrEqual(Date.parse(s.recent[1].startedAt));
      expect(s.championSince).not.toBe(before.championSince);
      // the child workflow ids keep the loop's id across runs
      expect(s.recent[0].stages.find((x) => x.stage === 'ope')!.workflowId).toBe(`loop/${deployment}/${first.runId}/cycle-3/ope`);
      expect(now.typedSearchAttributes.get(SEARCH_ATTRIBUTES.progress)).toBe('idle after 3 cycles');
      await h.signal(stopSignal, { by: 'test' });
      // The stopped run's own result: `h.result()` follows the runs from the first one, and that long poll across the
      // continue-as-new sometimes never answered on the time-skipping server (4 of 10 local runs).
      await waitFor(async () => (await h.describe()).status.name === 'COMPLETED', 'the loop to stop');
      const last = env.client.workflow.getHandle(loopWorkflowId(deployment), now.runId, { followRuns: false });
      expect(await within(last.result(), 60_000, 'the stopped run\'s result')).toMatchObject({ state: 'stopped', cycles: 3 });
    });
  });
});
