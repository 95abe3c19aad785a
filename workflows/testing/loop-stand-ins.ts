/**
 * The workflows of optimizationLoop's time-skipping test (workflows/optimizationLoop.branches.int.test.ts):
 * the real optimizationLoop, and stand-ins registered under the type names of its child workflows
 * (ppoTraining, offPolicyEvaluation, canaryPromotion). Each stand-in hands its input to the test's
 * `standInChild` activity, which answers with the child's result (or throws, failing the child) and,
 * optionally, a duration the child sleeps first (a canary's bake, skipped by the test server).
 * The real children are tested in their own tests and in the loop's end-to-end test.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';

export { optimizationLoop } from '../optimizationLoop';

export type StandInType = 'ppoTraining' | 'offPolicyEvaluation' | 'canaryPromotion';

export interface StandInActivities {
  standInChild(input: { type: StandInType; input: unknown }): Promise<{ result: unknown; sleep?: string }>;
}

const { standInChild } = proxyActivities<StandInActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

async function standIn(type: StandInType, input: unknown): Promise<unknown> {
  const r = await standInChild({ type, input });
  if (r.sleep !== undefined) await sleep(r.sleep);
  return r.result;
}

export async function ppoTraining(input: unknown): Promise<unknown> {
  return standIn('ppoTraining', input);
}

export async function offPolicyEvaluation(input: unknown): Promise<unknown> {
  return standIn('offPolicyEvaluation', input);
}

export async function canaryPromotion(input: unknown): Promise<unknown> {
  return standIn('canaryPromotion', input);
}
