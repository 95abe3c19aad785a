/**
 * The offPolicyEvaluation workflow's contract: its input (one plain JSON object) and the input with
 * defaults filled in, the state it carries across continueAsNew, its progress query and result, and
 * the activities it calls (`OpeActivities`, implemented by activities/ope/activities.ts). Types and
 * constant names only; the estimators are in ml/ope.
 */
import { defineQuery } from '@temporalio/workflow';
import type { EstimatorName } from '../ml/ope/estimators';
import type { Interval } from '../ml/stats/bootstrap';
import type { WeightDiagnostics } from '../ml/ope/diagnostics';

/** The workflow type name. */
export const OFF_POLICY_EVALUATION_WORKFLOW_TYPE = 'offPolicyEvaluation';

export interface OffPolicyEvaluationInput {
  /** The deployment whose logged decisions are replayed. */
  deployment: string;
  /** Window start, ISO 8601, inclusive. */
  from: string;
  /** Window end, ISO 8601, exclusive. */
  to: string;
  /** The version evaluated (its ONNX artifact and policy signature come from the registry). */
  candidate: { model: string; version: number };
  /** Estimators to run, by OBP name. Default: all seven. */
  estimators?: EstimatorName[];
  /** The estimator whose paired difference decides the verdict. Default: dr when it runs, else snipw, else the first. */
  gateEstimator?: EstimatorName;
  /** Significance level of every interval. Default 0.05 (95% intervals). */
  alpha?: number;
  /** Bootstrap resamples per interval. Default 10,000 (enough for stable 95% percentile bounds). */
  nBootstrap?: number;
  /** Seed of the bootstrap and of the reward model's fold assignment. Default 0. */
  seed?: number;
  /** Logged decisions per scoring chunk (one registry page). Default 5,000; at most 50,000. */
  chunkSize?: number;
  /** Non-inferiority margin: the candidate may be this much worse than the logging policy and still pass. Default 0. */
  tolerance?: number;
  /** When set, pass only if the lower bound of the difference exceeds this (a superiority test). Default null. */
  minImprovement?: number | null;
  /** Importance-weight clipping λ of IPW and DR. Default ∞ (none). */
  clip?: number | null;
  /** λ of Switch-DR and DR-os. Default: the estimators' own defaults. */
  lambda?: number | null;
  /** Largest joint discrete action space `rewardModel: auto` fits one ridge per joint action for. Default 64. */
  maxJointActions?: number;
  /**
   * The reward model of DM and the DR family: `per-joint-action` (one cross-fitted ridge per joint
   * action; needs jointSize ≤ maxJointActions), `action-features` (one cross-fitted ridge on context ⊗
   * per-head action features, any size: ml/ope/action-features.ts), or `auto` (the first when the joint
   * space is ≤ maxJointActions, else the second). Default auto.
   */
  rewardModel?: 'auto' | 'per-joint-action' | 'action-features';
  /** An estimate whose weights' effective sample size is below this carries a `low_effective_sample_size` warning. Default 100. */
  minEffectiveSampleSize?: number;
  /** Cross-fitting folds of the ridge reward model. Default 5. */
  nFolds?: number;
  /** Chunks scored per workflow run before it continues as new. Default 500. */
  chunksPerRun?: number;
  /** Keep the scored chunks in the artifact store after the report is written. Default false. */
  keepChunks?: boolean;
  /** Who the evaluation is recorded for in the audit log. Default "workflow:offPolicyEvaluation". */
  actor?: string;
}

/** The input with every default filled in. */
export interface OpeConfig {
  deployment: string;
  from: string;
  to: string;
  candidate: { model: string; version: number };
  estimators: EstimatorName[];
  gateEstimator: EstimatorName | null;
  alpha: number;
  nBootstrap: number;
  seed: number;
  chunkSize: number;
  tolerance: number;
  minImprovement: number | null;
  clip: number | null;
  lambda: number | null;
  maxJointActions: number;
  nFolds: number;
  chunksPerRun: number;
  keepChunks: boolean;
  actor: string;
  /** Absent in configs resolved before it existed (then: auto). */
  rewardModel?: 'auto' | 'per-joint-action' | 'action-features';
  /** Absent in configs resolved before it existed (then: 100). */
  minEffectiveSampleSize?: number;
}

export type OpeVerdict = 'pass' | 'fail' | 'inconclusive';

export interface EstimateRow extends Interval {
  /** Paired-bootstrap interval of V̂(candidate) − V(logging policy) with this estimator. */
  diff: Interval;
  /**
   * When its assumptions fail: effective sample size of the weights it uses, the candidate's mass on
   * actions the logs never allowed (no support), and warnings (ml/ope/diagnostics.ts). Absent in
   * results of evaluations run before diagnostics existed.
   */
  diagnostics?: WeightDiagnostics;
}

