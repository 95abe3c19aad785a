/**
 * `banditSnapshot`: a long-running workflow per bandit deployment. Every `intervalSeconds` it
 * snapshots the learner state shared in Redis into a registry version (format `json`: hyperparameters
 * and sufficient statistics, for lineage, rollback and OPE) when the state moved since the last
 * snapshot, and records cumulative reward and regret estimates as run metrics (`bandit/…`).
 * It continues as new every `iterationsPerRun` iterations to keep its history short; `maxIterations`
 * (0: forever) ends it, finishing the run.
 */
import { continueAsNew, proxyActivities, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { BanditSnapshotActivities, BanditSnapshotInput, BanditSnapshotResult } from '../contracts/bandit-snapshot';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';

const { banditStartRun, banditSnapshotStep, banditFinishRun } = proxyActivities<BanditSnapshotActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds' },
});

function positiveInt(name: string, v: unknown, dflt: number, allowZero = false): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw new Error(`banditSnapshot: ${name} must be an integer >= ${allowZero ? 0 : 1}, got ${JSON.stringify(v)}`);
  return v;
}

export async function banditSnapshot(input: BanditSnapshotInput): Promise<BanditSnapshotResult> {
  if (typeof input?.deployment !== 'string' || input.deployment.length === 0) throw new Error(`banditSnapshot: deployment must be the name of a bandit deployment, got ${JSON.stringify(input?.deployment)}`);
  const interval = positiveInt('intervalSeconds', input.intervalSeconds, 300);
  const perRun = positiveInt('iterationsPerRun', input.iterationsPerRun, 100);
  const maxIterations = positiveInt('maxIterations', input.maxIterations, 0, true);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'bandit-snapshot' }, { key: SEARCH_ATTRIBUTES.model, value: input.deployment }]);
  const { workflowId } = workflowInfo();
  const runId = input.runId ?? (await banditStartRun({ deployment: input.deployment, workflowId, config: { intervalSeconds: interval, iterationsPerRun: perRun, maxIterations } }));
  let lastSeq = input.lastSeq ?? -1;
  let iteration = input.iteration ?? 0;
  const versions = [...(input.versions ?? [])];
  for (let i = 0; i < perRun; i++) {
    if (maxIterations > 0 && iteration >= maxIterations) {
      const summary = { iterations: iteration, lastSeq, versions: versions.slice(-20) };
      await banditFinishRun({ runId, summary });
      return { runId, ...summary };
    }
    await sleep(interval * 1000);
    const r = await banditSnapshotStep({ deployment: input.deployment, runId, step: iteration, lastSeq, workflowId });
    lastSeq = r.seq;
    if (r.version !== null) versions.push(r.version);
    iteration++;
  }
  return continueAsNew<typeof banditSnapshot>({ ...input, runId, lastSeq, iteration, versions: versions.slice(-20) });
}
