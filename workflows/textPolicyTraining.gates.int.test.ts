/**
 * textPolicyTraining's canary gate (seed 003's targets on the eval set), on the real Temporal dev server
 * with the activities faked by their contract (workflows/testing/text-policy-fakes.ts, whose evaluation
 * misses the accuracy and FPR targets); the real activities run in textPolicyTraining.int.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import type { TextPolicyTrainingInput } from '../contracts/text-policy-training';
import { startDevServer } from '../test/support/temporal';
import { fakeTextPolicyActivities } from './testing/text-policy-fakes';
import { textPolicyTraining } from './textPolicyTraining';

describe('textPolicyTraining: the seed-003 targets gate the canary', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([startDevServer(), bundleWorkflowCode({ workflowsPath: require.resolve('./index'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never })]);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  async function run(input: TextPolicyTrainingInput) {
    const taskQueue = `${TASK_QUEUES.oumi}-${randomUUID()}`;
    const calls: string[] = [];
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fakeTextPolicyActivities(calls) });
    const workflowId = `text-policy/${randomUUID()}`;
    const result = await worker.runUntil(env.client.workflow.execute(textPolicyTraining, { taskQueue, workflowId, args: [input] }));
    const desc = await env.client.workflow.getHandle(workflowId).describe();
    return { result, calls, forcedAttribute: desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.forced) };
  }

  it('missed targets: both versions rejected with the missed targets, no canary', async () => {
    const model = `gate-${randomUUID().slice(0, 8)}`;
    const { result, calls, forcedAttribute } = await run({ model, startCanary: true });
    expect(result.offlineGates).toEqual({ passed: false, reasons: ['accuracy 0.9000 misses the target > 0.9', 'fpr 0.1000 misses the target < 0.1'] });
    expect(result.forced).toBe(false);
    expect(result.canary).toEqual({ workflowId: `canary/${model}`, started: false, error: 'seed-003 targets missed: accuracy 0.9000 misses the target > 0.9; fpr 0.1000 misses the target < 0.1' });
    expect(calls).toContain('recordPolicyGateVerdict:1,2:refused');
    expect(forcedAttribute).toBeUndefined();
    await expect(env.client.workflow.getHandle(`canary/${model}`).describe()).rejects.toThrow();
  });

  it('forced: the canary starts anyway, the verdict is recorded as forced and the run is marked AutopilotForced', async () => {
    const model = `gate-${randomUUID().slice(0, 8)}`;
    const { result, calls, forcedAttribute } = await run({ model, startCanary: true, force: true });
    expect(result.forced).toBe(true);
    expect(result.canary).toEqual({ workflowId: `canary/${model}`, started: true });
    expect(calls).toContain('recordPolicyGateVerdict:1,2:forced');
    expect(forcedAttribute).toBe(true);
    const canary = env.client.workflow.getHandle(`canary/${model}`);
    expect((await canary.describe()).taskQueue).toBe(TASK_QUEUES.rollout);
    await canary.terminate('test over');
  });
});
