/**
 * `ppoTraining`: PPO on the RAG-tuning environment as a Temporal workflow (task queue `training`).
 *
 *   startRun → initPolicy → iterations × ( N rollouts in parallel → update ) → evaluate → writeReport
 *            → exportAndRegister → finishRun
 *
 * Each iteration fans out N rollout activities (N = `workers`, each with its own env seed, so more
 * workers means faster iterations) on the latest checkpoint, then one update activity turns their
 * batches into the next checkpoint. The workflow keeps only URIs and small summaries; weights,
 * rollouts and reports live in the artifact store. Checkpoints have deterministic keys per iteration,
 * so when a worker is killed the activity in flight is retried (after its heartbeat timeout) from
 * the last checkpoint and the run goes on with the iteration count unbroken.
 *
 * Query `progress` (iteration, episodic return, best, KL, entropy, clip fraction, elapsed, phase);
 * signal `stop` (finish the iteration in flight, then evaluate, export and register the better of the
 * final and the best checkpoint); with `startCanary`, the registered version's `canaryPromotion` starts
 * as an abandoned child on the rollout queue (workflow id `canary/<model>`); `continueAsNew` every `continueAsNewEvery` iterations with the
 * state; search attributes AutopilotModel, AutopilotRunKind = ppo, AutopilotPhase, and
 * AutopilotVersion once registered.
 */
import {
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  patched,
  startChild,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CANARY_WORKFLOW_TYPE, canaryWorkflowId } from '../contracts/canary';
import {
  progressQuery,
  stopSignal,
  type EvaluationSummary,
  type PpoActivities,
  type PpoProgress,
  type PpoTrainingInput,
  type PpoTrainingResult,
  type PpoTrainingState,
  type PpoPhase,
} from '../contracts/ppo-training';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import { rootMessage } from './failure';
import { DEFAULT_OFFLINE_GATES, offlineGateVerdict, type OfflineGateVerdict } from '../canary/offline-gates';

