/**
 * `optimizationLoop`: one per deployment (workflow id `loop/<deployment>`, task queue `rollout`), long
 * running. Each cycle retrains from what the deployment logged, proves the candidate offline and off
 * policy, and ships it through a canary — or refuses it, with the reasons:
 *
 * The loop's own queue runs the registry activities and the OPE and canary children; the training
 * queue (`trainingTaskQueue`) runs exportDataset, loopRefit and ppoTraining.
 *
 *   split (loopSplitWindow: the window's rewarded decisions split in time; the last `holdout` share is
 *         kept out of training for the off-policy evaluation, so the candidate is not judged on its own data)
 *   export (exportDataset, training queue: a dataset snapshot of the training part)
 *   → retrain (ppoTraining child with env replay:<snapshot>, or the loopRefit activity)
 *   → offline evaluation (ppoTraining's held-out evaluation and offline gates; the refit has none)
 *   → ope (offPolicyEvaluation child on the held-out part + canaryOpeGate: lower bound > champion − tolerance)
 *   → approval (with requireApproval: the `approve` / `reject` signal; none within approvalTimeout refuses)
 *   → canary (canaryPromotion child `canary/<deployment>`, its shadow stage per the plan)
 *   → promoted or rejected; the cycle's summary goes to `loop_cycles` (loopRecordCycle).
 *
 * Triggers: the schedule (every intervalSeconds), the `drift` signal (driftMonitor sends it when this
 * loop runs), the `trigger` signal (`autopilot loop trigger`, may override the retrain settings). A
 * trigger during a cycle waits (one per kind). A cycle's window is the last `window`, never before this
 * loop's last promotion (the OPE's logging policy is the current champion). `stop` ends the loop
 * after the cycle in flight. Query `status`; search attributes AutopilotRunKind = loop,
 * AutopilotModel, AutopilotPhase (idle/running/…), AutopilotProgress (`cycle N: <stage>`).
 * continueAsNew after cyclesPerRun cycles or when Temporal suggests it.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CanaryStatus } from '../canary/status';
import { CANARY_WORKFLOW_TYPE, canaryWorkflowId, type CanaryActivities, type CanaryPromotionInput } from '../contracts/canary';
import { OFF_POLICY_EVALUATION_WORKFLOW_TYPE, type OffPolicyEvaluationInput, type OffPolicyEvaluationResult } from '../contracts/off-policy-evaluation';
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
  type LoopStage,
  type LoopStatus,
  type LoopTrigger,
  type OptimizationLoopInput,
  type RetrainSpec,
  type StageRecord,
} from '../contracts/optimization-loop';
import { PPO_TRAINING_WORKFLOW_TYPE, type PpoTrainingInput, type PpoTrainingResult } from '../contracts/ppo-training';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import type { CanaryPlan } from '../canary/plan';
import { parseDuration } from '../canary/plan';
import { rootMessage } from './failure';

interface ExportActivities {
  exportDataset(input: { deployment: string; from: string; to: string; register?: boolean; actor?: string; workflowId?: string | null }): Promise<{
    dir: string;
    rows: number;
    rewarded: number;
    version: { model: string; version: number } | null;
  }>;
}

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: ['LoopInputError'] };
/** On the loop's own queue (rollout): the registry activities and canaryOpeGate. */
const registryActs = proxyActivities<LoopActivities & Pick<CanaryActivities, 'canaryOpeGate'>>({ startToCloseTimeout: '2 minutes', retry });

