/**
 * `driftMonitor`: per deployment, every `intervalSeconds` it checks the logged decisions of the last
 * `windowSeconds` against the `referenceSeconds` before them — ADWIN and Page–Hinkley on rewards and
 * latency, KS and PSI on each numeric feature, the calibration of the decisions' logged predictions
 * against their rewards (ECE, Brier, log loss, correlation; bounds in `calibration`, a breach is a drift
 * reason) — and records the figures as run metrics. On drift it raises an alert (webhook POST when `webhook.url` is set; the counter `drift/alerts_total` in the run
 * metrics) and, per `onDrift`: `abort-canary` signals `abort` to the running canary (`canary/<model>`),
 * `retrain` starts the workflow `retrain.workflowType` with `retrain.input` (abandoned child), `alert`
 * does nothing more. Whatever `onDrift` says, a running optimizationLoop of the deployment
 * (`loop/<deployment>`) gets the `drift` signal (it starts a cycle). Continues as new every `iterationsPerRun` checks; `maxIterations` (0: never) ends it.
 */
import { continueAsNew, getExternalWorkflowHandle, ParentClosePolicy, patched, proxyActivities, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import { abortSignal, canaryWorkflowId } from '../contracts/canary';
import { driftSignal, loopWorkflowId } from '../contracts/optimization-loop';
import { checkCalibrationThresholds } from '../ml/calibration/thresholds';
import type { DriftMonitorActivities, DriftMonitorInput, DriftMonitorResult } from '../contracts/drift-monitor';

const { driftStartRun, driftCheck, driftAlert } = proxyActivities<DriftMonitorActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds' },
});

function num(name: string, v: unknown, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`driftMonitor: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

export async function driftMonitor(input: DriftMonitorInput): Promise<DriftMonitorResult> {
  if (typeof input?.deployment !== 'string' || input.deployment.length === 0) throw new Error(`driftMonitor: deployment must be a deployment name, got ${JSON.stringify(input?.deployment)}`);
  const interval = num('intervalSeconds', input.intervalSeconds, 600, 1);
  const windowSeconds = num('windowSeconds', input.windowSeconds, 3600, 1);
  const referenceSeconds = num('referenceSeconds', input.referenceSeconds, 86_400, 1);
  const perRun = num('iterationsPerRun', input.iterationsPerRun, 100, 1);
  const maxIterations = num('maxIterations', input.maxIterations, 0, 0);
  const onDrift = input.onDrift ?? 'alert';
  if (!['alert', 'abort-canary', 'retrain'].includes(onDrift)) throw new Error(`driftMonitor: onDrift must be alert, abort-canary or retrain, got ${JSON.stringify(onDrift)}`);
  if (onDrift === 'retrain' && typeof input.retrain?.workflowType !== 'string') throw new Error('driftMonitor: retrain.workflowType is required with onDrift: retrain (e.g. "ppoTraining")');
  const calibration = input.calibration === undefined ? undefined : checkCalibrationThresholds(input.calibration, 'driftMonitor: calibration');
  const { workflowId } = workflowInfo();
  const runId = input.runId ?? (await driftStartRun({ deployment: input.deployment, workflowId, config: { intervalSeconds: interval, windowSeconds, referenceSeconds, onDrift } }));
  let iteration = input.iteration ?? 0;
  let alerts = input.alerts ?? 0;
  const actions: string[] = [];
  for (let i = 0; i < perRun; i++) {
    if (maxIterations > 0 && iteration >= maxIterations) return { runId, iterations: iteration, alerts, actions };
    const report = await driftCheck({ deployment: input.deployment, runId, step: iteration, windowSeconds, referenceSeconds, params: input.params, calibration, alertsSoFar: alerts });
    iteration++;
    if (report.drift) {
      alerts++;
      const payload = { kind: 'drift', deployment: input.deployment, workflowId, runId, until: report.until, reasons: report.reasons, action: onDrift };
      if (input.webhook?.url) {
        await driftAlert({ url: input.webhook.url, timeoutMs: input.webhook.timeoutMs, payload });
        actions.push(`webhook ${input.webhook.url}`);
      }
      // Runs recorded before the loop existed replay without this signal.
      if (patched('drift-signals-loop')) {
        const loopId = loopWorkflowId(input.deployment);
        try {
          await getExternalWorkflowHandle(loopId).signal(driftSignal, { by: `driftMonitor:${workflowId}`, reasons: report.reasons });
          actions.push(`drift ${loopId}`);
        } catch {
          // no loop runs for this deployment
        }
      }
      if (onDrift === 'abort-canary') {
        const canaryId = canaryWorkflowId(input.deployment);
        try {
          await getExternalWorkflowHandle(canaryId).signal(abortSignal, { by: `driftMonitor:${workflowId}`, reason: `drift: ${report.reasons.join('; ')}` });
          actions.push(`abort ${canaryId}`);
        } catch {
          actions.push(`no running ${canaryId}`);
        }
      } else if (onDrift === 'retrain') {
        const child = await startChild(input.retrain!.workflowType, {
          workflowId: `retrain/${input.deployment}/${report.until}`,
          args: [input.retrain!.input ?? {}],
          ...(input.retrain!.taskQueue ? { taskQueue: input.retrain!.taskQueue } : {}),
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        actions.push(`started ${child.workflowId}`);
      }
    }
    await sleep(interval * 1000);
  }
  return continueAsNew<typeof driftMonitor>({ ...input, runId, iteration, alerts });
}