export async function ppoTraining(input: PpoTrainingInput = {}, resume?: PpoTrainingState): Promise<PpoTrainingResult> {
  const heartbeatTimeout = `${input.timeouts?.heartbeatSeconds ?? 60}s`;
  const long = proxyActivities<PpoActivities>({
    startToCloseTimeout: `${input.timeouts?.activitySeconds ?? 1800}s`,
    heartbeatTimeout,
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
  });
  const short = proxyActivities<PpoActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
  });

  let phase: PpoPhase = resume ? 'training' : 'starting';
  let state: PpoTrainingState | null = resume ?? null;
  let stopRequested = resume?.stopRequested ?? false;
  let result: PpoTrainingResult | null = null;
  const startedAtMs = resume?.startedAtMs ?? Date.now();

  setHandler(stopSignal, () => {
    stopRequested = true;
  });
  setHandler(progressQuery, (): PpoProgress => ({
    runId: state?.run.runId ?? null,
    model: state?.run.model ?? null,
    phase,
    iteration: state?.iteration ?? 0,
    iterations: state?.run.iterations ?? null,
    episodicReturnMean: state?.last?.episodicReturn ?? null,
    best: state?.best?.episodicReturn ?? null,
    bestIteration: state?.best?.iteration ?? null,
    approxKl: state?.last?.approxKl ?? null,
    entropy: state?.last?.entropy ?? null,
    clipFraction: state?.last?.clipFraction ?? null,
    elapsedMs: Date.now() - startedAtMs,
    stopRequested,
    checkpointUri: state?.checkpointUri ?? null,
    result,
  }));

  const setPhase = (p: PpoPhase) => {
    phase = p;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: p }]);
  };

  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.runKind, value: 'ppo' },
    { key: SEARCH_ATTRIBUTES.phase, value: phase },
    ...(input.model ? [{ key: SEARCH_ATTRIBUTES.model, value: input.model }] : []),
  ]);

  try {
    if (!state) {
      const info = workflowInfo();
      const run = await short.startRun({ input, runId: info.runId, workflowId: info.workflowId });
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.model, value: run.model }]);
      const init = await short.initPolicy({ runId: run.runId, configUri: run.configUri, env: run.env });
      state = { run, iteration: 0, checkpointUri: init.checkpointUri, best: null, last: null, startedAtMs, stopRequested };
      setPhase('training');
    }
    const s: PpoTrainingState = state;
    const { run } = s;

    let iterationsThisRun = 0;
    while (s.iteration < run.iterations && !stopRequested) {
      if (iterationsThisRun >= run.continueAsNewEvery) {
        await continueAsNew<typeof ppoTraining>(input, { ...s, stopRequested });
      }
      const n = s.iteration + 1;
      const rollouts = await Promise.all(
        Array.from({ length: run.workers }, (_, envIndex) =>
          long.rollout({ runId: run.runId, configUri: run.configUri, env: run.env, checkpointUri: s.checkpointUri, iteration: n, envIndex }),
        ),
      );
      const { checkpointUri, summary } = await long.update({
        runId: run.runId,
        configUri: run.configUri,
        checkpointUri: s.checkpointUri,
        batchUris: rollouts.map((r) => r.batchUri),
        iteration: n,
      });
      // Iteration n's returns were earned by the policy of checkpoint n − 1 (the one that acted).
      if (summary.episodicReturn !== null && (s.best === null || summary.episodicReturn > s.best.episodicReturn)) {
        s.best = { iteration: n, episodicReturn: summary.episodicReturn, checkpointUri: s.checkpointUri };
      }
      s.iteration = n;
      s.checkpointUri = checkpointUri;
      s.last = summary;
      iterationsThisRun++;
    }

    setPhase('evaluating');
    const candidates = [{ label: 'final', checkpointUri: s.checkpointUri }];
    if (s.best && s.best.checkpointUri !== s.checkpointUri) candidates.push({ label: 'best', checkpointUri: s.best.checkpointUri });
    const evaluation: EvaluationSummary = await long.evaluate({
      runId: run.runId,
      configUri: run.configUri,
      env: run.env,
      seed: run.seed,
      candidates,
      evaluation: run.evaluation,
    });

    setPhase('reporting');
    const report = await short.writeReport({ runId: run.runId, model: run.model, evaluationUri: evaluation.evaluationUri });

    setPhase('registering');
    const training = {
      iterations: s.iteration,
      stopped: stopRequested && s.iteration < run.iterations,
      finalReward: s.last?.episodicReturn ?? null,
      bestReward: s.best?.episodicReturn ?? null,
      bestIteration: s.best?.iteration ?? null,
    };
    const version = await short.exportAndRegister({ run, checkpointUri: evaluation.checkpointUri, training, evaluation, report });
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.version, value: version.version }]);

    // Offline gates (canary/offline-gates.ts): a version without evidence is rejected and gets no canary,
    // unless the run was forced. Runs recorded before the gates existed replay without this step.
    let offlineGates: OfflineGateVerdict | undefined;
    let forced = false;
    let gateRefusal: string | null = null;
    if (patched('ppo-offline-gates')) {
      offlineGates = evaluation.rewardDelta
        ? offlineGateVerdict(
          { rewardDelta: evaluation.rewardDelta, gateViolations: evaluation.policy.gateViolations, steps: evaluation.policy.steps },
          run.gates ?? DEFAULT_OFFLINE_GATES,
        )
        : { passed: false, checks: [], reasons: ['the evaluation carries no reward-delta interval (it ran on a worker older than the offline gates)'] };
      forced = !offlineGates.passed && run.startCanary && run.force === true;
      if (!offlineGates.passed) {
        await short.recordGateVerdict({ model: version.model, version: version.version, verdict: offlineGates, forced, actor: run.actor, runId: run.runId });
        if (forced) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.forced, value: true }]);
        else gateRefusal = `offline gates failed: ${offlineGates.reasons.join('; ')}`;
      }
    }

    let canary: PpoTrainingResult['canary'] = null;
    if (run.startCanary && gateRefusal !== null) {
      canary = { workflowId: canaryWorkflowId(version.model), started: false, error: gateRefusal };
    } else if (run.startCanary) {
      // By name: the canary workflow (workflows/canaryPromotion.ts) runs on the rollout queue, one per model.
      const canaryId = canaryWorkflowId(version.model);
      try {
        await startChild(CANARY_WORKFLOW_TYPE, {
          taskQueue: TASK_QUEUES.rollout,
          workflowId: canaryId,
          args: [{ model: version.model, version: version.version, actor: run.actor }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        canary = { workflowId: canaryId, started: true };
      } catch (err) {
        // e.g. a canary of this model is already running: the version stays registered.
        canary = { workflowId: canaryId, started: false, error: rootMessage(err) };
      }
    }

    const done: PpoTrainingResult = {
      runId: run.runId,
      workflowId: run.workflowId,
      model: version.model,
      version: version.version,
      artifactUri: version.artifactUri,
      iterations: s.iteration,
      stopped: training.stopped,
      exported: evaluation.chosen,
      checkpointUri: evaluation.checkpointUri,
      evaluation: {
        policyReward: evaluation.policy.reward,
        baselineReward: evaluation.baseline.reward,
        bestStaticReward: evaluation.bestStatic.reward,
        improvementVsBaseline: evaluation.improvementVsBaseline,
        improvementVsBestStatic: evaluation.improvementVsBestStatic,
        gateViolations: evaluation.policy.gateViolations,
      },
      report,
      ...(offlineGates ? { offlineGates, forced } : {}),
      canary,
      elapsedMs: Date.now() - startedAtMs,
    };
    await short.finishRun({ runId: run.runId, status: 'succeeded', summary: { ...done, training } });
    result = done;
    setPhase('done');
    return done;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    phase = 'failed';
    const runId = state?.run.runId;
    if (runId) {
      const status = isCancellation(err) ? 'cancelled' : 'failed';
      await CancellationScope.nonCancellable(() => short.finishRun({ runId, status, error: rootMessage(err) }));
    }
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'failed' }]);
    throw err;
  }
}