function positiveInt(name: string, v: unknown, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`optimizationLoop: input.${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

export async function optimizationLoop(input: OptimizationLoopInput): Promise<LoopStatus> {
  if (typeof input?.deployment !== 'string' || input.deployment === '') throw new Error(`optimizationLoop: input.deployment must be a deployment name, got ${JSON.stringify(input?.deployment)}`);
  const { deployment } = input;
  const intervalSeconds = positiveInt('intervalSeconds', input.intervalSeconds, 86_400, 0);
  const windowMs = parseDuration(input.window ?? '24h');
  const minRewarded = positiveInt('minRewarded', input.minRewarded, 200, 1);
  const holdout = input.holdout ?? 0.5;
  if (typeof holdout !== 'number' || !(holdout >= 0 && holdout < 1)) throw new Error(`optimizationLoop: input.holdout must be a number in [0, 1), got ${JSON.stringify(input.holdout)}`);
  const cyclesPerRun = positiveInt('cyclesPerRun', input.cyclesPerRun, 20, 1);
  const maxCycles = positiveInt('maxCycles', input.maxCycles, 0, 0);
  let approvalTimeoutMs: number | null = null;
  if (input.approvalTimeout !== undefined) {
    try {
      approvalTimeoutMs = parseDuration(input.approvalTimeout);
    } catch (err) {
      throw new Error(`optimizationLoop: input.approvalTimeout: ${(err as Error).message}`, { cause: err });
    }
  }
  const defaultRetrain: RetrainSpec = input.retrain ?? { kind: 'ppo' };
  const trainingQueue = input.trainingTaskQueue ?? TASK_QUEUES.training;
  const trainingActs = proxyActivities<LoopActivities & ExportActivities>({ taskQueue: trainingQueue, startToCloseTimeout: '30 minutes', retry });
  const info = workflowInfo();
  const actor = input.actor ?? `workflow:${info.workflowId}`;
  const carried = input.carried;
  const loopId = carried?.loopId ?? info.firstExecutionRunId;
  /** Prefix of the cycles' child workflow ids and registration keys: from the deployment and the loop, not info.workflowId (replays run under another id). */
  const cycleId = (n: number): string => `${loopWorkflowId(deployment)}/${loopId}/cycle-${n}`;
  const pending: LoopTrigger[] = [...(carried?.pending ?? [])];
  const recent: LoopCycleSummary[] = [...(carried?.recent ?? [])];
  let cycles = carried?.cycles ?? 0;
  let championSince = carried?.championSince ?? null;
  let nextDueAt = carried?.nextDueAt ?? (intervalSeconds > 0 ? new Date(Date.now() + intervalSeconds * 1000).toISOString() : null);
  let state: LoopStatus['state'] = 'idle';
  let current: LoopCycleSummary | null = null;
  let stopBy: string | null = null;
  let approval: { approved: boolean; by: string } | null = null;

  const publish = (): void => {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.phase, value: state },
      { key: SEARCH_ATTRIBUTES.progress, value: current ? `cycle ${current.cycle}: ${current.stages[current.stages.length - 1]?.stage ?? 'starting'}` : `idle after ${cycles} cycles` },
    ] as never);
  };
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.runKind, value: 'loop' },
    { key: SEARCH_ATTRIBUTES.model, value: deployment },
  ] as never);
  publish();

  const enqueue = (t: LoopTrigger): void => {
    if (stopBy !== null || pending.some((p) => p.kind === t.kind)) return;
    pending.push(t);
  };
  setHandler(triggerSignal, (s) => enqueue({ kind: 'manual', by: s?.by ?? 'someone', reason: s?.reason ?? 'manual trigger', ...(s?.retrain ? { retrain: s.retrain } : {}) }));
  setHandler(driftSignal, (s) => enqueue({ kind: 'drift', by: s?.by ?? 'driftMonitor', reason: s?.reasons?.length ? `drift: ${s.reasons.join('; ')}` : (s?.reason ?? 'drift') }));
  setHandler(approveSignal, (s) => {
    if (state === 'awaiting-approval' && approval === null) approval = { approved: true, by: s?.by ?? 'someone' };
  });
  setHandler(rejectSignal, (s) => {
    if (state === 'awaiting-approval' && approval === null) approval = { approved: false, by: s?.by ?? 'someone' };
  });
  setHandler(stopSignal, (s) => {
    if (stopBy === null) stopBy = s?.by ?? 'someone';
    if (state === 'running') state = 'stopping';
  });
  setHandler(loopStatusQuery, (): LoopStatus => ({ deployment, loopId, state: stopBy !== null && state === 'idle' ? 'stopped' : state, cycles, current, recent, pending, nextDueAt, championSince }));

  const iso = (ms: number): string => new Date(ms).toISOString();

  /** Runs one stage: records it running, then passed/failed with the detail `fn` returns. */
  async function stage<T>(c: LoopCycleSummary, name: LoopStage, fn: (rec: StageRecord) => Promise<{ value: T; ok: boolean; detail: string }>): Promise<{ value: T; ok: boolean }> {
    const rec: StageRecord = { stage: name, status: 'running', startedAt: iso(Date.now()), finishedAt: null, detail: '' };
    c.stages.push(rec);
    publish();
    try {
      const r = await fn(rec);
      rec.status = r.ok ? 'passed' : 'failed';
      rec.detail = r.detail;
      return r;
    } catch (err) {
      rec.status = 'failed';
      rec.detail = rootMessage(err);
      throw err;
    } finally {
      rec.finishedAt = iso(Date.now());
    }
  }

  async function runCycle(c: LoopCycleSummary, retrain: RetrainSpec): Promise<void> {
    const end = (outcome: LoopCycleSummary['outcome'], at: LoopStage, reasons: string[]): void => {
      c.outcome = outcome;
      c.stage = at;
      c.reasons = reasons;
    };
    const { championVersion } = await registryActs.loopChampion({ deployment });
    c.championVersion = championVersion;
    if (championVersion === null) return end('skipped', 'export', [`deployment ${deployment} has no champion to improve on`]);

    // 1. export (the training part of the window; the held-out rest is the OPE's)
    const { split } = await registryActs.loopSplitWindow({ deployment, from: c.window.from, to: c.window.to, holdout });
    c.holdoutFrom = split;
    const trainTo = holdout > 0 ? split : c.window.to;
    const opeWindow = holdout > 0 ? { from: split, to: c.window.to } : c.window;
    const exported = await stage(c, 'export', async () => {
      const ds = await trainingActs.exportDataset({ deployment, from: c.window.from, to: trainTo, register: true, actor, workflowId: info.workflowId });
      c.dataset = { dir: ds.dir, rows: ds.rows, rewarded: ds.rewarded, version: ds.version };
      const ok = ds.rewarded >= minRewarded;
      return { value: ds, ok, detail: `${ds.rows} decisions, ${ds.rewarded} rewarded → ${ds.dir}${ds.version ? ` (dataset-${deployment} v${ds.version.version})` : ''}` };
    });
    if (!exported.ok) return end('skipped', 'export', [`${exported.value.rewarded} rewarded decisions to train on in ${c.window.from} → ${trainTo}, a cycle needs minRewarded = ${minRewarded}`]);
    const snapshotDir = exported.value.dir;

    // 2. retrain (3. the offline evaluation comes with it for PPO)
    let ppo: PpoTrainingResult | null = null;
    const trained = await stage(c, 'retrain', async (rec) => {
      if (retrain.kind === 'refit') {
        const r = await trainingActs.loopRefit({
          deployment, snapshotDir, championVersion, ridge: retrain.ridge ?? 1, inverseTemperature: retrain.inverseTemperature ?? 20, actor,
          workflowId: cycleId(c.cycle), dataset: exported.value.version,
        });
        return { value: r.version, ok: true, detail: `refit on ${r.rounds} rewarded decisions → v${r.version}` };
      }
      rec.workflowId = `${cycleId(c.cycle)}/ppo`;
      const ppoInput: PpoTrainingInput = { ...(retrain.input ?? {}), model: deployment, env: `replay:${snapshotDir}`, startCanary: false, actor };
      ppo = await executeChild<(i: PpoTrainingInput) => Promise<PpoTrainingResult>>(PPO_TRAINING_WORKFLOW_TYPE, {
        workflowId: rec.workflowId, taskQueue: trainingQueue, args: [ppoInput], parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
      return { value: ppo.version, ok: true, detail: `ppoTraining ${ppo.iterations} iterations on replay:${snapshotDir} → v${ppo.version}` };
    });
    const candidate = trained.value;
    c.candidateVersion = candidate;

    const trainedByPpo = ppo as PpoTrainingResult | null;
    if (trainedByPpo !== null) {
      const p: PpoTrainingResult = trainedByPpo;
      const offline = await stage(c, 'offline-evaluation', async () => {
        const passed = p.offlineGates?.passed ?? false;
        const detail = `held-out reward ${p.evaluation.policyReward.toFixed(4)} vs baseline ${p.evaluation.baselineReward.toFixed(4)}; offline gates ${passed ? 'passed' : `failed: ${(p.offlineGates?.reasons ?? ['no verdict']).join('; ')}`}`;
        return { value: passed, ok: passed, detail };
      });
      // ppoTraining registered the failing version `rejected` with its reasons already.
      if (!offline.ok) return end('rejected', 'offline-evaluation', p.offlineGates?.reasons ?? ['offline gates failed']);
    }

    // 4. ope
    const ope = input.ope ?? {};
    const gatePlan = {
      enabled: true,
      windowMs,
      estimator: ope.estimator ?? null,
      tolerance: ope.tolerance ?? 0.02,
      alpha: ope.alpha ?? 0.05,
      nBootstrap: ope.nBootstrap ?? 2000,
      minRounds: ope.minRounds ?? Math.max(1, Math.round((minRewarded * holdout) / (1 - holdout))),
    };
    const gate = await stage(c, 'ope', async (rec) => {
      rec.workflowId = `${cycleId(c.cycle)}/ope`;
      const args: OffPolicyEvaluationInput = {
        deployment, from: opeWindow.from, to: opeWindow.to, candidate: { model: deployment, version: candidate },
        ...(gatePlan.estimator !== null ? { estimators: [gatePlan.estimator], gateEstimator: gatePlan.estimator } : {}),
        alpha: gatePlan.alpha, nBootstrap: gatePlan.nBootstrap, tolerance: gatePlan.tolerance, actor,
      };
      let result: OffPolicyEvaluationResult | null = null;
      let error: string | null = null;
      try {
        result = await executeChild<(a: OffPolicyEvaluationInput) => Promise<OffPolicyEvaluationResult>>(OFF_POLICY_EVALUATION_WORKFLOW_TYPE, {
          workflowId: rec.workflowId, args: [args], parentClosePolicy: ParentClosePolicy.TERMINATE,
        });
      } catch (err) {
        if (isCancellation(err)) throw err;
        error = rootMessage(err);
      }
      const g = await registryActs.canaryOpeGate({
        model: deployment, version: candidate, plan: { ope: gatePlan } as CanaryPlan, workflowId: info.workflowId, runId: `${loopId}/cycle-${c.cycle}`,
        evaluationWorkflowId: rec.workflowId, window: opeWindow, result, error, actor,
      });
      c.ope = g;
      return { value: g, ok: g.verdict === 'pass', detail: `${g.verdict}: ${g.reasons.join('; ')}` };
    });
    if (!gate.ok) {
      const reasons = gate.value.reasons.map((r) => `off-policy evaluation gate: ${r}`);
      await registryActs.loopRejectVersion({ model: deployment, version: candidate, reason: reasons.join('; '), actor });
      return end('rejected', 'ope', reasons);
    }

    // 5. approval
    if (input.requireApproval) {
      approval = null;
      state = 'awaiting-approval';
      const decided = await stage(c, 'approval', async () => {
        // A stop while waiting refuses the candidate (nobody approved it); so does no decision within approvalTimeout.
        // (Without approvalTimeout no timer is started: the command sequence of runs from before it is unchanged.)
        if (approvalTimeoutMs === null) await condition(() => approval !== null || stopBy !== null);
        else await condition(() => approval !== null || stopBy !== null, approvalTimeoutMs);
        const a: { approved: boolean; by: string | null } =
          approval ?? { approved: false, by: stopBy !== null ? `${stopBy} (the loop was stopped while the cycle waited for approval)` : null };
        const detail = a.by === null ? `no decision within approvalTimeout ${input.approvalTimeout}` : `${a.approved ? 'approved' : 'rejected'} by ${a.by}`;
        return { value: a, ok: a.approved, detail };
      });
      state = stopBy !== null ? 'stopping' : 'running';
      if (!decided.ok) {
        const reason = decided.value.by === null ? `not approved before the canary: no decision within approvalTimeout ${input.approvalTimeout}` : `rejected before the canary by ${decided.value.by}`;
        await registryActs.loopRejectVersion({ model: deployment, version: candidate, reason, actor });
        return end('rejected', 'approval', [reason]);
      }
    }

    // 6. canary (shadow stage per plan) → promote or reject
    const canary = await stage(c, 'canary', async (rec) => {
      rec.workflowId = canaryWorkflowId(deployment);
      const s = await executeChild<(i: CanaryPromotionInput) => Promise<CanaryStatus>>(CANARY_WORKFLOW_TYPE, {
        workflowId: rec.workflowId, parentClosePolicy: ParentClosePolicy.TERMINATE,
        args: [{ model: deployment, version: candidate, ...(input.canaryPlan ? { plan: input.canaryPlan } : {}), actor }],
      });
      c.canary = { workflowId: rec.workflowId, phase: s.phase, message: s.message };
      return { value: s, ok: s.phase === 'Succeeded', detail: `${s.phase}: ${s.message}` };
    });
    if (!canary.ok) return end('rejected', 'canary', [`canary: ${canary.value.message}`]);
    championSince = iso(Date.now());
    return end('promoted', 'canary', [canary.value.message]);
  }

  let cyclesThisRun = 0;
  for (;;) {
    if (maxCycles > 0 && cycles >= maxCycles) break;
    if (cyclesThisRun >= cyclesPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof optimizationLoop>({ ...input, carried: { loopId, cycles, championSince, nextDueAt, pending, recent } });
    }
    state = 'idle';
    publish();
    const dueMs = nextDueAt !== null ? Date.parse(nextDueAt) - Date.now() : null;
    if (dueMs === null) await condition(() => pending.length > 0 || stopBy !== null);
    else if (dueMs > 0) await condition(() => pending.length > 0 || stopBy !== null, dueMs);
    if (stopBy !== null) break;
    const trigger = pending.shift() ?? { kind: 'schedule' as const, by: 'schedule', reason: `every ${intervalSeconds}s` };
    if (trigger.kind === 'schedule' || (nextDueAt !== null && Date.parse(nextDueAt) <= Date.now())) {
      nextDueAt = intervalSeconds > 0 ? iso(Date.now() + intervalSeconds * 1000) : null;
    }
    cycles++;
    cyclesThisRun++;
    const now = Date.now();
    const from = Math.max(now - windowMs, championSince !== null ? Date.parse(championSince) : -Infinity);
    const c: LoopCycleSummary = {
      loopId, workflowId: info.workflowId, deployment, cycle: cycles, trigger, outcome: null, stage: null, reasons: [],
      window: { from: iso(from), to: iso(now) }, holdoutFrom: null, championVersion: null, candidateVersion: null, dataset: null, ope: null, canary: null,
      stages: [], startedAt: iso(now), finishedAt: null,
    };
    current = c;
    state = stopBy !== null ? 'stopping' : 'running';
    publish();
    try {
      await runCycle(c, trigger.retrain ?? defaultRetrain);
    } catch (err) {
      if (isCancellation(err)) throw err;
      c.outcome = 'failed';
      c.stage = c.stages[c.stages.length - 1]?.stage ?? 'export';
      c.reasons = [rootMessage(err)];
      // A candidate that was registered but not shipped is refused, not left `registered`.
      if (c.candidateVersion !== null) {
        await CancellationScope.nonCancellable(() => registryActs.loopRejectVersion({ model: deployment, version: c.candidateVersion!, reason: `loop cycle ${c.cycle} failed: ${c.reasons[0]}`, actor }));
      }
    }
    c.finishedAt = iso(Date.now());
    await registryActs.loopRecordCycle(c);
    recent.unshift(c);
    if (recent.length > 10) recent.pop();
    current = null;
  }
  state = 'stopped';
  current = null;
  publish();
  return { deployment, loopId, state, cycles, current, recent, pending, nextDueAt, championSince };
}
