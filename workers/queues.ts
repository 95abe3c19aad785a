/**
 * Which activities each task queue's worker registers. A feature adds its activity factory to the
 * queue it runs on; `autopilot worker --queue Q` serves exactly that list.
 */
import { createPpoActivities } from '../activities/ppo/activities';
import { createCanaryActivities } from '../activities/canary/activities';
import { createOpeActivities } from '../activities/ope/activities';
import { createStackActivities } from '../activities/stack';
import { createBanditActivities } from '../activities/bandits/activities';
import { createOumiActivities } from '../activities/oumi/activities';
import { createPolicyRunActivities } from '../activities/oumi/register';
import { createDriftActivities } from '../activities/bandits/drift';
import { assertOumiEnvironment } from '../activities/oumi/environment';
import { createTuningActivities } from '../activities/optimisers/tuning';
import { createExperimentActivities } from '../activities/optimisers/experiments';
import { createBudgetActivities } from '../activities/optimisers/budget';
import { createForecastActivities } from '../activities/optimisers/forecast';
import { createDataExportActivities } from '../activities/data-export/activities';
import { createSweepActivities } from '../activities/sweep/activities';
import { createLoopActivities } from '../activities/loop/activities';
import { createRetentionActivities } from '../activities/retention/activities';
import { createPredictorActivities } from '../activities/predictor/activities';
import { projectRoot } from '../config/settings';
import { TASK_QUEUES, type TaskQueue } from '../contracts/shared';
import type { WorkerDeps } from './deps';

type ActivityMap = Record<string, (...args: any[]) => Promise<unknown>>;

export const queueActivities: Record<TaskQueue, (deps: WorkerDeps) => ActivityMap> = {
  [TASK_QUEUES.training]: (deps) => ({
    ...createStackActivities(deps),
    ...createPpoActivities(deps),
    // Optimisers: parameterTuning's evaluations and proposals; experimentDesign's proposals and stopping checks.
    ...createTuningActivities(deps),
    ...createExperimentActivities(deps),
    // Logged data back into training: exportDataset (a dataset snapshot of decisions + rewards).
    ...createDataExportActivities(deps),
    // sweep: the grid plan and the comparison report.
    ...createSweepActivities(deps),
    // optimizationLoop: loopRefit (the refit retrain) runs here, beside exportDataset.
    ...createLoopActivities(deps),
    // qualityPredictorTraining: LightGBM → ONNX in .venv-lightgbm, parity-checked, registered.
    ...createPredictorActivities({ pool: deps.pool, store: deps.store, root: projectRoot }),
  }),
  [TASK_QUEUES.oumi]: (deps) => ({
    ...createOumiActivities({ root: projectRoot, store: deps.store }),
    ...createPolicyRunActivities({ pool: deps.pool, store: deps.store, root: projectRoot, dataDir: deps.settings.dataDir }),
  }),
  [TASK_QUEUES.rollout]: (deps) => ({
    ...createStackActivities(deps),
    ...createCanaryActivities(deps),
    ...createOpeActivities(deps),
    ...createBanditActivities(deps),
    ...createDriftActivities(deps),
    // Optimisers: budgetAllocation and workloadForecast read the decision log.
    ...createBudgetActivities(deps),
    ...createForecastActivities(deps),
    // optimizationLoop runs here (its registry activities; canaryOpeGate judges its OPE stage).
    ...createLoopActivities(deps),
    // retention: the decision log's day partitions created ahead and dropped once expired.
    ...createRetentionActivities(deps),
  }),
};

/**
 * What a queue's worker needs on its machine beyond the dependencies, checked before it connects: the
 * oumi worker refuses to start without the Oumi environment, naming the command that builds it.
 */
export const queuePreflight: Partial<Record<TaskQueue, (root: string) => void>> = {
  [TASK_QUEUES.oumi]: assertOumiEnvironment,
};

export function isTaskQueue(name: string): name is TaskQueue {
  return Object.prototype.hasOwnProperty.call(queueActivities, name);
}
