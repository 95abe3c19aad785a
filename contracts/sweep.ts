/**
 * The sweep workflow's contract (seed 002 §8 ablations, #21 item 7): PPO over a grid of reward
 * weights × feature-head ablations, each cell a child `ppoTraining` run on the training queue, in
 * parallel, then one comparison report (table + Pareto plot of quality vs cost across runs).
 * Types and constant names only.
 */
import { defineQuery } from '@temporalio/workflow';
import type { EvaluationSettings } from './ppo-training';

export const SWEEP_WORKFLOW_TYPE = 'sweep';

/**
 * What a cell can ablate:
 *   none        the full policy
 *   no-context  a feature ablation: environment.contextual = false, so the observation shows the
 *               category just evaluated instead of the next batch's (the context feature removed)
 * Head ablations (`drop:<head>`: one action head fixed) are named so a request for one gets a clear
 * refusal: the trainer's action space needs ≥ 2 choices / min < max per head (ml/rl policy spec), so
 * removing a head needs support in envs/rag-env.ts and ml/rl first; discrete vs continuous k likewise
 * (k is an integer head only).
 */
export const ABLATIONS = ['none', 'no-context'] as const;
export type Ablation = (typeof ABLATIONS)[number];
export const UNSUPPORTED_HEAD_ABLATIONS = ['drop:variant', 'drop:k', 'drop:rerank', 'drop:fusion_weight', 'drop:prompt_id', 'continuous:k'] as const;

export interface RewardWeightsInput {
  alpha?: number;
  beta?: number;
  gamma?: number;
  delta?: number;
  lambda?: number;
}

export interface SweepInput {
  /** Names the sweep's models `<name>-<cell>` (default `sweep`). */
  name?: string;
  /** The base policy config inline, or a YAML path as the worker sees it (ppoTraining's rules). */
  config?: unknown;
  configPath?: string;
  env?: string;
  iterations?: number;
  workers?: number;
  seed?: number;
  evaluation?: Partial<EvaluationSettings>;
  timeouts?: { heartbeatSeconds?: number; activitySeconds?: number };
  /** The reward-weight grid: each entry overrides policy.reward_weights (default `[{}]`: the base weights). */
  rewardWeights?: RewardWeightsInput[];
  /** The ablation grid (default `['none']`). */
  ablations?: Ablation[];
  /** Child runs at a time (default: all at once). */
  parallel?: number;
  actor?: string;
}

/** One cell of the grid, with the inline policy config its child trains on. */
export interface SweepCell {
  index: number;
  label: string;
  rewardWeights: Required<RewardWeightsInput>;
  ablation: Ablation;
  model: string;
  config: unknown;
}

export interface SweepPlan {
  workflowId: string;
  cells: SweepCell[];
  env: string;
  iterations?: number;
  workers?: number;
  seed: number;
  evaluation?: Partial<EvaluationSettings>;
  timeouts?: { heartbeatSeconds?: number; activitySeconds?: number };
  parallel: number;
  actor: string;
}

export interface SweepOutcome {
  index: number;
  label: string;
  childWorkflowId: string;
  model: string;
  version: number | null;
  error?: string;
}

export interface SweepRow {
  label: string;
  ablation: Ablation;
  rewardWeights: Required<RewardWeightsInput>;
  model: string;
  version: number | null;
  childWorkflowId: string;
  /** Held-out metrics of the registered policy (null when the run failed). */
  quality: number | null;
  costUsd: number | null;
  policyReward: number | null;
  baselineReward: number | null;
  improvementVsBaseline: number | null;
  latencyP95Ms: number | null;
  gateViolations: number | null;
  pareto: boolean;
  error?: string;
}

export interface SweepReport {
  rows: SweepRow[];
  /** Labels of the Pareto-optimal runs (quality ↑, cost ↓), in increasing cost. */
  pareto: string[];
  uris: { csv: string; json: string; svg: string };
}

export interface SweepResult extends SweepReport {
  workflowId: string;
  succeeded: number;
  failed: number;
}

export interface SweepProgress {
  phase: 'planning' | 'running' | 'reporting' | 'done';
  total: number;
  running: number;
  finished: number;
  failed: number;
}

export const sweepProgressQuery = defineQuery<SweepProgress>('progress');

/** Activities of the sweep (task queue `training`, activities/sweep/activities.ts). */
export interface SweepActivities {
  planSweep(args: { input: SweepInput; workflowId: string }): Promise<SweepPlan>;
  writeSweepReport(args: { workflowId: string; cells: SweepCell[]; outcomes: SweepOutcome[] }): Promise<SweepReport>;
}