/** Why a logged decision was left out of the evaluation. */
/** Why a logged row cannot be a round of the evaluation. */
export type SkipReason = 'no_propensity' | 'features_invalid' | 'action_not_in_candidate_space';

/** The candidate's action space as the report shows it. */
export interface OpeActionSpaceSummary {
  discreteHeads: { name: string; kind: string; size: number }[];
  excludedContinuousHeads: string[];
  jointSize: number;
  enumerated: boolean;
  /** The reward model DM and the DR family use here (absent: per-joint-action, the only one before). */
  rewardModel?: 'per-joint-action' | 'action-features';
}

/** The gate decision: the gate estimator's paired difference against the margins, and the verdict. */
export interface OpeGate {
  estimator: EstimatorName;
  diff: Interval;
  tolerance: number;
  minImprovement: number | null;
  verdict: OpeVerdict;
  reason: string;
}

export interface PreparedEvaluation {
  config: OpeConfig;
  /** Artifact-store prefix of this evaluation: chunks, manifests and the report live under it. */
  runPrefix: string;
  candidate: { model: string; version: number; sha256: string };
  actionSpace: OpeActionSpaceSummary;
  /** Width of the candidate's input (the logged features). */
  observationSize: number;
  /** Estimators that will run, in the order asked. */
  estimators: EstimatorName[];
  skippedEstimators: Partial<Record<EstimatorName, string>>;
  gateEstimator: EstimatorName;
}

export interface ChunkRef {
  uri: string;
  sha256: string;
  rounds: number;
}

export interface ScoreChunkResult {
  chunk: ChunkRef;
  /** Rewarded decisions read from the registry for this chunk. */
  read: number;
  skipped: Record<SkipReason, number>;
  /** Cursor of the next page; null when the window is exhausted. */
  nextCursor: string | null;
}

export interface OpeOutcome {
  verdict: OpeVerdict;
  reason: string;
  gate: OpeGate;
  nRounds: number;
  logging: Interval;
  estimates: Partial<Record<EstimatorName, EstimateRow>>;
  skippedEstimators: Partial<Record<EstimatorName, string>>;
  reportUri: string;
  csvUri: string;
  svgUri: string;
  evaluationId: string;
  /** Every estimator's warnings, prefixed by its name (empty when no assumption visibly failed). Absent in older results. */
  warnings?: string[];
}

/** Carried across continueAsNew; absent when a person starts the workflow. */
export interface OpeResumeState {
  prepared: PreparedEvaluation;
  workflowId: string;
  cursor: string | null;
  /** Number of the next chunk. */
  seq: number;
  /** Manifest URIs of the chunks scored by earlier runs. */
  manifests: string[];
  totals: { read: number; rounds: number; skipped: Record<string, number> };
  /** Runs before this one. */
  runs: number;
}

export type OffPolicyEvaluationArgs = OffPolicyEvaluationInput & { resume?: OpeResumeState };

export interface OpeProgress {
  phase: 'preparing' | 'scoring' | 'estimating' | 'cleaning-up' | 'done';
  chunks: number;
  roundsRead: number;
  roundsScored: number;
  skipped: Record<string, number>;
  /** Workflow runs so far (1 + continueAsNew count). */
  runs: number;
  verdict: OpeOutcome['verdict'] | null;
}

export interface OffPolicyEvaluationResult extends OpeOutcome {
  workflowId: string;
  chunks: number;
  runs: number;
  roundsRead: number;
  skipped: Record<string, number>;
}

export const progressQuery = defineQuery<OpeProgress>('progress');

/** The activities offPolicyEvaluation calls (task queue `rollout`). */
export interface OpeActivities {
  opePrepare(args: { input: OffPolicyEvaluationInput; workflowId: string; firstRunId: string }): Promise<PreparedEvaluation>;
  opeScoreChunk(args: { config: OpeConfig; candidateSha256: string; runPrefix: string; seq: number; cursor: string | null }): Promise<ScoreChunkResult>;
  opeWriteManifest(args: { runPrefix: string; segment: number; chunks: ChunkRef[] }): Promise<string>;
  opeEstimate(args: {
    prepared: PreparedEvaluation;
    workflowId: string;
    manifests: string[];
    chunks: ChunkRef[];
    totals: { read: number; skipped: Record<string, number> };
  }): Promise<OpeOutcome>;
  opeCleanupChunks(args: { runPrefix: string }): Promise<{ deleted: number }>;
}
