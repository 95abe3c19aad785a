/**
 * The experimentDesign workflow's contract (R-USE-CASES, experiment design): Bayesian optimisation
 * over PPO hyperparameters or reward weights where one evaluation is one short `ppoTraining` child
 * run, with bad trials stopped early from their learning curves. Types and constant names only;
 * activities in activities/optimisers/experiments.ts.
 */
import { defineQuery } from '@temporalio/workflow';
import type { Config, Parameter } from '../ml/bo/space';
import type { EvaluationSettings } from './ppo-training';

export const EXPERIMENT_DESIGN_WORKFLOW_TYPE = 'experimentDesign';

/** The held-out figure of a child run that is maximised. */
export type ExperimentObjective = 'policyReward' | 'improvementVsBaseline' | 'improvementVsBestStatic';

export interface ExperimentDesignInput {
  /**
   * Parameters named by their path in the policy config: `ppo.<hyperparameter>` (e.g.
   * `ppo.learning_rate`) or `policy.reward_weights.<alpha|beta|gamma|delta|lambda>`. Default:
   * ppo.learning_rate (log, 1e-4–3e-3), ppo.ent_coef (0–0.05), ppo.clip_coef (0.1–0.3).
   */
  space?: Parameter[];
  /** Policy config (object) every trial starts from; the proposal's values are set into it. Default: the defaults file. */
  config?: Record<string, unknown>;
  env?: string;
  /** PPO iterations per trial (default 10: short runs). */
  iterations?: number;
  /** Rollout activities per iteration of each trial (default 2). */
  workers?: number;
  /** Trials in all (default 12) and trials running at once (default 3). */
  trials?: number;
  parallelism?: number;
  seed?: number;
  /**
   * The figure maximised (default policyReward). With reward-weight parameters each trial's reward
   * uses its own weights, so prefer improvementVsBaseline (relative to the static baseline under the
   * same weights).
   */
  objective?: ExperimentObjective;
  /** Median stopping rule (default) or none; checked every `checkSeconds` (default 5) from the trials' per-iteration returns. */
  stopping?: { rule?: 'median' | 'none'; gracePeriod?: number; minCompletedTrials?: number; checkSeconds?: number };
  /** Registry model of trial i: `<model>-t<i>` (default "experiment"). */
  model?: string;
  /** Passed to each child's held-out evaluation (smaller is faster). */
  evaluation?: Partial<EvaluationSettings>;
  actor?: string;
}

export interface ExperimentSetup {
  runId: string;
  workflowId: string;
  space: Parameter[];
  /** The base policy config as an object. */
  config: Record<string, unknown>;
  env: string;
  iterations: number;
  workers: number;
  trials: number;
  parallelism: number;
  seed: number;
  objective: ExperimentObjective;
  stopping: { rule: 'median' | 'none'; gracePeriod: number; minCompletedTrials: number; checkSeconds: number };
  model: string;
  evaluation: Partial<EvaluationSettings>;
  actor: string;
}

/** One proposal: the point of the space and the child's full policy config with it set. */
export interface ExperimentProposal {
  config: Config;
  policyConfig: Record<string, unknown>;
}

export interface ExperimentTrial {
  index: number;
  config: Config;
  childWorkflowId: string;
  /** The child's ppo run (its first execution's run id). */
  runId: string;
  status: 'succeeded' | 'stopped' | 'failed';
  /** The objective (null when the child failed). */
  value: number | null;
  iterations: number;
  model: string | null;
  version: number | null;
  error?: string;
}

export interface ExperimentProgress {
  phase: 'starting' | 'running' | 'reporting' | 'done';
  trials: number;
  running: number;
  stopped: number;
  best: number | null;
  bestConfig: Config | null;
}

export interface ExperimentReport {
  best: ExperimentTrial;
  trialsUri: string;
  convergenceSvg: string;
  learningCurvesSvg: string;
}

export interface ExperimentDesignResult extends ExperimentReport {
  runId: string;
  workflowId: string;
  trials: ExperimentTrial[];
}

export const experimentProgressQuery = defineQuery<ExperimentProgress>('progress');

/** The activities experimentDesign calls (task queue `training`). */
export interface ExperimentActivities {
  expStart(args: { input: ExperimentDesignInput; workflowId: string }): Promise<ExperimentSetup>;
  expPropose(args: { setup: ExperimentSetup; trials: ExperimentTrial[]; running: Config[]; q: number }): Promise<ExperimentProposal[]>;
  /** Reads the running and finished trials' learning curves and applies the stopping rule: the indices to stop now. */
  expCheck(args: { setup: ExperimentSetup; running: { index: number; runId: string }[]; finished: { index: number; runId: string }[] }): Promise<{ stop: number[] }>;
  expReport(args: { setup: ExperimentSetup; trials: ExperimentTrial[] }): Promise<ExperimentReport>;
  expFail(args: { runId: string; error: string }): Promise<void>;
}
