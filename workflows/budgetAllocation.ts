/**
 * `budgetAllocation`: traffic shares per segment and model that maximise expected quality within a
 * budget and per-segment quality floors (R-USE-CASES, budget allocation). Task queue `rollout`.
 *
 *   budgetPrepare (demand, quality, cost: given or read from the decision log) → budgetSolve (HiGHS,
 *   stored in budget_solutions with the shadow prices) → result
 *
 *   (rounds > 1: … → [budgetApply] → sleep intervalSeconds → budgetPrepare → …, continuing as new
 *   every `continueAsNewEvery` rounds or when the history grows, with the rounds done carried over)
 *
 * By default one solve per run, so a Temporal Schedule re-solves it (`autopilot budget solve --every 1h`);
 * `rounds` makes one workflow re-solve on its own timer. With `applyTo`, each solution is written into a
 * bandit deployment's config (per-segment arm constraints and per-arm priors, budgetApply). An infeasible
 * plan is stored too and fails the run with the binding floors named.
 *
 * Runs started before rounds/applyTo existed replay on the single-solve path (`patched(ROUNDS_PATCH)`).
 */
import { continueAsNew, patched, proxyActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo, ApplicationFailure } from '@temporalio/workflow';
import {
  BUDGET_ROUNDS_KEPT, budgetProgressQuery, type BudgetActivities, type BudgetAllocationInput, type BudgetAllocationResult, type BudgetApplied, type BudgetProgress, type BudgetRoundSummary,
} from '../contracts/budget-allocation';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';

const { budgetPrepare, budgetSolve, budgetApply } = proxyActivities<BudgetActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['BudgetInputError', 'BudgetInfeasible', 'BudgetApplyError'] },
});

/** The change id of the rounds/applyTo/continueAsNew path. */
export const ROUNDS_PATCH = 'budget-allocation-rounds-apply';

function inputError(field: string, value: unknown, expected: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'BudgetInputError', nonRetryable: true, message: `${field}: got ${JSON.stringify(value)}, expected ${expected}` });
}

function count(value: unknown, field: string, dflt: number, min: number): number {
  const v = value ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw inputError(field, value, `an integer ≥ ${min}`);
  return v;
}

export async function budgetAllocation(input: BudgetAllocationInput): Promise<BudgetAllocationResult> {
  if (!patched(ROUNDS_PATCH)) return budgetAllocationSingle(input);
  const info = workflowInfo();
  const carried = input.carried ?? { roundsDone: 0, history: [], continued: 0 };
  const rounds = count(input.rounds, 'rounds', 1, 0);
  const every = count(input.continueAsNewEvery, 'continueAsNewEvery', 50, 1);
  const maxEvents = count(input.maxHistoryEvents, 'maxHistoryEvents', 10_000, 1);
  const intervalSeconds = input.intervalSeconds ?? 3600;
  if (typeof intervalSeconds !== 'number' || !(intervalSeconds >= 0)) throw inputError('intervalSeconds', input.intervalSeconds, 'a number of seconds ≥ 0');
  if (input.applyTo !== undefined && input.applyTo !== null && (typeof input.applyTo !== 'object' || typeof input.applyTo.deployment !== 'string')) throw inputError('applyTo', input.applyTo, '{ deployment, segmentField?, headroom?, priorStrength?, unlisted? }');
  const name = input.name ?? 'default';
  const actor = input.actor ?? 'workflow:budgetAllocation';
  const progress: BudgetProgress = { phase: 'gathering', round: carried.roundsDone };
  setHandler(budgetProgressQuery, () => progress);
  const phase = (p: BudgetProgress['phase']) => {
    progress.phase = p;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: p }]);
  };
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'budget' }, { key: SEARCH_ATTRIBUTES.phase, value: 'gathering' }]);

  const history: BudgetRoundSummary[] = [...carried.history];
  let roundsDone = carried.roundsDone;
  let thisRun = 0;
  let last: Omit<BudgetAllocationResult, 'name' | 'workflowId' | 'rounds' | 'continued'> | null = null;
  while (rounds === 0 || roundsDone < rounds) {
    if (thisRun > 0) {
      const now = workflowInfo();
      if (thisRun >= every || now.continueAsNewSuggested || now.historyLength >= maxEvents) {
        await continueAsNew<typeof budgetAllocation>({ ...input, carried: { roundsDone, history, continued: carried.continued + 1 } });
      }
    }
    if (roundsDone > 0 && intervalSeconds > 0) {
      phase('waiting');
      await sleep(intervalSeconds * 1000);
    }
    phase('gathering');
    const { problem, sources } = await budgetPrepare({ input });
    phase('solving');
    let solved;
    try {
      solved = await budgetSolve({ name, problem, workflowId: info.workflowId, runId: info.runId });
    } catch (err) {
      phase('failed');
      throw err;
    }
    let applied: BudgetApplied | null = null;
    if (input.applyTo) {
      phase('applying');
      applied = await budgetApply({ name, workflowId: info.workflowId, solutionId: solved.solutionId, problem, allocation: solved.allocation, applyTo: input.applyTo, actor });
    }
    roundsDone++;
    thisRun++;
    progress.round = roundsDone;
    history.push({ round: roundsDone, solutionId: solved.solutionId, expectedQuality: solved.allocation.expectedQuality, cost: solved.allocation.cost, budgetShadowPrice: solved.allocation.shadowPrices.budget, applied });
    if (history.length > BUDGET_ROUNDS_KEPT) history.splice(0, history.length - BUDGET_ROUNDS_KEPT);
    last = { solutionId: solved.solutionId, problem, allocation: solved.allocation, plotUri: solved.plotUri, sources, applied };
  }
  phase('done');
  if (last === null) throw inputError('rounds', input.rounds, 'more rounds than were already done');
  return { name, workflowId: info.workflowId, ...last, rounds: history, continued: carried.continued };
}

/** The single-solve path, as recorded before ROUNDS_PATCH (its histories replay here). */
async function budgetAllocationSingle(input: BudgetAllocationInput): Promise<BudgetAllocationResult> {
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
