/**
 * `offPolicyEvaluation`: how good would the candidate version have been on the decisions a deployment
 * actually logged? Runs on the `rollout` queue.
 *
 *   opePrepare → opeScoreChunk × pages (one registry page each, cursor-driven) → opeEstimate → opeCleanupChunks
 *
 * Every number comes from an activity; the workflow only carries the cursor, counts and chunk URIs.
 * After `chunksPerRun` chunks (default 500) the run writes its chunk list as a manifest artifact and
 * continues as new, carrying the manifest URIs instead of the chunk list, so history stays small for
 * any window. The result is the verdict a canary can gate on: pass | fail | inconclusive, with the
 * estimates and the report URIs. Query `progress` for rounds and chunks scored so far.
 */
import { continueAsNew, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  progressQuery,
  type ChunkRef,
  type OffPolicyEvaluationArgs,
  type OffPolicyEvaluationResult,
  type OpeActivities,
  type OpeProgress,
  type OpeResumeState,
} from '../contracts/off-policy-evaluation';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';

const NON_RETRYABLE = ['OpeInputError', 'NoRounds', 'CandidateChanged', 'OpeEstimatorFailed'];

const { opePrepare, opeWriteManifest, opeCleanupChunks } = proxyActivities<OpeActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});
const { opeScoreChunk } = proxyActivities<OpeActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});
const { opeEstimate } = proxyActivities<OpeActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '10 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

export async function offPolicyEvaluation(args: OffPolicyEvaluationArgs): Promise<OffPolicyEvaluationResult> {
  const { resume, ...input } = args;
  const info = workflowInfo();
  const progress: OpeProgress = {
    phase: 'preparing',
    chunks: resume?.seq ?? 0,
    roundsRead: resume?.totals.read ?? 0,
    roundsScored: resume?.totals.rounds ?? 0,
    skipped: { ...(resume?.totals.skipped ?? {}) },
    runs: (resume?.runs ?? 0) + 1,
    verdict: null,
  };
  setHandler(progressQuery, () => progress);
  const setPhase = (phase: OpeProgress['phase']): void => {
    progress.phase = phase;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: phase }]);
  };
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.runKind, value: 'ope' },
    ...(typeof input.candidate?.model === 'string' ? [{ key: SEARCH_ATTRIBUTES.model, value: input.candidate.model }] : []),
    ...(Number.isInteger(input.candidate?.version) ? [{ key: SEARCH_ATTRIBUTES.version, value: input.candidate.version }] : []),
  ]);
  setPhase('preparing');

  const workflowId = resume?.workflowId ?? info.workflowId;
  const prepared = resume?.prepared ?? (await opePrepare({ input, workflowId, firstRunId: info.firstExecutionRunId }));
  const { config, runPrefix } = prepared;
  let cursor = resume?.cursor ?? null;
  let seq = resume?.seq ?? 0;
  const manifests = [...(resume?.manifests ?? [])];
  const chunks: ChunkRef[] = [];

  setPhase('scoring');
  for (;;) {
    const r = await opeScoreChunk({ config, candidateSha256: prepared.candidate.sha256, runPrefix, seq, cursor });
    chunks.push(r.chunk);
    seq++;
    progress.chunks = seq;
    progress.roundsRead += r.read;
    progress.roundsScored += r.chunk.rounds;
    for (const [k, v] of Object.entries(r.skipped)) progress.skipped[k] = (progress.skipped[k] ?? 0) + v;
    cursor = r.nextCursor;
    if (cursor === null) break;
    if (chunks.length >= config.chunksPerRun || workflowInfo().continueAsNewSuggested) {
      manifests.push(await opeWriteManifest({ runPrefix, segment: manifests.length, chunks }));
      const state: OpeResumeState = {
        prepared, workflowId, cursor, seq, manifests,
        totals: { read: progress.roundsRead, rounds: progress.roundsScored, skipped: progress.skipped },
        runs: progress.runs,
      };
      await continueAsNew<typeof offPolicyEvaluation>({ ...input, resume: state });
    }
  }

  setPhase('estimating');
  const outcome = await opeEstimate({
    prepared,
    workflowId,
    manifests,
    chunks,
    totals: { read: progress.roundsRead, skipped: progress.skipped },
  });
  progress.verdict = outcome.verdict;
  if (!config.keepChunks) {
    setPhase('cleaning-up');
    await opeCleanupChunks({ runPrefix });
  }
  setPhase('done');
  return { ...outcome, workflowId, chunks: seq, runs: progress.runs, roundsRead: progress.roundsRead, skipped: progress.skipped };
}
