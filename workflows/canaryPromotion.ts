/**
 * `canaryPromotion`: rolls one model version out as a canary, Flagger-style, with statistics.
 *
 * Workflow id `canary/<model>` (one canary per model). Phases Initializing → (Shadow) → Progressing →
 * Promoting → Succeeded | Failed, upserted as the AutopilotPhase search attribute on every change.
 * Each step sets the canary weight in the registry (servers apply it within a second), bakes on
 * durable timers and checks the gates every checkInterval through `canaryCheck`; the decisions are
 * `tick`'s (canary/tick.ts). A breach, `threshold` failed checks, a stage still inconclusive
 * after its extensions, a rollback webhook answering 2xx or the `abort` signal roll back at once.
 *
 * Webhooks, with Flagger's semantics (canary/plan.ts lists them): confirm-rollout holds the start
 * (phase Waiting) until it answers 2xx; pre-rollout runs before the first traffic (a non-2xx is a
 * failed check); rollback is asked before every check (2xx: roll back now); confirm-promotion holds the
 * promotion (phase WaitingPromotion, checks go on) until it answers 2xx; post-rollout is told after the
 * promotion or the rollback; event gets every history entry. Each one asks again every checkInterval.
 *
 * Shadow stage (plan `shadow.enabled`): `canaryShadow` sets the deployment's `config.shadowVersion` to
 * the canary (weight stays 0) so the inference servers mirror champion-served requests to it; the
 * stage ends (advance, promote, rollback or abort) by clearing it again before anything else moves.
 *
 * Off-policy evaluation gate (plan `ope.enabled`): after the canary is put in at 0% and before any
 * webhook, shadow or traffic, the offPolicyEvaluation workflow runs as a child
 * (`canary/<model>/ope/<runId>`) on the deployment's logged decisions of the last `ope.window`;
 * `canaryOpeGate` judges it (canary/ope-gate.ts) and records it; a failure rolls back (version
 * `rejected`, the reasons in the status and the audit log) with no traffic shifted. The result is the
 * status query's `opeGate`.
 *
 * Signals: pause, resume, abort (any phase, including Promoting and after the promotion committed),
 * promote (skip the remaining steps). Query: status. Replays are deterministic, so a worker restarted
 * mid-bake neither repeats nor skips a step; the activities are idempotent for the retries.
 *
 * History stays small (one timer and one activity per check; the default plan has ~100 checks), so
 * the workflow does not continue-as-new.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CanaryPlan, WebhookType } from '../canary/plan';
import type { CanaryStatus } from '../canary/status';
import {
  awaitConfirmation,
  comparisonFor,
  eventsSince,
  enterPhase,
  initialStatus,
  markRolledBack,
  nextCheckOffsetMs,
  nextDecisionLook,
  preRolloutFailed,
  promoteRequested,
  record,
  stageIntervalMs,
  startProgressing,
  tick,
  type TickResult,
} from '../canary/tick';
import { abortSignal, canaryOpeWorkflowId, canaryWorkflowId, pauseSignal, promoteSignal, resumeSignal, statusQuery, type CanaryActivities, type CanaryPromotionInput } from '../contracts/canary';
import { OFF_POLICY_EVALUATION_WORKFLOW_TYPE, type OffPolicyEvaluationInput, type OffPolicyEvaluationResult } from '../contracts/off-policy-evaluation';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';
import { rootMessage } from './failure';

const acts = proxyActivities<CanaryActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});
/** Rollbacks retry until they succeed (only a permanent error stops them). */
const rollbackActs = proxyActivities<CanaryActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
});
/**
 * Webhooks enforce their own timeout and report failures as values: one attempt each. An abort does
 * not wait for a webhook in flight (ABANDON: the HTTP call ends on its own timeout, its answer unused).
 */
const hookActs = proxyActivities<CanaryActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 1 },
  cancellationType: ActivityCancellationType.ABANDON,
});

