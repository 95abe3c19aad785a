/**
 * textPolicyTraining was called policyTraining: the worker's bundle (workflows/index.ts) still
 * registers the old type name, so a run started under it — a client that still uses it, or a history
 * recorded before the rename — runs the same workflow. Real Temporal dev server; the activities are
 * typed fakes of the contract (no Oumi, no database): this tests the dispatch by type name. The
 * replay case reads testing/policyTraining.history.json, a history the pre-rename code (commit
 * ca4b0d3) recorded on the dev server with the same fakes under the type `policyTraining`
 * (`client.workflow.start('policyTraining', …)`, then `handle.fetchHistory()` as JSON), and replays it
 * on today's bundle.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import {
  LEGACY_TEXT_POLICY_TRAINING_WORKFLOW_TYPE,
  TEXT_POLICY_TRAINING_WORKFLOW_TYPE,
  type TextPolicyTrainingInput,
  type TextPolicyTrainingResult,
} from '../contracts/text-policy-training';
import { startDevServer } from '../test/support/temporal';
import { fakeTextPolicyActivities } from './testing/text-policy-fakes';

describe('textPolicyTraining under its former type name', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startDevServer(), bundleWorkflowCode({ workflowsPath: require.resolve('./index'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never })]);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  it.each([LEGACY_TEXT_POLICY_TRAINING_WORKFLOW_TYPE, TEXT_POLICY_TRAINING_WORKFLOW_TYPE])('a run started as %s trains, registers both versions and finishes the run', async (workflowType) => {
    const taskQueue = `${TASK_QUEUES.oumi}-${randomUUID()}`;
    const calls: string[] = [];
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fakeTextPolicyActivities(calls) });
    const workflowId = `text-policy/${randomUUID()}`;
    const input: TextPolicyTrainingInput = { model: 'legacy-check' };
    const result = await worker.runUntil(env.client.workflow.execute<(i: TextPolicyTrainingInput) => Promise<TextPolicyTrainingResult>>(workflowType, { taskQueue, workflowId, args: [input] }));
    expect(result).toMatchObject({ model: 'legacy-check', hf: { version: 1, format: 'hf' }, onnx: { version: 2, format: 'onnx' }, canary: null });
    expect(calls).toEqual([
      'startPolicyRun',
      'preparePolicyData',
      'policyTrain:sft:prepared',
      'evaluatePolicy:sft:calibrated',
      'evaluatePolicy:sft:predictions',
      'minePolicyPairs',
      'policyTrain:dpo:dpo_mined.jsonl',
      'evaluatePolicy:dpo:calibrated',
      'registerPolicyVersion:hf:dpo:dpo',
      'exportPolicyOnnx:dpo',
      'registerPolicyVersion:onnx:dpo:onnx',
      'recordPolicyGateVerdict:1,2:refused', // the fakes' metrics miss the targets: both versions rejected
      'finishPolicyRun:succeeded',
    ]);
    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(desc.type).toBe(workflowType);
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('done');
  });

  it('replays a history that the pre-rename policyTraining code recorded, without nondeterminism', async () => {
    const recorded = JSON.parse(readFileSync(join(__dirname, 'testing', 'policyTraining.history.json'), 'utf8')) as Record<string, unknown>;
    const history = temporal.api.history.v1.History.fromObject(recorded);
    expect(history.events[0].workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(LEGACY_TEXT_POLICY_TRAINING_WORKFLOW_TYPE);
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'text-policy/recorded-before-rename')).resolves.toBeUndefined();
  });
});
