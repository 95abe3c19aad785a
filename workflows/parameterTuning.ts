/**
 * `parameterTuning`: Bayesian optimisation of a RAG/LLM config against the seed-002 reward
 * (R-USE-CASES, parameter tuning). Task queue `training`.
 *
 *   tuningStart → [baseline] → q × tuningEvaluate in parallel ─┐
 *        ▲                                                     │ one finishes
 *        └──── tuningPropose(told trials, still running) ◄─────┘  … until the budget is spent
 *   → tuningReport (trial history as a run, convergence + partial-dependence SVGs) → [tuningApply]
 *
 * Proposals are made by an activity, not in the workflow: a GP fit costs O(n³) per likelihood step
 * (seconds at a few hundred trials, past a workflow task's deadline), and its result is then an
 * event in history, so a replay reads the same proposals instead of recomputing them. The activity
 * is itself deterministic in (seed, trials, running), so a retried proposal is the same proposal.
 *
 * Evaluations run asynchronously: as soon as one finishes, one new config is proposed with the
 * others still running as fantasies (Kriging believer), so q evaluations are always in flight.
 */
import { proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Config } from '../ml/bo/space';
import {
  tuningProgressQuery,
  type ParameterTuningInput,
  type ParameterTuningResult,
  type TuningActivities,
  type TuningProgress,
  type TuningTrial,
} from '../contracts/parameter-tuning';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';
import { rootMessage } from './failure';

const NON_RETRYABLE = ['TuningInputError', 'ApplyError'];
const short = proxyActivities<TuningActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE } });
const propose = proxyActivities<TuningActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE } });
const evaluate = proxyActivities<TuningActivities>({ startToCloseTimeout: '30 minutes', retry: { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE } });

export async function parameterTuning(input: ParameterTuningInput = {}): Promise<ParameterTuningResult> {
  const info = workflowInfo();
  const progress: TuningProgress = { phase: 'starting', evaluations: 0, running: 0, budget: null, costUsd: 0, best: null, bestConfig: null, baseline: null };
  setHandler(tuningProgressQuery, () => progress);
  const setPhase = (phase: TuningProgress['phase']) => {
    progress.phase = phase;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: phase }]);
  };
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'tuning' }]);
  setPhase('starting');
  const setup = await short.tuningStart({ input, workflowId: info.workflowId });
  progress.budget = setup.budget;
  try {
    setPhase('evaluating');
    const trials: TuningTrial[] = [];
    const running = new Map<number, { config: Config; done: Promise<number> }>();
    let next = 0;
    const tell = (t: TuningTrial) => {
      trials.push(t);
      progress.evaluations = trials.length;
      progress.costUsd += t.cost;
      if (t.baseline) progress.baseline = t.value;
      if (progress.best === null || t.value > progress.best) {
        progress.best = t.value;
        progress.bestConfig = t.config;
      }
    };
    const launch = (config: Config, baseline: boolean) => {
      const index = next++;
      const done = evaluate.tuningEvaluate({ setup, index, config, baseline }).then((t) => {
        running.delete(index);
        // Kept here, not after the race: an evaluation can finish while a proposal is awaited, and the loop then ends without another race.
        progress.running = running.size;
        tell(t);
        return index;
      });
      running.set(index, { config, done });
      progress.running = running.size;
    };
    if (setup.evaluateBaseline) launch(setup.baseline, true);
    let exhausted = false;
    for (;;) {
      if (!exhausted && running.size < setup.parallelism) {
        const q = setup.parallelism - running.size;
        const configs = await propose.tuningPropose({ setup, trials, running: [...running.values()].map((r) => r.config), q });
        for (const c of configs) launch(c, false);
        // Fewer than asked: the budget (evaluations or cost) is spent once these finish.
        if (configs.length < q) exhausted = true;
      }
      if (running.size === 0) break;
      await Promise.race([...running.values()].map((r) => r.done));
    }
    if (trials.length === 0) throw new Error(`parameterTuning: the budget ${JSON.stringify(setup.budget)} allowed no evaluation`);

    setPhase('reporting');
    const report = await short.tuningReport({ setup, trials });
    let applied: ParameterTuningResult['applied'] = null;
    if (setup.applyTo) {
      setPhase('applying');
      applied = await short.tuningApply({ setup, config: report.best.config });
    }
    setPhase('done');
    return {
      ...report,
      runId: setup.runId,
      workflowId: setup.workflowId,
      evaluations: trials.length,
      costUsd: progress.costUsd,
      improvement: report.baseline ? report.best.value - report.baseline.value : null,
      applied,
    };
  } catch (err) {
    await short.tuningFail({ runId: setup.runId, error: rootMessage(err) });
    throw err;
  }
}
