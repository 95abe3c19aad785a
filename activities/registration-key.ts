/**
 * The idempotency key of a version registered by an activity: the workflow that scheduled it and the
 * stage (R-REGISTRY, R-OPS-ORCHESTRATION). Retries and overlapping attempts of the activity share the
 * workflow, so they share the key and the registry makes one version of them (registry/register.ts).
 */
import { activityInfo } from '@temporalio/activity';
import { registrationKey } from '../registry/register';

/** `<workflowId>#<stage>`; `stage(runId)` gets the workflow run's id, for stages that repeat across runs. */
export function activityRegistrationKey(stage: string | ((workflowRunId: string) => string)): string {
  const info = activityInfo();
  const execution = info.workflowExecution;
  if (execution === undefined) {
    throw new Error(`activity ${info.activityType} registers a version but was not started by a workflow: its idempotency key needs the workflow id`);
  }
  return registrationKey(execution.workflowId, typeof stage === 'string' ? stage : stage(execution.runId));
}
