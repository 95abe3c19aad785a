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
}

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
}

export interface BudgetProgress {
  phase: 'gathering' | 'solving' | 'done' | 'failed';
}

export const budgetProgressQuery = defineQuery<BudgetProgress>('progress');

/** The activities budgetAllocation calls (task queue `rollout`). */
export interface BudgetActivities {
  /** The LP's data: the input's numbers, with demand/quality/cost read from the decision log where omitted. */
  budgetPrepare(args: { input: BudgetAllocationInput }): Promise<{ problem: AllocationProblem; sources: BudgetAllocationResult['sources'] }>;
  /** Solves with HiGHS and stores the result (also when infeasible, then fails naming the binding floors). */
  budgetSolve(args: { name: string; problem: AllocationProblem; workflowId: string; runId: string }): Promise<{ solutionId: number; allocation: Allocation; plotUri: string }>;
}