const TERMINAL = new Set(['Succeeded', 'Failed']);

export async function canaryPromotion(input: CanaryPromotionInput): Promise<CanaryStatus> {
  const { model, version } = input;
  const actor = input.actor ?? `workflow:${workflowInfo().workflowId}`;
  let status = initialStatus(model, version, Date.now());
  let plan: CanaryPlan | null = null;
  let promoteBy: string | null = null;
  let abort: { by: string; reason: string } | null = null;
  /** config.shadowVersion is (or may be) set to this canary. */
  let shadowOn = false;
  /** Sequence number of the last history entry sent to the event webhook. */
  let eventsSent = 0;
  /**
   * Flagger's webhook semantics (rollback as a gate, confirm-promotion waits, post-rollout after a
   * rollback too). Runs started before them replay with the old ones: confirm-promotion's first
   * non-2xx rolled back, and `rollback` was told after a rollback.
   */
  const flaggerHooks = patched('canary-flagger-webhooks');

  const publishPhase = () =>
    input.searchAttributes !== false &&
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.model, value: model },
      { key: SEARCH_ATTRIBUTES.version, value: version },
      { key: SEARCH_ATTRIBUTES.runKind, value: 'canary' },
      { key: SEARCH_ATTRIBUTES.phase, value: status.phase },
    ] as never);
  const setStatus = (next: CanaryStatus) => {
    const changed = next.phase !== status.phase;
    status = next;
    if (changed) publishPhase();
  };
  publishPhase();

  const scope = new CancellationScope();
  setHandler(statusQuery, () => status);
  setHandler(pauseSignal, (s) => {
    if (TERMINAL.has(status.phase) || status.paused) return;
    status = record({ ...status, paused: true }, Date.now(), 'paused', `by ${s?.by ?? 'someone'}`);
  });
  setHandler(resumeSignal, (s) => {
    if (!status.paused) return;
    status = record({ ...status, paused: false }, Date.now(), 'resumed', `by ${s?.by ?? 'someone'}`);
  });
  setHandler(promoteSignal, (s) => {
    // Ignored while a confirmation webhook holds the canary: the webhook has the last word.
    if (TERMINAL.has(status.phase) || status.phase === 'Promoting' || status.phase === 'Waiting' || status.phase === 'WaitingPromotion' || promoteBy !== null) return;
    promoteBy = s?.by ?? 'someone';
  });
  setHandler(abortSignal, (s) => {
    if (TERMINAL.has(status.phase) || abort !== null) return;
    abort = { by: s?.by ?? 'someone', reason: s?.reason ?? 'aborted' };
    status = record(status, Date.now(), 'abort-requested', `by ${abort.by}: ${abort.reason}`);
    scope.cancel();
  });

  /** Calls the plan's webhook of `type` (null when the plan has none); the call is recorded unless `quiet`. */
  async function webhook(type: WebhookType, reason: string, quiet = false): Promise<{ ok: boolean; error: string | null; name: string } | null> {
    const hook = plan?.webhooks.find((w) => w.type === type);
    if (!hook) return null;
    const r = await hookActs.canaryWebhook({
      type,
      name: hook.name,
      url: hook.url,
      timeoutMs: hook.timeoutMs,
      payload: { model, version, championVersion: status.championVersion, phase: status.phase, canaryWeight: status.canaryWeight, reason, workflowId: workflowInfo().workflowId },
      ...(hook.metadata ? { metadata: hook.metadata } : {}),
    });
    if (!quiet) status = record(status, Date.now(), 'webhook', `${type} ${hook.name}: ${r.ok ? `HTTP ${r.status}` : `failed: ${r.error}`} (${Math.round(r.ms)} ms)`);
    return { ok: r.ok, error: r.error, name: hook.name };
  }

  /** Sends the history entries not sent yet to the `event` webhook, one POST each (answers ignored, as Flagger does). */
  async function flushEvents(): Promise<void> {
    const hook = plan?.webhooks.find((w) => w.type === 'event');
    if (!hook) return;
    for (const { seq, entry } of eventsSince(status, eventsSent)) {
      eventsSent = seq;
      await hookActs.canaryWebhook({
        type: 'event',
        name: hook.name,
        url: hook.url,
        timeoutMs: hook.timeoutMs,
        payload: { model, version, phase: status.phase, canaryWeight: status.canaryWeight, workflowId: workflowInfo().workflowId, event: entry.event, detail: entry.detail, at: entry.at, seq },
        ...(hook.metadata ? { metadata: hook.metadata } : {}),
      });
    }
  }

  /** The rollback webhook as a gate: a 2xx answer rolls back now (true). Other answers are the normal "no". */
  async function rollbackTripped(): Promise<boolean> {
    if (!flaggerHooks) return false;
    const r = await webhook('rollback', status.message, true);
    if (!r?.ok) return false;
    status = record(status, Date.now(), 'webhook', `rollback ${r.name}: 2xx, rolling back`);
    await rollbackNow(`rollback webhook ${r.name} answered 2xx`);
    return true;
  }

  /** Sleeps `ms` on a durable timer, holding while paused. */
  async function sleepPausable(ms: number): Promise<void> {
    const due = Date.now() + ms;
    for (;;) {
      if (status.paused) {
        await condition(() => !status.paused);
        continue;
      }
      const remaining = due - Date.now();
      if (remaining <= 0) return;
      await condition(() => status.paused, remaining);
    }
  }

  /** confirm-rollout: wait (phase Waiting), asking every checkInterval, until it answers 2xx. False when rolled back meanwhile. */
  async function confirmRollout(): Promise<boolean> {
    for (;;) {
      const r = await webhook('confirm-rollout', 'the canary is about to start');
      if (r === null || r.ok) return true;
      setStatus(awaitConfirmation(status, 'Waiting', r.name, r.error ?? 'not 2xx', Date.now()));
      await flushEvents();
      await sleepPausable(plan!.checkIntervalMs);
      if (await rollbackTripped()) return false;
    }
  }

  /** pre-rollout: before the canary takes any traffic; each non-2xx is a failed check, asked again every checkInterval. */
  async function preRollout(): Promise<boolean> {
    for (;;) {
      const r = await webhook('pre-rollout', 'the canary is about to take traffic');
      if (r === null || r.ok) return true;
      const t = preRolloutFailed(status, plan!, `${r.name}: ${r.error}`, Date.now());
      await apply(t);
      if (status.phase === 'Failed') return false;
      await flushEvents();
      await sleepPausable(plan!.checkIntervalMs);
      if (await rollbackTripped()) return false;
    }
  }

  async function setShadow(on: boolean): Promise<void> {
    if (!on && !shadowOn) return;
    if (on) shadowOn = true; // before the call: a failure after the write must still clear it
    await CancellationScope.nonCancellable(() => (on ? acts : rollbackActs).canaryShadow({ model, version, on, actor, reason: on ? 'canary shadow stage: mirror requests' : `canary shadow stage ended (${status.phase})` }));
    if (!on) shadowOn = false;
    status = record(status, Date.now(), 'shadow', on ? `mirroring requests to v${version}` : 'mirroring stopped');
  }

  async function rollbackNow(reason: string): Promise<void> {
    if (status.phase === 'Failed') return;
    await CancellationScope.nonCancellable(async () => {
      await setShadow(false);
      await rollbackActs.canaryRollback({ model, version, reason, actor, restoreChampion: status.promoted ? status.championVersion : null });
      setStatus(markRolledBack(status, reason, Date.now()));
      await webhook(flaggerHooks ? 'post-rollout' : 'rollback', reason);
      await flushEvents();
    });
  }

  async function setWeight(weight: number, stepIndex: number): Promise<void> {
    await acts.canarySetWeight({ model, version, weight, actor, reason: `canary step ${stepIndex + 1}/${plan!.stepWeights.length}: ${weight}%` });
    // The window of the step starts once the registry serves the new weight.
    status = { ...status, stepStartedAt: new Date(Date.now()).toISOString() };
  }

  async function apply(r: TickResult): Promise<void> {
    setStatus(r.status);
    if (status.phase !== 'Shadow') await setShadow(false);
    for (const a of r.actions) {
      if (a.type === 'setWeight') await setWeight(a.weight, a.stepIndex);
      else if (a.type === 'rollback') await rollbackNow(a.reason);
    }
  }

  /** Sleeps until `due` on a durable timer; returns early for a promote request, holds while paused. */
  async function waitForCheck(due: number): Promise<void> {
    for (;;) {
      if (promoteBy !== null) return;
      if (status.paused) {
        await condition(() => !status.paused || promoteBy !== null);
        continue;
      }
      const remaining = due - Date.now();
      if (remaining <= 0) return;
      await condition(() => promoteBy !== null || status.paused, remaining);
    }
  }

  async function promoting(): Promise<void> {
    await condition(() => !status.paused);
    if (!flaggerHooks) {
      const confirm = await webhook('confirm-promotion', status.message);
      if (confirm && !confirm.ok) {
        await rollbackNow(`confirm-promotion webhook failed: ${confirm.error}`);
        return;
      }
    }
    const p = await acts.canaryPromote({ model, version, actor, reason: status.message });
    status = record(
      { ...status, promoted: true, canaryWeight: 0, championVersion: p.previousChampion ?? status.championVersion, message: `promoted: v${version} is the champion (v${p.previousChampion} stays registered)` },
      Date.now(),
      'promoted',
      `v${version} champion, generation ${p.generation}`,
    );
    await webhook('post-rollout', status.message);
    setStatus(enterPhase(status, 'Succeeded', Date.now()));
    await flushEvents();
  }

  /**
   * The off-policy evaluation gate: the offPolicyEvaluation child on the champion's logged window,
   * judged and recorded by `canaryOpeGate`. False when it failed (the canary is rolled back).
   */
  async function opeGate(): Promise<boolean> {
    const ope = plan!.ope!;
    const info = workflowInfo();
    const now = Date.now();
    const window = { from: new Date(now - ope.windowMs).toISOString(), to: new Date(now).toISOString() };
    // From the model, not info.workflowId (canary/<model> when started by the CLI or a training run):
    // replays of recorded histories run under another workflow id.
    const evaluationWorkflowId = canaryOpeWorkflowId(canaryWorkflowId(model), info.runId);
    status = record({ ...status, message: `off-policy evaluation of v${version} on the champion's logged decisions ${window.from} → ${window.to}` }, now, 'ope-gate', `started ${evaluationWorkflowId}`);
    await flushEvents();
    const args: OffPolicyEvaluationInput = {
      deployment: model,
      from: window.from,
      to: window.to,
      candidate: { model, version },
      ...(ope.estimator !== null ? { estimators: [ope.estimator], gateEstimator: ope.estimator } : {}),
      alpha: ope.alpha,
      nBootstrap: ope.nBootstrap,
      tolerance: ope.tolerance,
      actor,
    };
    let result: OffPolicyEvaluationResult | null = null;
    let error: string | null = null;
    try {
      result = await executeChild<(a: OffPolicyEvaluationInput) => Promise<OffPolicyEvaluationResult>>(OFF_POLICY_EVALUATION_WORKFLOW_TYPE, {
        workflowId: evaluationWorkflowId,
        args: [args],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      error = rootMessage(err);
    }
    const gate = await acts.canaryOpeGate({ model, version, plan: plan!, workflowId: info.workflowId, runId: info.runId, evaluationWorkflowId, window, result, error, actor });
    status = record({ ...status, opeGate: gate }, Date.now(), 'ope-gate', `${gate.verdict}: ${gate.reasons.join('; ')}`);
    if (gate.verdict === 'pass') return true;
    await rollbackNow(`off-policy evaluation gate failed: ${gate.reasons.join('; ')}`);
    return false;
  }

  async function run(): Promise<void> {
    const init = await acts.canaryInitialize({ model, version, plan: input.plan, actor });
    plan = init.plan;
    status = record({ ...status, championVersion: init.championVersion }, Date.now(), 'initialized', `champion v${init.championVersion}, steps ${plan.stepWeights.join('→')}%`);
    await flushEvents();
    // Plans resolved before the gate existed have no `ope`; runs started before it replay without it.
    if (patched('canary-ope-gate') && plan.ope?.enabled && !(await opeGate())) return;
    if (!(await confirmRollout()) || !(await preRollout())) return;
    if (plan.shadow.enabled) {
      await setShadow(true);
      setStatus({ ...enterPhase(status, 'Shadow', Date.now()), stepChecks: 0, stepStartedAt: new Date(Date.now()).toISOString(), message: 'shadow: comparing mirrored decisions' });
    } else {
      await apply(startProgressing(status, plan, Date.now()));
    }
    for (;;) {
      await flushEvents();
      if (flaggerHooks && (status.phase === 'Promoting' || status.phase === 'WaitingPromotion')) {
        // Flagger's confirm-promotion: promote on a 2xx; otherwise wait, checking on, and ask again.
        const r = await webhook('confirm-promotion', status.message);
        if (r === null || r.ok) {
          if (status.phase === 'WaitingPromotion') setStatus(enterPhase(status, 'Promoting', Date.now(), `confirm-promotion webhook ${r!.name} answered 2xx`));
          break;
        }
        setStatus(awaitConfirmation(status, 'WaitingPromotion', r.name, r.error ?? 'not 2xx', Date.now()));
        await flushEvents();
      }
      if (status.phase !== 'Shadow' && status.phase !== 'Progressing' && status.phase !== 'WaitingPromotion') break;
      if (promoteBy !== null && status.phase !== 'WaitingPromotion') {
        setStatus(promoteRequested(status, promoteBy, Date.now()).status);
        promoteBy = null; // handled (the handler ignores further requests from here on)
        await setShadow(false);
        continue;
      }
      await waitForCheck(Date.parse(status.stepStartedAt!) + nextCheckOffsetMs(status, plan));
      if (promoteBy !== null && status.phase !== 'WaitingPromotion') continue;
      if (await rollbackTripped()) return;
      const waiting = status.phase === 'WaitingPromotion';
      const check = await acts.canaryCheck({
        model,
        version,
        arm: status.phase === 'Shadow' ? 'shadow' : 'canary',
        from: status.stepStartedAt!,
        comparison: comparisonFor(status, plan),
        // While the promotion waits, checks look for harm only (they cannot advance anything).
        decisionLook: waiting ? 0 : nextDecisionLook(status, plan),
        bakeMs: stageIntervalMs(status, plan),
        minSamples: status.phase === 'Shadow' ? plan.shadow.minSamples : plan.minSamples,
        plan,
      });
      await apply(tick(status, check, plan, Date.now()));
    }
    if (status.phase === 'Promoting') await promoting();
  }

  try {
    await scope.run(run);
  } catch (err) {
    if (status.phase === 'Failed') {
      await CancellationScope.nonCancellable(flushEvents);
      return status;
    }
    const requested = abort as { by: string; reason: string } | null; // set by the abort handler
    const reason = isCancellation(err) && requested !== null ? `aborted by ${requested.by}: ${requested.reason}` : `canary stopped by an error: ${rootMessage(err)}`;
    status = record(status, Date.now(), 'error', reason);
    await rollbackNow(reason);
  }
  return status;
}
