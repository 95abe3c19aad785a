/**
 * `workloadForecast`: request-rate forecasts per deployment with prediction intervals and a replica
 * recommendation (R-USE-CASES, workload forecasting). Task queue `rollout`.
 *
 *   forecastPrepare (settle the window, list the deployments) → forecastDeployment × deployments, in
 *   parallel (read the series, fit ARIMA/ETS, store the forecast and its plot) → result
 *
 * One pass per run, so a Temporal Schedule runs it hourly (`autopilot forecast --every 1h`).
 */
import { proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { forecastProgressQuery, type ForecastActivities, type ForecastProgress, type WorkloadForecastInput, type WorkloadForecastResult } from '../contracts/workload-forecast';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';

const { forecastPrepare, forecastDeployment } = proxyActivities<ForecastActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ForecastInputError'] },
});

export async function workloadForecast(input: WorkloadForecastInput = {}): Promise<WorkloadForecastResult> {
  const info = workflowInfo();
  const progress: ForecastProgress = { phase: 'listing', deployments: 0, done: 0 };
  setHandler(forecastProgressQuery, () => progress);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'forecast' }, { key: SEARCH_ATTRIBUTES.phase, value: 'listing' }]);
  const { setup, deployments } = await forecastPrepare({ input });
  progress.phase = 'forecasting';
  progress.deployments = deployments.length;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'forecasting' }]);
  const forecasts = await Promise.all(
    deployments.map((deployment) =>
      forecastDeployment({ setup, deployment, workflowId: info.workflowId, runId: info.runId }).then((f) => {
        progress.done++;
        return f;
      }),
    ),
  );
  progress.phase = 'done';
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'done' }]);
  return { workflowId: info.workflowId, granularity: setup.granularity, forecasts };
}
