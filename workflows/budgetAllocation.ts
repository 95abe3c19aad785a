/**
 * `budgetAllocation`: traffic shares per segment and model that maximise expected quality within a
 * budget and per-segment quality floors (R-USE-CASES, budget allocation). Task queue `rollout`.
 *
 *   budgetPrepare (demand, quality, cost: given or read from the decision log) → budgetSolve (HiGHS,
 *   stored in budget_solutions with the shadow prices) → result
 *
 * One solve per run and no loop, so a Temporal Schedule re-solves it (`autopilot budget solve
 * --every 1h`); an infeasible plan is stored too and fails the run with the binding floors named.
 */
import { proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { budgetProgressQuery, type BudgetActivities, type BudgetAllocationInput, type BudgetAllocationResult, type BudgetProgress } from '../contracts/budget-allocation';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';

const { budgetPrepare, budgetSolve } = proxyActivities<BudgetActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['BudgetInputError', 'BudgetInfeasible'] },
});

export async function budgetAllocation(input: BudgetAllocationInput): Promise<BudgetAllocationResult> {
  const info = workflowInfo();
  const progress: BudgetProgress = { phase: 'gathering' };
  setHandler(budgetProgressQuery, () => progress);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'budget' }, { key: SEARCH_ATTRIBUTES.phase, value: 'gathering' }]);
  const name = input.name ?? 'default';
  const { problem, sources } = await budgetPrepare({ input });
  progress.phase = 'solving';
  try {
    const { solutionId, allocation, plotUri } = await budgetSolve({ name, problem, workflowId: info.workflowId, runId: info.runId });
    progress.phase = 'done';
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'done' }]);
    return { name, workflowId: info.workflowId, solutionId, problem, allocation, plotUri, sources };
  } catch (err) {
    progress.phase = 'failed';
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'failed' }]);
    throw err;
  }
}
