/**
 * The parameterTuning workflow's contract (R-USE-CASES, parameter tuning): its input (one plain JSON
 * object), progress query, result and the activities it calls (`TuningActivities`, implemented by
 * activities/optimisers/tuning.ts). Types and constant names only; the optimiser is ml/bo.
 */
import { defineQuery } from '@temporalio/workflow';
import type { Config, Parameter } from '../ml/bo/space';
import type { PartialDependence } from '../ml/bo/partial-dependence';

export const PARAMETER_TUNING_WORKFLOW_TYPE = 'parameterTuning';

/** Where the best config is written: a deployment's static (fallback) config, or a new bandit arm. */
export interface ApplyTarget {
  deployment: string;
  /** 'fallback' (default): the deployment's static config; 'bandit-arm': an arm whose payload is the config. */
  as?: 'fallback' | 'bandit-arm';
  /** Name of the arm (default `tuned-<first 8 of the workflow id>`). */
  arm?: string;
}

export interface ParameterTuningInput {
  /**
   * The search space: ml/bo parameters named after RAG config fields (variant, k, rerank,
   * fusion_weight, prompt_id). Default: every field over the policy config's bounds. Fields left out
   * keep the policy config's baseline value.
   */
  space?: Parameter[];
  /** The objective: `simulator` (default) or `http:URL` (a system serving `POST /tuner/evaluate`). */
  objective?: string;
  /** Dataset whose category mix the evaluation batches follow (default the first of the policy config). */
  dataset?: string;
  /** Batches per evaluation, spread over the dataset's categories by its mix (default 6). */
  batchesPerEvaluation?: number;
  /** Questions per batch (default the policy config's environment.batch_size). */
  batchSize?: number;
  /** Most evaluations (default 30) and most evaluation cost in USD (default none). */
  budget?: { evaluations?: number; costUsd?: number };
  /** Evaluations run in parallel, q (default 4). */
  parallelism?: number;
  /** Seed of the proposals and of the evaluation batches (default 0). */
  seed?: number;
  /** Uniform random configs before the GP takes over (default max(5, encoded dimension + 1)). */
  initialDesign?: number;
  /** Acquisition function (default ei). */
  acquisition?: 'ei' | 'ucb';
  /** Evaluate the policy config's baseline first, so the result says how much tuning gained (default true). */
  evaluateBaseline?: boolean;
  /** Write the best config to a deployment once done (default none). */
  applyTo?: ApplyTarget | null;
  actor?: string;
}

/** The input with every default filled in (settled by `tuningStart`). */
export interface TuningSetup {
  runId: string;
  workflowId: string;
  space: Parameter[];
  objective: string;
  dataset: string;
  batchesPerEvaluation: number;
  batchSize: number;
  budget: { evaluations: number; costUsd: number | null };
  parallelism: number;
  seed: number;
  initialDesign: number;
  acquisition: 'ei' | 'ucb';
  evaluateBaseline: boolean;
  /** The policy config's baseline as a point of the space. */
  baseline: Config;
  applyTo: ApplyTarget | null;
  actor: string;
}

export interface TuningTrial {
  /** 0-based, in the order evaluations were started. */
  index: number;
  config: Config;
  /** Mean seed-002 reward over the evaluation's batches. */
  value: number;
  /** USD spent by the evaluation's requests. */
  cost: number;
  /** True for the baseline evaluated first (it is told to the optimiser like any trial). */
  baseline: boolean;
  /** Mean faithfulness, relevancy and p95 latency of the batches (for the report). */
  metrics: Record<string, number>;
}

export interface TuningProgress {
  phase: 'starting' | 'evaluating' | 'reporting' | 'applying' | 'done';
  evaluations: number;
  running: number;
  budget: { evaluations: number; costUsd: number | null } | null;
  costUsd: number;
  best: number | null;
  bestConfig: Config | null;
  baseline: number | null;
}

export interface TuningReport {
  best: TuningTrial;
  baseline: TuningTrial | null;
  trialsUri: string;
  convergenceSvg: string;
  partialDependenceSvg: string;
  partialDependence: PartialDependence[];
}

export interface ParameterTuningResult extends TuningReport {
  runId: string;
  workflowId: string;
  evaluations: number;
  costUsd: number;
  /** best.value − baseline.value (null without a baseline). */
  improvement: number | null;
  applied: { deployment: string; as: 'fallback' | 'bandit-arm'; arm: string | null; generation: number } | null;
}

export const tuningProgressQuery = defineQuery<TuningProgress>('progress');

/** The activities parameterTuning calls (task queue `training`). */
export interface TuningActivities {
  tuningStart(args: { input: ParameterTuningInput; workflowId: string }): Promise<TuningSetup>;
  /** Up to q new configs from the told trials and the running ones (ml/bo, deterministic in its inputs). */
  tuningPropose(args: { setup: TuningSetup; trials: TuningTrial[]; running: Config[]; q: number }): Promise<Config[]>;
  tuningEvaluate(args: { setup: TuningSetup; index: number; config: Config; baseline: boolean }): Promise<TuningTrial>;
  tuningReport(args: { setup: TuningSetup; trials: TuningTrial[] }): Promise<TuningReport>;
  tuningApply(args: { setup: TuningSetup; config: Config }): Promise<NonNullable<ParameterTuningResult['applied']>>;
  tuningFail(args: { runId: string; error: string }): Promise<void>;
}
