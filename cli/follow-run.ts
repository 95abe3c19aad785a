/**
 * Starts a training workflow and follows it from the CLI: `train ppo` and `train text-policy` share this.
 * With `wait` false it prints the workflow id and the Temporal UI link and returns; otherwise it polls
 * the workflow's `progress` query once a second, draws each answer with the caller's printer, and
 * prints the result (or a CliError naming the root cause when the workflow failed). `--json` output
 * goes to stdout; progress then goes to stderr when that is a terminal, else nowhere. Ctrl-C stops
 * following, not the run.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { Settings } from '../config/settings';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';
import { CliError } from './errors';
import { emit } from './output';
import type { ProgressOut } from './progress-bar';
import { connectClient, workflowUiUrl } from './temporal';

/** Parses an integer flag value ≥ `min`; undefined when the flag was not given. */
export function intOption(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < min) throw new CliError(`${flag} ${JSON.stringify(value)}: expected an integer ≥ ${min}`);
  return Number(value);
}

/** The message of the innermost cause of an error chain (a workflow failure's activity error). */
export function rootCause(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

export interface FollowRunSpec<I, P, R> {
  settings: Settings;
  /** Workflow type, e.g. `ppoTraining`. */
  workflowType: string;
  taskQueue: string;
  workflowId: string;
  input: I;
  /** Values of the `model` and `runKind` search attributes. */
  model: string;
  runKind: string;
  json?: boolean;
  wait: boolean;
  /** Draws progress to `out`; `done()` ends an in-place line. */
  printer: (out: ProgressOut) => { update(p: P): void; done(): void };
  /** The human-readable result. */
  describe: (r: R, url: string) => string;
}

export async function startAndFollow<I, P, R>(spec: FollowRunSpec<I, P, R>): Promise<void> {
  const { settings, workflowType, workflowId, json } = spec;
  const { client, close } = await connectClient(settings);
  try {
    const handle = await client.workflow.start(workflowType, {
      taskQueue: spec.taskQueue,
      workflowId,
      args: [spec.input],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.model, value: spec.model },
        { key: SEARCH_ATTRIBUTES.runKind, value: spec.runKind },
      ],
    });
    const url = workflowUiUrl(settings, workflowId);
    if (!spec.wait) {
      emit(json, { workflowId, runId: handle.firstExecutionRunId, url }, () => `started ${workflowType} ${workflowId}\n  Temporal UI  ${url}`);
      return;
    }
    if (!json) process.stdout.write(`started ${workflowType} ${workflowId}\n  Temporal UI  ${url}\n`);
    const printer = spec.printer(json ? (process.stderr.isTTY ? process.stderr : { isTTY: false, write: () => true }) : process.stdout);
    let finished = false;
    const result = handle.result().finally(() => {
      finished = true;
    });
    result.catch(() => undefined);
    const onInterrupt = () => {
      printer.done();
      process.stderr.write(`stopped following; the run goes on: ${url}\n`);
      process.exit(130);
    };
    process.once('SIGINT', onInterrupt);
    try {
      while (!finished) {
        const p = await handle.query<P>('progress').catch(() => null);
        if (p) printer.update(p);
        await Promise.race([new Promise((r) => setTimeout(r, 1000)), result.catch(() => undefined)]);
      }
      const final = await handle.query<P>('progress').catch(() => null);
      if (final) printer.update(final);
      printer.done();
      let r: R;
      try {
        r = (await result) as R;
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw new CliError(`${workflowType} ${workflowId} failed: ${rootCause(err)}\n  Temporal UI  ${url}`, 1);
        throw err;
      }
      emit(json, { ...r, url }, () => spec.describe(r, url));
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
  } finally {
    await close();
  }
}
