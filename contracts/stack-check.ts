/**
 * The stackCheck workflow's contract: its input and result, and the one activity it calls
 * (`StackActivities`, implemented by activities/stack.ts). Types and constant names only.
 */

/** The workflow type name. */
export const STACK_CHECK_WORKFLOW_TYPE = 'stackCheck';

export interface StackCheckInput {
  /** Free text echoed back, to tell runs apart. Default "hello from autopilot". */
  message?: string;
}

export interface ProbeResult {
  registry: { database: string; models: number | null; migrated: boolean };
  artifacts: { uri: string; sha256: string; roundTrip: boolean };
}

export interface StackCheckResult {
  message: string;
  workflowId: string;
  probe: ProbeResult;
}

/** The activities stackCheck calls (task queues `training` and `rollout`). */
export interface StackActivities {
  probeServices(input: { token: string }): Promise<ProbeResult>;
}
