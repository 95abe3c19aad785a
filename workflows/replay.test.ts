/**
 * Workflow determinism (R-OPS-ORCHESTRATION): every history in workflows/histories/ — one per main path of
 * each workflow, recorded on the Temporal dev server by test/record-histories.ts — is replayed with the
 * SDK's replayer against today's workflow bundle. A change that would make a running workflow take
 * another path (an activity added, removed or reordered, a timer changed, a signal handled differently)
 * fails here with Temporal's determinism error, so it must be guarded with `patched()` or the history
 * re-recorded on purpose. No server is needed: the replayer runs in-process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type ReplayResult, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import * as workflows from './index';

const DIR = join(__dirname, 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

/** Types registered under a second name: their history is replayed under the first (and the legacy
 *  name's own pre-rename history in textPolicyTraining.legacy.int.test.ts). */
const ALIASES: Record<string, string> = { policyTraining: 'textPolicyTraining' };

function load(file: string): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>);
}

describe('recorded workflow histories replay on the current code', () => {
  let bundle: WorkflowBundleWithSourceMap;
  const results = new Map<string, ReplayResult>();

  beforeAll(async () => {
    const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never;
    bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./index'), logger: quiet });
    const histories = files.map((file) => ({ workflowId: file, history: load(file) }));
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) results.set(r.workflowId, r);
  }, 120_000);

  it('has a history of every workflow the worker registers', () => {
    const recorded = new Set(files.map((f) => load(f).events[0].workflowExecutionStartedEventAttributes?.workflowType?.name));
    const missing = Object.keys(workflows).filter((name) => !recorded.has(ALIASES[name] ?? name));
    expect(missing).toEqual([]);
  });

  it.each(files)('%s', (file) => {
    const r = results.get(file);
    expect(r).toBeDefined();
    expect(r!.error === undefined ? 'replayed' : `${(r!.error as Error).name}: ${(r!.error as Error).message}`).toBe('replayed');
  });
});
