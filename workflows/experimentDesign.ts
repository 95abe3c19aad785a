/**
 * `experimentDesign`: which PPO hyperparameters (or reward weights) to try next, by Bayesian
 * optimisation where one evaluation is one short `ppoTraining` child run (R-USE-CASES, experiment
 * design). Task queue `training`.
 *
 *   expStart → expPropose (ml/bo, in an activity: see parameterTuning) → child ppoTraining × q
 *     ↺ every checkSeconds: expCheck reads the running trials' per-iteration returns (run metrics)
 *       and applies the median stopping rule → signal `stop` to the trials it names
 *     ↺ a child finishes → tell its held-out figure, propose the next
 *   → expReport (trial history as a run, convergence and learning-curve plots)
 *
 * A stopped child finishes its iteration, evaluates and registers like any run (ppoTraining's `stop`),
 * so its figure is told to the optimiser too: a low value where the curve was bad. A failed child
 * is recorded with its error and not told.
 */
import { ChildWorkflowHandle, proxyActivities, setHandler, sleep, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  experimentProgressQuery,
  type ExperimentActivities,
  type ExperimentDesignInput,
  type ExperimentDesignResult,
  type ExperimentProgress,
  type ExperimentTrial,
} from '../contracts/experiment-design';
import { stopSignal, type PpoTrainingResult } from '../contracts/ppo-training';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';
import { rootMessage } from './failure';
import type { Config } from '../ml/bo/space';
import { ppoTraining } from './ppoTraining';

const acts = proxyActivities<ExperimentActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ExperimentInputError'] } });

interface Running {
  index: number;
  config: Config;
  handle: ChildWorkflowHandle<typeof ppoTraining>;
  done: Promise<void>;
  stopSent: boolean;
}

export async function experimentDesign(input: ExperimentDesignInput = {}): Promise<ExperimentDesignResult> {
  const info = workflowInfo();
  const progress: ExperimentProgress = { phase: 'starting', trials: 0, running: 0, stopped: 0, best: null, bestConfig: null };
  setHandler(experimentProgressQuery, () => progress);
  const setPhase = (phase: ExperimentProgress['phase']) => {
    progress.phase = phase;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: phase }]);
  };
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'experiment-design' }]);
  setPhase('starting');
  const setup = await acts.expStart({ input, workflowId: info.workflowId });
  try {
    setPhase('running');
    const trials: ExperimentTrial[] = [];
    const running = new Map<number, Running>();
    let next = 0;
    let exhausted = false;
    const finish = (trial: ExperimentTrial) => {
      running.delete(trial.index);
      trials.push(trial);
      progress.trials = trials.length;
      progress.running = running.size;
      if (trial.status === 'stopped') progress.stopped++;
      if (trial.value !== null && (progress.best === null || trial.value > progress.best)) {
        progress.best = trial.value;
        progress.bestConfig = trial.config;
      }
    };
    for (;;) {
      if (!exhausted && running.size < setup.parallelism) {
        const q = Math.min(setup.parallelism - running.size, setup.trials - next);
        const told = trials.filter((t) => t.value !== null);
        const proposals = q > 0 ? await acts.expPropose({ setup, trials: told, running: [...running.values()].map((r) => r.config), q }) : [];
        if (proposals.length < q || next + proposals.length >= setup.trials) exhausted = true;
        for (const p of proposals) {
          const index = next++;
          const model = `${setup.model}-t${index}`;
          const handle = await startChild(ppoTraining, {
            workflowId: `${setup.workflowId}/trial-${index}`,
            args: [{ model, config: p.policyConfig, env: setup.env, iterations: setup.iterations, workers: setup.workers, seed: setup.seed * 1000 + index, evaluation: setup.evaluation, actor: setup.actor }],
          });
          const r: Running = {
            index, config: p.config, handle, stopSent: false,
            done: handle.result().then(
              (result: PpoTrainingResult) => finish({
                index, config: p.config, childWorkflowId: handle.workflowId, runId: result.runId, status: result.stopped ? 'stopped' : 'succeeded',
                value: result.evaluation[setup.objective], iterations: result.iterations, model: result.model, version: result.version,
              }),
              (err: unknown) => finish({
                index, config: p.config, childWorkflowId: handle.workflowId, runId: handle.firstExecutionRunId, status: 'failed',
                value: null, iterations: 0, model: null, version: null, error: rootMessage(err),
              }),
            ),
          };
          running.set(index, r);
        }
        progress.running = running.size;
      }
      if (running.size === 0) break;
      if (setup.stopping.rule === 'none') {
        await Promise.race([...running.values()].map((r) => r.done));
        continue;
      }
      const finishedBefore = trials.length;
      await Promise.race([sleep(`${setup.stopping.checkSeconds}s`), ...[...running.values()].map((r) => r.done)]);
      if (trials.length !== finishedBefore || running.size === 0) continue;
      const candidates = [...running.values()].filter((r) => !r.stopSent);
      if (candidates.length === 0) continue;
      const { stop } = await acts.expCheck({
        setup,
        running: candidates.map((r) => ({ index: r.index, runId: r.handle.firstExecutionRunId })),
        finished: trials.filter((t) => t.status !== 'failed').map((t) => ({ index: t.index, runId: t.runId })),
      });
      for (const index of stop) {
        const r = running.get(index);
        if (!r || r.stopSent) continue;
        r.stopSent = true;
        await r.handle.signal(stopSignal);
      }
    }
    const told = trials.filter((t) => t.value !== null);
    if (told.length === 0) throw new Error(`experimentDesign: all ${trials.length} trials failed; the first: ${trials[0]?.error ?? 'none ran'}`);
    setPhase('reporting');
    const report = await acts.expReport({ setup, trials });
    setPhase('done');
    return { ...report, runId: setup.runId, workflowId: setup.workflowId, trials: [...trials].sort((a, b) => a.index - b.index) };
  } catch (err) {
    await acts.expFail({ runId: setup.runId, error: rootMessage(err) });
    throw err;
  }
}
