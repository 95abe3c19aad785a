/**
 * The canaryPromotion workflow as the API drives it: start `canary/<model>`, read its status (the live
 * `status` query while it runs, its result once it ended), send its signals. Errors are typed so the
 * API answers 404 / 409 with a message naming the workflow.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { CanaryStatus } from '../canary/status';
import { abortSignal, CANARY_WORKFLOW_TYPE, canaryWorkflowId, pauseSignal, promoteSignal, resumeSignal, statusQuery, type CanaryPromotionInput } from '../contracts/canary';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import { ConflictError, NotFoundError } from '../registry/errors';

export type CanarySignalName = 'pause' | 'resume' | 'abort' | 'promote';

export interface CanaryWorkflowState {
  model: string;
  workflowId: string;
  runId: string | null;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, … */
  execution: string;
  /** The query's answer while running, the result when completed; null when it failed or was terminated. */
  status: CanaryStatus | null;
}

function notFound(model: string): NotFoundError {
  return new NotFoundError('canary workflow', canaryWorkflowId(model), `start one with POST /v1/canaries/${model}`);
}

/** Starts `canary/<model>` (what `autopilot canary start` and the API run); a ConflictError while one runs. */
export async function startCanaryWorkflow(client: Client, input: CanaryPromotionInput, taskQueue: string = TASK_QUEUES.rollout): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const workflowId = canaryWorkflowId(input.model);
  try {
    return await client.workflow.start(CANARY_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.model, value: input.model },
        { key: SEARCH_ATTRIBUTES.version, value: input.version },
        { key: SEARCH_ATTRIBUTES.runKind, value: 'canary' },
        { key: SEARCH_ATTRIBUTES.phase, value: 'Initializing' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new ConflictError('canary workflow', workflowId, `a canary of ${input.model} is already running; abort it first (POST /v1/canaries/${input.model}/abort)`);
    }
    throw err;
  }
}

export async function readCanary(client: Client, model: string): Promise<CanaryWorkflowState> {
  const workflowId = canaryWorkflowId(model);
  const handle = client.workflow.getHandle(workflowId);
  try {
    const d = await handle.describe();
    const execution = d.status.name;
    let status: CanaryStatus | null = null;
    if (execution === 'RUNNING') status = await handle.query(statusQuery);
    else if (execution === 'COMPLETED') status = (await handle.result()) as CanaryStatus;
    return { model, workflowId, runId: d.runId, execution, status };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(model);
    throw err;
  }
}

export async function signalCanary(client: Client, model: string, signal: CanarySignalName, by: string, reason?: string): Promise<void> {
  const handle = client.workflow.getHandle(canaryWorkflowId(model));
  try {
    if (signal === 'abort') await handle.signal(abortSignal, { by, reason: reason ?? 'aborted through the API' });
    else await handle.signal(signal === 'pause' ? pauseSignal : signal === 'resume' ? resumeSignal : promoteSignal, { by });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError('running canary workflow', canaryWorkflowId(model), 'it ended or was never started');
    throw err;
  }
}
