/**
 * `stackCheck`: the smallest workflow that proves the wiring end to end — a worker on the `training`
 * queue picks it up, an activity writes and reads back an object through the artifact store and
 * queries the registry, and the result shows in the Temporal UI and the CLI.
 */
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';
import type { StackActivities, StackCheckInput, StackCheckResult } from '../contracts/stack-check';

const { probeServices } = proxyActivities<StackActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export async function stackCheck(input: StackCheckInput = {}): Promise<StackCheckResult> {
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'stack-check' }]);
  const message = input.message ?? 'hello from autopilot';
  const { workflowId } = workflowInfo();
  const probe = await probeServices({ token: workflowId });
  return { message, workflowId, probe };
}
