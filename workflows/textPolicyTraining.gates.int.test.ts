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
import { fakeMetrics, fakeTextPolicyActivities, type FakeEvaluation } from './testing/text-policy-fakes';
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

  async function run(input: TextPolicyTrainingInput, evaluation: { sft?: FakeEvaluation; dpo?: FakeEvaluation } = {}) {
    const taskQueue = `${TASK_QUEUES.oumi}-${randomUUID()}`;
    const calls: string[] = [];
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fakeTextPolicyActivities(calls, evaluation) });
    const workflowId = `text-policy/${randomUUID()}`;
    const result = await worker.runUntil(env.client.workflow.execute(textPolicyTraining, { taskQueue, workflowId, args: [input] }));
    const desc = await env.client.workflow.getHandle(workflowId).describe();
    return { result, calls, forcedAttribute: desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.forced) };
  }

  it('missed targets: both versions rejected with the missed targets, no canary', async () => {
    const model = `gate-${randomUUID().slice(0, 8)}`;
    const { result, calls, forcedAttribute } = await run({ model, startCanary: true });
    const reasons = ['accuracy 0.9000 misses the target > 0.9 on the adjudicated eval set', 'fpr 0.1000 misses the target < 0.1 on the adjudicated eval set'];
    expect(result.offlineGates).toEqual({ passed: false, reasons });
    expect(result.forced).toBe(false);
    expect(result.canary).toEqual({ workflowId: `canary/${model}`, started: false, error: `seed-003 targets missed: ${reasons.join('; ')}` });
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

  it('the threshold is calibrated on the validation split and the targets gate on the adjudicated eval set, not the noisy one', async () => {
    const model = `gate-${randomUUID().slice(0, 8)}`;
    // noisy labels: FNR near the 2% noise floor misses its target; the adjudicated labels meet every target
    const dpo: FakeEvaluation = { noisy: fakeMetrics(0.95, 0.03, 0.025, 0.04), adjudicated: fakeMetrics(0.97, 0.02, 0.01, 0.02), valAccuracy: 0.95, threshold: 0.4125 };
    const { result, calls } = await run({ model, startCanary: true }, { sft: { valAccuracy: 0.9 }, dpo });
    expect(calls.filter((c) => c.startsWith('evaluatePolicy') || c.startsWith('minePolicyPairs') || c.startsWith('policyTrain'))).toEqual([
      'policyTrain:sft:prepared', 'evaluatePolicy:sft:calibrated', 'evaluatePolicy:sft:predictions', 'minePolicyPairs', 'policyTrain:dpo:dpo_mined.jsonl', 'evaluatePolicy:dpo:calibrated',
    ]);
    expect(result.mined).toMatchObject({ errors: 12, marginal: 8, easy: 20 });
    expect(result.offlineGates).toEqual({ passed: true, reasons: [] });
    expect(result).toMatchObject({ chosen: 'dpo', threshold: 0.4125, adjudicated: { accuracy: 0.97, fpr: 0.02, fnr: 0.01, overrideRate: 0.02, passed: true } });
    expect(result.canary).toEqual({ workflowId: `canary/${model}`, started: true });
    expect(calls).toEqual(expect.arrayContaining(['exportPolicyOnnx:dpo', 'registerPolicyVersion:hf:dpo:dpo']));
    await env.client.workflow.getHandle(`canary/${model}`).terminate('test over');
  });

  it('with a judge config: the judge stage follows the mining, DPO trains on the merged pairs and the agreement is recorded on both versions', async () => {
    const model = `judge-${randomUUID().slice(0, 8)}`;
    const { result, calls } = await run({ model, judge: { margin: 0.25 } }, { sft: { valAccuracy: 0.9, threshold: 0.4125 }, dpo: { valAccuracy: 0.92 } });
    const judgeCalls = calls.filter((c) => /^(minePolicyPairs|judgePolicyCandidates|policyTrain:dpo|registerPolicyVersion|recordPolicyJudgeEvaluation|finishPolicyRun)/.test(c));
    expect(judgeCalls).toEqual([
      'minePolicyPairs', 'judgePolicyCandidates:dpo_mined.jsonl:0.4125', 'policyTrain:dpo:dpo_judged.jsonl',
      'registerPolicyVersion:hf:dpo:dpo', 'registerPolicyVersion:onnx:dpo:onnx', 'recordPolicyJudgeEvaluation:1,2', 'finishPolicyRun:succeeded',
    ]);
    expect(result.judge).toMatchObject({ margin: 0.25, pairs: 36, belowMargin: 4, conflicts: 1, labels: { decided: 36, agree: 34 } });
  });

  it('the DPO gate: when DPO lowers the validation accuracy the SFT model is registered, exported and gated', async () => {
    const model = `gate-${randomUUID().slice(0, 8)}`;
    const sft: FakeEvaluation = { noisy: fakeMetrics(0.93, 0.04, 0.03, 0.05), adjudicated: fakeMetrics(0.95, 0.04, 0.015, 0.05), valAccuracy: 0.93, threshold: 0.37 };
    const dpo: FakeEvaluation = { noisy: fakeMetrics(0.88, 0.1, 0.03, 0.12), adjudicated: fakeMetrics(0.89, 0.1, 0.02, 0.12), valAccuracy: 0.9, threshold: 0.55 };
    const { result, calls } = await run({ model, startCanary: true }, { sft, dpo });
    expect(result).toMatchObject({ chosen: 'sft', threshold: 0.37, offlineGates: { passed: true, reasons: [] } });
    expect(calls).toEqual(expect.arrayContaining(['exportPolicyOnnx:sft', 'registerPolicyVersion:hf:sft:sft', 'registerPolicyVersion:onnx:sft:onnx']));
    expect(calls).not.toContain('exportPolicyOnnx:dpo');
    await env.client.workflow.getHandle(`canary/${model}`).terminate('test over');
  });
});
