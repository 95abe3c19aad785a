import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { TASK_QUEUES } from '../../contracts/shared';
import { STACK_CHECK_WORKFLOW_TYPE } from '../../contracts/stack-check';
import { emit } from '../output';
import { connectClient, workflowUiUrl } from '../temporal';

export function register(program: Command): void {
  program
    .command('stack-check')
    .description('start the stackCheck workflow (Temporal → worker → registry + artifact store) and print its result')
    .option('-m, --message <text>', 'text to echo back')
    .option('--no-wait', 'return once started')
    .option('--json', 'machine-readable output')
    .action(async (opts: { message?: string; wait: boolean; json?: boolean }) => {
      const settings = loadSettings();
      const { client, close } = await connectClient(settings);
      try {
        const workflowId = `stack-check/${randomUUID()}`;
        const handle = await client.workflow.start(STACK_CHECK_WORKFLOW_TYPE, {
          taskQueue: TASK_QUEUES.training,
          workflowId,
          args: [{ message: opts.message }],
          workflowExecutionTimeout: '5 minutes',
        });
        const url = workflowUiUrl(settings, workflowId, handle.firstExecutionRunId);
        if (!opts.wait) {
          emit(opts.json, { workflowId, runId: handle.firstExecutionRunId, url }, () => `started ${workflowId}\n  ${url}`);
          return;
        }
        const result = await handle.result();
        emit(opts.json, { ...result, url }, () =>
          [
            `stackCheck ${workflowId}: ok`,
            `  registry:  database ${result.probe.registry.database}, ${result.probe.registry.migrated ? `${result.probe.registry.models} model(s)` : 'not migrated'}`,
            `  artifacts: wrote and verified ${result.probe.artifacts.uri}`,
            `  Temporal UI: ${url}`,
          ].join('\n'),
        );
      } finally {
        await close();
      }
    });
}
