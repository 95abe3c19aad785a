/**
 * The ppoTraining workflow's contract: its input (one plain JSON object), progress query, stop
 * signal, result, the state it carries across continueAsNew, and the activities it calls
 * (`PpoActivities`, implemented by activities/ppo/activities.ts). Types and constant names only.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RagConfig } from '../envs/types';
import type { JsonObject } from './json';
import type { OfflineGateSettings, OfflineGateVerdict, RewardDeltaInterval } from '../canary/offline-gates';

/** The workflow type name. */
export const PPO_TRAINING_WORKFLOW_TYPE = 'ppoTraining';

export interface EvaluationSettings {
  /** Held-out episodes each candidate (the policy, the baseline, the shortlisted static configs) plays (default 32). */
  episodes: number;
  /** Episodes each grid config plays in the screening pass (default 2; the same seeds for every config). */
  screeningEpisodes: number;
  /** Static configs re-evaluated on all held-out episodes after screening (default 5). */
  shortlist: number;
  /** Grid steps of k and of the fusion weight (defaults 4 and 0.25; 540 configs with the default bounds). */
  kStep: number;
  fusionStep: number;
}

export interface PpoTrainingInput {
  model?: string;
  config?: unknown;
  configPath?: string;
  env?: string;
  iterations?: number;
  seed?: number;
  workers?: number;
  continueAsNewEvery?: number;
  startCanary?: boolean;
  /**
   * Offline gates the registered version must pass before its canary starts (canary/offline-gates.ts;
   * defaults: reward-delta lower bound > 0, no hard-gate violation). A failing version is registered as
   * `rejected` with the reasons and no canary starts.
   */
  gates?: Partial<OfflineGateSettings>;
  /** Start the canary even when the offline gates fail (audited; search attribute AutopilotForced). Default false. */
  force?: boolean;
  evaluation?: Partial<EvaluationSettings>;
  timeouts?: { heartbeatSeconds?: number; activitySeconds?: number };
  actor?: string;
}

/** What `startRun` settles once per run; carried by the workflow through continueAsNew. */
export interface RunSetup {
  runId: string;
  workflowId: string;
  model: string;
  env: string;
  configUri: string;
  configHash: string;
  configSource: string;
  seed: number;
  iterations: number;
  workers: number;
  continueAsNewEvery: number;
  startCanary: boolean;
  /** Absent in runs started before offline gates existed (then: the defaults, not forced). */
  gates?: OfflineGateSettings;
  force?: boolean;
  evaluation: EvaluationSettings;
  codeCommit: string;
  datasetManifest: JsonObject;
  actor: string;
}

/** One iteration's metrics as the workflow keeps them (null where CleanRL has NaN: no episode ended). */
export interface IterationSummary {
  iteration: number;
  episodicReturn: number | null;
  episodes: number;
  approxKl: number | null;
  entropy: number | null;
  clipFraction: number | null;
  valueLoss: number | null;
  policyLoss: number | null;
  learningRate: number | null;
}

export interface RolloutResult {
  batchUri: string;
  steps: number;
  episodes: number;
  episodicReturnMean: number | null;
}

export interface CandidateStats {
  label: string;
  /** The static config (absent for the policy). */
  config?: RagConfig;
  episodes: number;
  steps: number;
  /** Mean reward per step. */
  reward: number;
  /** Mean sum of rewards per episode. */
  episodicReturn: number;
  faithfulness: number;
  relevancy: number;
  /** (faithfulness + relevancy) / 2. */
  quality: number;
  costUsd: number;
  latencyP95Ms: number;
  /** Steps where at least one hard gate (F, R, p95 latency, error rate) failed. */
  gateViolations: number;
}

export interface EvaluationSummary {
  evaluationUri: string;
  chosen: string;
  checkpointUri: string;
  policy: CandidateStats;
  candidates: CandidateStats[];
  baseline: CandidateStats;
  bestStatic: CandidateStats;
  improvementVsBaseline: number;
  improvementVsBestStatic: number;
  /** Paired bootstrap interval of (policy − baseline) reward per step on the held-out episodes. */
  rewardDelta: RewardDeltaInterval;
}

export interface TrainingOutcome {
  iterations: number;
  stopped: boolean;
  finalReward: number | null;
  bestReward: number | null;
  bestIteration: number | null;
}

