/**
 * The budgetAllocation workflow's contract (R-USE-CASES, budget allocation): per-segment demand,
 * per-model quality and cost, floors and a budget → traffic shares and shadow prices (ml/lp, HiGHS).
 * Types and constant names only; activities in activities/optimisers/budget.ts.
 */
import { defineQuery } from '@temporalio/workflow';
import type { Allocation, AllocationProblem } from '../ml/lp/budget-allocation';

export const BUDGET_ALLOCATION_WORKFLOW_TYPE = 'budgetAllocation';

/** Which logged decisions belong to a segment: one deployment, optionally only decisions whose features match. */
export interface SegmentMatch {
  deployment: string;
  /** Feature values the decision's `features` must have (e.g. { tenant: "acme", category: "code" }). */
  features?: Record<string, string | number | boolean>;
}

export interface BudgetSegmentInput {
  name: string;
  /** D_s: requests in the period; omitted: counted in the decision log (`logged` and `match` needed). */
  demand?: number;
  /** F_s: the least mean quality the segment accepts. */
  qualityFloor?: number;
  match?: SegmentMatch;
}

export interface BudgetAllocationInput {
  /** The plan's name: every solve is stored under it (default "default"). */
  name?: string;
  segments: BudgetSegmentInput[];
  models: { name: string; fixedCost?: number }[];
  /** q_sm [segment][model]; omitted: the mean logged reward of the decisions each model (the arm) served in the segment. */
  quality?: number[][];
  /** c_sm [segment][model], in budget units per request; omitted: the mean logged reward component `costComponent`. */
  costPerRequest?: number[][];
  budget: number;
  available?: boolean[][];
  minShare?: number;
  maxActiveModels?: number;
  /**
   * Where demand, quality and cost are read from the decision log: the window [from, to) and the
   * factor from the window's request count to the period's demand (e.g. 30 for a day's log and a
   * monthly budget; default 1). `to` defaults to the time the activity runs, `from` to 24 h before.
   */
  logged?: { from?: string; to?: string; demandScale?: number; costComponent?: string; minRewards?: number };
  /** Write each solution into a bandit deployment's config (per-segment constraints and per-arm priors; default none). */
  applyTo?: BudgetApplyTarget | null;
  /** Solve rounds (default 1): each re-reads the log, re-solves and re-applies; 0 = until cancelled. */
  rounds?: number;
  /** Seconds between rounds (default 3600). */
  intervalSeconds?: number;
  /** Continue as new after this many rounds in one run (default 50), or earlier when Temporal suggests it (history ≥ maxHistoryEvents, default 10,000). */
  continueAsNewEvery?: number;
  maxHistoryEvents?: number;
  /** Who the deployment change is audited as (default "workflow:budgetAllocation"). */
  actor?: string;
  /** State carried by continueAsNew (set by the workflow itself, never by a person). */
  carried?: BudgetCarriedState;
}

/**
 * Where a solution goes: the bandit deployment `deployment`, whose arms include every model of the plan.
 * Its config gets `segments` (one rule per segment: the models available there are its arms, each capped
 * at min(1, share + headroom); arms outside the plan are not allowed) and `priors` (each model's mean
 * quality over the segments where it is available, weighted by their demand, worth `priorStrength`
 * observations), written as a new deployment generation (audited, optimistic on the generation read).
 */
export interface BudgetApplyTarget {
  deployment: string;
  /** The decide request's features field naming the segment (default "segment"); its values are the plan's segment names. */
  segmentField?: string;
  /** Added to each share to give its cap (default 0.05, in [0, 1]): room for the bandit to learn. */
  headroom?: number;
  /** Observations each prior mean is worth (default 10; 0: no priors written). */
  priorStrength?: number;
  /** Requests of a segment the plan does not list (or naming none): refused (default) or served unconstrained. */
  unlisted?: 'refuse' | 'unconstrained';
}

/** What applying one solution did. */
export interface BudgetApplied {
  deployment: string;
  /** The deployment's generation after the write (unchanged when the config already held this solution). */
  generation: number;
  changed: boolean;
}

/** One solve round, as the final result lists it. */
export interface BudgetRoundSummary {
  round: number;
  solutionId: number;
  expectedQuality: number;
  cost: number;
  /** What one more unit of budget buys. */
  budgetShadowPrice: number;
  applied: BudgetApplied | null;
}

/** What a run hands the next one through continueAsNew. */
export interface BudgetCarriedState {
  /** Rounds done before this run. */
  roundsDone: number;
  /** The last rounds' summaries (at most BUDGET_ROUNDS_KEPT). */
  history: BudgetRoundSummary[];
  /** Runs continued so far. */
  continued: number;
}

/** How many round summaries the result keeps (older ones are in budget_solutions). */
export const BUDGET_ROUNDS_KEPT = 100;

export interface BudgetAllocationResult {
  name: string;
  workflowId: string;
  /** The id of the stored row in budget_solutions. */
  solutionId: number;
  problem: AllocationProblem;
  allocation: Allocation;
  /** The shares as an SVG in the artifact store. */
  plotUri: string;
  /** Where each number came from: "given" or "decision log [from, to)". */
  sources: { demand: string; quality: string; cost: string };
  /** The last solution written into the `applyTo` deployment (absent in runs recorded before applyTo). */
  applied?: BudgetApplied | null;
  /** Every round of the workflow, oldest first (the last BUDGET_ROUNDS_KEPT), across continueAsNew. */
  rounds?: BudgetRoundSummary[];
  /** Runs the workflow continued as new. */
  continued?: number;
}

export interface BudgetProgress {
  phase: 'gathering' | 'solving' | 'applying' | 'waiting' | 'done' | 'failed';
  /** Rounds done so far (all runs). */
  round?: number;
}

export const budgetProgressQuery = defineQuery<BudgetProgress>('progress');

/** The activities budgetAllocation calls (task queue `rollout`). */
export interface BudgetActivities {
  /** The LP's data: the input's numbers, with demand/quality/cost read from the decision log where omitted. */
  budgetPrepare(args: { input: BudgetAllocationInput }): Promise<{ problem: AllocationProblem; sources: BudgetAllocationResult['sources'] }>;
  /** Solves with HiGHS and stores the result (also when infeasible, then fails naming the binding floors). */
  budgetSolve(args: { name: string; problem: AllocationProblem; workflowId: string; runId: string }): Promise<{ solutionId: number; allocation: Allocation; plotUri: string }>;
  /** Writes a solution into the bandit deployment `applyTo` names (per-segment constraints and priors), audited. */
  budgetApply(args: { name: string; workflowId: string; solutionId: number; problem: AllocationProblem; allocation: Allocation; applyTo: BudgetApplyTarget; actor: string }): Promise<BudgetApplied>;
}
