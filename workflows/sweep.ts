/**
 * `sweep` (seed 002 §8, #21 item 7): PPO over a grid of reward weights × feature-head ablations.
 * `planSweep` expands the grid (one inline policy config per cell); each cell runs as a child
 * `ppoTraining` (workflow id `<sweep id>/cell-<i>`) on this workflow's task queue — the training
 * queue — at most `parallel` at a time; a failed child is recorded with its error and does not stop
 * the others. `writeSweepReport` then writes the comparison (table + Pareto plot of held-out quality
 * vs cost) and the result names the Pareto-optimal runs. Progress: the `progress` query and the
 * AutopilotPhase search attribute.
 */
import { proxyActivities, setHandler, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PpoTrainingResult } from '../contracts/ppo-training';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';
import { sweepProgressQuery, type SweepActivities, type SweepInput, type SweepOutcome, type SweepProgress, type SweepResult } from '../contracts/sweep';
import { rootMessage } from './failure';
import { ppoTraining } from './ppoTraining';

const acts = proxyActivities<SweepActivities>({ startToCloseTimeout: '10 minutes', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['SweepInputError'] } });

export async function sweep(input: SweepInput = {}): Promise<SweepResult> {
  const progress: SweepProgress = { phase: 'planning', total: 0, running: 0, finished: 0, failed: 0 };
  setHandler(sweepProgressQuery, () => progress);
  const { workflowId } = workflowInfo();
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'sweep' }, { key: SEARCH_ATTRIBUTES.phase, value: 'planning' }]);
  const plan = await acts.planSweep({ input, workflowId });
  progress.total = plan.cells.length;
  progress.phase = 'running';
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'running' }]);

  const outcomes: SweepOutcome[] = [];
  const queue = [...plan.cells];
  const runOne = async (): Promise<void> => {
    for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) {
      const childWorkflowId = `${workflowId}/cell-${cell.index}`;
      progress.running++;
      try {
        const handle = await startChild(ppoTraining, {
          workflowId: childWorkflowId,
          args: [
            {
              model: cell.model,
              config: cell.config,
              env: plan.env,
              iterations: plan.iterations,
              workers: plan.workers,
              seed: plan.seed,
              evaluation: plan.evaluation,
              timeouts: plan.timeouts,
              actor: plan.actor,
            },
          ],
        });
        const r: PpoTrainingResult = await handle.result();
        outcomes.push({ index: cell.index, label: cell.label, childWorkflowId, model: r.model, version: r.version });
      } catch (err) {
        progress.failed++;
        outcomes.push({ index: cell.index, label: cell.label, childWorkflowId, model: cell.model, version: null, error: rootMessage(err) });
      } finally {
        progress.running--;
        progress.finished++;
      }
    }
  };
  // `parallel` lanes pull cells from one queue: at most that many children run at once.
  await Promise.all(Array.from({ length: Math.min(plan.parallel, plan.cells.length) }, runOne));

  progress.phase = 'reporting';
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'reporting' }]);
  const report = await acts.writeSweepReport({ workflowId, cells: plan.cells, outcomes: outcomes.sort((a, b) => a.index - b.index) });
  progress.phase = 'done';
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'done' }]);
  const failed = outcomes.filter((o) => o.error !== undefined).length;
  return { ...report, workflowId, succeeded: outcomes.length - failed, failed };
}