export interface RegisteredVersion {
  model: string;
  version: number;
  artifactUri: string;
  sha256: string;
  metrics: Record<string, number>;
}

export interface ReportUris {
  summaryCsv: string;
  configsCsv: string | null;
  svg: string;
}

export type PpoPhase = 'starting' | 'training' | 'evaluating' | 'reporting' | 'registering' | 'done' | 'failed';

export interface PpoProgress {
  runId: string | null;
  model: string | null;
  phase: PpoPhase;
  /** Iterations completed (updates applied). */
  iteration: number;
  /** Iterations planned (null until the run is set up). */
  iterations: number | null;
  /** Mean episodic return of the last iteration's rollouts (null before one ended). */
  episodicReturnMean: number | null;
  /** Best of those so far, and the iteration it was measured in. */
  best: number | null;
  bestIteration: number | null;
  approxKl: number | null;
  entropy: number | null;
  clipFraction: number | null;
  /** Milliseconds since the run started (across continueAsNew). */
  elapsedMs: number;
  stopRequested: boolean;
  checkpointUri: string | null;
  /** Set once the version is registered. */
  result: PpoTrainingResult | null;
}

export interface PpoTrainingResult {
  runId: string;
  workflowId: string;
  model: string;
  version: number;
  artifactUri: string;
  iterations: number;
  stopped: boolean;
  /** `final` or `best`: which checkpoint was exported (the better on held-out episodes). */
  exported: string;
  checkpointUri: string;
  evaluation: {
    policyReward: number;
    baselineReward: number;
    bestStaticReward: number;
    improvementVsBaseline: number;
    improvementVsBestStatic: number;
    gateViolations: number;
  };
  report: ReportUris;
  /** The offline gates' verdict (absent in runs from before them). */
  offlineGates?: OfflineGateVerdict;
  /** The canary started although the offline gates failed (input `force`). */
  forced?: boolean;
  /**
   * With startCanary: the canaryPromotion child (abandoned on close, so it outlives this run); `started: false`
   * with `error` when the offline gates refused it or the start failed.
   */
  canary: { workflowId: string; started: boolean; error?: string } | null;
  elapsedMs: number;
}

/** What continueAsNew carries to the next run of the workflow. */
export interface PpoTrainingState {
  run: RunSetup;
  iteration: number;
  checkpointUri: string;
  best: { iteration: number; episodicReturn: number; checkpointUri: string } | null;
  last: IterationSummary | null;
  startedAtMs: number;
  stopRequested: boolean;
}

export const progressQuery = defineQuery<PpoProgress>('progress');

export const stopSignal = defineSignal('stop');

/** The activities ppoTraining calls (task queue `training`). */
export interface PpoActivities {
  startRun(args: { input: PpoTrainingInput; runId: string; workflowId: string }): Promise<RunSetup>;
  initPolicy(args: { runId: string; configUri: string; env: string }): Promise<{ checkpointUri: string; observationSize: number; parameters: number }>;
  rollout(args: { runId: string; configUri: string; env: string; checkpointUri: string; iteration: number; envIndex: number }): Promise<RolloutResult>;
  update(args: { runId: string; configUri: string; checkpointUri: string; batchUris: string[]; iteration: number }): Promise<{ checkpointUri: string; summary: IterationSummary }>;
  evaluate(args: {
    runId: string;
    configUri: string;
    env: string;
    seed: number;
    candidates: { label: string; checkpointUri: string }[];
    evaluation: EvaluationSettings;
  }): Promise<EvaluationSummary>;
  writeReport(args: { runId: string; model: string; evaluationUri: string | null }): Promise<ReportUris>;
  exportAndRegister(args: {
    run: RunSetup;
    checkpointUri: string;
    training: TrainingOutcome;
    evaluation: EvaluationSummary;
    report: ReportUris;
  }): Promise<RegisteredVersion>;
  finishRun(args: { runId: string; status: 'succeeded' | 'failed' | 'cancelled'; summary?: object; error?: string }): Promise<void>;
  /**
   * Records the offline gates' verdict on the version: failed → status `rejected` with the reasons (audited);
   * failed but forced → the version stays `registered` (deployable) and an audit row `canary.forced` names the
   * actor and the reasons; passed → nothing.
   */
  recordGateVerdict(args: { model: string; version: number; verdict: OfflineGateVerdict; forced: boolean; actor: string; runId: string }): Promise<void>;
}
